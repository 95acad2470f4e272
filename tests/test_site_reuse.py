"""A chart can leave its page, as on Our World in Data's grapher: under each chart of the
bilans, the home page and the indicator pages, its source line, the CSV of exactly its
table, a PNG and an SVG image drawn at release time, a permalink and an embed code for a
chart-only page; and each page shares well (title with the organisation, description,
Open Graph with the headline chart's PNG, schema.org ``Dataset``, Atom and DCAT links).
Checked in a real Chromium against a real Datasette, the CSVs against the tables a reader
sees and against the published package."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET

import pytest
from PIL import Image

from test_site_browser import browser, published_value  # noqa: F401  (one Chromium for the module)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

NBSP = "\u00a0"
PAGES_WITH_CHARTS = ["/", "/bilan/2024", "/bilan/2023", "/indicateur/accompagnements", "/indicateur/taux_satisfaction"]


@pytest.fixture(scope="module")
def desktop(browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def figure(text: str) -> str:
    """A cell as the reader sees it (« 1 036 », « 55,2 % », « secret statistique ») → as in a CSV."""
    text = text.strip()
    if text in ("", "secret statistique"):
        return ""
    return text.replace(NBSP, "").replace(" ", "").replace("%", "").replace("min", "").replace(",", ".").replace("−", "-").lstrip("+")


def same_number(csv_value: str, shown: str) -> bool:
    return (csv_value == shown == "") or (csv_value != "" and shown != "" and abs(float(csv_value) - float(shown)) < 1e-9)


def tables_of(page) -> list[dict]:
    return page.evaluate("""() => [...document.querySelectorAll('main figure.bloc')].map(f => ({
        id: f.id,
        rows: [...f.querySelectorAll('table tbody tr')].map(tr => [...tr.children].map(c => c.innerText)),
        csv: f.querySelector('.outils a[href$=".csv"]')?.getAttribute('href'),
        png: f.querySelector('.outils a[href$=".png"]')?.getAttribute('href'),
        svg: f.querySelector('.outils a[href$=".svg"]')?.getAttribute('href'),
        link: f.querySelector('.outils a.permalien')?.getAttribute('href'),
        embed: f.querySelector('.outils textarea')?.value,
        source: f.querySelector('.outils .source')?.innerText,
        bars: f.querySelectorAll('svg.graphique rect.barre:not(.precedente)').length}))""")


@pytest.mark.parametrize("path", PAGES_WITH_CHARTS)
def test_every_chart_has_its_toolbar_and_its_csv_is_its_table(desktop, server, publisher, path):
    desktop.goto(server.url + path)
    blocks = tables_of(desktop)
    assert blocks, path
    for b in blocks:
        assert b["csv"] and b["png"] and b["svg"] and b["link"] and b["embed"], (path, b["id"])
        year = re.search(r"(20\d\d)", b["source"]).group(1)
        assert b["source"].startswith(f"Source : {publisher.nom}, registre d'activité ") and "anonymisé" in b["source"], b["source"]
        assert publisher.licence_info["title"] in b["source"] and year
        # The CSV holds exactly the rows of the table under the chart, in its order.
        response = server.get(b["csv"])
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(response.text)))
        header, body = rows[0], rows[1:]
        assert header[:2] == [header[0], "valeur"] and header[-2:] == ["unite", "secret"]
        assert [r[0] for r in body] == [r[0] for r in b["rows"]], (path, b["id"])
        for shown, written in zip(b["rows"], body):
            # shown: label, value[, share][, last year]; written: label, valeur[, part][, valeur_AAAA], unite, secret
            for cell, value in zip(shown[1:], written[1:-2]):
                assert same_number(value, figure(cell)), (b["id"], shown, written)
            assert (written[-1] == "oui") == (shown[1].strip() == "secret statistique"), (b["id"], shown, written)


def test_chart_csv_figures_are_the_published_ones(server, published):
    """Counted against the package itself, not against the page that shows it."""
    rows = list(csv.DictReader(io.StringIO(server.get("/graphique/accompagnements-genre-2024.csv").text)))
    women = next(r for r in rows if r["categorie"] == "Femmes")
    assert women["valeur"] == published_value(published, 2024, "accompagnements", dimension="genre", modalite="feminin")
    assert women["part"] == published_value(published, 2024, "part_accompagnements", dimension="genre", modalite="feminin")
    assert women["valeur_2023"] == published_value(published, 2023, "accompagnements", dimension="genre", modalite="feminin")


def test_images_are_valid_and_say_their_title_and_source(desktop, server, publisher):
    desktop.goto(server.url + "/bilan/2024")
    for b in tables_of(desktop):
        png = server.get(b["png"])
        assert png.status_code == 200 and png.headers["content-type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"
        with Image.open(io.BytesIO(png.content)) as image:
            image.verify()
        with Image.open(io.BytesIO(png.content)) as image:
            assert image.width >= 800 and image.height >= 150
            assert len(set(image.convert("RGB").getdata())) > 3    # drawn, not blank
        svg = server.get(b["svg"])
        assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
        root = ET.fromstring(svg.content)
        texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
        assert publisher.nom in " ".join(texts)
        drawn = [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if "barre" in r.get("class", "").split() and "precedente" not in r.get("class", "")]
        assert len(drawn) == b["bars"], b["id"]


def test_permalink_and_embed_code_open_the_chart(desktop, server):
    desktop.goto(server.url + "/bilan/2024")
    for b in tables_of(desktop)[:4]:
        assert b["link"].endswith("/bilan/2024#" + b["id"])
        assert desktop.locator(f"[id='{b['id']}']").count() == 1
        src = re.search(r'<iframe src="([^"]+)"', b["embed"]).group(1)
        assert src.endswith("/graphique/" + b["csv"].rsplit("/", 1)[-1].removesuffix(".csv"))
        alone = server.get("/graphique/" + src.rsplit("/graphique/", 1)[-1])
        assert alone.status_code == 200 and 'class="graphique"' in alone.text and b["id"] in alone.text
