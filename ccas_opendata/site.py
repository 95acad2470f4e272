"""The citizens' site: French pages pre-rendered at publish time from the packages.

Pages are rendered once per release with Jinja2 into ``publish/pages/`` and served
from memory by a small Datasette plugin (``site/plugin.py``) ahead of Datasette's
own routes.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import jinja2

from .config import PACKAGE_DIR, Publisher

SITE_DIR = PACKAGE_DIR / "site"


def canned_queries() -> dict:
    return {}


def _environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(SITE_DIR / "pages"), autoescape=True, keep_trailing_newline=True)


def render_site(target: Path, packages: list[Path], publisher: Publisher) -> None:
    env = _environment()
    pages = target / "pages"
    pages.mkdir(parents=True, exist_ok=True)
    years = [int(p.name) for p in packages]
    (pages / "index.html").write_text(env.get_template("accueil.html").render(publisher=publisher, years=years), encoding="utf-8")
    (target / "plugins").mkdir(exist_ok=True)
    shutil.copy(SITE_DIR / "plugin.py", target / "plugins" / "pages_citoyennes.py")
