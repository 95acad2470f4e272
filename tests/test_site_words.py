"""What the site says in words: the key sentences of a bilan counted by hand on a small
year, the organisation's name with its article (« du CCAS de … »), and charts laid out for
a phone. Fast: no release, no browser."""

from __future__ import annotations

import html
import re

import pytest
import yaml

from ccas_opendata.layout import DEFAULTS_DIR
from ccas_opendata.publisher import infer_article, read_publisher
from ccas_opendata.errors import ConfigurationError
from ccas_opendata.site.charts import FONT, WIDTH, Bar, columns, horizontal_bars
from ccas_opendata.site.render import load_labels
from ccas_opendata.site.sentences import key_sentences

NBSP = "\u00a0"

# A small year counted by hand: 120 accompaniments of 90 persons, 80 of them for an online
# administrative procedure (80 / 120 = 66.7 %: « les deux tiers (66,7 %) »), 2 691 minutes in all
# (2 691 / 120 = 22.4 min: « 22,4 minutes », as the card says), 74 of the 90 persons came more
# than once (74 / 90 = 82.2 %: « 82,2 % »), 45 of 90 live in a priority neighbourhood (50 %: « la moitié (50,0 %) »);
# satisfaction is hidden (secret statistique); no workshop, no training is published.
SMALL_YEAR = {
    "accompagnements": (120.0, "nombre"),
    "usagers": (90.0, "nombre"),
    "part_demarches_administratives": (round(80 / 120 * 100, 1), "pourcentage"),
    "duree_moyenne": (round(2691 / 120, 1), "minutes"),
    "part_usagers_plusieurs_visites": (round(74 / 90 * 100, 1), "pourcentage"),
    "part_usagers_qpv": (round(45 / 90 * 100, 1), "pourcentage"),
    "taux_satisfaction": (None, "pourcentage"),
}


def sentences_of(figures: dict, year: int = 2024) -> list[str]:
    return key_sentences(load_labels(), year, figures.get)


def test_key_sentences_of_a_small_year_counted_by_hand():
    assert sentences_of(SMALL_YEAR) == [
        "120 accompagnements individuels ont été réalisés en 2024.",
        "90 personnes différentes ont été accompagnées.",
        f"Les deux tiers (66,7{NBSP}%) des accompagnements concernent une démarche administrative en ligne.",
        "La durée moyenne d'un accompagnement est de 22,4 minutes.",
        f"82,2{NBSP}% des personnes accompagnées sont venues plusieurs fois.",
        f"La moitié (50,0{NBSP}%) des personnes dont le quartier est connu habitent un quartier prioritaire de la politique de la ville.",
    ]


def test_a_hidden_or_missing_figure_gives_no_sentence():
    sentences = " ".join(sentences_of(SMALL_YEAR))
    assert "satisf" not in sentences  # hidden: secret statistique
    assert "ateliers" not in sentences  # not published this year
    hidden_total = dict(SMALL_YEAR, accompagnements=(None, "nombre"))
    assert not any("accompagnements individuels" in s for s in sentences_of(hidden_total))


@pytest.mark.parametrize(
    "share, said",
    [
        (25.4, "Un quart (25,4 %) des"),
        (33.0, "Un tiers (33,0 %) des"),
        (34.2, "Un tiers (34,2 %) des"),
        (49.0, "La moitié (49,0 %) des"),
        (67.6, "Les deux tiers (67,6 %) des"),
        (74.2, "Les trois quarts (74,2 %) des"),
        (35.0, "35,0 % des"),
        (52.0, "52,0 % des"),
        (82.5, "82,5 % des"),
        (6.4, "6,4 % des"),
    ],
)
def test_shares_near_a_simple_fraction_are_said_as_one_with_the_published_rounding(share, said):
    sentence = sentences_of({"part_usagers_plusieurs_visites": (share, "pourcentage")})
    assert sentence == [said.replace(" %", NBSP + "%") + " personnes accompagnées sont venues plusieurs fois."]


def test_every_share_sentence_names_its_denominator():
    """A share said without what it is a share of cannot be quoted: satisfaction is counted
    over answers (one per rated accompaniment), not over persons."""
    for template in load_labels()["phrases_cles"]:
        if any(code.startswith(("part_", "taux_")) for code in re.findall(r"{(\w+)}", template)):
            assert re.search(r"des (personnes|accompagnements|réponses)\b", template), template
    satisfaction = sentences_of({"taux_satisfaction": (87.0, "pourcentage")})
    assert satisfaction == [f"87,0{NBSP}% des réponses au questionnaire de fin d'accompagnement sont « satisfait » ou « très satisfait »."]


def test_sentence_templates_are_data_and_name_published_indicators():
    labels = load_labels()
    with open(DEFAULTS_DIR / "indicateurs.yml", encoding="utf-8") as f:  # wherever pytest runs from
        catalogue = yaml.safe_load(f)
    codes = {indicator["code"] for indicator in catalogue["indicateurs"]}
    for template in labels["phrases_cles"]:
        for code in re.findall(r"{(\w+)}", template):
            assert code == "annee" or code in codes, (template, code)


@pytest.mark.parametrize(
    "nom, article, of_name",
    [
        ("CCAS de Rennes", "le", "du CCAS de Rennes"),
        ("Centre communal d'action sociale de Brest", "le", "du Centre communal d'action sociale de Brest"),
        ("Ville de Lorient", "la", "de la Ville de Lorient"),
        ("Mairie de Vannes", "la", "de la Mairie de Vannes"),
        ("Établissement public social de Quimper", "l'", "de l'Établissement public social de Quimper"),
    ],
)
def test_article_inferred_from_the_name(folder, nom, article, of_name):
    assert infer_article(nom) == article
    write_organisation(folder, nom=nom)
    assert read_publisher(folder).of_name == of_name


def test_article_declared_wins_and_is_checked(folder):
    write_organisation(folder, nom="Services sociaux de Lannion", article="les")
    assert read_publisher(folder).of_name == "des Services sociaux de Lannion"
    write_organisation(folder, nom="Rennes", article="aucun")
    assert read_publisher(folder).of_name == "de Rennes"
    write_organisation(folder, article="du")
    with pytest.raises(ConfigurationError, match="article"):
        read_publisher(folder)


def test_accessibility_state_is_checked(folder):
    write_organisation(folder, accessibilite={"etat": "conforme à moitié"})
    with pytest.raises(ConfigurationError, match="non conforme, partiellement conforme, totalement conforme"):
        read_publisher(folder)


def write_organisation(folder, **changes):
    path = folder / "metadata" / "organisation.yml"
    org = yaml.safe_load(path.read_text(encoding="utf-8"))
    org.pop("article", None)
    org.update(changes)
    path.write_text(yaml.safe_dump(org, allow_unicode=True), encoding="utf-8")


def viewbox_width(svg: str) -> float:
    found = re.search(r'viewBox="0 0 ([\d.]+) ', svg)
    assert found, svg[:200]
    return float(found.group(1))


def test_charts_are_drawn_for_a_phone():
    """Every chart is WIDTH units wide so that its FONT-unit text stays at least 11 px on a
    390 px phone (measured for real in test_site_screens.py); long labels get their own line."""
    long = "Vers l'organisme en charge (CAF, CPAM…) pour une démarche que la personne ne peut faire seule"
    bars = [Bar(long, 130, "130"), Bar("Non communiqué", 0, "0"), Bar("Autre", None, "")]
    svg = horizontal_bars("g", "Titre", bars, "2023", "2024")
    assert viewbox_width(svg) == WIDTH and f'font-size="{FONT}"' in svg
    texts = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
    assert "Non communiqué" in texts and "secret statistique" in texts
    assert len([t for t in texts if t and t in long]) >= 2  # wrapped, never clipped
    twelve = [
        Bar(m, 1234, "1 234") for m in ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")
    ]
    months = columns("m", "Mois", twelve)
    assert viewbox_width(months) == WIDTH and 'text-anchor="end"' in months  # drawn as bars, labels beside them
    years = columns("a", "Années", [Bar("2023", 1400, "1 400"), Bar("2024", 1500, "1 500")])
    assert 'text-anchor="middle"' in years  # a few years: columns


def test_undeclared_host_is_said_to_the_agent_when_the_site_goes_online(folder, tmp_path):
    """The legal notice (LCEN) names the hosting provider: while « hebergeur » is not declared,
    the page says whom to ask and the commands that put the site together warn the agent."""
    from conftest import invoke

    write_organisation(folder, base_url="https://donnees.example.fr/")
    result = invoke("deploiement", "--dossier", folder, "--sortie", tmp_path / "sans")
    assert result.exit_code == 0, result
    assert "⚠ Mentions légales : l'hébergeur du site n'est pas déclaré" in result.stderr and "hebergeur" in result.stderr
    write_organisation(
        folder, base_url="https://donnees.example.fr/", hebergeur="Service informatique de la ville, 1 place de la Mairie, 01 02 03 04 05"
    )
    result = invoke("deploiement", "--dossier", folder, "--sortie", tmp_path / "avec")
    assert result.exit_code == 0, result
    assert "Mentions légales" not in result.output


def test_negative_evolutions_hang_below_a_zero_line():
    """An evolution chart (−8,0 % then +3,5 %): no negative height, the falling year's bar
    starts at the zero line and goes down, the rising one ends at it; figures outside the bars."""
    svg = columns("e", "Évolution", [Bar("2024", -8.0, "−8,0 %"), Bar("2025", 3.5, "+3,5 %")])
    rects = [dict(re.findall(r'(\w+)="([^"]*)"', r)) for r in re.findall(r"<rect [^>]*>", svg)]
    axis = [r for r in rects if r.get("class") == "axe"]
    falling, rising = [r for r in rects if r.get("class") == "barre"]
    assert len(axis) == 1 and all(float(r["height"]) > 0 for r in (falling, rising))
    zero = float(axis[0]["y"])
    assert abs(float(falling["y"]) - zero) < 0.1 and abs(float(rising["y"]) + float(rising["height"]) - zero) < 0.1
    assert float(falling["height"]) / float(rising["height"]) == pytest.approx(8.0 / 3.5, rel=0.01)
