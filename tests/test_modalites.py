"""Labels as data: the ``modalites`` resource of each package and table of the database label
every code of the published ``indicateurs`` table, as the contract words them."""

from __future__ import annotations

import csv
import json
import sqlite3

import pytest
from frictionless import validate

from ccas_opendata.vocabulary import contract

pytestmark = pytest.mark.slow


def rows(path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("year", [2023, 2024])
def test_the_package_labels_every_code_of_its_table(published, year):
    package = published / "datapackages" / str(year)
    labels = {(r["dimension"], r["code"]): r for r in rows(package / "modalites.csv")}
    used = {(r["dimension"], r["modalite"]) for r in rows(package / "indicateurs.csv")}
    assert used and used <= set(labels)
    # A few labels checked by hand against contract.yml's « libelles ».
    assert labels[("genre", "feminin")]["libelle"] == "Femmes"
    assert labels[("tranche_age", "70_plus")]["libelle"] == "70 ans et plus"
    assert labels[("tranche_age", "non_communique")]["libelle"] == "Non communiqué"
    assert labels[("ensemble", "ensemble")]["libelle"] == "Ensemble"
    ages = sorted((r for r in labels.values() if r["dimension"] == "tranche_age"), key=lambda r: int(r["ordre"]))
    assert [r["code"] for r in ages] == ["moins_de_18", "18_24", "25_39", "40_59", "60_69", "70_plus", "non_communique"]
    for (dimension, code), row in labels.items():
        words = contract()["libelles"].get({"thematique": "thematiques"}.get(dimension, dimension), {})
        if code in words:
            assert row["libelle"] == str(words[code]), (dimension, code)
    descriptor = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    resources = {r["name"]: r for r in descriptor["resources"]}
    assert resources["indicateurs"]["schema"]["foreignKeys"] == [
        {"fields": ["dimension", "modalite"], "reference": {"resource": "modalites", "fields": ["dimension", "code"]}}
    ]
    assert [f["name"] for f in resources["modalites"]["schema"]["fields"]] == ["dimension", "code", "libelle", "ordre"]


def test_frictionless_refuses_a_code_without_label(published, tmp_path):
    """The foreign key is checked: a code missing from modalites.csv makes the package invalid."""
    import shutil

    package = tmp_path / "2024"
    shutil.copytree(published / "datapackages" / "2024", package)
    assert validate(str(package / "datapackage.json")).valid
    kept = [r for r in rows(package / "modalites.csv") if (r["dimension"], r["code"]) != ("genre", "feminin")]
    with open(package / "modalites.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["dimension", "code", "libelle", "ordre"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)
    report = validate(str(package / "datapackage.json"))
    assert not report.valid
    assert {e.type for task in report.tasks for e in task.errors} == {"foreign-key"}


def test_the_database_table_labels_every_code_and_declares_the_key(published):
    with sqlite3.connect(published / "publish" / "indicateurs.db") as db:
        unlabelled = db.execute(
            "select count(*) from indicateurs i left join modalites m on m.dimension = i.dimension and m.code = i.modalite "
            "where m.code is null"
        ).fetchone()[0]
        assert unlabelled == 0
        assert db.execute("select count(*) from indicateurs").fetchone()[0] > 1000
        keys = db.execute("pragma foreign_key_list(indicateurs)").fetchall()
        assert sorted((k[2], k[3], k[4]) for k in keys) == [("modalites", "dimension", "dimension"), ("modalites", "modalite", "code")]
        assert db.execute("select libelle from modalites where dimension = 'genre' and code = 'feminin'").fetchone() == ("Femmes",)
    db.close()


def test_the_api_joins_the_labels(server):
    """The canned query of the /api page, and the table itself, through the real Datasette."""
    joined = server.get("/indicateurs/ventilation_libelles.json?annee=2024&dimension=genre&_shape=array").json()
    assert [(r["modalite"], r["libelle"]) for r in joined] == [
        ("feminin", "Femmes"),
        ("masculin", "Hommes"),
        ("non_communique", "Non communiqué"),
    ]
    plain = server.get("/indicateurs/ventilation.json?annee=2024&dimension=genre&_shape=array").json()
    assert sorted(r["accompagnements"] for r in joined) == sorted(r["accompagnements"] for r in plain)
    table = server.get("/indicateurs/modalites.json?dimension=tranche_age&_shape=array&_sort=ordre").json()
    assert [r["libelle"] for r in table][-2:] == ["70 ans et plus", "Non communiqué"]
