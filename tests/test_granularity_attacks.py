"""The independent attacker (tests/attacker.py) against small years published at a coarser level.

Written without reading the protecting code: the releases come from the project's own generator,
the attacker reads only what is published and the catalogue's ``granularite`` mappings."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from ccas_opendata.demo import write_demo_year
from attacker import attack
from conftest import make_folder, release

YEAR = 2024


def published_rows(folder: Path) -> list[dict]:
    with open(folder / "datapackages" / str(YEAR) / "indicateurs.csv", encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("size", [150, 250])
def test_a_coarse_small_year_pins_nothing(tmp_path, publisher, size):
    folder = make_folder(tmp_path / "ccas")
    inputs = write_demo_year(tmp_path / "in", YEAR, publisher, size=size, form="csv-excel")
    result = release(folder, YEAR, inputs)
    assert result.exit_code == 0, result.output[-2000:]
    rows = published_rows(folder)
    periods = {r["periode"] for r in rows if r["indicateur"] == "accompagnements"}  # granularite sources
    assert any("-T" in p or "-S" in p for p in periods), sorted(periods)  # a coarser period level chosen
    assert not any(len(p) == 7 and p[4] == "-" and p[5:].isdigit() for p in periods), sorted(periods)
    ages = {r["modalite"] for r in rows if r["dimension"] == "tranche_age"}
    assert "moins_de_25" in ages and "18_24" not in ages, sorted(ages)
    findings = attack([folder / "datapackages" / str(YEAR) / "indicateurs.csv"], folder / "metadata", integral=True)
    assert findings.intervals, "the attacker found no hidden cell to bound"
    assert not findings.narrow, findings.report(40)


def test_attacker_recomputes_a_quarter_and_a_merged_age_band(tmp_path):
    """Hand count: year 40 = T1 + 10 + 10 + 12 pins T1 at 8; 25_59 = 25_39 + 40_59 pins 40_59."""
    path = tmp_path / "indicateurs.csv"
    cells = {f"{YEAR}": 40, f"{YEAR}-T1": None, f"{YEAR}-T2": 10, f"{YEAR}-T3": 10, f"{YEAR}-T4": 12}
    ages = {"moins_de_25": 5, "25_59": 20, "60_plus": 15, "25_39": 9, "40_59": None}
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["annee", "periode", "lieu", "indicateur", "dimension", "modalite", "valeur", "unite", "secret"])
        for per, value in cells.items():
            writer.writerow(
                [YEAR, per, "ensemble", "accompagnements", "ensemble", "ensemble", value or "", "nombre", "" if value else "secret"]
            )
        for mod, value in ages.items():
            writer.writerow(
                [YEAR, YEAR, "ensemble", "accompagnements", "tranche_age", mod, value or "", "nombre", "" if value else "secret"]
            )
    findings = attack([path], Path(__file__).parents[1] / "metadata")
    assert findings.intervals[(0, "accompagnements", f"{YEAR}-T1", "ensemble", "ensemble", "ensemble")] == (8, 8)
    assert findings.intervals[(0, "accompagnements", str(YEAR), "ensemble", "tranche_age", "40_59")] == (11, 11)


def test_a_revision_of_a_coarse_year_pins_nothing(tmp_path, publisher):
    """Three late persons (copies of existing visits under new identifiers) added to a year of
    150: a reader holding both versions, knowing the revision only added records, pins nothing."""
    folder = make_folder(tmp_path / "ccas")
    inputs = write_demo_year(tmp_path / "in", YEAR, publisher, size=150, form="csv-excel")
    assert release(folder, YEAR, inputs).exit_code == 0
    first = tmp_path / "v1-indicateurs.csv"
    shutil.copy(folder / "datapackages" / str(YEAR) / "indicateurs.csv", first)
    source = inputs / "accompagnements.csv"
    lines = source.read_bytes().decode("cp1252").splitlines()
    late = [";".join([row[0], row[1], f"TARD-{i}", *row[3:]]) for i, row in enumerate(line.split(";") for line in lines[10:13])]
    source.write_bytes(("\r\n".join(lines + late) + "\r\n").encode("cp1252"))
    result = release(folder, YEAR, inputs, "--motif", "Ajout de trois accompagnements oubliés")
    assert result.exit_code == 0, result.output[-2000:]
    findings = attack(
        [first, folder / "datapackages" / str(YEAR) / "indicateurs.csv"], folder / "metadata", integral=True, additions_only=True
    )
    assert findings.differences, "the attacker compared nothing"
    assert not findings.narrow, findings.report(40)
