"""« A new contract column is one edit »: a column added to a copy of ``contract.yml`` (its
codes and their labels), a yes/no (``boolean``) column, and a breakdown on each added to the
folder's catalogue, with no change of code, is read, published and labelled, each figure equal to a count made by
hand from the records written.

The tool is copied whole into ``tmp_path`` (its code untouched, its ``contract.yml``
edited, its suites rewritten by ``python -m ccas_opendata.suites``, as a maintainer would)
and run as a child process on that copy: nothing in the tool under test is patched.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pandas as pd
import yaml

import ccas_opendata
from ccas_opendata.demo import synthetic_accompagnements, synthetic_ateliers, synthetic_formations, write_table
from ccas_opendata.publisher import read_publisher
from conftest import REPO, make_folder

YEAR = 2024
COLUMN = "prise_rendez_vous"
CODES = {"sans_rendez_vous": "Sans rendez-vous", "par_telephone": "Par téléphone", "en_ligne": "En ligne"}
# A yes/no column: its codes and its « non communiqué » come from the contract (``oui_non``).
FLAG = "venu_accompagne"


def tool_with_new_column(target: Path) -> Path:
    """A copy of the package whose contract has one more column, its codes and labels."""
    package = target / "ccas_opendata"
    shutil.copytree(Path(ccas_opendata.__file__).parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    path = package / "contract.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["codes"][COLUMN] = list(CODES)
    data["tables"]["accompagnements"]["columns"][COLUMN] = {"titre": "Prise de rendez-vous", "type": "code", "values": f"${COLUMN}"}
    data["tables"]["accompagnements"]["columns"][FLAG] = {"titre": "Venu accompagné", "type": "boolean"}
    data["libelles"][COLUMN] = dict(CODES)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def catalogue_with_breakdown(folder: Path) -> None:
    """The folder's own catalogue: the new dimension, and the accompaniments broken down by it."""
    path = folder / "metadata" / "indicateurs.yml"
    if not path.exists():
        shutil.copyfile(REPO / "ccas_opendata" / "defaults" / "indicateurs.yml", path)
    catalogue = yaml.safe_load(path.read_text(encoding="utf-8"))
    catalogue["dimensions"][COLUMN] = {"libelle": "Prise de rendez-vous", "additive": True}
    catalogue["dimensions"][FLAG] = {"libelle": "Venu accompagné d'un proche", "additive": True}
    accompagnements = next(i for i in catalogue["indicateurs"] if i["code"] == "accompagnements")
    accompagnements["dimensions"] += [COLUMN, FLAG]
    path.write_text(yaml.safe_dump(catalogue, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_a_column_added_to_the_contract_is_published_by_its_breakdown(tmp_path: Path):
    tool = tool_with_new_column(tmp_path / "outil")
    folder = make_folder(tmp_path / "ccas")
    catalogue_with_breakdown(folder)
    publisher = read_publisher(folder)
    inputs = tmp_path / "entrees"
    inputs.mkdir()
    records = synthetic_accompagnements(YEAR, 1500, publisher)
    # Every fifth record leaves the new cell empty (« non communiqué »); the rest share the codes.
    records[COLUMN] = [("" if i % 5 == 4 else list(CODES)[i % 3]) for i in range(len(records))]
    # One record in four says yes, one in four no, the other half leaves the cell empty.
    records[FLAG] = [["oui", "non", "", ""][i % 4] for i in range(len(records))]
    write_table(records, inputs / "accompagnements", "csv-utf8")
    write_table(synthetic_ateliers(YEAR, publisher), inputs / "ateliers", "csv-utf8")
    write_table(synthetic_formations(YEAR), inputs / "formations", "csv-utf8")

    environment = dict(os.environ, PYTHONPATH=str(tool))
    # The maintainer's one command after the edit: the raw-record suites follow the contract,
    # so the new column is checked by Great Expectations (tests/test_suites_from_contract.py).
    rewritten = subprocess.run(
        [sys.executable, "-m", "ccas_opendata.suites"], env=environment, cwd=tmp_path, capture_output=True, text=True
    )
    assert rewritten.stdout.splitlines() == ["enregistrements_accompagnements.json : écrit"], rewritten.stderr
    command = [sys.executable, "-m", "ccas_opendata", "release", "--dossier", str(folder), "--annee", str(YEAR), str(inputs)]
    run = subprocess.run(command, env=environment, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]

    with open(folder / "datapackages" / str(YEAR) / "indicateurs.csv", encoding="utf-8", newline="") as handle:
        rows = [
            r
            for r in csv.DictReader(handle)
            if r["indicateur"] == "accompagnements" and r["periode"] == str(YEAR) and r["lieu"] == "ensemble"
        ]
    published = {r["modalite"]: r for r in rows if r["dimension"] == COLUMN}
    flagged = {r["modalite"]: (r["valeur"], r["secret"]) for r in rows if r["dimension"] == FLAG}
    typed = Counter(value or "non_communique" for value in records[COLUMN])
    # By hand: one record in five is empty (300 of 1500); the others go round the three codes (400 each).
    assert typed == {"sans_rendez_vous": 400, "par_telephone": 400, "en_ligne": 400, "non_communique": 300}
    assert {code: (row["valeur"], row["secret"]) for code, row in published.items()} == {code: (str(n), "") for code, n in typed.items()}
    # By hand: 1500 records, one in four « oui » (375), one in four « non » (375), half empty (750).
    assert flagged == {"oui": ("375", ""), "non": ("375", ""), "non_communique": ("750", "")}
    modalites = pd.read_csv(folder / "datapackages" / str(YEAR) / "modalites.csv", dtype=str, keep_default_na=False)
    labels = dict(modalites.loc[modalites["dimension"] == COLUMN, ["code", "libelle"]].itertuples(index=False, name=None))
    assert labels == {**CODES, "non_communique": "Non communiqué"}
