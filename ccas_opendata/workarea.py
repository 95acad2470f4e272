"""The private work area of a year (``.travail/AAAA/``) between stages: what each stage
leaves there, and the records that say which bytes were validated and packaged.

The stage commands can be run one by one, so a stage cannot trust what it finds: a run
killed half-way leaves its outputs behind, and a work file can be edited by hand
between two commands. Hence:

- each stage starts by removing its own outputs and those of the stages after it
  (``anonymise``, the first, clears the whole year), so nothing stale survives it;
- ``validate`` records the SHA-256 of the exact bytes of the internal table it
  validated, ``package`` the SHA-256 of each file it staged; ``package`` and
  ``publish`` refuse to run unless the files still have those bytes.

Stage modules raise :class:`StageOrderError`; the CLI turns it into French advice.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd

from .layout import Layout, private_dir, private_file
from .errors import StageOrderError

STAGES = ("anonymise", "aggregate", "validate", "package", "publish")
INTERNAL_TABLE = "indicateurs_internes.csv"
VALIDATION_RECORD = "validation.sha256"
PACKAGE_RECORD = "paquet.sha256.json"
OUTPUTS = {
    "anonymise": ("anonymise",),
    "aggregate": (INTERNAL_TABLE, "risque.json", "instantane"),
    "validate": (VALIDATION_RECORD, "qualite"),
    "package": ("paquet", PACKAGE_RECORD, "motif.txt"),
    "publish": ("site", "ancien", "paquet-suivant", "instantane-suivante", "telechargements", "changements.json"),
}


def start_stage(work: Path, stage: str) -> Path:
    """Remove what ``stage`` and the stages after it left in ``work`` (the year's work
    area), then create it private; return it."""
    if stage == STAGES[0]:
        shutil.rmtree(work, ignore_errors=True)
    else:
        for later in STAGES[STAGES.index(stage) :]:
            for name in OUTPUTS[later]:
                path = work / name
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink(missing_ok=True)
    return private_dir(work)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def internal_bytes(table: pd.DataFrame) -> bytes:
    """The internal table as written to ``indicateurs_internes.csv``: one serialisation,
    so that a table validated in memory and the file have the same digest."""
    return table.to_csv(index=False, lineterminator="\n").encode("utf-8")


def write_internal(work: Path, table: pd.DataFrame) -> None:
    private_file(work / INTERNAL_TABLE).write_bytes(internal_bytes(table))


def read_internal_bytes(work: Path, year: int) -> bytes:
    path = work / INTERNAL_TABLE
    if not path.exists():
        raise StageOrderError(f"Aucun indicateur calculé pour {year} : lancez d'abord « ccas-opendata aggregate ».")
    return path.read_bytes()


def record_validated(work: Path, data: bytes) -> None:
    """Say that these bytes of the internal table passed validation."""
    private_file(work / VALIDATION_RECORD).write_text(sha256(data) + "\n", encoding="ascii")


def require_validated(work: Path, year: int) -> bytes:
    """The internal table's bytes, provided they are exactly the ones ``validate`` passed."""
    data = read_internal_bytes(work, year)
    record = work / VALIDATION_RECORD
    if not record.exists():
        raise StageOrderError(
            f"Les indicateurs de {year} n'ont pas été validés (ou leur validation a échoué) : "
            f"lancez d'abord « ccas-opendata validate --annee {year} »."
        )
    if record.read_text(encoding="ascii").strip() != sha256(data):
        raise StageOrderError(
            f"Le fichier {INTERNAL_TABLE} de {year} a changé depuis sa validation : rien n'est publié. "
            f"Recalculez-le avec « ccas-opendata aggregate --annee {year} » (jamais à la main : l'audit du secret "
            f"porte sur ce qu'écrit aggregate), puis lancez « ccas-opendata validate --annee {year} »."
        )
    return data


def _package_digests(directory: Path) -> dict[str, str]:
    return {path.relative_to(directory).as_posix(): sha256(path.read_bytes()) for path in sorted(directory.rglob("*")) if path.is_file()}


def record_packaged(work: Path, directory: Path) -> None:
    """Record the digest of every file of the staged package."""
    private_file(work / PACKAGE_RECORD).write_text(json.dumps(_package_digests(directory), indent=2) + "\n", encoding="utf-8")


def require_packaged(work: Path, directory: Path, year: int) -> None:
    """Refuse a staged package that is missing or differs from what ``package`` wrote."""
    record = work / PACKAGE_RECORD
    if not (directory / "datapackage.json").exists() or not record.exists():
        raise StageOrderError(f"Aucun paquet préparé pour {year} : lancez d'abord « ccas-opendata package --annee {year} ».")
    if json.loads(record.read_text(encoding="utf-8")) != _package_digests(directory):
        raise StageOrderError(
            f"Le paquet préparé pour {year} a changé depuis sa création : rien n'est publié. "
            f"Relancez « ccas-opendata package --annee {year} »."
        )


def clear_leftovers(folder: Path) -> None:
    """Remove what any earlier run left in the work area, for every year: a run killed
    (or its machine switched off) before its clean-up leaves pseudonymised records and
    true hidden values there. Called at the start of each release, after the switch a
    killed run left half-done has been finished (its staged files live here)."""
    base = Layout(folder).work
    if not base.is_dir():
        return
    for path in base.iterdir():
        if path.name.isdigit() and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.suffix == ".tmp":
            path.unlink(missing_ok=True)
