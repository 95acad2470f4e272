"""The independent attacker (tests/attacker.py) against small years published at a coarser level.

Written without reading the protecting code: the releases come from the project's own generator,
the attacker reads only what is published and the catalogue's ``granularite`` mappings."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ccas_opendata.demo import write_demo_year
from tests.attacker import attack
from tests.conftest import make_folder, publisher, release

YEAR = 2024


def published_rows(folder: Path) -> list[dict]:
    with open(folder / "datapackages" / str(YEAR) / "indicateurs.csv", encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("size", [150, 250])
def test_a_coarse_small_year_pins_nothing(tmp_path, size):
    folder = make_folder(tmp_path / "ccas")
    inputs = write_demo_year(tmp_path / "in", YEAR, publisher(), size=size, form="csv-excel")
    result = release(folder, YEAR, inputs)
    assert result.exit_code == 0, result.output[-2000:]
    rows = published_rows(folder)
    periods = {r["periode"] for r in rows}
    assert any("-T" in p or "-S" in p for p in periods), sorted(periods)  # a coarser period level chosen
    assert not any(len(p) == 7 and p[4] == "-" and p[5:].isdigit() for p in periods), sorted(periods)
    ages = {r["modalite"] for r in rows if r["dimension"] == "tranche_age"}
    assert "moins_de_25" in ages and "18_24" not in ages, sorted(ages)
    findings = attack([folder / "datapackages" / str(YEAR) / "indicateurs.csv"], folder / "metadata", integral=True)
    assert findings.intervals, "the attacker found no hidden cell to bound"
    assert not findings.narrow, findings.report(40)
