"""Every screen and every reader, in a real headless Chromium: a 390 px phone (no sideways
scrolling, chart text at least 11 px, no clipped label), paper (A4, a cover, a one-page
summary, headings kept with what follows), keyboards, and axe-core's WCAG 2.1 A/AA rules
(those the RGAA takes up) on every kind of page, Datasette's own included."""

from __future__ import annotations

import csv
import re

import pytest

from test_site_browser import browser  # noqa: F401  (one Chromium for the module)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

NBSP = "\u00a0"
PHONE = {"width": 390, "height": 844}
CITIZENS = [
    "/",
    "/bilan/2024",
    "/bilan/2023",
    "/indicateur/accompagnements",
    "/indicateur/taux_satisfaction",
    "/api",
    "/methode",
    "/risque/2024",
    "/accessibilite",
    "/mentions-legales",
    "/telechargements",
    "/changements",
    "/graphique/accompagnements-genre-2024",
]
DATASETTE = [
    "/indicateurs",
    "/indicateurs/indicateurs?annee=2024&indicateur=usagers",
    "/indicateurs/indicateurs?annee=2024&_facet=indicateur&_sort=valeur",
    "/indicateurs/definitions/accompagnements",
    "/indicateurs/indicateurs/1",
    "/indicateurs/serie_annuelle?indicateur=usagers",
    "/indicateurs?sql=select+annee%2C+count(*)+from+indicateurs+group+by+annee",
    "/indicateurs/introuvable",
    "/-/versions",
    "/indicateurs/versions",
    "/indicateurs/lieux",
    "/indicateurs/secret_par_annee",
]
RGAA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture
def phone(browser):  # noqa: F811
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def desktop(browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


# Rendered size of each chart text: its font size times the scale of its SVG on screen.
CHART_TEXTS = """() => [...document.querySelectorAll('svg.graphique text')].map(t => {
    const svg = t.ownerSVGElement, box = svg.getBoundingClientRect(), r = t.getBoundingClientRect();
    return {text: t.textContent, chart: svg.id, px: parseFloat(getComputedStyle(t).fontSize) * box.width / svg.viewBox.baseVal.width,
            inside: r.left >= box.left - 0.5 && r.right <= box.right + 0.5 && r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5};
})"""


@pytest.mark.parametrize("path", CITIZENS + DATASETTE)
def test_phone_reads_without_sideways_scrolling(phone, server, path):
    phone.goto(server.url + path)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
    texts = phone.evaluate(CHART_TEXTS)
    small = [(t["chart"], t["text"], round(t["px"], 1)) for t in texts if t["px"] < 11]
    clipped = [(t["chart"], t["text"]) for t in texts if not t["inside"]]
    assert not small, f"chart text under 11 px on a phone: {small[:5]}"
    assert not clipped, f"chart labels cut by their chart: {clipped[:5]}"


def test_sql_heading_reads_as_words_on_a_phone(phone, server):
    phone.goto(server.url + "/indicateurs?sql=select+annee%2C+count(*)+from+indicateurs+group+by+annee")
    label = phone.locator("form.sql h2 label")
    assert label.inner_text() == "Requête SQL"
    box = label.bounding_box()
    assert box["width"] > 80 and box["height"] < 40  # once 15 % wide: « Req / uête / SQL »


def test_every_secret_note_states_the_threshold(phone, server, publisher):
    """The note under a table with a hidden figure says how many persons the threshold is,
    on screen and on paper (it once read « moins de  personnes »)."""
    notes = []
    for path in ("/", "/bilan/2023", "/bilan/2024", "/indicateur/taux_satisfaction"):
        phone.goto(server.url + path)
        for media in ("screen", "print"):
            phone.emulate_media(media=media)
            notes += [(path, media, n.inner_text()) for n in phone.locator(".note-secret").all()]
    assert len(notes) >= 4
    expected = f"moins de {publisher.seuil_secret} personnes"
    assert [n for n in notes if expected not in n[2]] == []


def test_wide_tables_fold_or_scroll_in_a_labelled_box_with_a_hint(phone, server):
    """On a phone, a table wider than its box scrolls in a named, focusable region whose
    edge shadow shows there is more; the downloads, changes and risk tables fold instead."""
    for path in ("/bilan/2024", "/bilan/2023", "/risque/2024", "/telechargements", "/changements"):
        phone.goto(server.url + path)
        boxes = phone.evaluate("""() => [...document.querySelectorAll('main table')].map(t => {
            const box = t.closest('.defilement'), s = box && getComputedStyle(box);
            return {wide: t.getBoundingClientRect().width > (box || t.parentElement).clientWidth + 1, box: !!box,
                    named: !!box && !!(box.getAttribute('aria-label') || box.getAttribute('aria-labelledby')), focusable: !!box && box.tabIndex === 0,
                    hint: !!s && s.backgroundImage.includes('radial-gradient'), right: t.getBoundingClientRect().right}; })""")
        assert boxes, path
        for b in boxes:
            if b["wide"]:
                assert b["box"] and b["named"] and b["focusable"] and b["hint"], (path, b)
            else:
                assert b["right"] <= PHONE["width"], (path, b)


def test_non_communique_is_drawn_whole(phone, server):
    phone.goto(server.url + "/bilan/2024")
    labels = [t for t in phone.evaluate(CHART_TEXTS) if t["chart"] == "graphique-accompagnements-genre"]
    assert "Non communiqué" in [t["text"] for t in labels]
    assert all(t["inside"] for t in labels)


@pytest.mark.parametrize("path", CITIZENS + DATASETTE)
def test_no_serious_accessibility_violation(desktop, server, path):
    from axe_playwright_python.sync_playwright import Axe

    desktop.goto(server.url + path)
    assert desktop.locator("html").get_attribute("lang") == "fr"
    result = Axe().run(desktop, options={"runOnly": {"type": "tag", "values": RGAA_TAGS}})
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, f"{path}: {serious}"


def pdf_pages(pdf: bytes) -> tuple[int, list[tuple[float, float]]]:
    sizes = [(float(w), float(h)) for w, h in re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)]
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf)), sizes


def test_printed_bilan_is_a4_with_cover_and_summary(desktop, server):
    desktop.goto(server.url + "/bilan/2024")
    desktop.emulate_media(media="print")
    assert desktop.locator(".couverture").is_visible() and desktop.locator(".resume-chiffres").is_visible()
    assert desktop.locator("header.bandeau").is_hidden() and desktop.locator(".sommaire").is_hidden()
    styles = desktop.evaluate("""() => ({
        h2: getComputedStyle(document.querySelector('.section-bilan h2')).breakAfter,
        intro: getComputedStyle(document.querySelector('.section-bilan > p')).breakAfter,
        figure: getComputedStyle(document.querySelector('figure.bloc')).breakInside,
        cover: getComputedStyle(document.querySelector('.couverture')).breakAfter,
        summary: getComputedStyle(document.querySelector('.resume')).breakAfter})""")
    assert styles == {"h2": "avoid", "intro": "avoid", "figure": "avoid", "cover": "page", "summary": "page"}
    pages, sizes = pdf_pages(desktop.pdf(prefer_css_page_size=True))
    # A4 is 595.3 × 841.9 points; before this layout the bilan printed on 21 US-Letter pages.
    assert sizes and all(abs(w - 595.3) < 1.5 and abs(h - 841.9) < 1.5 for w, h in sizes)
    assert 4 <= pages <= 16, pages
    # On screen, neither the cover nor the printed summary table shows.
    desktop.emulate_media(media="screen")
    assert desktop.locator(".couverture").is_hidden() and desktop.locator(".resume-chiffres").is_hidden()


PAGE_RULES = (
    """() => [...document.styleSheets].flatMap(s => [...s.cssRules]).filter(r => r instanceof CSSPageRule).map(r => r.cssText).join(' ')"""
)


@pytest.mark.parametrize("path", ["/bilan/2024", "/methode", "/indicateur/accompagnements"])
def test_printed_pages_carry_page_numbers_a_running_footer_and_link_addresses(desktop, server, publisher, path):
    desktop.goto(server.url + path)
    desktop.emulate_media(media="print")
    rules = desktop.evaluate(PAGE_RULES)
    assert "@bottom-right" in rules and "counter(page)" in rules and "counter(pages)" in rules
    title = desktop.title().split(" — ")[0]
    assert f'@bottom-left {{ content: "{publisher.nom} — {title}"' in rules, rules
    if path.startswith("/bilan/"):
        printed = desktop.evaluate("""() => [...document.querySelectorAll('.sources a[href]')].map(a =>
            [a.href, getComputedStyle(a, '::after').content])""")
        assert printed and all(after == f'" <{href}>"' and href.startswith(("http://", "https://")) for href, after in printed), printed


def year_figures(published, year: int) -> dict[str, str]:
    with open(published / "datapackages" / str(year) / "indicateurs.csv", encoding="utf-8", newline="") as f:
        return {
            r["indicateur"]: r["valeur"]
            for r in csv.DictReader(f)
            if r["periode"] == str(year) and r["lieu"] == r["dimension"] == r["modalite"] == "ensemble"
        }


def test_bilan_opens_with_key_sentences_from_the_published_figures(desktop, server, published):
    from ccas_opendata.site.render import load_labels

    figures = year_figures(published, 2024)
    desktop.goto(server.url + "/bilan/2024")
    sentences = [li.inner_text() for li in desktop.locator(".essentiel .phrases-cles li").all()]
    templates = load_labels()["phrases_cles"]
    said = [t for t in templates if all(figures.get(code) for code in re.findall(r"{(\w+)}", t) if code != "annee")]
    assert len(sentences) == len(said) >= 4
    total = int(float(figures["accompagnements"]))
    assert f"{total:,}".replace(",", NBSP) + " accompagnements individuels ont été réalisés en 2024." in sentences
    # One rounding: the sentence says the minutes the card shows (« 40,5 min »), never « 41 ».
    minutes = f"{float(figures['duree_moyenne']):.1f}".replace(".", ",")
    assert f"La durée moyenne d'un accompagnement est de {minutes} minutes." in sentences
    card = desktop.locator(".chiffres-cles li", has_text="Durée moyenne").first.locator(".valeur").inner_text()
    assert card == f"{minutes}{NBSP}min"
    assert desktop.locator("h1").inner_text() == "Bilan d'activité 2024"
    assert "permanences numériques du CCAS de Val-d'Orbe" in desktop.locator(".chapo").inner_text()


def test_api_code_blocks_scroll_from_the_keyboard(phone, server):
    phone.goto(server.url + "/api")
    blocks = phone.locator("main pre")
    assert blocks.count() >= 5 and all(b.get_attribute("tabindex") == "0" for b in blocks.all())
    for _ in range(80):
        phone.keyboard.press("Tab")
        if phone.evaluate("document.activeElement.tagName") == "PRE":
            break
    assert phone.evaluate("document.activeElement.tagName") == "PRE"
    assert phone.evaluate("document.activeElement.scrollWidth > document.activeElement.clientWidth")
    phone.keyboard.press("ArrowRight")
    phone.keyboard.press("ArrowRight")
    # Keyboard scrolling is animated: wait for it rather than read scrollLeft at once.
    phone.wait_for_function("document.activeElement.scrollLeft > 0", timeout=3000)


def test_datasette_pages_in_french_with_landmarks(desktop, server):
    desktop.goto(server.url + "/indicateurs/indicateurs?annee=2024&indicateur=usagers")
    assert desktop.locator("html").get_attribute("lang") == "fr"
    for landmark in ("header", "main", "footer"):
        assert desktop.locator(landmark).count() == 1, landmark
    assert desktop.locator("nav[aria-label]").count() == 2
    assert desktop.locator("form.filters input[type=submit]").get_attribute("value") == "Appliquer"
    heading = desktop.locator("h2.nombre-lignes").inner_text()
    assert re.match(r"\d+ lignes? où annee = « 2024 » et indicateur = « usagers »", heading), heading
    text = desktop.locator("body").inner_text()
    for english in ("This data as", "Advanced export", "Apply", "Custom SQL query", "Suggested facets", "rows where"):
        assert english not in text, english
    # The column menu opens from the keyboard, in French, and Escape gives focus back.
    desktop.locator("th[data-column=valeur] [role=button]").focus()
    desktop.keyboard.press("Enter")
    assert desktop.evaluate("document.activeElement.textContent") == "Trier par ordre croissant"
    desktop.keyboard.press("Escape")
    assert desktop.evaluate("document.activeElement.getAttribute('aria-label')") == "Menu de la colonne valeur"
    desktop.goto(server.url + "/indicateurs")
    assert "Requête SQL libre" in desktop.locator("main").inner_text() and "Requêtes toutes prêtes" in desktop.locator("main").inner_text()
    assert desktop.locator("footer a[href='/accessibilite']").count() == 1


def test_accessibility_statement_and_legal_notice(desktop, server, publisher):
    desktop.goto(server.url + "/")
    desktop.locator("footer a[href='/accessibilite']").click()
    statement = desktop.locator("main").inner_text()
    assert "non conforme" in statement and "RGAA" in statement and publisher.contact in statement and "Défenseur des droits" in statement
    desktop.goto(server.url + "/")
    desktop.locator("footer a[href='/mentions-legales']").click()
    notice = desktop.locator("main").inner_text()
    assert publisher.nom in notice and publisher.siret in notice and "du CCAS de Val-d'Orbe" in notice
    assert "cookie" in notice


@pytest.mark.parametrize("path", CITIZENS)
def test_technical_quality_report_is_not_linked_for_citizens(desktop, server, path):
    desktop.goto(server.url + path)
    assert desktop.locator("a[href*='/static/qualite']").count() == 0


def test_explorer_row_link_is_narrow_and_french_with_labels_beside_codes(desktop, server, published):
    desktop.goto(server.url + "/indicateurs/indicateurs?annee=2024&indicateur=accompagnements&dimension=genre&_facet=lieu")
    assert desktop.locator("table.rows-and-columns thead th").first.inner_text().strip() == "Ligne"
    link = desktop.locator("table.rows-and-columns tbody td.col-Link a").first
    assert link.inner_text() == "Voir" and link.get_attribute("aria-label").startswith("Voir la ligne 2024,")
    assert link.bounding_box()["width"] < 60
    assert desktop.locator("th[data-column=valeur]").bounding_box()["x"] + 40 < 1280  # valeur stays on screen
    with open(published / "datapackages" / "2024" / "lieux.csv", encoding="utf-8", newline="") as f:
        lieux = {r["code"]: r["nom"] for r in csv.DictReader(f)}
    cells = desktop.evaluate("""() => [...document.querySelectorAll('table.rows-and-columns tbody tr')].map(tr =>
        Object.fromEntries([...tr.querySelectorAll('td')].map(td => [td.className.split(' ')[0].replace('col-', ''), td.innerText])))""")
    femmes = [c for c in cells if c["modalite"].startswith("feminin")]
    assert femmes and all(c["modalite"].split("\n")[1] == "Femmes" for c in femmes)  # the contract's label
    assert all(c["indicateur"].split("\n")[1] == "Accompagnements individuels" for c in cells)
    for c in cells:
        code = c["lieu"].split("\n")[0]
        if code in lieux:
            assert c["lieu"].split("\n")[1] == lieux[code]
    facet = desktop.locator("#facet-lieu").inner_text()
    assert all(nom in facet for code, nom in lieux.items() if code in facet)
    footer = desktop.locator("footer")
    assert footer.locator("a[href='/']").count() == 1 and footer.locator("a[href='/api']").count() == 1


def test_dark_mode_is_applied_and_readable(browser, server):  # noqa: F811
    from axe_playwright_python.sync_playwright import Axe

    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme="dark")
    page = context.new_page()
    try:
        for path in ("/", "/bilan/2024"):
            page.goto(server.url + path)
            colours = page.evaluate("""() => ({body: getComputedStyle(document.body).backgroundColor,
                text: getComputedStyle(document.querySelector('main p')).color,
                chart: getComputedStyle(document.querySelector('svg.graphique text')).fill})""")
            lightness = [sum(int(x) for x in re.findall(r"\d+", colours[k])[:3]) / 3 for k in ("body", "text", "chart")]
            assert lightness[0] < 60 and lightness[1] > 150 and lightness[2] > 150, colours
            result = Axe().run(page, options={"runOnly": {"type": "tag", "values": RGAA_TAGS}})
            serious = [
                (v["id"], [n["target"] for n in v["nodes"]][:3])
                for v in result.response["violations"]
                if v["impact"] in ("serious", "critical")
            ]
            assert not serious, (path, serious)
        page.emulate_media(media="print")
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") in ("rgb(255, 255, 255)", "rgba(0, 0, 0, 0)")
    finally:
        context.close()


def test_current_page_cards_and_zero_categories(desktop, server):
    desktop.goto(server.url + "/methode")
    assert desktop.locator("nav[aria-label='Navigation principale'] a[aria-current=page]").all_inner_texts() == ["Méthode"]
    desktop.goto(server.url + "/bilan/2024")
    assert desktop.locator("nav[aria-label='Navigation principale'] a[aria-current=page]").all_inner_texts() == ["Bilan 2024"]
    card = desktop.locator(".chiffres-cles a .libelle").first
    assert "underline" in card.evaluate("e => getComputedStyle(e).textDecorationLine")
    # A category at zero both years is named under its chart, not drawn as an empty bar.
    blocks = desktop.evaluate("""() => [...document.querySelectorAll('figure.bloc')].map(f => ({
        zero: [...f.querySelectorAll('tbody tr')].map(tr => [...tr.children].map(c => c.innerText.trim()))
              .filter(r => r[1] === '0' && (r.length < 4 || ['0', ''].includes(r[r.length - 1]))).map(r => r[0]),
        drawn: [...f.querySelectorAll('svg.graphique text')].map(t => t.textContent),
        note: f.querySelector('.note-zero')?.innerText || ''}))""")
    folded = [b for b in blocks if b["zero"]]
    assert folded, "the test year has no category at zero"
    for b in folded:
        assert b["note"].startswith("Aucun en 2024 : ")
        for label in b["zero"]:
            assert label in b["note"] and label not in b["drawn"], (label, b["note"])


def test_legal_notice_always_has_a_hosting_section(desktop, server, publisher):
    desktop.goto(server.url + "/mentions-legales")
    section = desktop.locator("h2#hebergement")
    assert section.count() == 1
    text = desktop.locator("h2#hebergement + p").inner_text()
    declared = publisher.extra.get("hebergeur")
    assert (declared in text) if declared else (publisher.contact in text and "pas encore indiqué" in text)


@pytest.mark.parametrize("path", DATASETTE + ["/robots.txt", "/nimporte/quoi"])
def test_explorer_pages_describe_themselves_and_never_fail(server, path):
    response = server.get(path)
    assert response.status_code in (200, 404), (path, response.status_code)
    if response.headers["content-type"].startswith("text/html"):
        description = re.search(r'<meta name="description" content="([^"]+)"', response.text)
        assert description and len(description.group(1)) > 30, path
