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
from urllib.parse import urlsplit

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
        year_found = re.search(r"(20\d\d)", b["source"])
        assert year_found, b["source"]
        year = year_found.group(1)
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
            assert len(set(image.convert("RGB").getdata())) > 3  # drawn, not blank
        svg = server.get(b["svg"])
        assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
        root = ET.fromstring(svg.content)
        texts = ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]
        assert publisher.nom in " ".join(texts)
        drawn = [
            r
            for r in root.iter("{http://www.w3.org/2000/svg}rect")
            if "barre" in r.get("class", "").split() and "precedente" not in r.get("class", "")
        ]
        assert len(drawn) == b["bars"], b["id"]


def test_permalink_and_embed_code_open_the_chart(desktop, server):
    desktop.goto(server.url + "/bilan/2024")
    for b in tables_of(desktop)[:4]:
        assert b["link"].endswith("/bilan/2024#" + b["id"])
        assert desktop.locator(f"[id='{b['id']}']").count() == 1
        iframe = re.search(r'<iframe src="([^"]+)"', b["embed"])
        assert iframe, b["embed"]
        src = iframe.group(1)
        assert src.endswith("/graphique/" + b["csv"].rsplit("/", 1)[-1].removesuffix(".csv"))
        alone = server.get("/graphique/" + src.rsplit("/graphique/", 1)[-1])
        assert alone.status_code == 200 and 'class="graphique"' in alone.text and b["id"] in alone.text


SHARED_PAGES = [
    "/",
    "/bilan/2024",
    "/bilan/2023",
    "/indicateur/accompagnements",
    "/methode",
    "/api",
    "/risque/2024",
    "/telechargements",
    "/changements",
    "/accessibilite",
    "/mentions-legales",
]


def head_of(page) -> dict:
    return page.evaluate("""() => {
        const meta = n => document.querySelector(`meta[property="${n}"], meta[name="${n}"]`)?.content;
        return {title: document.title, description: meta('description'), canonical: document.querySelector('link[rel=canonical]')?.href,
                og: Object.fromEntries(['og:title', 'og:description', 'og:url', 'og:image', 'og:locale', 'og:type'].map(n => [n, meta(n)])),
                alternates: [...document.querySelectorAll('link[rel=alternate]')].map(l => [l.type, l.getAttribute('href')]),
                jsonld: [...document.querySelectorAll('script[type="application/ld+json"]')].map(s => s.textContent)}; }""")


def test_every_page_shares_its_title_description_and_feeds(desktop, server, publisher):
    descriptions = set()
    for path in SHARED_PAGES:
        desktop.goto(server.url + path)
        head = head_of(desktop)
        assert publisher.nom in head["title"] and publisher.nom in head["og"]["og:title"], (path, head["title"])
        assert head["description"] and len(head["description"]) >= 60 and head["og"]["og:description"] == head["description"], path
        descriptions.add(head["description"])
        assert head["canonical"] == head["og"]["og:url"] and urlsplit(head["canonical"]).path == path, path
        assert head["og"]["og:locale"] == "fr_FR" and head["og"]["og:type"] == "website"
        types = dict(head["alternates"])
        for kind in ("application/atom+xml", "text/turtle", "application/ld+json"):
            response = server.get(types[kind])
            assert response.status_code == 200 and response.headers["content-type"].startswith(kind), (path, kind)
    assert len(descriptions) == len(SHARED_PAGES)  # one description per page, not one for the site


@pytest.mark.parametrize("path", ["/", "/bilan/2024", "/indicateur/accompagnements"])
def test_open_graph_image_is_the_headline_chart_png(desktop, server, path):
    desktop.goto(server.url + path)
    image = head_of(desktop)["og"]["og:image"]
    assert image.startswith(("http://", "https://")) and "/graphique/" in image
    response = server.get(urlsplit(image).path)
    assert response.status_code == 200 and response.content[:8] == b"\x89PNG\r\n\x1a\n"
    stem = urlsplit(image).path.rsplit("/", 1)[-1].removesuffix(".png")
    assert desktop.locator(f"main .outils a[href$='/graphique/{stem}.png']").count() == 1  # a chart of this very page


def test_each_year_is_a_schema_org_dataset_of_its_package(desktop, server, published):
    desktop.goto(server.url + "/bilan/2024")
    [text] = head_of(desktop)["jsonld"]
    found = json.loads(text)
    descriptor = json.loads((published / "datapackages" / "2024" / "datapackage.json").read_text(encoding="utf-8"))
    assert found["@context"] == "https://schema.org" and found["@type"] == "Dataset"
    assert found["name"] == descriptor["title"] and found["version"] == descriptor["version"]
    assert found["temporalCoverage"] == "2024-01-01/2024-12-31" and found["license"].startswith("https://www.etalab.gouv.fr/")
    assert found["creator"]["@type"] == "Organization" and found["isAccessibleForFree"] is True
    for download in found["distribution"]:
        assert server.get(urlsplit(download["contentUrl"]).path).status_code == 200, download
    desktop.goto(server.url + "/")
    graph = json.loads(head_of(desktop)["jsonld"][0])["@graph"]
    assert sorted(d["temporalCoverage"][:4] for d in graph) == ["2023", "2024"] and {d["@type"] for d in graph} == {"Dataset"}


def test_years_chart_neighbour_links_and_main_procedures(desktop, server, published):
    desktop.goto(server.url + "/bilan/2024")
    assert desktop.locator("a[rel=prev]").get_attribute("href") == "/bilan/2023" and desktop.locator("a[rel=next]").count() == 0
    years = {b["id"]: b for b in tables_of(desktop)}["accompagnements-annees-2024"]
    assert [(r[0], figure(r[1])) for r in years["rows"]] == [
        (str(y), published_value(published, y, "accompagnements")) for y in (2023, 2024)
    ]
    desktop.goto(server.url + "/bilan/2023")
    assert desktop.locator("a[rel=next]").get_attribute("href") == "/bilan/2024" and desktop.locator("a[rel=prev]").count() == 0
    # The home page: the years, and the five largest themes of the latest year, counted in the package.
    desktop.goto(server.url + "/")
    blocks = {b["id"]: b for b in tables_of(desktop)}
    assert "accompagnements-annees-2024" in blocks
    with open(published / "datapackages" / "2024" / "indicateurs.csv", encoding="utf-8", newline="") as f:
        themes = [
            r
            for r in csv.DictReader(f)
            if r["indicateur"] == "accompagnements"
            and r["dimension"] == "thematique"
            and r["lieu"] == "ensemble"
            and r["periode"] == "2024"
            and r["valeur"]
        ]
    largest = sorted((float(r["valeur"]) for r in themes), reverse=True)[:5]
    assert [float(figure(r[1])) for r in blocks["principales-thematiques"]["rows"]] == largest
