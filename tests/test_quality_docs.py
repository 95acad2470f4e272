"""The published Data Docs describe the published table only: no internal column, no
fingerprint of the frame, no sample of unexpected values."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ccas_opendata.quality import PUBLISHED_SUITE, load_suite, suite_without
from conftest import invoke, make_folder

HASH_LIKE = re.compile(r"\b[0-9a-f]{24,}\b")


def docs_text(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): p.read_text(encoding="utf-8", errors="ignore")
        for p in directory.rglob("*")
        if p.is_file() and p.suffix in (".html", ".json")
    }


def test_the_docs_suite_says_nothing_of_the_person_counts():
    full = load_suite(PUBLISHED_SUITE)
    docs = suite_without(full, ("personnes",))
    assert "personnes" in json.dumps(full["expectations"])
    assert "personnes" not in json.dumps(docs["expectations"])
    assert len(docs["expectations"]) == len(full["expectations"]) - 1  # only the expectation on the column itself
    columns = next(e for e in docs["expectations"] if e["type"] == "expect_table_columns_to_match_ordered_list")
    assert columns["kwargs"]["column_list"][-1] == "somme_mois"


@pytest.mark.slow
def test_published_data_docs_carry_no_internal_column_nor_fingerprint(published: Path):
    docs = docs_text(published / "publish" / "static" / "qualite" / "2024")
    assert any("validations" in name for name in docs)
    for name, text in docs.items():
        assert "personnes" not in text, name  # the column, its expectation, its values
        assert "pandas_data_fingerprint" not in text, name
        assert "ge_load_time" not in text, name
        assert not HASH_LIKE.search(text), (name, HASH_LIKE.findall(text)[:1])
    validation = next(text for name, text in docs.items() if "validations" in name)
    assert "somme_mois" in validation and "secret" in validation  # the published columns are still described


@pytest.mark.slow
def test_data_docs_of_a_failed_validation_show_no_value(tmp_path: Path, small_inputs):
    folder = make_folder(tmp_path / "ccas")
    assert invoke("anonymise", "--dossier", folder, "--annee", 2023, small_inputs[2023]).exit_code == 0
    assert invoke("aggregate", "--dossier", folder, "--annee", 2023).exit_code == 0
    internal = folder / ".travail" / "2023" / "indicateurs_internes.csv"
    lines = internal.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    rows = [line.split(",") for line in lines[1:]]
    for row in rows[:3]:
        row[header.index("valeur")] = "-987654"
        row[header.index("personnes")] = "3"
    internal.write_text("\n".join([lines[0], *(",".join(r) for r in rows)]) + "\n", encoding="utf-8")
    result = invoke("validate", "--dossier", folder, "--annee", 2023)
    assert result.exit_code == 1
    docs = docs_text(folder / ".travail" / "2023" / "qualite")
    assert docs
    for name, text in docs.items():
        assert "987654" not in text, name
        assert "personnes" not in text, name
