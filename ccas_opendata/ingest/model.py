"""What ingestion hands on: the year's tables, each from a :class:`Source` (a file, or a
sheet of a workbook), typed and indexed by the row numbers her spreadsheet shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..correspondances import TableMapping, normalise_header


@dataclass
class Table:
    """One input table after ingestion: typed columns, indexed by file row number."""

    name: str
    file: str
    frame: pd.DataFrame
    dropped_identifiers: list[str] = field(default_factory=list)
    #: Positions (1 = column A) of the columns the CCAS chose to leave out (``ignorer``).
    dropped_unknown: list[int] = field(default_factory=list)
    #: Rows dated outside the year in a national export: set aside, counted in the summary.
    outside_year: int = 0
    #: Contract column → the header(s) of her file it was read from.
    read_from: dict[str, str] = field(default_factory=dict)
    #: Rows without a person identifier while the file has the column: each counts as a person.
    without_person: int = 0
    #: Headers she chose to leave out (``ignorer``): hers, so they may be shown.
    ignored_headers: list[str] = field(default_factory=list)
    #: The sheets this table was read from, each a Table of its own (row numbers true to
    #: its sheet), when several sheets feed it (``feuilles``); empty for one file.
    parts: list[Table] = field(default_factory=list)
    #: Columns with values still « a_completer » in the correspondances (asked there, not checked here).
    pending_columns: list[str] = field(default_factory=list)
    #: The person key as the legacy rule read it (the single ``usager`` cell, stripped,
    #: before :func:`fold`), aligned on ``frame``; None when several columns make the key
    #: (the legacy rule had one). In memory only, never written: :mod:`anonymise` turns it
    #: into the pseudonyms a version kept under that rule was made with (see
    #: ``anonymise.legacy_persons``).
    legacy_usager: pd.Series | None = field(default=None, repr=False)

    def each_part(self) -> list[Table]:
        return self.parts or [self]


@dataclass
class Records:
    """The year's input tables (``accompagnements`` always, the others when given)."""

    tables: dict[str, Table]
    #: What was done with each sheet of her workbooks (read for which table, or skipped and why).
    sheet_notes: list[str] = field(default_factory=list)

    def __getitem__(self, name: str) -> Table:
        return self.tables[name]

    def __contains__(self, name: str) -> bool:
        return name in self.tables

    @property
    def warnings(self) -> list[str]:
        out = list(self.sheet_notes)
        for t in (part for table in self.tables.values() for part in table.each_part()):
            if t.dropped_identifiers:
                out.append(f"{t.file} : colonnes identifiantes écartées avant tout traitement : {', '.join(t.dropped_identifiers)}.")
            if t.read_from:
                read = ", ".join(f"« {h} » → {c}" if normalise_header(h) != c else c for c, h in t.read_from.items())
                out.append(f"{t.file} ({t.name}) : colonnes lues : {read}.")
            if t.dropped_unknown:
                where = ", ".join(f"« {h} » ({column_letter(p)})" for h, p in zip(t.ignored_headers, t.dropped_unknown))
                out.append(f"{t.file} : colonnes écartées à votre demande (« ignorer » dans correspondances.yml), jamais lues : {where}.")
            if t.without_person:
                out.append(
                    f"{t.file} : {t.without_person} ligne(s) sans identifiant de personne (usager) : chacune est comptée comme une personne différente."
                )
            if t.outside_year:
                out.append(f"{t.file} : {t.outside_year} ligne(s) datée(s) hors de l'année, mises de côté (non publiées).")
        return out


def column_letter(position: int) -> str:
    """``1`` → ``"A"``, ``27`` → ``"AA"``: the column as a spreadsheet names it."""
    letters = ""
    while position > 0:
        position, rest = divmod(position - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


@dataclass(frozen=True)
class Source:
    """A file of the input folder feeding a contract table, and the rules to read it."""

    table: str
    path: Path
    mapping: TableMapping
    #: The national format it was recognised as ("" for the CCAS's own files).
    format_label: str = ""
    #: The sheet, when several sheets of one workbook feed the table (named in every message).
    sheet: str = ""

    @property
    def label(self) -> str:
        """The file as messages name it: with its sheet when the sheet matters."""
        return f"{self.path.name} (feuille « {self.sheet} »)" if self.sheet else self.path.name
