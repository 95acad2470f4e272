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
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .layout import CHANGELOG, DESCRIPTOR, DOWNLOADS, RISK_REPORT, Layout, private_dir, private_file
from .errors import StageOrderError

STAGES = ("anonymise", "aggregate", "validate", "package", "publish")
ANONYMISED = "anonymise"
INTERNAL_TABLE = "indicateurs_internes.csv"
SNAPSHOT = "instantane"
VALIDATION_RECORD = "validation.sha256"
QUALITY_DOCS = "qualite"
PACKAGES = "paquet"
PACKAGE_RECORD = "paquet.sha256.json"
MOTIF_FILE = "motif.txt"
SITE = "site"
REPLACED = "ancien"
NEXT_PACKAGES = "paquet-suivant"
NEXT_SNAPSHOT = "instantane-suivante"
OUTPUTS = {
    "anonymise": (ANONYMISED,),
    "aggregate": (INTERNAL_TABLE, RISK_REPORT, SNAPSHOT),
    "validate": (VALIDATION_RECORD, QUALITY_DOCS),
    "package": (PACKAGES, PACKAGE_RECORD, MOTIF_FILE),
    "publish": (SITE, REPLACED, NEXT_PACKAGES, NEXT_SNAPSHOT, DOWNLOADS, CHANGELOG),
}


@dataclass(frozen=True)
class WorkArea:
    """One year's work area (``.travail/AAAA/``): every name a stage leaves there is one
    of these properties, so that :data:`OUTPUTS` (what a stage clears) and the stages
    (what they write and read) cannot disagree on a name."""

    path: Path
    year: int

    @property
    def anonymised(self) -> Path:
        """The pseudonymised records (``anonymise``), read by ``aggregate``."""
        return self.path / ANONYMISED

    @property
    def internal_table(self) -> Path:
        return self.path / INTERNAL_TABLE

    @property
    def risk_report(self) -> Path:
        return self.path / RISK_REPORT

    @property
    def snapshot(self) -> Path:
        """The records of the version being made, kept for its next revision."""
        return self.path / SNAPSHOT

    @property
    def quality_docs(self) -> Path:
        """The Data Docs of the validation, published with the year."""
        return self.path / QUALITY_DOCS

    @property
    def staged_package(self) -> Path:
        """Named by its year, like the published package it will become."""
        return self.path / PACKAGES / str(self.year)

    @property
    def motif(self) -> Path:
        """Why the year is revised, for « publish » run as a command of its own."""
        return self.path / MOTIF_FILE

    @property
    def site(self) -> Path:
        """The new ``publish/``, built before it is swapped in."""
        return self.path / SITE

    @property
    def replaced(self) -> Path:
        """Where the swap moves what the new files replace."""
        return self.path / REPLACED

    @property
    def next_package(self) -> Path:
        """The next year's package, new when a revision changes its evolutions."""
        return self.path / NEXT_PACKAGES / str(self.year + 1)

    @property
    def next_snapshot(self) -> Path:
        """The next year's records, copied for its new version."""
        return self.path / NEXT_SNAPSHOT

    @property
    def downloads(self) -> Path:
        return self.path / DOWNLOADS

    @property
    def changelog(self) -> Path:
        return self.path / CHANGELOG


def start_stage(work: WorkArea, stage: str) -> Path:
    """Remove what ``stage`` and the stages after it left in ``work`` (the year's work
    area), then create it private; return it."""
    if stage == STAGES[0]:
        shutil.rmtree(work.path, ignore_errors=True)
    else:
        for later in STAGES[STAGES.index(stage) :]:
            for name in OUTPUTS[later]:
                path = work.path / name
                if path.is_dir():
                    shutil.rmtree(path)
                else:
                    path.unlink(missing_ok=True)
    return private_dir(work.path)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def internal_bytes(table: pd.DataFrame) -> bytes:
    """The internal table as written to ``indicateurs_internes.csv``: one serialisation,
    so that a table validated in memory and the file have the same digest."""
    return table.to_csv(index=False, lineterminator="\n").encode("utf-8")


def write_internal(work: WorkArea, table: pd.DataFrame) -> None:
    private_file(work.internal_table).write_bytes(internal_bytes(table))


def read_internal_bytes(work: WorkArea) -> bytes:
    path = work.internal_table
    if not path.exists():
        raise StageOrderError(f"Aucun indicateur calculé pour {work.year} : lancez d'abord « ccas-opendata aggregate ».")
    return path.read_bytes()


def record_validated(work: WorkArea, data: bytes) -> None:
    """Say that these bytes of the internal table passed validation."""
    private_file(work.path / VALIDATION_RECORD).write_text(sha256(data) + "\n", encoding="ascii")


def require_validated(work: WorkArea) -> bytes:
    """The internal table's bytes, provided they are exactly the ones ``validate`` passed."""
    year = work.year
    data = read_internal_bytes(work)
    record = work.path / VALIDATION_RECORD
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


def record_packaged(work: WorkArea) -> None:
    """Record the digest of every file of the staged package."""
    digests = _package_digests(work.staged_package)
    private_file(work.path / PACKAGE_RECORD).write_text(json.dumps(digests, indent=2) + "\n", encoding="utf-8")


def require_packaged(work: WorkArea) -> None:
    """Refuse a staged package that is missing or differs from what ``package`` wrote."""
    year, directory = work.year, work.staged_package
    record = work.path / PACKAGE_RECORD
    if not (directory / DESCRIPTOR).exists() or not record.exists():
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
