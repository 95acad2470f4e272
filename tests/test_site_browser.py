"""The citizens' pages in a real headless Chromium: French text, charts drawn, figures
shown, and not one request leaving 127.0.0.1."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
NBSP = "\u00a0"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is needed: `make test` installs it"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context()
    opened = context.new_page()
    opened.requests = []
    opened.on("request", lambda request: opened.requests.append(request.url))
    yield opened
    hosts = {urlparse(url).hostname for url in opened.requests if not url.startswith(("data:", "about:"))}
    assert hosts <= {"127.0.0.1"}, f"requests left 127.0.0.1: {hosts}"
    context.close()


def published_value(published: Path, year: int, indicateur: str, **where) -> str:
    with open(published / "datapackages" / str(year) / "indicateurs.csv", encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            key = {"periode": str(year), "lieu": "ensemble", "dimension": "ensemble", "modalite": "ensemble", **where}
            if row["indicateur"] == indicateur and all(row[k] == v for k, v in key.items()):
                return row["valeur"]
    raise LookupError(indicateur)


def french(number: str) -> str:
    """``3550`` → ``3 550``; ``82.0`` → ``82,0`` (the site's French format)."""
    whole, _, decimals = number.partition(".")
    grouped = f"{int(whole):,}".replace(",", NBSP)
    return grouped + ("," + decimals if decimals else "")


def drawn_bars(page, selector: str) -> int:
    return page.evaluate(
        "(sel) => [...document.querySelectorAll(sel + ' rect.barre')].filter(r => r.getBoundingClientRect().height > 0 && r.getBoundingClientRect().width > 0).length",
        selector,
    )


def test_home_page(page, server, published):
    page.goto(server.url + "/")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert "CCAS de Val-d'Orbe" in page.locator("h1").inner_text()
    total = published_value(published, 2024, "accompagnements")
    figure = page.locator(".chiffres-cles li", has_text="Accompagnements individuels")
    assert french(total) in figure.inner_text()
    evolution = float(published_value(published, 2024, "evolution_accompagnements"))
    assert "par rapport à 2023" in figure.inner_text() and french(f"{abs(evolution):.1f}") in figure.inner_text()
    assert drawn_bars(page, "#graphique-accompagnements-mois") == 12 - page.locator("#graphique-accompagnements-mois rect.secret").count()
    for year in (2023, 2024):
        assert page.locator(f"a[href='/bilan/{year}']").count() >= 1
    text = page.locator("body").inner_text()
    assert "Licence Ouverte" in text and "Prochaine mise à jour prévue" in text and "Publié le 1 janvier 2026" in text


def test_bilan_page(page, server, published):
    page.goto(server.url + "/bilan/2024")
    for title in (
        "Fréquentation",
        "Âge des personnes",
        "Composition familiale",
        "Situation socio-professionnelle",
        "Quartiers et quartiers prioritaires",
        "Démarches et thématiques",
        "Durée des accompagnements",
        "Autonomie",
        "Comment les personnes ont connu le service",
        "Orientations vers les partenaires",
        "Satisfaction",
        "Ateliers collectifs",
        "Formations",
    ):
        assert page.locator("h2", has_text=title).count() == 1, title
    women = published_value(published, 2024, "part_accompagnements", dimension="genre", modalite="feminin")
    row = page.locator("#accompagnements-genre tr", has_text="Femmes")
    assert french(women) + NBSP + "%" in row.inner_text()
    assert drawn_bars(page, "#graphique-accompagnements-genre") >= 2
    assert page.locator("svg.graphique").count() >= 15
    # Hidden cells are named and explained, with a link to the method.
    secret = page.locator("tr.secret").first
    assert "secret statistique" in secret.inner_text()
    assert secret.locator("a").get_attribute("href") == "/methode#secret"
    assert page.locator(".note-secret").count() >= 1
    # Comparison with the year before.
    assert "En 2023" in page.locator("#accompagnements-genre").inner_text()


def test_bilan_prints_without_navigation(page, server):
    page.goto(server.url + "/bilan/2024")
    page.emulate_media(media="print")
    assert page.locator(".bandeau nav").is_hidden()
    assert page.locator("#accompagnements-genre table").is_visible()
    pdf = page.pdf(format="A4")
    assert pdf[:4] == b"%PDF" and len(pdf) > 20_000


def test_indicator_page_and_its_csv(page, server, published):
    page.goto(server.url + "/indicateur/accompagnements")
    text = page.locator("main").inner_text()
    for label in ("Définition", "Unité", "Méthode", "Source", "Licence", "Citer cet indicateur"):
        assert label in text
    assert drawn_bars(page, "#graphique-accompagnements") == 2
    shown = [cell.inner_text() for cell in page.locator("#serie tbody td").all()]
    download = server.get(page.locator("a.bouton").get_attribute("href"))
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert [r["annee"] for r in rows] == ["2023", "2024"]
    assert shown == [french(r["valeur"]) for r in rows]
    assert rows[1]["valeur"] == published_value(published, 2024, "accompagnements")


def test_api_page_examples_work(page, server):
    page.goto(server.url + "/api")
    examples = [code.inner_text() for code in page.locator("pre code.url").all()]
    assert examples and all(e.startswith(server.url) for e in examples)
    for example in examples:
        assert server.get(example.removeprefix(server.url)).status_code == 200, example
    text = page.locator("main").inner_text()
    assert "pandas" in text and "read.csv" in text and "curl" in text


def test_methode_and_risk_pages(page, server):
    page.goto(server.url + "/methode")
    assert "11 personnes distinctes" in page.locator("#secret + p").inner_text()
    page.goto(server.url + "/risque/2024")
    assert "Individualisation" in page.locator("main").inner_text()


def test_datasette_pages_are_french_framed(page, server):
    page.goto(server.url + "/indicateurs/indicateurs?annee=2024")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert "Retour au site" in page.locator(".retour-site").inner_text()
