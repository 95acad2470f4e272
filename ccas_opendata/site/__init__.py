"""The citizens' site, one package.

Layout, read top to bottom:

- ``render.py``: pre-renders the French pages from the published packages (why: see its docstring);
- ``charts.py``: server-side SVG charts, drawn for a phone; ``formatting.py``: French numbers,
  dates and changes; ``sentences.py``: the key sentences that open a bilan;
- ``exports.py``: each chart's CSV, SVG and PNG (``images.py`` draws the PNG from the SVG) and
  chart-only page, under ``/graphique/``; ``sharing.py``: schema.org ``Dataset`` of each year;
- ``pages/``: Jinja2 templates of the pre-rendered pages; ``libelles.yml``: their French labels;
- ``templates/`` and ``static/``: Datasette's template overrides (its database, table, row and
  query pages in French) and the site's CSS, copied into ``publish/`` at publish time;
- ``plugin.py``: the Datasette plugin copied into ``publish/plugins/`` that serves the pages.
"""

from .render import SITE_DIR, canned_queries, legal_notice_gaps, render_site

__all__ = ["SITE_DIR", "canned_queries", "legal_notice_gaps", "render_site"]
