"""Putting the site online: a sub-path from ``base_url``, and the generated server
configuration run for real (Datasette started with the systemd unit's command line,
Debian's nginx with the generated cache and locations files, on loopback ports)."""

from __future__ import annotations

import gzip
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from ccas_opendata.deployment import nginx_executable, trial_nginx_conf
from conftest import free_port, invoke, make_folder, release

pytestmark = pytest.mark.slow

BASE = "https://ccas-val-dorbe.example/ccas/donnees/"  # two levels, as a commune's site has them
PREFIX = "/ccas/donnees"


def set_base_url(folder: Path, base_url: str) -> None:
    path = folder / "metadata" / "organisation.yml"
    path.write_text(path.read_text(encoding="utf-8") + f"\nbase_url: {base_url}\n", encoding="utf-8")


@pytest.fixture(scope="module")
def subpath_site(tmp_path_factory, small_inputs) -> Path:
    """2024 published with base_url under /ccas/donnees/."""
    folder = make_folder(tmp_path_factory.mktemp("souschemin") / "ccas")
    set_base_url(folder, BASE)
    result = release(folder, 2024, small_inputs[2024])
    assert result.exit_code == 0, result
    return folder


def ensure_nginx() -> str:
    """Debian's nginx, installed when missing (as the Makefile's ``browser`` target does for Chromium)."""
    found = nginx_executable()
    if found is None:
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True)
        subprocess.run(
            sudo + ["apt-get", "install", "-y", "-qq", "nginx"], check=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        )
        found = nginx_executable()
    assert found, "nginx introuvable après installation"
    return found


def wait_for(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"arrêté : {process.stderr.read().decode()[-2000:] if process.stderr else ''}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} ne répond pas")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def deployed(subpath_site: Path, tmp_path_factory):
    """Datasette as the unit starts it, nginx in front as the generated files say."""
    nginx = ensure_nginx()
    work = tmp_path_factory.mktemp("serveur")
    datasette_port, nginx_port = free_port(), free_port()
    result = invoke(
        "deploiement",
        "--dossier",
        subpath_site,
        "--sortie",
        work / "config",
        "--port",
        datasette_port,
        "--cache",
        work / "cache",
        "--nginx-dir",
        work / "config" / "nginx",
    )
    assert result.exit_code == 0, result
    unit = (work / "config" / "systemd" / "ccas-opendata.service").read_text(encoding="utf-8")
    exec_start = re.search(r"^ExecStart=(.+)$", unit, re.M)
    assert exec_start, unit
    command = shlex.split(exec_start.group(1))
    assert command[:4] == [sys.executable, "-m", "datasette", "serve"]
    datasette = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    conf = trial_nginx_conf(work / "config" / "nginx", work / "nginx", nginx_port)
    check = subprocess.run([nginx, "-t", "-c", str(conf), "-p", str(work / "nginx")], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    proxy = subprocess.Popen(
        [nginx, "-c", str(conf), "-p", str(work / "nginx"), "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_for(f"http://127.0.0.1:{datasette_port}/-/versions.json", datasette)
        wait_for(f"http://127.0.0.1:{nginx_port}{PREFIX}/", proxy)
        yield {"nginx": f"http://127.0.0.1:{nginx_port}", "datasette": f"http://127.0.0.1:{datasette_port}", "work": work}
    finally:
        stop(proxy)
        stop(datasette)


def links(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="([^"#]+)', html)


def test_pages_link_under_the_sub_path_and_every_link_answers(deployed):
    base = deployed["nginx"]
    seen = set()
    pages = (
        "/",
        "/bilan/2024",
        "/api",
        "/indicateur/accompagnements",
        "/methode",
        "/risque/2024",
        "/telechargements",
        "/changements",
        "/accessibilite",
        "/mentions-legales",
    )
    for page in (PREFIX + p for p in pages):
        response = httpx.get(base + page)
        assert response.status_code == 200, page
        local = [l for l in links(response.text) if l.startswith("/")]
        assert local, page
        assert all(l.startswith(PREFIX + "/") for l in local), [l for l in local if not l.startswith(PREFIX + "/")]
        seen.update(local)
    for link in sorted(seen):
        assert httpx.get(base + link.replace("&amp;", "&")).status_code == 200, link


def test_every_download_behind_the_sub_path_answers(deployed):
    """Each link of /telechargements (the zips of every version, the current alias, the
    manifest, the pages around) and each ``url`` of telechargements.json, through nginx."""
    base = deployed["nginx"]
    page = httpx.get(f"{base}{PREFIX}/telechargements")
    assert page.status_code == 200
    local = sorted({l.replace("&amp;", "&") for l in links(page.text) if l.startswith("/")})
    zips = [l for l in local if l.endswith(".zip")]
    assert zips == [f"{PREFIX}/telechargements/ccas-opendata-2024-v1.0.0.zip", f"{PREFIX}/telechargements/ccas-opendata-2024.zip"]
    assert all(l.startswith(PREFIX + "/") for l in local), local
    for link in local:
        assert httpx.get(base + link).status_code == 200, link
    missing = httpx.get(f"{base}{PREFIX}/telechargements/ccas-opendata-1999.zip")
    assert missing.status_code == 404 and f'href="{PREFIX}/telechargements"' in missing.text
    manifest = httpx.get(f"{base}{PREFIX}/telechargements/telechargements.json").json()["fichiers"]
    assert sorted(f["url"] for f in manifest) == zips
    for entry in manifest:
        response = httpx.get(base + entry["url"])
        assert response.status_code == 200 and len(response.content) == entry["octets"], entry["url"]


def test_citation_and_datasette_pages_use_base_url(deployed):
    page = httpx.get(deployed["nginx"] + f"{PREFIX}/indicateur/accompagnements").text
    assert f"{BASE}indicateur/accompagnements</code>" in page
    table = httpx.get(deployed["nginx"] + f"{PREFIX}/indicateurs/indicateurs?annee=2024").text
    assert f'href="{PREFIX}/"' in table and f'href="{PREFIX}/static/datasette-fr.css"' in table
    catalogue = httpx.get(deployed["nginx"] + f"{PREFIX}/catalogue.ttl").text
    assert f"<{BASE}bilan/2024#donnees>" in catalogue


def test_nginx_caches_compresses_and_protects(deployed):
    base = deployed["nginx"]
    url = base + f"{PREFIX}/indicateurs/indicateurs.json?annee=2024&indicateur=usagers&_shape=array"
    first, second = httpx.get(url), httpx.get(url)
    assert (first.headers["x-cache-status"], second.headers["x-cache-status"]) == ("MISS", "HIT")
    assert first.json() == second.json() == httpx.get(deployed["datasette"] + url.removeprefix(base)).json()
    page = httpx.get(base + f"{PREFIX}/bilan/2024", headers={"Accept-Encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip" and "<h1" in page.text
    with httpx.stream("GET", base + f"{PREFIX}/bilan/2024", headers={"Accept-Encoding": "gzip"}) as streamed:
        compressed = b"".join(streamed.iter_raw())
    assert gzip.decompress(compressed) == page.content and len(compressed) < len(page.content) / 3
    for header, value in (("x-content-type-options", "nosniff"), ("x-frame-options", "SAMEORIGIN"), ("referrer-policy", "no-referrer")):
        assert page.headers.get_list(header) == [value]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert httpx.get(base + PREFIX).status_code == 301
    assert httpx.get(base + PREFIX).headers["location"].endswith(PREFIX + "/")
    assert httpx.post(base + f"{PREFIX}/indicateurs").status_code == 403
    # A chart alone (« Intégrer ») may sit in another site's page; everything else may not.
    alone = httpx.get(base + f"{PREFIX}/graphique/accompagnements-genre-2024")
    assert alone.status_code == 200 and 'class="graphique"' in alone.text
    assert "x-frame-options" not in alone.headers and "frame-ancestors *" in alone.headers["content-security-policy"]
    assert httpx.post(base + f"{PREFIX}/graphique/accompagnements-genre-2024").status_code == 403


def test_bounded_concurrent_load_through_nginx_has_no_error(deployed):
    base = deployed["nginx"] + PREFIX
    paths = [
        "/",
        "/bilan/2024",
        "/api",
        "/indicateur/accompagnements",
        "/catalogue.ttl",
        "/lieux-mediation-numerique.csv",
        "/indicateurs/indicateurs.json?annee=2024&indicateur=accompagnements&dimension=ensemble&_shape=array",
        "/indicateurs/serie_annuelle.csv?indicateur=usagers",
        "/indicateurs/indicateurs?annee=2024&dimension=genre",
    ]

    def client(number: int) -> list[int]:
        with httpx.Client(timeout=30) as session:
            return [session.get(base + paths[(number + i) % len(paths)]).status_code for i in range(250)]

    with ThreadPoolExecutor(4) as pool:
        statuses = [s for batch in pool.map(client, range(4)) for s in batch]
    assert len(statuses) == 1000
    assert set(statuses) == {200}
    assert "upstream" not in (deployed["work"] / "nginx" / "error.log").read_text()  # no failed or timed-out proxying


def test_deploiement_refuses_without_base_url(folder):
    result = invoke("deploiement", "--dossier", folder)
    assert result.exit_code == 1
    assert "base_url" in result.stderr
    assert not (folder / "deploiement").exists()


def test_nginx_site_file_holds_tls_placeholders(subpath_site, tmp_path):
    assert invoke("deploiement", "--dossier", subpath_site, "--sortie", tmp_path).exit_code == 0
    site = (tmp_path / "nginx" / "ccas-opendata.conf").read_text(encoding="utf-8")
    assert "server_name ccas-val-dorbe.example;" in site
    assert "ssl_certificate     /etc/letsencrypt/live/ccas-val-dorbe.example/fullchain.pem;" in site
    assert "include /etc/nginx/ccas-opendata/ccas-opendata-emplacements.conf;" in site


@pytest.mark.parametrize("value", ["www.ville.fr/donnees", "https://www.ville.fr/donnees?x=1", "ftp://www.ville.fr/"])
def test_a_base_url_that_is_not_a_full_address_is_refused(folder, value):
    set_base_url(folder, value)
    result = invoke("deploiement", "--dossier", folder)
    assert result.exit_code == 1
    assert "« base_url » doit être l'adresse complète du site" in result.stderr


def test_base_url_without_trailing_slash_gets_one(folder):
    from ccas_opendata.publisher import read_publisher

    set_base_url(folder, "https://www.ville.fr/ccas/donnees")
    assert read_publisher(folder).base_url == "https://www.ville.fr/ccas/donnees/"


def test_full_site_file_passes_nginx_check_once_certificates_exist(subpath_site, tmp_path):
    """The HTTPS site as written, with a self-signed certificate at the placeholders'
    place and loopback ports instead of 80/443: ``nginx -t`` accepts it."""
    nginx = ensure_nginx()
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl absent : pas de certificat d'essai")
    assert (
        invoke(
            "deploiement",
            "--dossier",
            subpath_site,
            "--sortie",
            tmp_path / "config",
            "--cache",
            tmp_path / "cache",
            "--nginx-dir",
            tmp_path / "config" / "nginx",
        ).exit_code
        == 0
    )
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(tmp_path / "cle.pem"),
            "-out",
            str(tmp_path / "cert.pem"),
            "-days",
            "1",
            "-subj",
            "/CN=ccas-val-dorbe.example",
        ],
        check=True,
        capture_output=True,
    )
    site = (tmp_path / "config" / "nginx" / "ccas-opendata.conf").read_text(encoding="utf-8")
    site = (
        site.replace("/etc/letsencrypt/live/ccas-val-dorbe.example/fullchain.pem", str(tmp_path / "cert.pem"))
        .replace("/etc/letsencrypt/live/ccas-val-dorbe.example/privkey.pem", str(tmp_path / "cle.pem"))
        .replace("listen 80;", f"listen 127.0.0.1:{free_port()};")
        .replace("listen 443 ssl http2;", f"listen 127.0.0.1:{free_port()} ssl http2;")
    )
    site = "\n".join(line for line in site.splitlines() if "listen [::]" not in line)
    (tmp_path / "site.conf").write_text(site, encoding="utf-8")
    conf = trial_nginx_conf(tmp_path / "config" / "nginx", tmp_path / "nginx", free_port())
    text = conf.read_text(encoding="utf-8")
    start = text.index(f"    include {tmp_path / 'config' / 'nginx'}/ccas-opendata-cache.conf;")
    conf.write_text(text[:start] + f"    include {tmp_path / 'site.conf'};\n}}\n", encoding="utf-8")
    check = subprocess.run([nginx, "-t", "-c", str(conf), "-p", str(tmp_path / "nginx")], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_free_sql_through_nginx_is_never_cached_and_is_rate_limited(deployed):
    """Each text of SQL is its own cache key: cached, a varied query would fill the cache.
    Rate: 30 a minute per address, 10 ahead; pages and tables are never counted."""
    base = deployed["nginx"] + PREFIX
    with httpx.Client(timeout=30) as client:
        first = client.get(base + "/indicateurs.json?sql=select+count(*)+from+indicateurs")
        again = client.get(base + "/indicateurs.json?sql=select+count(*)+from+indicateurs")
        assert first.status_code == again.status_code == 200
        assert again.headers["x-cache-status"] == "BYPASS"
        statuses = [client.get(base + f"/indicateurs.json?sql=select+{n}").status_code for n in range(15)]
        assert statuses.count(429) >= 4 and set(statuses) <= {200, 429}, statuses
        table = client.get(base + "/indicateurs/indicateurs.json?annee=2024&_size=1")
        assert table.status_code == 200 and client.get(base + "/").status_code == 200
