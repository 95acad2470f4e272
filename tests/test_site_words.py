"""What the site says in words: the key sentences of a bilan counted by hand on a small
year, the organisation's name with its article (« du CCAS de … »), and charts laid out for
a phone. Fast: no release, no browser."""

from __future__ import annotations

import html
import re

import pytest
import yaml

from ccas_opendata.config import DEFAULTS_DIR, infer_article, read_publisher
from ccas_opendata.errors import ConfigurationError
from ccas_opendata.site.charts import FONT, WIDTH, Bar, columns, horizontal_bars
from ccas_opendata.site.render import load_labels
from ccas_opendata.site.sentences import key_sentences

NBSP = "\u00a0"

# A small year counted by hand: 120 accompaniments of 90 persons, 80 of them for an online
# administrative procedure (80 / 120 = 66.7 %: « les deux tiers »), 2 691 minutes in all
# (2 691 / 120 = 22.4 min: « 22 minutes »), 74 of the 90 persons came more than once
# (74 / 90 = 82.2 %: « 82 % »), 45 of 90 live in a priority neighbourhood (50 %: « la moitié »);
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
        "Les deux tiers des demandes concernent des démarches administratives en ligne.",
        "La durée moyenne d'un accompagnement est de 22 minutes.",
        f"82{NBSP}% des personnes sont venues plusieurs fois.",
        "La moitié des personnes dont le quartier est connu habitent un quartier prioritaire de la politique de la ville.",
    ]


def test_a_hidden_or_missing_figure_gives_no_sentence():
    sentences = " ".join(sentences_of(SMALL_YEAR))
    assert "satisf" not in sentences          # hidden: secret statistique
    assert "ateliers" not in sentences        # not published this year
    hidden_total = dict(SMALL_YEAR, accompagnements=(None, "nombre"))
    assert not any("accompagnements individuels" in s for s in sentences_of(hidden_total))


@pytest.mark.parametrize("share, said", [
    (25.4, "Un quart des"), (33.0, "Un tiers des"), (34.2, "Un tiers des"), (49.0, "La moitié des"), (67.6, "Les deux tiers des"),
    (74.2, "Les trois quarts des"), (35.0, f"35{NBSP}% des"), (52.0, f"52{NBSP}% des"), (82.5, f"83{NBSP}% des"), (6.4, f"6{NBSP}% des"),
])
def test_shares_near_a_simple_fraction_are_said_as_one(share, said):
    sentence = sentences_of({"part_usagers_plusieurs_visites": (share, "pourcentage")})
    assert sentence == [said + " personnes sont venues plusieurs fois."]


def test_sentence_templates_are_data_and_name_published_indicators():
    labels = load_labels()
    with open(DEFAULTS_DIR / "indicateurs.yml", encoding="utf-8") as f:  # wherever pytest runs from
        catalogue = yaml.safe_load(f)
    codes = {indicator["code"] for indicator in catalogue["indicateurs"]}
    for template in labels["phrases_cles"]:
        for code in re.findall(r"{(\w+)}", template):
            assert code == "annee" or code in codes, (template, code)


@pytest.mark.parametrize("nom, article, of_name", [
    ("CCAS de Rennes", "le", "du CCAS de Rennes"),
    ("Centre communal d'action sociale de Brest", "le", "du Centre communal d'action sociale de Brest"),
    ("Ville de Lorient", "la", "de la Ville de Lorient"),
    ("Mairie de Vannes", "la", "de la Mairie de Vannes"),
    ("Établissement public social de Quimper", "l'", "de l'Établissement public social de Quimper"),
])
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
    return float(re.search(r'viewBox="0 0 ([\d.]+) ', svg).group(1))


def test_charts_are_drawn_for_a_phone():
    """Every chart is WIDTH units wide so that its FONT-unit text stays at least 11 px on a
    390 px phone (measured for real in test_site_screens.py); long labels get their own line."""
    long = "Vers l'organisme en charge (CAF, CPAM…) pour une démarche que la personne ne peut faire seule"
    bars = [Bar(long, 130, "130"), Bar("Non communiqué", 0, "0"), Bar("Autre", None, "")]
    svg = horizontal_bars("g", "Titre", bars, "2023", "2024")
    assert viewbox_width(svg) == WIDTH and f'font-size="{FONT}"' in svg
    texts = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
    assert "Non communiqué" in texts and "secret statistique" in texts
    assert len([t for t in texts if t and t in long]) >= 2       # wrapped, never clipped
    twelve = [Bar(m, 1234, "1 234") for m in ("janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc.")]
    months = columns("m", "Mois", twelve)
    assert viewbox_width(months) == WIDTH and 'text-anchor="end"' in months   # drawn as bars, labels beside them
    years = columns("a", "Années", [Bar("2023", 1400, "1 400"), Bar("2024", 1500, "1 500")])
    assert 'text-anchor="middle"' in years                                       # a few years: columns
