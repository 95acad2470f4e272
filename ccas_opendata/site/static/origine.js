// Les exemples de l'API affichent l'adresse réelle du site (sans JavaScript : 127.0.0.1:8001).
document.querySelectorAll("pre code").forEach(function (node) {
  node.textContent = node.textContent.split("ORIGINE").join(window.location.origin);
});
