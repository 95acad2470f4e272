"""« The sub-periods make the year »: the published-table check sums a year's months, or its
quarters or semesters when the year is published coarser, and only for the counts the
catalogue says add up (``agregation: somme``), never for distinct persons.

The year is the demo generator's 250 accompaniments over 3 sites, which the release
publishes by quarter (:mod:`tests.test_granularity`); the quarters are counted by hand
from the file written, and the check is run by the real Great Expectations suite.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ccas_opendata.aggregate import MEASURES, aggregate
from ccas_opendata.catalogue import load_catalogue
from ccas_opendata.errors import ValidationFailed
from ccas_opendata.granularity import MONTHS, YEAR as YEAR_LEVEL, is_year, rules
from ccas_opendata.layout import Layout
from ccas_opendata.quality import validate_published, with_check_columns
from ccas_opendata.secrecy import protect
from conftest import REPO, demo_year_tables

YEAR = 2024
SIZE = 250
SUM_MESSAGE = "les mois publiés font le total de l'année"


def quarters_by_hand(inputs: Path) -> Counter:
    with open(inputs / "accompagnements.csv", encoding="utf-8-sig", newline="") as f:
        return Counter(f"{YEAR}-T{(int(row['Date'][5:7]) - 1) // 3 + 1}" for row in csv.DictReader(f, delimiter=";"))


def total(frame: pd.DataFrame, indicator: str, period: str = str(YEAR)) -> pd.Series:
    return frame[
        (frame["indicateur"] == indicator)
        & (frame["periode"] == period)
        & (frame["lieu"] == "ensemble")
        & (frame["dimension"] == "ensemble")
    ].iloc[0]


@pytest.fixture(scope="module")
def coarse(tmp_path_factory):
    """The small year with one indicator more in a copy of the catalogue: the distinct
    persons of each period under a new code (``agregation: personnes``), by month too."""
    base = tmp_path_factory.mktemp("sommes")
    publisher, _, tables = demo_year_tables(base / "entrees", YEAR, SIZE)
    data = yaml.safe_load(Layout(REPO).catalogue.read_text(encoding="utf-8"))
    model = next(i for i in data["indicateurs"] if i["code"] == "usagers")
    data["indicateurs"].append({**model, "code": "personnes_venues", "libelle": "Personnes venues", "ventilations": ["annee", "mois"]})
    path = base / "indicateurs.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    catalogue = load_catalogue(path, frozenset(MEASURES))
    table = protect(aggregate(tables, publisher, catalogue, YEAR, None), catalogue, publisher, YEAR).table
    return publisher, catalogue, table, base / "entrees"


def test_one_predicate_tells_the_year_from_its_sub_periods():
    spec = rules(load_catalogue(Layout(REPO).catalogue, frozenset(MEASURES)))
    levels = {code: spec.level_of_period(code) for code in ("2024", "2024-01", "2024-12", "2024-T2", "2024-S1", "2024-13", "x")}
    assert levels == {
        "2024": YEAR_LEVEL,
        "2024-01": MONTHS,
        "2024-12": MONTHS,
        "2024-T2": "trimestre",
        "2024-S1": "semestre",
        "2024-13": None,
        "x": None,
    }
    assert [is_year(p) for p in ("2024", "2024-05", "2024-T1", 2024)] == [True, False, False, True]


def test_a_year_published_by_quarter_is_checked_as_the_sum_of_its_quarters(coarse):
    publisher, catalogue, table, inputs = coarse
    quarters = quarters_by_hand(inputs)
    assert sorted(quarters) == [f"{YEAR}-T{q}" for q in range(1, 5)] and sum(quarters.values()) == SIZE
    counts = table[table["indicateur"] == "accompagnements"]
    assert not counts["periode"].str.fullmatch(r"\d{4}-\d{2}").any()  # no month published: the year is coarse
    frame = with_check_columns(table, catalogue, YEAR)
    assert total(frame, "accompagnements")["somme_mois"] == SIZE == total(frame, "accompagnements")["valeur"]
    for quarter, count in quarters.items():
        assert total(frame, "accompagnements", quarter)["valeur"] == count
        assert math.isnan(total(frame, "accompagnements", quarter)["somme_mois"])  # only a year's row carries the sum
    validate_published(table, publisher, catalogue, YEAR)  # the quarters do make the year
    # One quarter off by one: the check sees it (it did not, when it summed months only).
    wrong = table.copy()
    row = (wrong["indicateur"] == "accompagnements") & (wrong["periode"] == f"{YEAR}-T2") & (wrong["lieu"] == "ensemble")
    wrong.loc[row & (wrong["dimension"] == "ensemble"), "valeur"] += 1
    with pytest.raises(ValidationFailed, match=SUM_MESSAGE):
        validate_published(wrong, publisher, catalogue, YEAR)


def test_an_indicator_the_catalogue_says_does_not_add_up_is_not_summed(coarse):
    publisher, catalogue, table, _ = coarse
    assert catalogue["personnes_venues"].agregation == "personnes"
    year = total(table, "personnes_venues")["valeur"]
    quarters = [total(table, "personnes_venues", f"{YEAR}-T{q}") for q in range(1, 5)]
    assert all(q["secret"] == "" for q in quarters)
    # A person who came in two quarters counts once in the year: summing would fail the year.
    assert sum(q["valeur"] for q in quarters) > year
    frame = with_check_columns(table, catalogue, YEAR)
    assert math.isnan(total(frame, "personnes_venues")["somme_mois"])
    assert not math.isnan(total(frame, "accompagnements")["somme_mois"])
    validate_published(table, publisher, catalogue, YEAR)
