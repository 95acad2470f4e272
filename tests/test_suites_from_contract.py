"""The raw-record Great Expectations suites follow from ``contract.yml``.

``expectations/enregistrements_*.json`` are written by ``python -m ccas_opendata.suites``:
the committed files are what the contract gives (like cog for the README), each contract
rule has its expectation, the sentences the agent reads are the ones she has always read,
and a column added to a copy of the contract is checked by the real GX run once the suites
are rewritten — or the run is refused while they are not.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import ccas_opendata
from ccas_opendata import suites
from ccas_opendata.config import EXPECTATIONS_DIR
from ccas_opendata.demo import synthetic_accompagnements, write_table
from ccas_opendata.publisher import read_publisher
from ccas_opendata.quality import RAW_SUITES, load_suite
from ccas_opendata.vocabulary import SOURCES, columns
from conftest import make_folder

YEAR = 2024


def test_the_committed_suites_are_what_the_contract_gives():
    assert suites.write_suites(check=True) == []
    assert set(RAW_SUITES) == set(SOURCES)


def test_the_package_s_suites_are_the_repository_s():
    """``ccas_opendata/expectations`` is a link to ``expectations/``: one copy, edited once."""
    assert EXPECTATIONS_DIR.is_symlink()
    assert EXPECTATIONS_DIR.resolve() == (Path(ccas_opendata.__file__).parent.parent / "expectations").resolve()


def _rules(table: str) -> dict[str, list[str]]:
    """Column → the contract rules its expectations carry, in the suite's order."""
    found: dict[str, list[str]] = {}
    for expectation in load_suite(RAW_SUITES[table])["expectations"]:
        mark = expectation["meta"].get(suites.MARK)
        if mark is not None:
            name, column, rule = mark.split(".")
            assert (name, column) == (table, expectation["kwargs"]["column"])
            found.setdefault(column, []).append(rule)
    return found


def test_each_rule_of_the_contract_has_its_expectation():
    """Read by hand from contract.yml: which column asks what."""
    assert _rules("accompagnements") == {
        "date": ["requis", "annee"],
        "lieu": ["requis", "liste"],
        "duree": ["requis", "bornes"],
        "thematiques": ["requis", "motif"],
        "annee_naissance": ["bornes"],
        "age": ["bornes"],
        "tranche_age": ["codes"],
        "genre": ["codes"],
        "situation": ["codes"],
        "composition_familiale": ["codes"],
        "quartier": ["liste"],
        "autonomie": ["codes"],
        "orientation": ["codes"],
        "canal": ["codes"],
        "materiel": ["motif"],
        "satisfaction": ["bornes"],
        "type_lieu": ["codes"],
        "intervenant": ["codes"],
    }
    assert _rules("ateliers") == {
        "date": ["requis", "annee"],
        "lieu": ["requis", "liste"],
        "thematiques": ["requis", "motif"],
        "participants": ["requis", "bornes"],
        "duree": ["bornes"],
        "niveau": ["codes"],
        "format": ["codes"],
    }
    assert _rules("formations") == {
        "date": ["requis", "annee"],
        "inscrits": ["requis", "bornes"],
        "presents": ["requis", "bornes"],
        "public": ["codes"],
    }
    # Neither the person key nor free text is ever checked by value.
    for table in SOURCES:
        unchecked = {c for c, spec in columns(table).items() if spec["type"] in ("pseudonymous", "free_text")}
        assert not unchecked & set(_rules(table))


def _messages(table: str) -> list[tuple[str, str, str]]:
    return [
        (e["type"].removeprefix("expect_column_"), e["kwargs"].get("column", ""), e["meta"]["message"])
        for e in load_suite(RAW_SUITES[table])["expectations"]
    ]


def test_the_sentences_the_agent_reads_are_unchanged():
    """The sentences of the hand-written suites before they were generated (copied from
    them), bounds filled from the contract, in their order; the rules they lacked (a required
    column of a workshop…) come with their own."""
    accompagnements = _messages("accompagnements")
    assert [
        m
        for m in accompagnements
        if m[1] in ("date", "duree", "annee_naissance", "age", "quartier", "satisfaction", "autonomie", "type_lieu")
    ] == [
        ("values_to_not_be_null", "date", "une date est obligatoire"),
        ("values_to_be_between", "date", "la date doit tomber dans l'année publiée"),
        ("values_to_not_be_null", "duree", "la durée est obligatoire"),
        ("values_to_be_between", "duree", "la durée doit être comprise entre 1 et 480 minutes"),
        ("values_to_be_between", "annee_naissance", "l'année de naissance doit être comprise entre 1900 et l'année publiée"),
        ("values_to_be_between", "age", "l'âge doit être compris entre 0 et 120 ans"),
        ("values_to_be_in_set", "quartier", "le quartier doit être déclaré dans metadata/quartiers.csv (ou « hors_commune »)"),
        ("values_to_be_in_set", "autonomie", "code d'autonomie inconnu"),
        ("values_to_be_between", "satisfaction", "la satisfaction doit être notée de 1 à 5"),
        ("values_to_be_in_set", "type_lieu", "code de type de lieu inconnu"),
    ]
    assert ("values_to_be_in_set", "lieu", "le lieu doit être un code déclaré dans metadata/lieux.csv") in accompagnements
    assert ("values_to_match_regex", "materiel", "chaque matériel doit être un code du référentiel (séparés par « | »)") in accompagnements
    ateliers = _messages("ateliers")
    assert ("values_to_be_in_set", "lieu", "le lieu doit être un code déclaré dans metadata/lieux.csv ou « hors_les_murs »") in ateliers
    assert ("values_to_be_between", "duree", "la durée doit être comprise entre 1 et 1440 minutes") in ateliers
    assert ("values_to_not_be_null", "participants", "le nombre de participants est obligatoire") in ateliers
    # The hand-written check across columns is kept, after the last column it names.
    assert [m[1] or m[2] for m in _messages("formations")] == [
        "date",
        "date",
        "inscrits",
        "inscrits",
        "presents",
        "presents",
        "les présents ne peuvent pas dépasser les inscrits",
        "public",
    ]


def test_a_suite_missing_a_contract_rule_is_stale():
    suite = load_suite(RAW_SUITES["ateliers"])
    assert not suites.stale("ateliers", suite)
    without_niveau = dict(suite, expectations=[e for e in suite["expectations"] if e["kwargs"].get("column") != "niveau"])
    assert suites.stale("ateliers", without_niveau)
    reworded = json.loads(json.dumps(suite))
    reworded["expectations"][0]["meta"]["message"] = "autre phrase"
    assert suites.stale("ateliers", reworded)


# --- a column added to a copy of the contract ------------------------------------------------

COUNTED = "demarches_realisees"  # an integer with bounds: only Great Expectations checks them
CODED = "prise_rendez_vous"
CODES = {"sans_rendez_vous": "Sans rendez-vous", "en_ligne": "En ligne"}


def tool_with_new_columns(target: Path) -> Path:
    """A copy of the package whose contract has two more accompaniment columns."""
    package = target / "ccas_opendata"
    shutil.copytree(Path(ccas_opendata.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    path = package / "contract.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["codes"][CODED] = list(CODES)
    data["libelles"][CODED] = dict(CODES)
    added = {
        COUNTED: {"titre": "Démarches réalisées", "type": "integer", "min": 1, "max": 20},
        CODED: {"titre": "Prise de rendez-vous", "type": "code", "values": f"${CODED}"},
    }
    data["tables"]["accompagnements"]["columns"].update(added)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def _run(tool: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    environment = dict(os.environ, PYTHONPATH=str(tool))
    return subprocess.run([sys.executable, *args], env=environment, cwd=cwd, capture_output=True, text=True, timeout=600)


def test_a_new_contract_column_is_checked_by_great_expectations(tmp_path: Path):
    tool = tool_with_new_columns(tmp_path / "outil")
    folder = make_folder(tmp_path / "ccas")
    publisher = read_publisher(folder)
    records = synthetic_accompagnements(YEAR, 200, publisher)
    records[COUNTED] = [1 + i % 20 for i in range(len(records))]
    records[CODED] = [list(CODES)[i % 2] for i in range(len(records))]
    good, bad = tmp_path / "bonnes", tmp_path / "mauvaises"
    good.mkdir()
    bad.mkdir()
    write_table(records, good / "accompagnements", "csv-utf8")
    # Two records (file rows 5 and 12: a header, then row 2 for the first record) out of bounds.
    records.loc[records.index[[3, 10]], COUNTED] = [0, 25]
    write_table(records, bad / "accompagnements", "csv-utf8")
    anonymise = ["-m", "ccas_opendata", "anonymise", "--dossier", str(folder), "--annee", str(YEAR)]

    # The suites not rewritten yet: the run is refused rather than leave the columns unchecked.
    refused = _run(tool, *anonymise, str(good), cwd=tmp_path)
    assert refused.returncode != 0
    assert "expectations/enregistrements_accompagnements.json ne suit plus les colonnes de contract.yml" in refused.stderr
    assert "python -m ccas_opendata.suites" in refused.stderr

    rewritten = _run(tool, "-m", "ccas_opendata.suites", cwd=tmp_path)
    assert rewritten.returncode == 0, rewritten.stderr
    assert rewritten.stdout.splitlines() == ["enregistrements_accompagnements.json : écrit"]
    suite = json.loads((tool / "ccas_opendata" / "expectations" / "enregistrements_accompagnements.json").read_text(encoding="utf-8"))
    added = {e["meta"]["contrat"]: e for e in suite["expectations"] if e["kwargs"]["column"] in (COUNTED, CODED)}
    assert sorted(added) == [f"accompagnements.{COUNTED}.bornes", f"accompagnements.{CODED}.codes"]
    assert added[f"accompagnements.{CODED}.codes"]["meta"]["message"] == "code de prise de rendez-vous inconnu"

    passed = _run(tool, *anonymise, str(good), cwd=tmp_path)
    assert passed.returncode == 0, passed.stdout[-2000:] + passed.stderr[-2000:]

    failed = _run(tool, *anonymise, str(bad), cwd=tmp_path)
    assert failed.returncode == 1, failed.stdout[-2000:] + failed.stderr[-2000:]
    report = (bad / f"rapport-ccas-opendata-{YEAR}.html").read_text(encoding="utf-8")
    sentence = "la valeur de « Démarches réalisées » doit être comprise entre 1 et 20"
    assert f"accompagnements.csv, lignes 5, 12, colonne « {COUNTED} » : {sentence}." in failed.stderr
    assert sentence in report


@pytest.mark.parametrize("value, failing", [("en_ligne", []), ("par_pigeon", [3])])
def test_a_new_code_column_is_refused_by_the_gx_run_itself(tmp_path: Path, value: str, failing: list[int]):
    """The ingest reads the codes first (and names a wrong one itself); the suite holds
    the same rule, so what reaches the anonymisation is checked whatever the reader."""
    tool = tool_with_new_columns(tmp_path / "outil")
    assert _run(tool, "-m", "ccas_opendata.suites", cwd=tmp_path).returncode == 0
    folder = make_folder(tmp_path / "ccas")
    script = f"""
import json, pandas as pd
from pathlib import Path
from ccas_opendata import quality
from ccas_opendata.publisher import read_publisher
frame = pd.DataFrame({{"{CODED}": ["sans_rendez_vous", "{value}", None]}}, index=pd.Index([2, 3, 4], name="ligne"))
report = quality.validate_records({{"a": ("accompagnements", frame)}}, read_publisher(Path({str(folder)!r})), {YEAR})["a"]
print(json.dumps([[f.column, f.message, f.rows] for f in report.failures], ensure_ascii=False))
"""
    run = _run(tool, "-c", script, cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    expected = [[CODED, "code de prise de rendez-vous inconnu", failing]] if failing else []
    assert json.loads(run.stdout) == expected
