// Les exemples de l'API sont écrits avec l'adresse publique du site (base_url). Lue depuis une
// autre adresse (copie locale, site d'essai), la page les réécrit avec la sienne.
(function () {
  var script = document.currentScript;
  var published = script && script.getAttribute("data-origine");
  if (!published || published === window.location.origin) {
    return;
  }
  document.querySelectorAll("pre code, code.url").forEach(function (node) {
    node.textContent = node.textContent.split(published).join(window.location.origin);
  });
})();
