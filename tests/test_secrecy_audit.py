"""Statistical secrecy: the audit against known counter-examples, and protect() on
records built to trip each rule."""

from __future__ import annotations

import json
from collections.abc import Set as AbstractSet
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ccas_opendata.aggregate import MEASURES, aggregate
from ccas_opendata.anonymise import anonymise
from ccas_opendata.catalogue import load_catalogue
from ccas_opendata.layout import Layout
from ccas_opendata.publisher import read_publisher
from ccas_opendata.errors import ConfigurationError
from ccas_opendata.ingest import read_records
from ccas_opendata.secrecy import THIS, audit, protect, reader_model
from conftest import REPO, make_folder

YEAR = 2024
SITES = ["ccas_centre", "maison_quartier_nord", "mediatheque_sud"]
GENRES = ["feminin", "masculin", "non_communique"]


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(Layout(REPO).catalogue, frozenset(MEASURES))


def count_table(matrix: list[list[int]], hidden: AbstractSet[tuple[str, str]] = frozenset()) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A genre × site count table with its margins; ``hidden`` cells are published empty.
    Returns (published, truth)."""
    rows = []

    def add(lieu, dimension, modalite, value):
        rows.append(
            {
                "annee": YEAR,
                "periode": str(YEAR),
                "lieu": lieu,
                "indicateur": "accompagnements",
                "dimension": dimension,
                "modalite": modalite,
                "valeur": float(value),
                "unite": "nombre",
                "secret": "",
                "source": "accompagnements",
                "personnes": value,
            }
        )

    grid = np.array(matrix)
    for i, site in enumerate(SITES):
        add(site, "ensemble", "ensemble", grid[i].sum())
        for j, genre in enumerate(GENRES):
            add(site, "genre", genre, grid[i, j])
    add("ensemble", "ensemble", "ensemble", grid.sum())
    for j, genre in enumerate(GENRES):
        add("ensemble", "genre", genre, grid[:, j].sum())
    truth = pd.DataFrame(rows)
    published = truth.copy()
    for lieu, genre in hidden:
        mask = (published["lieu"] == lieu) & (published["modalite"] == genre)
        published.loc[mask, "secret"] = "primaire"
        published.loc[mask, "valeur"] = np.nan
    return published, truth


MATRIX = [[120, 95, 30], [80, 60, 25], [70, 50, 20]]


def test_one_hidden_cell_in_a_row_with_a_total_fails(catalogue, publisher):
    published, truth = count_table(MATRIX, {("ccas_centre", "feminin")})
    result = audit(published, truth, catalogue, publisher, YEAR)
    assert not result.ok
    failure = result.failures[0]
    assert (failure["lieu"], failure["modalite"], failure["exactement_recalculable"]) == ("ccas_centre", "feminin", True)
    assert failure["minimum"] == failure["maximum"] == 120


def test_two_hidden_cells_in_one_row_are_recovered_by_their_columns(catalogue, publisher):
    published, truth = count_table(MATRIX, {("ccas_centre", "feminin"), ("ccas_centre", "masculin")})
    result = audit(published, truth, catalogue, publisher, YEAR)
    assert not result.ok
    assert {f["modalite"] for f in result.failures} == {"feminin", "masculin"}
    assert all(f["exactement_recalculable"] for f in result.failures)


def test_a_hidden_rectangle_is_protected(catalogue, publisher):
    rectangle = {
        ("ccas_centre", "feminin"),
        ("ccas_centre", "masculin"),
        ("maison_quartier_nord", "feminin"),
        ("maison_quartier_nord", "masculin"),
    }
    published, truth = count_table(MATRIX, rectangle)
    result = audit(published, truth, catalogue, publisher, YEAR)
    assert result.ok, result.failures
    assert result.hidden_cells == 4


def test_a_rectangle_of_small_cells_is_too_narrow(catalogue, publisher):
    """Hidden, not recoverable exactly, but pinned down to an interval narrower than
    the protection width: refused all the same."""
    matrix = [[120, 3, 30], [80, 2, 25], [70, 50, 20]]
    published, truth = count_table(
        matrix,
        {
            ("ccas_centre", "masculin"),
            ("ccas_centre", "non_communique"),
            ("maison_quartier_nord", "masculin"),
            ("maison_quartier_nord", "non_communique"),
        },
    )
    result = audit(published, truth, catalogue, publisher, YEAR)
    assert not result.ok
    assert not any(f["exactement_recalculable"] for f in result.failures)


def test_a_share_published_beside_a_hidden_count_gives_it_back(catalogue, publisher):
    rectangle = {
        ("ccas_centre", "feminin"),
        ("ccas_centre", "masculin"),
        ("maison_quartier_nord", "feminin"),
        ("maison_quartier_nord", "masculin"),
    }
    published, truth = count_table(MATRIX, rectangle)
    share = published.iloc[[0]].copy()
    share[["lieu", "indicateur", "dimension", "modalite", "valeur", "unite", "secret"]] = [
        "ccas_centre",
        "part_accompagnements",
        "genre",
        "feminin",
        round(120 / 245 * 100, 1),
        "pourcentage",
        "",
    ]
    result = audit(pd.concat([published, share], ignore_index=True), truth, catalogue, publisher, YEAR)
    assert not result.ok
    assert any(f["modalite"] == "feminin" and f["lieu"] == "ccas_centre" for f in result.failures)


def test_an_evolution_published_beside_a_hidden_count_gives_it_back(catalogue, publisher):
    """Across years: last year's published figure plus this year's evolution."""
    rectangle = {
        ("ccas_centre", "feminin"),
        ("ccas_centre", "masculin"),
        ("maison_quartier_nord", "feminin"),
        ("maison_quartier_nord", "masculin"),
    }
    published, truth = count_table(MATRIX, rectangle)
    previous, _ = count_table([[100, 90, 30], [80, 60, 25], [70, 50, 20]])
    previous["periode"], previous["annee"] = str(YEAR - 1), YEAR - 1
    evolution = published.iloc[[0]].copy()
    evolution[["lieu", "indicateur", "dimension", "modalite", "valeur", "unite", "secret"]] = [
        "ccas_centre",
        "evolution_accompagnements",
        "genre",
        "feminin",
        20.0,
        "pourcentage",
        "",
    ]
    table = pd.concat([published, evolution], ignore_index=True)
    assert audit(table, truth, catalogue, publisher, YEAR).ok  # without last year, nothing to link
    result = audit(table, truth, catalogue, publisher, YEAR, previous)
    assert not result.ok


def test_the_model_links_qpv_to_the_quartiers_it_covers(catalogue, publisher):
    """qpv = oui is the sum of the QPV quartiers: hide it, publish its quartiers, and the
    reader's model gives it back exactly."""
    rows = []
    quartiers = {q: 12 + i for i, q in enumerate(publisher.quartier_codes + ["hors_commune", "non_communique"])}
    covered = {"oui": [q for q in publisher.quartier_codes if q in publisher.qpv_codes]}
    for modalite, value in quartiers.items():
        rows.append(("quartier", modalite, value))
    rows.append(("qpv", "oui", sum(quartiers[q] for q in covered["oui"])))
    rows.append(("qpv", "non", sum(v for q, v in quartiers.items() if q not in covered["oui"] and q != "non_communique")))
    rows.append(("qpv", "non_communique", quartiers["non_communique"]))
    rows.append(("ensemble", "ensemble", sum(quartiers.values())))
    table = pd.DataFrame(
        [
            {
                "annee": YEAR,
                "periode": str(YEAR),
                "lieu": "ensemble",
                "indicateur": "accompagnements",
                "dimension": d,
                "modalite": m,
                "valeur": float(v),
                "unite": "nombre",
                "secret": "",
            }
            for d, m, v in rows
        ]
    )
    hidden = (table["dimension"] == "qpv") & (table["modalite"] == "oui")
    truth = table.copy()
    table.loc[hidden, ["valeur", "secret"]] = [np.nan, "primaire"]
    model = reader_model(table, truth, catalogue, publisher, YEAR)
    cell = (THIS, "accompagnements", (str(YEAR), "ensemble", "qpv", "oui"))
    low, high = model.intervals([cell])[cell]
    assert low == high == sum(quartiers[q] for q in covered["oui"])
    assert sorted(covered["oui"]) == ["la_plaine", "les_tilleuls"]


# --- protect() on records ----------------------------------------------------------------


def records_csv(tmp_path: Path, rows: list[dict]) -> Path:
    inputs = tmp_path / "entrees"
    inputs.mkdir(exist_ok=True)
    pd.DataFrame(rows).to_csv(inputs / "accompagnements.csv", index=False)
    return inputs


def base_rows(n_persons: int = 300, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    rows = []
    for person in range(n_persons):
        site = SITES[person % 3]
        situation = ["retraite", "demandeur_emploi", "inactif", "en_emploi"][int(rng.integers(0, 4))]
        for visit in range(1 + int(rng.integers(0, 3))):
            rows.append(
                {
                    "date": f"{YEAR}-{1 + (person + visit) % 12:02d}-10",
                    "lieu": site,
                    "duree": 30 + int(rng.integers(0, 30)),
                    "thematiques": "social_sante",
                    "usager": f"P{person}",
                    "genre": ["feminin", "masculin"][person % 2],
                    "situation": situation,
                    "autonomie": "autonome",
                    "quartier": "centre",
                }
            )
    return rows


def protected_year(tmp_path: Path, rows: list[dict], folder: Path | None = None):
    folder = folder or make_folder(tmp_path / "ccas")
    publisher = read_publisher(folder)
    catalogue = load_catalogue(Layout(folder).catalogue, frozenset(MEASURES))
    records = read_records(records_csv(tmp_path, rows))
    tables = anonymise(records, publisher, YEAR, b"k" * 32)
    cells = aggregate(tables, publisher, catalogue, YEAR)
    return protect(cells, catalogue, publisher, YEAR), cells


def cell(table: pd.DataFrame, lieu: str, dimension: str, modalite: str, indicateur: str = "accompagnements") -> pd.Series:
    found = table[
        (table["indicateur"] == indicateur)
        & (table["periode"] == str(YEAR))
        & (table["lieu"] == lieu)
        & (table["dimension"] == dimension)
        & (table["modalite"] == modalite)
    ]
    assert len(found) == 1
    return found.iloc[0]


def reason(protected, lieu: str, dimension: str, modalite: str, indicateur: str = "accompagnements") -> str:
    """The private reason a row is hidden (the work area's, never published)."""
    table = protected.table
    found = table.index[
        (table["indicateur"] == indicateur)
        & (table["periode"] == str(YEAR))
        & (table["lieu"] == lieu)
        & (table["dimension"] == dimension)
        & (table["modalite"] == modalite)
    ]
    assert len(found) == 1
    return protected.reasons[found[0]]


def test_one_person_with_many_visits_is_one_person(tmp_path):
    rows = base_rows()
    rows += [dict(rows[0], usager="RARE", situation="scolarise", date=f"{YEAR}-02-{d:02d}") for d in range(1, 16)]
    protected, cells = protected_year(tmp_path, rows)
    raw = cell(cells, "ensemble", "situation", "scolarise")
    assert raw["valeur"] == 15 and raw["personnes"] == 1
    hidden = cell(protected.table, "ensemble", "situation", "scolarise")
    assert hidden["secret"] == "secret" and np.isnan(hidden["valeur"])  # the one public symbol
    assert reason(protected, "ensemble", "situation", "scolarise") == "primaire"
    assert cell(protected.table, "ensemble", "situation", "scolarise", "part_accompagnements")["secret"] != ""
    assert protected.audit.ok


def test_every_published_figure_rests_on_enough_persons(tmp_path):
    protected, _ = protected_year(tmp_path, base_rows(120, seed=2))
    table = protected.table
    published = table[table["secret"] == ""]
    zero_counts = published["valeur"] == 0
    assert (published.loc[~zero_counts, "personnes"] >= 11).all()
    assert (protected.reasons == "secondaire").any()  # the small tables need secondary cells
    assert set(table["secret"]) == {"", "secret"}  # whatever the rule, one public symbol
    assert protected.audit.ok


def test_a_group_all_in_one_sensitive_category_is_not_published(tmp_path):
    rows = [dict(r, situation="retraite") if r["lieu"] == "mediatheque_sud" else r for r in base_rows()]
    protected, _ = protected_year(tmp_path, rows)
    table = protected.table
    site = table[(table["indicateur"] == "accompagnements") & (table["lieu"] == "mediatheque_sud") & (table["dimension"] == "situation")]
    assert (site["secret"] != "").all() and site["valeur"].isna().all()
    assert (str(YEAR), "mediatheque_sud", "situation") in protected.homogeneous
    # autonomie is "autonome" for everyone, everywhere: hidden for the whole CCAS too.
    assert (table[(table["dimension"] == "autonomie") & (table["indicateur"] == "accompagnements")]["secret"] != "").all()


def test_without_usager_the_year_is_refused_unless_declared(tmp_path):
    rows = [{k: v for k, v in r.items() if k != "usager"} for r in base_rows(150)]
    with pytest.raises(ConfigurationError, match="colonne « usager »") as refused:
        protected_year(tmp_path, rows)
    assert "sans_identifiant_personne: oui" in refused.value.advice


def test_without_usager_only_accompaniment_figures_over_the_higher_threshold(tmp_path):
    folder = make_folder(tmp_path / "ccas")
    path = folder / "metadata" / "organisation.yml"
    path.write_text(path.read_text(encoding="utf-8") + "sans_identifiant_personne: oui\n", encoding="utf-8")
    rows = [{k: v for k, v in r.items() if k != "usager"} for r in base_rows(300)]
    protected, cells = protected_year(tmp_path, rows, folder)
    table = protected.table
    total = cell(cells, "ensemble", "ensemble", "ensemble")
    assert total["personnes"] == total["valeur"] == len(rows)
    assert "usagers" not in set(table["indicateur"]) and "part_usagers_qpv" not in set(table["indicateur"])
    assert not set(table["dimension"]) & {"genre", "situation", "quartier", "qpv", "tranche_age", "autonomie"}
    counts = table[(table["indicateur"] == "accompagnements") & (table["secret"] == "") & (table["valeur"] > 0)]
    assert len(counts) and (counts["valeur"] >= 33).all()  # 3 × seuil_secret by default


def test_one_person_making_most_of_a_cell_hides_it(tmp_path):
    """Dominance: a site where one person made more than half of the visits."""
    rows = base_rows()
    rows += [
        dict(rows[0], usager="FREQUENT", lieu="mediatheque_sud", thematiques="justice", date=f"{YEAR}-03-{d:02d}") for d in range(1, 29)
    ]
    protected, cells = protected_year(tmp_path, rows)
    raw = cell(cells, "mediatheque_sud", "thematique", "justice")
    assert raw["valeur"] == 28 and raw["dominance"] == 1.0
    assert cell(protected.table, "mediatheque_sud", "thematique", "justice")["secret"] == "secret"
    assert reason(protected, "mediatheque_sud", "thematique", "justice") == "primaire"


def test_threshold_below_five_is_refused(tmp_path):
    folder = make_folder(tmp_path / "ccas")
    path = folder / "metadata" / "organisation.yml"
    path.write_text(path.read_text(encoding="utf-8").replace("seuil_secret: 11", "seuil_secret: 4"), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="au moins 5"):
        read_publisher(folder)


def test_risk_report_is_published_with_the_year(published):
    report = json.loads((published / "datapackages" / "2024" / "risque.json").read_text(encoding="utf-8"))
    assert report["seuil_secret"] == 11
    assert report["audit"]["reussi"] is True
    assert report["cases_masquees_seuil"] > 0 and report["cases_masquees_protection"] > 0  # totals per rule only
    assert report["combinaisons_uniques_avant_agregation"] > 0
    assert set(report["criteres_g29"]) == {"individualisation", "correlation", "inference"}
    assert 0 < report["part_personnes_dans_cases_masquees"] <= 100
    per_dimension = report["part_personnes_dans_cases_masquees_par_dimension"]
    assert per_dimension and all(share is None or 0 < share <= 100 for share in per_dimension.values())
    assert per_dimension["genre"] < 100
    # A count of persons under the threshold is withheld like any other figure.
    for dimension, share in per_dimension.items():
        if share is not None:
            assert share / 100 * report["personnes_distinctes"] >= report["seuil_secret"] - 0.5, dimension


def test_a_new_year_changes_nothing_of_the_earlier_ones(published_copy, tmp_path, publisher):
    from ccas_opendata.demo import write_demo_year
    from conftest import release, snapshot

    before = {k: v for k, v in snapshot(published_copy).items() if k.startswith("datapackages/")}
    inputs = write_demo_year(tmp_path / "2025", 2025, publisher, size=1500, form="csv-utf8")
    assert release(published_copy, 2025, inputs).exit_code == 0
    after = {k: v for k, v in snapshot(published_copy).items() if k.startswith("datapackages/2023") or k.startswith("datapackages/2024")}
    assert after == before
    # An evolution is published only where both years are.
    new = pd.read_csv(published_copy / "datapackages" / "2025" / "indicateurs.csv", dtype=str, keep_default_na=False)
    old = pd.read_csv(published_copy / "datapackages" / "2024" / "indicateurs.csv", dtype=str, keep_default_na=False)
    hidden_2024 = set(
        old.loc[
            (old["indicateur"] == "accompagnements")
            & (old["secret"] != "")
            & (old["lieu"] == "ensemble")
            & (old["dimension"] == "thematique"),
            "modalite",
        ]
    )
    evolutions = new[(new["indicateur"] == "evolution_accompagnements") & (new["secret"] == "")]
    assert not (set(evolutions["modalite"]) & hidden_2024)


def test_no_hidden_cell_is_alone_in_a_published_sum(published):
    """The audit's LP, checked by plain subtraction: in every breakdown whose total is
    published, across sites and across months, a hidden count never stands alone."""
    table = pd.read_csv(published / "datapackages" / "2024" / "indicateurs.csv", dtype=str, keep_default_na=False)
    counts = table[table["indicateur"] == "accompagnements"]
    additive = {
        "tranche_age",
        "genre",
        "situation",
        "composition_familiale",
        "quartier",
        "qpv",
        "autonomie",
        "orientation",
        "canal",
        "duree_tranche",
        "premier_accompagnement",
        "satisfaction",
        "type_lieu",
        "intervenant",
    }
    year = counts[counts["periode"] == "2024"]

    def check(cells: pd.DataFrame, total_secret: str, what: str) -> None:
        if total_secret == "":
            assert (cells["secret"] != "").sum() != 1, what

    totals = {r.lieu: r.secret for r in year[year["dimension"] == "ensemble"].itertuples()}
    for (lieu, dimension), cells in year[year["dimension"].isin(additive)].groupby(["lieu", "dimension"]):
        check(cells, totals[lieu], f"{lieu}/{dimension}")
    for (dimension, modalite), cells in year[year["dimension"].isin(additive | {"ensemble"})].groupby(["dimension", "modalite"]):
        check(cells[cells["lieu"] != "ensemble"], cells.loc[cells["lieu"] == "ensemble", "secret"].iloc[0], f"{dimension}/{modalite}")
    months = counts[(counts["periode"].str.len() == 7) & (counts["lieu"] == "ensemble")]
    check(months, totals["ensemble"], "mois")
    assert (year["secret"] != "").any()


def test_distinct_per_group_is_nunique():
    from ccas_opendata.aggregate import _grouped, distinct_per_group

    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "lieu": pd.Categorical(rng.choice(["a", "b", "c"], 5000)),
            "genre": pd.Categorical(rng.choice(["f", "m"], 5000)),
            "pid": rng.integers(0, 800, 5000),
        }
    )
    groups = _grouped(frame, ["lieu", "genre"])
    assert distinct_per_group(groups, frame["pid"].to_numpy()).sort_index().equals(groups["pid"].nunique().sort_index())


def test_dominance_is_the_largest_share_of_one_person():
    """Hand count: in group a, person 1 has 3 of the 4 records (75 %) and person 5 has 90 of
    the 100 minutes (90 %); in group b, person 2 has 1 of 2 records and 90 of 100 minutes."""
    from ccas_opendata.aggregate import _grouped, person_runs

    frame = pd.DataFrame({"g": ["a", "a", "a", "a", "b", "b"], "pid": [1, 1, 1, 5, 2, 3], "duree": [3, 3, 4, 90, 90, 10]})
    runs = person_runs(_grouped(frame, ["g"]), frame["pid"].to_numpy(), frame["duree"].to_numpy())
    assert runs["personnes"].to_dict() == {"a": 2, "b": 2}
    assert runs["dominance"].round(2).to_dict() == {"a": 0.9, "b": 0.9}
