"""The bilan of a trial run as one standalone HTML file the agent can e-mail to her director.

``release --essai`` builds the site it would publish in a scratch folder, then deletes it.
The bilan page of that site, with its stylesheet inlined and its scripts dropped, is kept
next to her files as ``apercu-ccas-opendata-AAAA.html``: one file, no server, nothing but
what the site would publish (figures after statistical secrecy; never a record).
"""

from __future__ import annotations

import re
from pathlib import Path

PREVIEW_NAME = "apercu-ccas-opendata-{year}.html"
_STYLESHEET = re.compile(r"""<link\b[^>]*rel=["']stylesheet["'][^>]*href=["'][^"']*/static/([^"'/]+\.css)["'][^>]*>""", re.I)
_SCRIPT = re.compile(r"<script\b.*?</script>", re.I | re.S)
_HREF = re.compile(r"""\bhref=(["'])/[^"']*\1""", re.I)
_BODY = re.compile(r"<body([^>]*)>", re.I)
BANNER = (
    '<p style="background:#fff4d6;border:2px solid #b58100;padding:.6rem 1rem;margin:0">'
    "<strong>Aperçu, non publié.</strong> Le bilan {year} tel qu'il serait publié par « ccas-opendata release » "
    "(chiffres après secret statistique). Les liens du site ne fonctionnent pas dans ce fichier.</p>"
)


def preview_path(input_dir: Path, year: int) -> Path:
    return input_dir / PREVIEW_NAME.format(year=year)


def write_preview(site: Path, year: int, target: Path) -> Path:
    """Write the standalone bilan of ``year`` from a built site folder (``publish/``) to ``target``."""
    page = (site / "pages" / "bilan" / f"{year}.html").read_text(encoding="utf-8")
    # The page's own stylesheets, inlined where they were linked.
    page = _STYLESHEET.sub(lambda m: "<style>\n" + (site / "static" / m.group(1)).read_text(encoding="utf-8") + "\n</style>", page)
    page = _SCRIPT.sub("", page)
    page = _HREF.sub('href="#"', page)  # the site's own links lead nowhere outside it
    page = _BODY.sub(lambda m: f"<body{m.group(1)}>" + BANNER.format(year=year), page, count=1)
    target.write_text(page, encoding="utf-8")
    return target
