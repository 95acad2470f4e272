"""The yearly publish step, end to end, on real components."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import copy_folder, invoke, release, snapshot

pytestmark = pytest.mark.slow


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_release_publishes_package_database_and_site(published: Path):
    package = published / "datapackages" / "2024"
    assert sorted(p.name for p in package.iterdir()) == [
        "datapackage.json",
        "definitions.csv",
        "indicateurs.csv",
        "lieux.csv",
        "modalites.csv",
        "risque.json",
    ]
    for name in ("indicateurs.db", "metadata.json", "settings.json", "inspect-data.json"):
        assert (published / "publish" / name).exists(), name
    # The work area, which held pseudonymised records, is gone.
    assert not (published / ".travail").exists()


def test_frictionless_cli_validates_each_package(published: Path):
    for year in ("2023", "2024"):
        result = subprocess.run(
            [str(Path(sys.executable).parent / "frictionless"), "validate", str(published / "datapackages" / year / "datapackage.json")],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout[-3000:]


def test_package_metadata_follows_the_contract(published: Path):
    descriptor = json.loads((published / "datapackages" / "2024" / "datapackage.json").read_text(encoding="utf-8"))
    assert descriptor["licenses"] == [
        {
            "name": "etalab-2.0",
            "title": "Licence Ouverte / Open Licence version 2.0",
            "path": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
        }
    ]
    assert descriptor["contributors"][0]["siret"] == "26120999900017"
    assert descriptor["contributors"][0]["role"] == "publisher"
    assert descriptor["temporalCoverage"] == {"start": "2024-01-01", "end": "2024-12-31"}
    assert descriptor["spatialCoverage"]["commune"] == "12999"
    assert descriptor["created"] == "2026-01-01T00:00:00Z"  # SOURCE_DATE_EPOCH of the test environment
    # The demo's organisation.yml: seuil_secret 11, dominance_max 0.5.
    method = descriptor["secretStatistique"]["methode"]
    assert descriptor["secretStatistique"]["seuil"] == 11
    assert "lorsque moins de 11 personnes distinctes se trouvent derrière lui" in method
    assert "plus de 50 % de sa valeur à une seule personne" in method
    names = [r["name"] for r in descriptor["resources"]]
    assert names[:3] == ["indicateurs", "definitions", "lieux"]
    fields = descriptor["resources"][0]["schema"]["fields"]
    assert [f["name"] for f in fields] == ["annee", "periode", "lieu", "indicateur", "dimension", "modalite", "valeur", "unite", "secret"]
    assert all(f["title"] and f["description"] for f in fields)


def test_required_indicators_are_published(published: Path):
    rows = read_rows(published / "datapackages" / "2024" / "indicateurs.csv")
    codes = {r["indicateur"] for r in rows}
    required = {
        "accompagnements",
        "part_accompagnements",
        "usagers",
        "part_usagers_plusieurs_visites",
        "duree_moyenne",
        "duree_mediane",
        "part_demarches_administratives",
        "part_usagers_qpv",
        "taux_satisfaction",
        "evolution_accompagnements",
        "ateliers",
        "participants_ateliers",
        "participants_moyen_atelier",
        "formations_inscrits",
        "formations_presents",
        "taux_presence_formations",
    }
    assert required <= codes
    dims = {r["dimension"] for r in rows if r["indicateur"] == "accompagnements"}
    assert dims >= {
        "ensemble",
        "tranche_age",
        "genre",
        "situation",
        "composition_familiale",
        "quartier",
        "qpv",
        "thematique",
        "autonomie",
        "orientation",
        "canal",
        "materiel",
        "duree_tranche",
        "premier_accompagnement",
        "satisfaction",
    }
    months = [r for r in rows if r["indicateur"] == "accompagnements" and len(r["periode"]) == 7]
    assert sorted(r["periode"] for r in months) == [f"2024-{m:02d}" for m in range(1, 13)]


def test_counts_match_the_records(published: Path, small_inputs):
    """The published total is the number of lines of the input file; months add up to it."""
    with open(small_inputs[2024] / "accompagnements.csv", encoding="cp1252") as f:
        lines = sum(1 for _ in f) - 1
    rows = read_rows(published / "datapackages" / "2024" / "indicateurs.csv")
    total = next(
        r
        for r in rows
        if r["indicateur"] == "accompagnements" and r["periode"] == "2024" and r["lieu"] == "ensemble" and r["dimension"] == "ensemble"
    )
    assert int(total["valeur"]) == lines
    months = [r for r in rows if r["indicateur"] == "accompagnements" and len(r["periode"]) == 7 and r["lieu"] == "ensemble"]
    if all(not r["secret"] for r in months):
        assert sum(int(r["valeur"]) for r in months) == lines


def test_evolution_reads_the_previous_published_year(published: Path):
    def total(year):
        rows = read_rows(published / "datapackages" / str(year) / "indicateurs.csv")
        return next(
            float(r["valeur"])
            for r in rows
            if r["indicateur"] == "accompagnements"
            and r["periode"] == str(year)
            and r["lieu"] == "ensemble"
            and r["dimension"] == "ensemble"
        )

    rows = read_rows(published / "datapackages" / "2024" / "indicateurs.csv")
    evolution = next(r for r in rows if r["indicateur"] == "evolution_accompagnements" and r["dimension"] == "ensemble")
    assert float(evolution["valeur"]) == pytest.approx((total(2024) / total(2023) - 1) * 100, abs=0.05)
    assert not any(
        r["indicateur"] == "evolution_accompagnements" for r in read_rows(published / "datapackages" / "2023" / "indicateurs.csv")
    )


def test_shares_and_minutes_have_one_decimal(published: Path):
    for row in read_rows(published / "datapackages" / "2024" / "indicateurs.csv"):
        if row["valeur"] and row["unite"] in ("pourcentage", "minutes"):
            assert len(row["valeur"].split(".")[1]) == 1, row
        if row["valeur"] and row["indicateur"] in ("accompagnements", "usagers", "ateliers"):
            assert row["valeur"].isdigit(), row


@pytest.fixture(scope="module")
def rerun_2024(tmp_path_factory, published: Path, small_inputs) -> SimpleNamespace:
    """2024 released again, same files, on a copy of the published folder: once for the
    two tests that read it (the bytes it leaves, what it prints)."""
    folder = copy_folder(published, tmp_path_factory.mktemp("relance"))
    before = snapshot(folder)
    result = release(folder, 2024, small_inputs[2024])
    return SimpleNamespace(before=before, result=result, after=snapshot(folder))


def test_rerun_gives_byte_identical_packages(rerun_2024: SimpleNamespace):
    before = {k: v for k, v in rerun_2024.before.items() if k.startswith("datapackages/2024")}
    result = rerun_2024.result
    assert result.exit_code == 0, result
    after = {k: v for k, v in rerun_2024.after.items() if k.startswith("datapackages/2024")}
    assert before == after and len(before) == 6


def test_release_shows_progress_and_a_french_summary(rerun_2024: SimpleNamespace):
    result = rerun_2024.result
    assert "[1/5]" in result.stderr and "[5/5]" in result.stderr
    assert "Année 2024 publiée." in result.stdout
    assert "sous secret primaire" in result.stdout


def test_refuses_to_run_without_a_key(folder: Path, small_inputs, monkeypatch, tmp_path):
    monkeypatch.delenv("CCAS_OPENDATA_CLE")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config-vide"))
    result = release(folder, 2023, small_inputs[2023])
    assert result.exit_code == 1
    assert "Aucune clé de pseudonymisation" in result.stderr
    assert not (folder / "datapackages").exists()


def test_refuses_a_key_file_inside_the_folder(folder: Path, small_inputs, monkeypatch):
    monkeypatch.delenv("CCAS_OPENDATA_CLE")
    key_file = folder / "cle.txt"
    key_file.write_text("x" * 40)
    result = release(folder, 2023, small_inputs[2023], "--cle-fichier", key_file)
    assert result.exit_code == 1
    assert "dans le dossier de publication" in result.stderr


def test_default_key_file_is_used(folder: Path, small_inputs, monkeypatch, tmp_path):
    monkeypatch.delenv("CCAS_OPENDATA_CLE")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    (tmp_path / "config" / "ccas-opendata").mkdir(parents=True)
    (tmp_path / "config" / "ccas-opendata" / "cle").write_text("3bcecbf94e2b7f16e2baa17984a11028f886a2ef53700b6fb8bdc30061e53fe9\n")
    (tmp_path / "config" / "ccas-opendata" / "cle").chmod(0o600)
    result = release(folder, 2023, small_inputs[2023])
    assert result.exit_code == 0, result


def test_key_file_outside_the_folder_is_accepted(folder: Path, small_inputs, monkeypatch, tmp_path):
    monkeypatch.delenv("CCAS_OPENDATA_CLE")
    key_file = tmp_path / "cle-hors-dossier.txt"
    key_file.write_text("99529bb72b0cc5913be2b25cde458049a3f0")
    key_file.chmod(0o600)
    result = release(folder, 2023, small_inputs[2023], "--cle-fichier", key_file)
    assert result.exit_code == 0, result


def test_stages_one_by_one_publish_the_same_package_as_release(folder: Path, published: Path, small_inputs):
    assert invoke("anonymise", "--dossier", folder, "--annee", 2023, small_inputs[2023]).exit_code == 0
    assert (folder / ".travail" / "2023" / "anonymise" / "accompagnements.npz").exists()
    assert invoke("aggregate", "--dossier", folder, "--annee", 2023).exit_code == 0
    validated = invoke("validate", "--dossier", folder, "--annee", 2023, "--json")
    assert validated.exit_code == 0, validated
    assert json.loads(validated.stdout)["reussi"] is True
    assert invoke("package", "--dossier", folder, "--annee", 2023).exit_code == 0
    assert invoke("publish", "--dossier", folder, "--annee", 2023).exit_code == 0
    assert not (folder / ".travail" / "2023").exists()
    same = (folder / "datapackages" / "2023" / "indicateurs.csv").read_bytes()
    assert same == (published / "datapackages" / "2023" / "indicateurs.csv").read_bytes()


def test_stage_out_of_order_says_what_to_run_first(folder: Path):
    result = invoke("aggregate", "--dossier", folder, "--annee", 2023)
    assert result.exit_code == 1
    assert "lancez d'abord « ccas-opendata anonymise »" in result.stderr


def test_validate_exits_1_on_a_broken_table(folder: Path, small_inputs):
    assert invoke("anonymise", "--dossier", folder, "--annee", 2023, small_inputs[2023]).exit_code == 0
    assert invoke("aggregate", "--dossier", folder, "--annee", 2023).exit_code == 0
    internal = folder / ".travail" / "2023" / "indicateurs_internes.csv"
    text = internal.read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    broken = text[1].split(",")
    broken[header.index("valeur")] = "-5"
    internal.write_text("\n".join([text[0], ",".join(broken), *text[2:]]) + "\n", encoding="utf-8")
    result = invoke("validate", "--dossier", folder, "--annee", 2023, "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["reussi"] is False


def test_rereleasing_an_earlier_year_unchanged_creates_no_version(published_copy: Path, small_inputs):
    """2023 again, same files, after 2024: no figure changes, so no new version, no
    changelog entry, no new zip; the packages keep their bytes."""
    before = snapshot(published_copy)
    changelog = (published_copy / "changements.json").read_bytes()
    zips = sorted(p.name for p in (published_copy / "telechargements").iterdir())
    result = release(published_copy, 2023, small_inputs[2023])
    assert result.exit_code == 0, result
    assert "Aucun chiffre de 2023 ne change" in result.stderr
    assert "Aucun chiffre ne change" in result.stdout
    assert {k: v for k, v in snapshot(published_copy).items() if k.startswith("datapackages")} == {
        k: v for k, v in before.items() if k.startswith("datapackages")
    }
    assert (published_copy / "changements.json").read_bytes() == changelog
    assert sorted(p.name for p in (published_copy / "telechargements").iterdir()) == zips


def test_init_creates_a_folder_that_releases(tmp_path: Path, small_inputs):
    target = tmp_path / "nouveau"
    result = invoke("init", target)
    assert result.exit_code == 0, result
    assert (target / "metadata" / "organisation.yml").read_text(encoding="utf-8").startswith("# Configuration")
    # Unfilled templates are refused with the file and key at fault.
    refused = release(target, 2023, small_inputs[2023])
    assert refused.exit_code == 1 and "organisation.yml" in refused.stderr
    assert invoke("init", target).exit_code == 1  # never overwrites


def test_release_from_inside_the_folder_with_the_default_dossier(folder: Path, small_inputs, monkeypatch):
    """``--dossier`` defaults to ".": relative paths must work all the way (Data Docs included)."""
    monkeypatch.chdir(folder)
    result = invoke("release", "--annee", 2023, small_inputs[2023])
    assert result.exit_code == 0, result
    assert (folder / "publish" / "static" / "qualite" / "2023" / "index.html").exists()


def test_a_small_ccas_with_the_required_columns_only(tmp_path: Path):
    """One site, no quartier declared, no usager, no workshops: it still publishes, and
    breakdowns the records say nothing about are left out rather than printed as 100 %
    « non communiqué »."""
    folder = tmp_path / "petite"
    (folder / "metadata").mkdir(parents=True)
    (folder / "metadata" / "organisation.yml").write_text(
        'nom: CCAS de Petite-Ville\nsiret: "26000000000001"\ncommune: "2A004"\ncontact: contact@petite-ville.example\nsans_identifiant_personne: oui\n',
        encoding="utf-8",
    )
    (folder / "metadata" / "lieux.csv").write_text(
        "code;nom;adresse;code_postal;commune;code_insee;quartier\nmairie;Mairie;1 place;20000;Petite-Ville;2A004;\n", encoding="utf-8"
    )
    (folder / "metadata" / "quartiers.csv").write_text("code,nom,qpv,code_qpv\n", encoding="utf-8")
    inputs = tmp_path / "entrees"
    inputs.mkdir()
    lines = ["Date;Lieu;Durée;Thématiques"] + [
        f"{1 + i % 28:02d}/{1 + i % 12:02d}/2024;mairie;{10 + i % 50};{['social_sante', 'email', 'logement'][i % 3]}" for i in range(240)
    ]
    (inputs / "accompagnements.csv").write_text("\n".join(lines) + "\n", encoding="cp1252")
    result = release(folder, 2024, inputs)
    assert result.exit_code == 0, result
    assert "sans identifiant de personne" in result.stdout
    rows = read_rows(folder / "datapackages" / "2024" / "indicateurs.csv")
    assert {r["dimension"] for r in rows if r["indicateur"] == "accompagnements"} == {"ensemble", "thematique", "duree_tranche"}
    total = next(
        r
        for r in rows
        if r["indicateur"] == "accompagnements" and r["periode"] == "2024" and r["lieu"] == "ensemble" and r["dimension"] == "ensemble"
    )
    assert total["valeur"] == "240"
    assert not any(r["indicateur"] in ("usagers", "ateliers") for r in rows)
