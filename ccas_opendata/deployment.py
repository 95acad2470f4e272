"""A ready configuration for a small server (``ccas-opendata deploiement``).

Datasette runs as a systemd service on 127.0.0.1, read-only (immutable database, SQL
time limit, both from ``publish/settings.json``); nginx in front terminates TLS, compresses,
adds security headers and caches the pre-rendered pages and the API, which only change
with a release. The sub-path and the host come from ``base_url``.

Three nginx files rather than one: the cache zone and upstream belong to nginx's ``http``
level, the locations to a ``server`` block. A town that already serves its website from
nginx includes the locations in its existing server; otherwise the site file wraps them
in servers of its own (HTTP → HTTPS, TLS placeholders). The tests run the very same
cache and locations files in front of a real Datasette.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import jinja2

from .layout import Layout
from .publisher import LOCAL_BASE_URL, Publisher
from .errors import ConfigurationError
from .site.urls import SiteUrls

TEMPLATES_DIR = Path(__file__).resolve().parent / "serveur"
SERVICE = "ccas-opendata"
#: The include list of what the server receives (rsync filter rules): only what is served.
COPY_RULES = "a-copier.txt"


def copy_includes() -> list[str]:
    """The folders the server receives, from the include list (``/publish/***``…)."""
    rules = (TEMPLATES_DIR / COPY_RULES).read_text(encoding="utf-8").splitlines()
    return [rule[2:] for rule in rules if rule.startswith("+ ")]


@dataclass(frozen=True)
class ServerSettings:
    """What the generated files need to know about the machine."""

    output: Path
    port: int = 8001
    user: str = "ccas-opendata"
    config_dir: str = "/etc/nginx/ccas-opendata"
    cache_dir: str = "/var/cache/nginx/ccas-opendata"
    python: str = sys.executable


def deployment_files(publisher: Publisher, settings: ServerSettings) -> dict[str, str]:
    """{file name: content} of the systemd unit and the three nginx files."""
    if publisher.base_url == LOCAL_BASE_URL:
        raise ConfigurationError(
            "organisation.yml ne dit pas à quelle adresse le site sera en ligne.",
            advice="Ajoutez « base_url: https://www.ma-commune.fr/ccas/donnees/ » (l'adresse complète, avec son sous-chemin éventuel).",
        )
    urls = SiteUrls(publisher.base_url)
    context = {
        "organisation": publisher.nom,
        "base_url": publisher.base_url,
        "host": urlsplit(publisher.base_url).hostname,
        "base_path": urls.datasette_base_url(),
        "service": SERVICE,
        "zone": SERVICE.replace("-", "_"),
        "port": settings.port,
        "utilisateur": settings.user,
        "config_dir": settings.config_dir.rstrip("/"),
        "cache_dir": settings.cache_dir,
        "python": settings.python,
        "publish_dir": Layout(publisher.folder.resolve()).publish,
    }
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    names = {
        "ccas-opendata.service": f"systemd/{SERVICE}.service",
        "nginx-site.conf": f"nginx/{SERVICE}.conf",
        "nginx-cache.conf": f"nginx/{SERVICE}-cache.conf",
        "nginx-emplacements.conf": f"nginx/{SERVICE}-emplacements.conf",
        COPY_RULES: COPY_RULES,
    }
    return {target: env.get_template(template).render(**context) for template, target in names.items()}


def write_deployment(publisher: Publisher, settings: ServerSettings) -> list[Path]:
    """Write the files under ``settings.output`` (``systemd/``, ``nginx/``); return their paths."""
    written = []
    for name, content in deployment_files(publisher, settings).items():
        path = settings.output / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written


def trial_nginx_conf(nginx_dir: Path, workdir: Path, listen_port: int) -> Path:
    """A complete ``nginx.conf`` that runs the generated cache and locations files on
    127.0.0.1:``listen_port`` without root (pid, logs and temporary files in ``workdir``):
    the tests and ``make bench`` put the real configuration in front of a real Datasette.
    The cache directory is the one given to :func:`write_deployment`."""
    workdir.mkdir(parents=True, exist_ok=True)
    temp = {name: workdir / name for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(exist_ok=True)
    # As root (a container), nginx would hand its workers to "nobody", who cannot read a
    # private temporary folder: keep them with the user running the trial.
    user = "user root root;\n" if os.geteuid() == 0 else ""
    conf = workdir / "nginx.conf"
    conf.write_text(
        f"{user}worker_processes 2;\npid {workdir}/nginx.pid;\nerror_log {workdir}/error.log warn;\n"
        "events { worker_connections 512; }\n"
        "http {\n"
        "    access_log off;\n"
        "    default_type application/octet-stream;\n"
        + "".join(f"    {name}_temp_path {path};\n" for name, path in temp.items())
        + f"    include {nginx_dir}/{SERVICE}-cache.conf;\n"
        f"    server {{\n        listen 127.0.0.1:{listen_port};\n        server_name localhost;\n"
        f"        include {nginx_dir}/{SERVICE}-emplacements.conf;\n    }}\n"
        "}\n",
        encoding="utf-8",
    )
    return conf


def nginx_executable() -> str | None:
    """Debian's nginx, found on PATH or in /usr/sbin (not on a user's PATH)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
