"""Detail that fits the volume: a small CCAS publishes coarser levels, chosen from its records.

A year of 250 accompaniments over 3 sites (the demo generator) cannot carry 12 months, six
age bands and every site × modality: the release chooses quarters, three age bands, the
satisfaction answers 1 to 3 together, and leaves out the site × modality breakdowns most of
whose cells would be hidden. The figures are checked against a count of the input file by
hand (``csv``, not the tool's reader); the utility aim of issue #15 is asserted; the audit
refuses a table publishing a coarse level beside its fine cells where a reader could
subtract; a demo-sized year keeps every finest level (its published bytes stay unchanged).
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

from ccas_opendata.aggregate import MEASURES, aggregate
from ccas_opendata.catalogue import load_catalogue
from ccas_opendata.layout import Layout
from ccas_opendata.publisher import read_publisher
from ccas_opendata.demo import write_demo_year
from ccas_opendata.granularity import Granularity, choose, of_table, rules
from ccas_opendata.secrecy import audit, protect
from ccas_opendata.vocabulary import PUBLISHED_KEY
from conftest import REPO, demo_year_tables, release

sys.path.insert(0, str(REPO / "scripts"))
from secrecy_utility import describe, headline

YEAR = 2024
SIZE = 250


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    inputs = tmp_path_factory.mktemp("entrees")
    publisher, catalogue, tables = demo_year_tables(inputs, YEAR, SIZE)
    cells = aggregate(tables, publisher, catalogue, YEAR, None)
    return SimpleNamespace(
        publisher=publisher,
        catalogue=catalogue,
        inputs=inputs,
        tables=tables,
        cells=cells,
        table=protect(cells, catalogue, publisher, YEAR).table,
    )


def hand_count(inputs: Path) -> tuple[Counter, Counter]:
    """Accompaniments per quarter and per headline age band, read from the file itself."""
    quarters: Counter = Counter()
    ages: Counter = Counter()
    with open(inputs / "accompagnements.csv", encoding="utf-8-sig", newline="") as f:
        for row in csv.DictReader(f, delimiter=";"):
            quarters[f"{YEAR}-T{(int(row['Date'][5:7]) - 1) // 3 + 1}"] += 1
            age = YEAR - int(row["Année de naissance"]) if row["Année de naissance"] else None
            band = "non_communique" if age is None else "moins_de_25" if age < 25 else "25_59" if age < 60 else "60_plus"
            ages[band] += 1
    return quarters, ages


def published(table: pd.DataFrame, **where: str) -> pd.DataFrame:
    rows = table[table["indicateur"] == where.pop("indicateur", "accompagnements")]
    for column, value in {"periode": str(YEAR), "lieu": "ensemble", "dimension": "ensemble", **where}.items():
        rows = rows[rows[column] == value]
    return rows


def test_a_small_ccas_is_published_by_quarter_and_three_age_bands(small):
    publisher = small.publisher
    catalogue = small.catalogue
    inputs = small.inputs
    tables = small.tables
    table = small.table
    quarters, ages = hand_count(inputs)
    by_period = table[(table["indicateur"] == "accompagnements") & (table["lieu"] == "ensemble") & (table["dimension"] == "ensemble")]
    assert sorted(by_period["periode"]) == [str(YEAR)] + [f"{YEAR}-T{q}" for q in range(1, 5)]  # no month at all
    assert {p: int(v) for p, v in zip(by_period["periode"], by_period["valeur"]) if "T" in p} == dict(quarters)
    assert (by_period["secret"] == "").all()
    bands = published(table, dimension="tranche_age")
    assert list(bands["modalite"]) == ["moins_de_25", "25_59", "60_plus", "non_communique"]
    assert {m: int(v) for m, v in zip(bands["modalite"], bands["valeur"]) if v > 0} == dict(ages)
    assert (bands["secret"] == "").all()
    satisfaction = published(table, dimension="satisfaction")
    assert list(satisfaction["modalite"]) == ["1_3", "4", "5", "non_communique"]
    # Site × genre would be mostly hidden at this volume: not published at all.
    assert table[(table["lieu"] != "ensemble") & (table["dimension"] == "genre")].empty
    assert not table[(table["lieu"] != "ensemble") & (table["dimension"] == "ensemble")].empty  # the sites' totals stay
    assert of_table(table, catalogue, YEAR) == choose(tables, catalogue, publisher.seuil_secret)


def test_the_aim_of_issue_15_at_250_accompaniments_over_3_sites(small):
    publisher = small.publisher
    catalogue = small.catalogue
    table = small.table
    counts = table[table["indicateur"].isin(catalogue.count_codes())]
    nonzero = counts[(counts["secret"] != "") | (counts["valeur"] > 0)]
    assert (nonzero["secret"] == "").mean() >= 0.80, describe(table, catalogue, publisher)
    got, asked = headline(table, publisher)
    # Everything but men: the genre of 5 persons is not given, and a « non communiqué » cell of 5
    # cannot be published nor recomputed from the total, women and men (see the README's table).
    assert (got, asked) == (19, 20)
    assert published(table, dimension="genre", modalite="feminin")["secret"].iloc[0] == ""
    assert published(table, dimension="genre", modalite="masculin")["secret"].iloc[0] == "secret"
    assert published(table, indicateur="taux_satisfaction")["secret"].iloc[0] == ""


@pytest.fixture(scope="module")
def finest(small) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same records at the finest level, protected: (cells, published table). Built once
    for the module (aggregating and protecting the finest level was a third of each audit
    test's time); the tests only read it, ``hiding_only`` works on a copy."""
    publisher = small.publisher
    catalogue = small.catalogue
    tables = small.tables
    fine = aggregate(tables, publisher, catalogue, YEAR, None, granularity=Granularity())
    return fine, protect(fine, catalogue, publisher, YEAR).table


def hiding_only(table: pd.DataFrame, truth: pd.DataFrame, counts: pd.Series, hidden: pd.Series) -> pd.DataFrame:
    """``table`` with the ``counts`` rows published at their true value, except the
    ``hidden`` rows (every figure of them) shown secret."""
    out = table.copy()
    true = truth.set_index(PUBLISHED_KEY)["valeur"]
    keys = pd.MultiIndex.from_frame(out[PUBLISHED_KEY])
    out.loc[counts, "valeur"] = true.reindex(keys).to_numpy()[counts.to_numpy()]
    out.loc[counts, "secret"] = ""
    out.loc[hidden, "valeur"] = float("nan")
    out.loc[hidden, "secret"] = "secret"
    return out


def test_the_audit_refuses_a_quarter_published_beside_its_months(small, finest):
    """Two months hidden in different quarters are safe beside the year (only their sum is
    known); published beside the quarters, each is its quarter minus two published months."""
    publisher = small.publisher
    catalogue = small.catalogue
    table = small.table
    fine, monthly = finest
    is_month = (monthly["lieu"] == "ensemble") & (monthly["dimension"] == "ensemble") & (monthly["periode"] != str(YEAR))
    counts = is_month & (monthly["indicateur"] == "accompagnements")
    months = hiding_only(monthly, fine, counts, is_month & monthly["periode"].isin([f"{YEAR}-02", f"{YEAR}-08"]))
    assert audit(months, fine, catalogue, publisher, YEAR).ok
    quarters = published(table, periode=f"{YEAR}-T1"), published(table, periode=f"{YEAR}-T3")
    result = audit(pd.concat([months, *quarters], ignore_index=True), fine, catalogue, publisher, YEAR)
    assert not result.ok
    recomputed = {f["periode"] for f in result.failures if f["indicateur"] == "accompagnements" and f["exactement_recalculable"]}
    assert recomputed == {f"{YEAR}-02", f"{YEAR}-08"}


def test_the_audit_refuses_a_coarse_age_band_beside_its_fine_bands(small, finest):
    """The same with age bands: the under-18s and the 60–69 are safe beside the total; beside
    « moins de 25 ans » and « 60 ans et plus », each is a difference of published figures."""
    publisher = small.publisher
    catalogue = small.catalogue
    table = small.table
    fine, bands = finest
    is_age = (bands["lieu"] == "ensemble") & (bands["dimension"] == "tranche_age")
    counts = is_age & (bands["indicateur"] == "accompagnements")
    ages = hiding_only(bands, fine, counts, is_age & bands["modalite"].isin(["moins_de_18", "60_69"]))
    assert audit(ages, fine, catalogue, publisher, YEAR).ok
    coarse = published(table, dimension="tranche_age")
    result = audit(pd.concat([ages, coarse[coarse["modalite"] != "non_communique"]], ignore_index=True), fine, catalogue, publisher, YEAR)
    assert not result.ok
    recomputed = {f["modalite"] for f in result.failures if f["indicateur"] == "accompagnements" and f["exactement_recalculable"]}
    assert recomputed == {"moins_de_18", "60_69"}


def test_levels_are_declared_in_the_catalogue():
    catalogue = load_catalogue(Layout(REPO).catalogue, frozenset(MEASURES))
    spec = rules(catalogue)
    assert [level.code for level in spec.periods] == ["mois", "trimestre", "semestre"]
    (_, ages) = spec.dimensions["tranche_age"]
    assert ages.groups == {"moins_de_25": ("moins_de_18", "18_24"), "25_59": ("25_39", "40_59"), "60_plus": ("60_69", "70_plus")}


def test_a_demo_sized_year_keeps_every_finest_level(tmp_path):
    for year, size in ((2023, 3400), (2025, 4300)):
        publisher, catalogue, tables = demo_year_tables(tmp_path / str(year), year, size)
        assert choose(tables, catalogue, publisher.seuil_secret).finest


def test_a_small_ccas_releases_with_its_granularity_documented(tmp_path, folder):
    """End to end: Frictionless, Great Expectations and the site accept the quarters."""
    import json

    inputs = write_demo_year(tmp_path / "entrees", YEAR, read_publisher(REPO), size=SIZE, form="csv-excel")
    result = release(folder, YEAR, inputs)
    assert result.exit_code == 0, result
    package = json.loads((folder / "datapackages" / str(YEAR) / "datapackage.json").read_text(encoding="utf-8"))
    assert "par trimestre" in package["description"]
    assert "Moins de 25 ans" in package["description"]
    schema = package["resources"][0]["schema"]["fields"]
    assert "AAAA-T1/T2/T3/T4 pour un trimestre" in schema[1]["description"]
    rows = list(csv.DictReader(open(folder / "datapackages" / str(YEAR) / "modalites.csv", encoding="utf-8")))
    assert {"dimension": "tranche_age", "code": "moins_de_25", "libelle": "Moins de 25 ans"}.items() <= next(
        r for r in rows if r["code"] == "moins_de_25"
    ).items()
    methode = (folder / "publish" / "pages" / "methode.html").read_text(encoding="utf-8")
    assert "par trimestre" in methode
