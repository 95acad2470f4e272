"""Ingest: read the year's activity records as the CCAS has them (the contract's files, its
own spreadsheet described in ``metadata/correspondances.yml``, or a national export) and
parse them into the contract's typed columns.

Identifier and free-text columns are dropped right after the header is read, before any
value is parsed, so nothing downstream (errors included) can ever see them. Every problem
is collected, not raised at the first one: configuration, headers, cells and codes come
back together so that the agent fixes her file in one pass.

Every frame returned is indexed by the row number her spreadsheet shows (title rows and
blank lines counted), so later stages (Great Expectations included) point at rows she
can find.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import difflib
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from ..archive import oversized_archives
from ..config import Publisher, contract
from ..correspondances import (
    FILE_NAME,
    Correspondances,
    TableMapping,
    accepted_codes,
    fold,
    header_suggestions,
    national_formats,
    normalise_header,
    value_lookup,
)
from ..errors import ROWS_KEPT, InvalidInput, Problem
from ..formulas import formulas_without_value


EXTENSIONS = (".csv", ".xlsx", ".ods")
TRUE_WORDS = {"oui", "true", "1", "vrai", "o", "yes", "x"}
FALSE_WORDS = {"non", "false", "0", "faux", "n", "no"}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?$")
_FR_DATE = re.compile(r"^\d{1,2}/\d{1,2}/\d{4}(?: \d{1,2}:\d{2}(?::\d{2})?)?$")
_INTEGER = re.compile(r"^[+-]?\d+(\.0+)?$")
#: Rows searched for the header (exports put a title or filters above it).
HEADER_SEARCH_ROWS = 30


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


# --- finding the files ---------------------------------------------------------------------


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


#: What a file really is, by its first bytes, when its name says otherwise.
_MAGIC = {
    b"\x89PNG": "une image PNG",
    b"\xff\xd8\xff": "une image JPEG",
    b"GIF8": "une image GIF",
    b"%PDF": "un document PDF",
    b"\xd0\xcf\x11\xe0": "un ancien classeur Excel (.xls) ou document Word (.doc)",
    b"PK\x03\x04": "un classeur ou une archive ZIP",
}
SAVE_AS = "ouvrez-le dans votre tableur et enregistrez-le en CSV, XLSX ou ODS (Fichier › Enregistrer sous), puis relancez."


def misnamed(path: Path) -> str | None:
    """Why a file cannot be what its name says (a PNG renamed .csv, a truncated .xlsx), by
    its first bytes; None when it may well be."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError as e:
        return f"fichier illisible ({e.strerror or type(e).__name__})."
    if not head:
        return "fichier vide : exportez à nouveau vos données."
    actual = next((what for magic, what in _MAGIC.items() if head.startswith(magic)), None)
    if path.suffix.lower() in (".xlsx", ".ods"):
        if actual == "un classeur ou une archive ZIP":
            return None
        return (
            f"ce n'est pas un classeur {path.suffix.lower()}"
            + (f" mais {actual}" if actual else " (fichier abîmé ou d'un autre format)")
            + " : "
            + SAVE_AS
        )
    if actual is not None:
        return f"ce n'est pas un fichier CSV mais {actual} renommé : " + SAVE_AS
    if b"\x00" in head:
        return "ce n'est pas un fichier texte CSV (contenu binaire) : " + SAVE_AS
    return None


def unreadable(path: Path, error: BaseException) -> Problem:
    """A file that cannot be opened, named, with what to do: never a traceback."""
    if isinstance(error, zipfile.BadZipFile):
        why = "classeur abîmé (fichier incomplet ou mal copié)"
    else:
        why = f"fichier illisible ({type(error).__name__})"
    return Problem(path.name, "", f"{why} : " + SAVE_AS, kind="fichier")


def candidate_files(input_dir: Path) -> list[Path]:
    return [
        p
        for p in sorted(input_dir.iterdir())
        if p.is_file() and p.suffix.lower() in EXTENSIONS and not p.name.startswith(("~$", ".", "rapport-"))
    ]


def find_sources(input_dir: Path, own: Correspondances | None) -> tuple[list[Source], list[Problem], list[str]]:
    """Each contract table's file (and sheets): by the CCAS's rules (``fichier``, default
    ``<table>.*``; ``feuilles``), else a national export recognised by its headers. The
    third item says what became of every sheet of her workbooks."""
    if not input_dir.is_dir():
        return (
            [],
            [Problem(str(input_dir), "", "dossier d'entrée introuvable : vérifiez le chemin donné à la commande.", kind="absent")],
            [],
        )
    files = candidate_files(input_dir)
    sources: list[Source] = []
    problems: list[Problem] = []
    claimed: set[Path] = set()
    # What a file is by its first bytes (a PNG renamed .csv), then how big a workbook expands.
    broken = {p: why for p in files if (why := misnamed(p)) is not None}
    for path, why in broken.items():
        problems.append(Problem(path.name, "", why, kind="fichier"))
    files = [p for p in files if p not in broken]
    oversized = oversized_archives(files)
    if oversized:  # not a byte of them is read
        return [], problems + oversized, []
    for table in contract()["tables"]:
        mapping = own.for_table(table) if own else TableMapping(table)
        matches = [p for p in files if mapping.matches_file(p)]
        if len(matches) > 1:
            problems.append(
                Problem(
                    input_dir.name,
                    "",
                    f"plusieurs fichiers pour la table « {table} » ({', '.join(p.name for p in matches)}) : n'en gardez qu'un.",
                    kind="configuration",
                )
            )
        elif matches:
            sources.append(Source(table, matches[0], mapping))
            claimed.add(matches[0])
    sources += _sheets_of_the_same_workbook(sources)
    sources, notes, found = expand_sheets(sources, own)
    problems += found
    for path in files:
        if path in claimed:
            continue
        for national in national_formats():
            if matches_national_format(path, national):
                for table, mapping in national.tables.items():
                    if any(s.table == table for s in sources):
                        problems.append(
                            Problem(
                                path.name,
                                "",
                                f"la table « {table} » a déjà un fichier ; retirez l'un des deux du dossier.",
                                kind="configuration",
                            )
                        )
                    else:
                        sources.append(Source(table, path, _with_own_values(mapping, own), national.label))
                break
    for table, spec in contract()["tables"].items():
        if spec["required_file"] and not any(s.table == table for s in sources) and not problems:
            problems.append(
                Problem(
                    input_dir.name,
                    "",
                    f"fichier « {table}.csv » (ou .xlsx, .ods) introuvable : il est obligatoire. Un fichier à votre format "
                    "se déclare dans metadata/correspondances.yml (clé « fichier »).",
                    kind="absent",
                )
            )
    return sources, problems, notes


def sheet_names(path: Path) -> list[str]:
    """The sheets of a workbook, in their order."""
    engine = "odf" if path.suffix.lower() == ".ods" else "openpyxl"
    return [str(n) for n in pd.ExcelFile(path, engine=engine).sheet_names]


def carries_header(source: Source) -> bool:
    """Whether a sheet holds the table: its header has every required column (a summary of
    formulas, a list of values or a pivot does not)."""
    try:
        header_index, header = locate_header(source.path, source.mapping.feuille, lambda name: known_header(name, [source.mapping]))
    except (OSError, ValueError):
        return False
    plan = plan_headers(source, header, header_index + 1)
    return not any(p.kind == "en-tete" and p.rows for p in plan.problems)


def expand_sheets(sources: list[Source], own: Correspondances | None) -> tuple[list[Source], list[str], list[Problem]]:
    """One Source per sheet where ``feuilles`` names several (or ``"*"``); every sheet of
    those workbooks accounted for: read (for which table) or skipped (why)."""
    out: list[Source] = []
    problems: list[Problem] = []
    fate: dict[Path, dict[str, str]] = {}
    claimed: dict[Path, set[str]] = {}
    for source in sources:
        if source.mapping.feuilles and "*" not in source.mapping.feuilles:
            claimed.setdefault(source.path, set()).update(source.mapping.feuilles)
        elif source.mapping.feuille is not None and not source.mapping.feuilles:
            claimed.setdefault(source.path, set()).add(str(source.mapping.feuille))
    for source in sources:
        wanted = source.mapping.feuilles
        if not wanted:
            out.append(source)
            if source.path.suffix.lower() != ".csv":
                # None: the first sheet, named once the workbook's sheets are listed below.
                sheet = source.mapping.feuille
                fate.setdefault(source.path, {})[str(sheet) if sheet is not None else ""] = f"lue pour « {source.table} »"
            continue
        try:
            names = sheet_names(source.path)
        except (OSError, ValueError, zipfile.BadZipFile) as e:
            problems.append(unreadable(source.path, e))
            continue
        seen = fate.setdefault(source.path, {})
        other_tables = {t for t in contract()["tables"] if t != source.table}
        if "*" in wanted:
            chosen = [n for n in names if n not in claimed.get(source.path, set()) and normalise_header(n) not in other_tables]
        else:
            missing = [n for n in wanted if n not in names]
            if missing:
                problems.append(
                    Problem(
                        f"metadata/{FILE_NAME}",
                        f"{source.table}.feuilles",
                        f"feuille(s) {', '.join(f'« {n} »' for n in missing)} introuvable(s) dans {source.path.name} ; "
                        f"feuilles du classeur : {', '.join(f'« {n} »' for n in names)}.",
                        kind="configuration",
                    )
                )
            chosen = [n for n in wanted if n in names]
        read = 0
        for name in chosen:
            part = Source(source.table, source.path, replace(source.mapping, feuille=name), source.format_label, sheet=name)
            if carries_header(part):
                out.append(part)
                seen[name] = f"lue pour « {source.table} »"
                read += 1
            else:
                seen.setdefault(name, f"ignorée : son en-tête n'est pas celui de « {source.table} » (résumé, liste ou tableau croisé ?)")
        if not read and chosen:
            problems.append(
                Problem(
                    source.path.name,
                    "",
                    f"aucune feuille ne porte l'en-tête de « {source.table} » ({', '.join(f'« {n} »' for n in chosen)}).",
                    kind="en-tete",
                )
            )
    notes = []
    for path, sheets in fate.items():
        try:
            names = sheet_names(path)
        except (OSError, ValueError, zipfile.BadZipFile):
            continue
        if len(names) < 2:
            continue
        for key in [k for k in sheets if k not in names]:  # the first sheet, or one given by position
            position = int(key) if key.isdigit() else 1
            if 1 <= position <= len(names):
                sheets.setdefault(names[position - 1], sheets.pop(key))
        described = [f"« {n} » {sheets.get(n, 'non lue (aucune table ne la nomme dans correspondances)')}" for n in names]
        notes.append(f"{path.name} : feuilles " + " ; ".join(described) + ".")
    return out, notes, problems


def _sheets_of_the_same_workbook(sources: list[Source]) -> list[Source]:
    """The template keeps every table in one workbook: a table without a file of its own
    is read from the sheet of its name in the accompagnements workbook, when it has rows."""
    main = next((s for s in sources if s.table == "accompagnements" and s.path.suffix.lower() in (".xlsx", ".ods")), None)
    if main is None:
        return []
    engine = "odf" if main.path.suffix.lower() == ".ods" else "openpyxl"
    try:
        sheets = pd.ExcelFile(main.path, engine=engine).sheet_names
    except (OSError, ValueError, zipfile.BadZipFile):
        return []
    found = []
    for table in contract()["tables"]:
        if any(s.table == table for s in sources):
            continue
        sheet = next((name for name in sheets if normalise_header(name) == table), None)
        if sheet is not None and len(read_top_rows(main.path, sheet)) > 1:
            found.append(Source(table, main.path, TableMapping(table, feuille=sheet)))
    return found


def _with_own_values(mapping: TableMapping, own: Correspondances | None) -> TableMapping:
    """A national format with the CCAS's own values on top (« Médiathèque Nord » is its
    ``mediatheque`` site): the export's layout is the tool's, the CCAS's words are its own."""
    if own is None or mapping.table not in own.tables:
        return mapping
    mine = own.tables[mapping.table].valeurs
    merged = {column: {**mapping.valeurs.get(column, {}), **mine.get(column, {})} for column in set(mapping.valeurs) | set(mine)}
    return replace(mapping, valeurs=merged)


def matches_national_format(path: Path, national: Correspondances) -> bool:
    try:
        grid = read_top_rows(path, None)
    except (OSError, ValueError, zipfile.BadZipFile, csv.Error):
        return False
    return any(
        len(national.recognised_by & {normalise_header(c) for c in row}) >= max(3, len(national.recognised_by) * 2 // 3) for row in grid
    )


# --- reading cells as text ------------------------------------------------------------------


def _is_utf8(path: Path) -> bool:
    """Whether the whole file decodes as UTF-8, read in chunks (a year can be 200 MB)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with open(path, "rb") as f:
        try:
            while chunk := f.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def csv_dialect(path: Path) -> tuple[str, str]:
    """(encoding, separator) of a CSV as Excel or LibreOffice wrote it: UTF-8 (with or
    without BOM) when the whole file decodes so, else Windows-1252; ';' when the first
    lines have more of them than commas."""
    encoding = "utf-8-sig" if _is_utf8(path) else "cp1252"
    with open(path, encoding=encoding, errors="replace") as f:
        head = "".join(f.readline() for _ in range(5))
    return encoding, ";" if head.count(";") > head.count(",") else ","


def _cell_to_text(value: object) -> str:
    """Spreadsheet cells arrive typed; bring them back to the text a CSV would hold."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        if value.year <= 1900:  # a duration in a time cell past 24 h: Excel counts from 1899-12-30
            return str(int((pd.Timestamp(value) - pd.Timestamp(1899, 12, 30)).total_seconds() // 60))
        return value.strftime("%Y-%m-%d")
    if isinstance(value, (dt.timedelta, pd.Timedelta)):  # a [h]:mm duration cell
        return str(int(value.total_seconds() // 60))
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):  # a duration typed 0:30 in a time-formatted cell: minutes
        return str(value.hour * 60 + value.minute)
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _sheet(path: Path, sheet: str | int | None) -> str | int:
    if sheet is None:
        return 0
    if isinstance(sheet, int):
        return sheet - 1
    return sheet


def read_top_rows(path: Path, sheet: str | int | None) -> list[list[str]]:
    """The first rows of a file as text, to find its header."""
    if path.suffix.lower() == ".csv":
        encoding, sep = csv_dialect(path)
        with open(path, encoding=encoding, newline="") as f:
            reader = csv.reader(f, delimiter=sep)
            return [row for _, row in zip(range(HEADER_SEARCH_ROWS), reader)]
    engine = "odf" if path.suffix.lower() == ".ods" else "openpyxl"
    grid = pd.read_excel(path, engine=engine, dtype=object, header=None, nrows=HEADER_SEARCH_ROWS, sheet_name=_sheet(path, sheet))
    return [[_cell_to_text(c) for c in row] for row in grid.itertuples(index=False)]


def find_header_row(rows: list[list[str]], known: Callable[[str], bool]) -> int:
    """0-based index of the header: the first row with the most recognised headers
    (a title row or an export's filters above the table are skipped)."""
    scores = [sum(1 for c in row if c.strip() and known(normalise_header(c))) for row in rows]
    if not scores or max(scores) < 2:
        return 0
    return scores.index(max(scores))


def locate_header(path: Path, sheet: str | int | None, known: Callable[[str], bool]) -> tuple[int, list[str]]:
    """(0-based index, cells) of a file's header: read once, then handed to ``read_grid``."""
    top = read_top_rows(path, sheet)
    header_index = find_header_row(top, known)
    return header_index, [c.strip() for c in (top[header_index] if top else [])]


def read_grid(path: Path, sheet: str | int | None, header_index: int, width: int, positions: list[int]) -> pd.DataFrame:
    """The cells below the header (``width`` columns) at ``positions``, every cell as
    (categorical) text, indexed by spreadsheet row number.

    Only the kept columns are ever loaded: identifiers and free text stay on disk. Blank
    lines are kept (then dropped by the caller) so that row numbers stay true.
    """
    if path.suffix.lower() == ".csv":
        encoding, sep = csv_dialect(path)
        # Every cell as a category: a year has few distinct dates, codes or durations,
        # so parsing the distinct values is enough and memory stays small.
        frame = (
            pd.read_csv(
                path,
                sep=sep,
                encoding=encoding,
                dtype="category",
                keep_default_na=False,
                na_filter=False,
                header=None,
                skiprows=header_index + 1,
                usecols=positions,
                skip_blank_lines=False,
                names=list(range(width)),
                index_col=False,
            )
            if positions
            else pd.DataFrame(index=range(0))
        )
    else:
        engine = "odf" if path.suffix.lower() == ".ods" else "openpyxl"
        raw = pd.read_excel(path, engine=engine, dtype=object, header=None, skiprows=header_index + 1, sheet_name=_sheet(path, sheet))
        raw = raw.reindex(columns=range(max(width, raw.shape[1])))
        frame = raw[positions].map(_cell_to_text).astype("category")
    frame.index = pd.RangeIndex(header_index + 2, header_index + 2 + len(frame))
    return frame


# --- parsing -------------------------------------------------------------------------------
# Each parser takes the distinct values of a column (stripped text) and returns their
# parsed values and whether each is malformed; rows then take their value by code.


def _parse_date(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    iso = values.str.match(_ISO_DATE)
    fr = values.str.match(_FR_DATE)
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    if iso.any():
        parsed[iso] = pd.to_datetime(values[iso].str.slice(0, 10), format="%Y-%m-%d", errors="coerce")
    if fr.any():
        parsed[fr] = pd.to_datetime(values[fr].str.split(" ").str[0], format="%d/%m/%Y", errors="coerce")
    return parsed, parsed.isna()


def _parse_integer(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    cleaned = values.str.replace(r"[\s\u00a0\u202f]", "", regex=True)
    ok = cleaned.str.match(_INTEGER)
    parsed = pd.to_numeric(cleaned.where(ok), errors="coerce").astype("Int64")
    return parsed, ~ok


_DURATION = re.compile(
    r"^(?:(?P<minutes>[+-]?\d+(?:\.0+)?)\s*(?:min(?:ute)?s?\.?|mn|m|'|’)?"
    r"|(?P<h>\d+)\s*h(?:eures?)?\s*(?P<hm>\d{1,2})?\s*(?:min(?:ute)?s?\.?|mn|m|'|’)?"
    r"|(?P<c>\d+):(?P<cm>\d{2})(?::00)?)$",
    re.IGNORECASE,
)


def _parse_duration(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Minutes as agents type them: « 45 », « 45 min », « 45mn », « 45' », « 1h », « 1h30 »,
    « 1 h 30 », « 1:30 », « 0:45 » (time cells already arrive as minutes)."""

    def minutes(text: str) -> float:
        m = _DURATION.match(text.replace("\u00a0", " ").replace("\u202f", " ").strip())
        if m is None:
            return float("nan")
        if m["minutes"] is not None:
            return float(m["minutes"])  # out of bounds (-30, 600) is the range check's to name
        hours, rest = (m["h"], m["hm"]) if m["h"] is not None else (m["c"], m["cm"])
        return float(int(hours) * 60 + int(rest or 0))

    parsed = pd.Series([minutes(str(v)) for v in values], index=values.index, dtype="float64")
    ok = parsed.notna()
    return parsed.astype("Int64"), ~ok


_COUNT = re.compile(r"^(\d+)\s*[^\W\d_]*\.?$")


def _parse_count(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """A number of persons, with the unit agents add: « 7 pers. », « 7 participants »."""
    cleaned = values.str.replace(r"[\u00a0\u202f]", " ", regex=True).str.strip()
    number = cleaned.str.extract(_COUNT, expand=False)
    integer, bad = _parse_integer(values)
    parsed = integer.where(~bad, pd.to_numeric(number, errors="coerce").astype("Int64"))
    return parsed, bad & number.isna()


def _parse_boolean(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    folded = values.str.lower()
    is_true, is_false = folded.isin(TRUE_WORDS), folded.isin(FALSE_WORDS)
    parsed = pd.Series(pd.NA, index=values.index, dtype="boolean")
    parsed[is_true] = True
    parsed[is_false] = False
    return parsed, ~(is_true | is_false)


PARSERS = {"date": _parse_date, "integer": _parse_integer, "boolean": _parse_boolean}
#: Integer columns whose unit (``unite`` in the contract) is typed along with the number.
UNIT_PARSERS = {"minutes": _parse_duration, "personnes": _parse_count}
EXPECTED_TEXT = {
    "date": "date attendue au format AAAA-MM-JJ ou JJ/MM/AAAA.",
    "integer": "nombre entier attendu.",
    "boolean": "oui/non (ou vrai/faux, 1/0) attendu.",
}

_STRONG_SEPARATORS = re.compile(r"\s*[|;\n\r]+\s*")
#: Inside a piece that is no label as a whole: « CAF + impôts », « CPAM / ameli », « CAF et impôts ».
_WEAK_SEPARATORS = re.compile(r"\s*[,+/]+\s*|\s+et\s+", re.IGNORECASE)


class CodeReader:
    """Turns what the agent typed into codes: her own values first (correspondances), then
    the contract's codes, labels and usual spellings. A cell is matched whole first
    (« Social, santé (CPAM, RSA, handicap) » is one label); otherwise a multi-valued cell
    is split on ``|``, ``;`` or line breaks, and a piece that is still no label on ``,``,
    ``+``, ``/`` and `` et ``. Her ``valeurs`` map those single pieces, never combinations."""

    def __init__(self, lookup: dict[str, str], own: dict[str, str], multi: bool, open_list: bool = False):
        self.lookup = {**lookup, **own}
        self.multi = multi
        #: The publisher's list is not known here (no metadata): keep the folded value.
        self.open_list = open_list

    def known(self, text: str) -> str | None:
        code = self.lookup.get(fold(text))
        if code is None:
            code = self.lookup.get(normalise_header(text))
        return code

    def one(self, text: str) -> str | None:
        code = self.known(text)
        if code is None and self.open_list:
            code = fold(text)
        return code

    def pieces(self, text: str) -> list[str]:
        """The single values a cell holds, as typed: the whole cell when it is a known
        value (or the column takes one value), else its pieces, split as the class says."""
        text = text.strip()
        if not text:
            return []
        if not self.multi or self.known(text) is not None:
            return [text]
        out: list[str] = []
        for piece in (p for p in _STRONG_SEPARATORS.split(text) if p):
            if self.known(piece) is not None:
                out.append(piece)
            else:
                out += [part for part in _WEAK_SEPARATORS.split(piece) if part.strip()]
        return out

    def read(self, text: str) -> tuple[str | None, list[str]]:
        """(codes joined by ``|`` or None when empty, the unrecognised pieces)."""
        codes: list[str] = []
        unknown: list[str] = []
        for piece in self.pieces(text):
            code = self.one(piece)
            codes.append(code) if code is not None else unknown.append(piece)
        codes = [c for c in dict.fromkeys(codes) if c]  # an empty mapping means "non communiqué"
        return ("|".join(codes) if codes else None), unknown


_NOT_A_LABEL = re.compile(r"[0-9@]")


def showable(value: str) -> bool:
    """Whether a wrong value of a code column may be shown to the agent. Labels and codes
    are not personal data, but an identifier typed in the wrong column can be: a value
    with a digit or an ``@`` (a phone number, a date, an e-mail, a file number) or longer
    than a label is never shown."""
    return len(value) <= 40 and not _NOT_A_LABEL.search(value)


def _distinct(column: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """(distinct stripped texts, the code of each row into them)."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype(str).astype("category")
    uniques = pd.Series(column.cat.categories.astype(str), dtype=object).str.strip()
    return uniques, column.cat.codes.to_numpy()


def _drop_blank_rows(text: pd.DataFrame) -> pd.DataFrame:
    """Rows with every cell empty (office software writes ";;;;" lines after a table, agents
    leave blank lines) are not records. The index keeps the file's row numbers of the others."""
    if text.empty:
        return text
    blank = np.ones(len(text), dtype=bool)
    for column in text.columns:
        uniques, codes = _distinct(text[column])
        blank &= (uniques == "").to_numpy()[codes] if len(uniques) else True
    return text[~blank] if blank.any() else text


def _rows(flags: np.ndarray, index: pd.Index) -> tuple[tuple[int, ...], int]:
    rows = index[flags]
    return tuple(int(r) for r in rows[:ROWS_KEPT]), int(flags.sum())


# --- headers -------------------------------------------------------------------------------


def _is_identifier(name: str) -> bool:
    """Identifying and free-text columns, whatever follows their first words
    (« Observations du conseiller », « Téléphone portable »)."""
    for identifier in identifier_headers():
        if name == identifier or name.startswith(identifier + "_"):
            return True
    return False


@cache  # the contract is read once and never changes while the tool runs
def identifier_headers() -> frozenset[str]:
    return frozenset(normalise_header(c) for c in contract()["identifier_columns"])


def known_header(name: str, mappings: Iterable[TableMapping] = ()) -> bool:
    """Whether a normalised header means something to the tool (to find the header row)."""
    if not name:
        return False
    for spec in contract()["tables"].values():
        if name in spec["columns"]:
            return True
    if name in header_suggestions() or _is_identifier(name):
        return True
    return any(name in m.header_to_column() or name in m.ignorer for m in mappings)


def suggest_column(name: str, table: str) -> str | None:
    """The contract column an unmapped header most likely is."""
    spec = contract()["tables"][table]["columns"]
    guess = header_suggestions().get(name)
    if guess in spec:
        return guess
    close = difflib.get_close_matches(name, list(spec), n=1, cutoff=0.8)
    if close:
        return close[0]
    # « Motif de la venue » starts with « Motif », « Dossier n° » with « Dossier »: usual headers.
    for known, column in sorted(header_suggestions().items(), key=lambda item: -len(item[0])):
        if column in spec and (name.startswith(known + "_") or name.endswith("_" + known)):
            return column
    return None


@dataclass
class HeaderPlan:
    """What to do with each column of a file."""

    #: contract column → positions (0-based) feeding it, in order.
    columns: dict[str, list[int]] = field(default_factory=dict)
    identifiers: list[str] = field(default_factory=list)
    ignored: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: positions read for the mapping's own needs (filter, grouping), by source header.
    extra: dict[str, int] = field(default_factory=dict)
    #: The header's row (1-based, as the spreadsheet shows it) and its number of cells.
    header_row: int = 1
    width: int = 0


def plan_headers(source: Source, header: list[str], header_row: int = 1) -> HeaderPlan:
    table, mapping, file = source.table, source.mapping, source.label
    spec = contract()["tables"][table]["columns"]
    own = mapping.header_to_column()
    mapped_columns = set(mapping.colonnes) | ({"lieu"} if mapping.lieu_feuille else set())
    extra_headers = set()
    if mapping.filtre:
        extra_headers.add(normalise_header(mapping.filtre["colonne"]))
    if mapping.regroupement:
        extra_headers.update(normalise_header(h) for h in mapping.regroupement.get("par", []))
    plan = HeaderPlan(header_row=header_row, width=len(header))
    if mapping.lieu_feuille:
        plan.columns["lieu"] = []  # the sheet's name, added by read_source_text
    for position, raw in enumerate(header):
        name = normalise_header(raw)
        if not name:
            continue  # an unnamed column: empty cells of a wider sheet
        if name in extra_headers:
            plan.extra[name] = position
        if name in mapping.pending_headers and name not in own:
            continue  # already asked by the correspondances (« a_completer »): never read meanwhile
        if name in own:
            plan.columns.setdefault(own[name], []).append(position)
            if name in spec and name != own[name] and name not in mapped_columns and spec[name]["type"] != "free_text":
                # « Année de naissance » in the person key still gives the age band.
                plan.columns.setdefault(name, []).append(position)
        elif name in mapping.ignorer:
            plan.ignored.append(position + 1)
        elif name in spec and name not in mapped_columns and spec[name]["type"] != "free_text":
            plan.columns.setdefault(name, []).append(position)
        elif name in extra_headers:
            continue
        elif (
            (name in spec and spec[name]["type"] == "free_text")
            or name in identifier_headers()
            or (_is_identifier(name) and header_suggestions().get(name) not in spec)
        ):
            # An identifying header, exactly or by its first words (« Observations du
            # conseiller »), unless it is a usual spelling of a contract column (« Note de
            # satisfaction »): dropped before any value is read.
            plan.identifiers.append(raw)
        else:
            guess = suggest_column(name, table)
            where = f"colonne {column_letter(position + 1)}"
            if guess:
                expected = (
                    f"l'en-tête « {raw} » ({where}) ressemble à « {guess} » : ajoutez-le dans metadata/correspondances.yml "
                    f'(« {table}: colonnes: {guess}: "{raw}" »), ou sous « ignorer » s\'il ne doit pas être lu.'
                )
            else:
                # Not shown: a header typed by hand can be a person's name or phone number.
                expected = (
                    f"la {where} a un en-tête qui n'est pas une colonne du contrat (non affiché : il peut contenir une "
                    "donnée personnelle) : associez-le à une colonne dans metadata/correspondances.yml, ou ajoutez-le "
                    "sous « ignorer » pour l'écarter."
                )
            plan.problems.append(Problem(file, "", expected, kind="en-tete"))
    counted = mapping.regroupement["compte"] if mapping.regroupement else None
    for column, col_spec in spec.items():
        if col_spec.get("required") and column not in plan.columns and column != counted:
            hint = (
                f" (déclaré comme « {'», «'.join(mapping.colonnes[column])} » dans correspondances.yml, introuvable)"
                if column in mapping.colonnes
                else ""
            )
            plan.problems.append(
                Problem(file, column, f"colonne obligatoire absente de l'en-tête{hint}.", (header_row,), 1, kind="en-tete")
            )
    for column, headers in mapping.colonnes.items():
        found = {normalise_header(h) for h in header}
        missing = [h for h in headers if h not in found]
        if missing and column in plan.columns and not contract()["tables"][table]["columns"][column].get("required"):
            plan.problems.append(
                Problem(file, column, f"en-tête déclaré dans correspondances.yml introuvable : {', '.join(missing)}.", kind="en-tete")
            )
    return plan


# --- one table ------------------------------------------------------------------------------


def publisher_values(column: str, publisher: Publisher | None, table: str) -> dict[str, str] | None:
    """Code → name of the publisher's own lists (its sites, its quartiers)."""
    if publisher is None:
        return None
    if column == "lieu":
        values = {lieu.code: lieu.nom for lieu in publisher.lieux}
        if table == "ateliers":
            values["hors_les_murs"] = contract()["libelles"]["lieu"]["hors_les_murs"]
        return values
    if column == "quartier":
        return {q.code: q.nom for q in publisher.quartiers} | {"hors_commune": contract()["libelles"]["quartier"]["hors_commune"]}
    return None


def _accepted_text(table: str, column: str, example: str) -> str:
    if accepted_codes(table, column) is not None:
        where = "les codes et libellés listés dans le rapport HTML (et la feuille « codes » du modèle)."
    elif column == "lieu":
        where = "un code ou un nom de lieu déclaré dans metadata/lieux.csv."
    else:
        where = "un code ou un nom de quartier déclaré dans metadata/quartiers.csv, ou « hors_commune »."
    own = f' Ce sont vos propres libellés ? Déclarez-les une fois dans metadata/correspondances.yml : « {table}: valeurs: {column}: {{"{example}": code}} ».'
    return where + own


def parse_source(source: Source, publisher: Publisher | None, year: int | None) -> tuple[Table | None, list[Problem]]:
    """Read and parse one file into its contract table; every problem is returned."""
    table, mapping, file = source.table, source.mapping, source.label
    spec = contract()["tables"][table]["columns"]
    try:
        header_index, header = locate_header(source.path, mapping.feuille, lambda name: known_header(name, [mapping]))
    except (OSError, UnicodeDecodeError, csv.Error, zipfile.BadZipFile) as e:
        return None, [unreadable(source.path, e)]
    except ValueError as e:
        if mapping.feuille is not None and source.path.suffix.lower() != ".csv" and "not found" in str(e).lower():
            return None, [
                Problem(
                    f"metadata/{FILE_NAME}",
                    f"{table}.feuille",
                    f"feuille « {mapping.feuille} » introuvable dans {source.path.name}.",
                    kind="configuration",
                )
            ]
        return None, [unreadable(source.path, e)]
    plan = plan_headers(source, header, header_index + 1)
    if any(p.column in spec and spec[p.column].get("required") for p in plan.problems):
        return None, plan.problems  # without a required column, the cells cannot be checked
    text = read_source_text(source, plan)
    problems = list(plan.problems)
    uncached = formulas_without_value(source.path, mapping.feuille, [p for ps in plan.columns.values() for p in ps], header_index + 2)
    for column, positions in plan.columns.items():
        formula_rows = sorted(r for p in positions for r in uncached.get(p, []))
        if formula_rows:
            problems.append(
                Problem(
                    file,
                    column,
                    "formule sans valeur calculée (le fichier a été enregistré sans recalcul) : ouvrez-le dans votre "
                    "tableur et enregistrez-le, ou remplacez la formule par sa valeur.",
                    tuple(formula_rows[:ROWS_KEPT]),
                    len(formula_rows),
                )
            )

    parsed: dict[str, object] = {}
    pending_columns: list[str] = []
    legacy_usager: pd.Series | None = None
    for column in plan.columns:
        kind = spec[column]["type"]
        uniques, codes = _distinct(text[column])
        if kind == "pseudonymous" and mapping.sans_identifiant:
            # « Bénéficiaire anonyme » is no person: such rows have no identifier.
            uniques = uniques.where(~uniques.map(fold).isin(mapping.sans_identifiant), "")
        default = default_code(column, mapping, publisher)
        if default is not None:
            uniques = uniques.where(uniques != "", default)
        empty = (uniques == "").to_numpy()
        if kind in ("code", "codes"):
            # The publisher's lists cannot be checked without its metadata (reported apart).
            open_list = accepted_codes(table, column) is None and publisher is None
            reader = CodeReader(
                value_lookup(table, column, publisher_values(column, publisher, table)),
                mapping.valeurs.get(column, {}),
                kind == "codes",
                open_list,
            )
            results = [reader.read(u) for u in uniques]
            values = pd.Series([r[0] for r in results], dtype=object)
            # A value she was asked about in the correspondances (« a_completer ») is not asked again here.
            pending = mapping.pending_values.get(column, frozenset())
            results = [(code, [w for w in wrong if fold(w) not in pending]) for code, wrong in results]
            waiting = np.array(
                [any(fold(w) in pending for w in reader.pieces(u)) or (u == "" and "" in pending) for u in uniques], dtype=bool
            )
            bad = np.array([bool(r[1]) for r in results], dtype=bool)
            if waiting.any():
                pending_columns.append(column)
            if bad.any():
                rows, count = _rows(bad[codes], text.index)
                if count:
                    wrong = sorted({w for r, is_bad in zip(results, bad) if is_bad for w in r[1] if showable(w)})
                    problems.append(
                        Problem(
                            file,
                            column,
                            "valeur non reconnue.",
                            rows,
                            count,
                            kind="code",
                            values=tuple(wrong[:12]),
                            accepted=_accepted_text(table, column, wrong[0] if wrong else "votre libellé"),
                        )
                    )
            empty = empty | values.isna().to_numpy() & ~bad & ~waiting
        elif kind == "pseudonymous":
            if len(plan.columns[column]) == 1:
                # What the legacy rule hashed: the stripped cell, empty = no person.
                legacy = uniques.astype(object).where(uniques != "", None)
                legacy_usager = pd.Series(legacy.to_numpy()[codes], index=text.index, dtype=object)
            # The fingerprint before the keyed HMAC: « DUPONT Marie » and « Dupont  marie »
            # are one person (several key columns were joined in order by read_source_text).
            values = uniques.map(fold).astype(object)
            empty = (values == "").to_numpy()
            bad = np.zeros(len(uniques), dtype=bool)
        else:
            unit = spec[column].get("unite")
            labels = integer_labels(column, mapping)
            typed = pd.Series([labels.get(fold(u), u) for u in uniques], dtype=object) if labels else uniques
            values, bad_series = UNIT_PARSERS.get(unit, PARSERS[kind])(typed)
            bad = bad_series.to_numpy() & ~empty
            if bad.any():
                rows, count = _rows(bad[codes], text.index)
                if count:
                    expected = f"nombre entier de {unit} attendu (ex. 30 ou 75)." if unit else EXPECTED_TEXT[kind]
                    shown: tuple[str, ...] = ()
                    if unit == "minutes":
                        # A duration as typed is no personal data: shown, unless it looks like a number of a person.
                        expected = "durée en minutes attendue (ex. 45, 45 min, 1h30, 1 h 30, 0:45)."
                        shown = tuple(sorted({str(u) for u, b in zip(uniques, bad) if b and duration_showable(str(u))})[:12])
                    problems.append(Problem(file, column, expected, rows, count, values=shown))
        if spec[column].get("required") and empty.any():
            rows, count = _rows(empty[codes], text.index)
            if count:
                hint = (
                    ' Pour des lignes sans lieu (à domicile, à distance), déclarez leur lieu dans metadata/correspondances.yml : « valeurs: lieu: {"": code_du_lieu} ».'
                    if column == "lieu"
                    else ""
                )
                problems.append(Problem(file, column, "valeur obligatoire manquante." + hint, rows, count))
        if kind in ("code", "codes", "pseudonymous"):
            values = values.where(~empty, None)
            categories, value_codes = pd.factorize(values, use_na_sentinel=True)[::-1]
            parsed[column] = (
                pd.Categorical.from_codes(value_codes[codes], categories=categories.astype(str))
                if len(categories)
                else pd.Categorical([None] * len(codes))
            )
        else:
            parsed[column] = values.array.take(codes)
    frame = pd.DataFrame(parsed, index=text.index)
    read_from = {column: " + ".join(header[p] for p in positions) or "nom de la feuille" for column, positions in plan.columns.items()}
    problems = [with_header(p, read_from) if p.file == file else p for p in problems]
    outside = 0
    if mapping.dates == "annee" and year is not None and "date" in frame:
        inside = frame["date"].isna() | (frame["date"].dt.year == year)
        outside = int((~inside).sum())
        frame, text = frame[inside], text[inside.to_numpy()]
        if legacy_usager is not None:
            legacy_usager = legacy_usager[inside.to_numpy()]
    if mapping.regroupement and not problems:
        frame = _group_participants(frame, text, mapping)
        legacy_usager = None  # grouped rows are no longer the cells' rows
    without_person = int(frame["usager"].isna().sum()) if "usager" in frame and mapping.sans_identifiant == frozenset() else 0
    ignored = [header[p - 1] for p in plan.ignored]
    return Table(
        table,
        file,
        frame,
        sorted(set(plan.identifiers)),
        plan.ignored,
        outside,
        read_from,
        without_person,
        ignored,
        pending_columns=pending_columns,
        legacy_usager=legacy_usager,
    ), problems


def duration_showable(value: str) -> bool:
    """A refused duration is shown as typed (« trois quarts d'heure », « 1h3O »), unless it
    could be personal: five digits or more (a phone or file number), an ``@``, or any word
    that is not a word of durations (« 17 impasse des Canaris » typed in the wrong column)."""
    if len(value) > 30 or sum(ch.isdigit() for ch in value) >= 5 or "@" in value:
        return False
    words = set(re.split(r"[\d_]+", fold(value))) - {""}
    return words <= _duration_words()


@cache
def _duration_words() -> frozenset[str]:
    return frozenset(fold(w) for w in contract()["mots_duree"])


def integer_labels(column: str, mapping: TableMapping) -> dict[str, str]:
    """Folded label → number for an integer column typed as words (« Très satisfait » is 5):
    the contract's labels and usual spellings, then her own ``valeurs``."""
    labels = (
        {fold(label): code for code, label in contract()["libelles"].get(column, {}).items()}
        if column in contract().get("orthographes", {})
        else {}
    )
    labels |= {fold(typed): str(code) for typed, code in contract().get("orthographes", {}).get(column, {}).items()}
    return labels | mapping.valeurs.get(column, {})


def with_header(problem: Problem, read_from: dict[str, str]) -> Problem:
    """Name her header next to the contract's column when they differ."""
    header = read_from.get(problem.column, "")
    if not header or normalise_header(header) == problem.column:
        return problem
    return replace(problem, header=header)


def read_source_text(source: Source, plan: HeaderPlan, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """The cells feeding each contract column (``columns``, default all), as text, one
    row per record of this table: several source columns joined, blank lines dropped,
    the rows of other tables (``filtre``) left out."""
    wanted_columns = list(plan.columns if columns is None else columns)
    wanted = sorted({p for c in wanted_columns for p in plan.columns[c]} | set(plan.extra.values()))
    grid = read_grid(source.path, source.mapping.feuille, plan.header_row - 1, plan.width, wanted)
    text = pd.DataFrame(index=grid.index)
    for column in wanted_columns:
        positions = plan.columns[column]
        if not positions:
            continue  # the site from the sheet's name (below)
        if len(positions) == 1:
            text[column] = grid[positions[0]]
        else:  # several source columns feed one multi-valued field
            joined = grid[positions].astype(str).agg(lambda row: "|".join(v for v in row if v.strip()), axis=1)
            text[column] = joined.astype("category")
    for name, position in plan.extra.items():
        text["_" + name] = grid[position]
    text = _drop_blank_rows(text)
    if source.mapping.lieu_feuille and "lieu" in wanted_columns:
        # After blank rows are dropped: the sheet's name would make every blank row a record.
        text["lieu"] = pd.Series(str(source.mapping.feuille or ""), index=text.index, dtype="category")
    if source.mapping.filtre:
        text = _apply_filter(text, source.mapping)
    return text


def default_code(column: str, mapping: TableMapping, publisher: Publisher | None) -> str | None:
    """The code an empty cell stands for: the CCAS's own ``valeurs: {column: {"": code}}``,
    or for ``lieu`` the format's ``lieu_vide`` (``lieu_unique``: the CCAS's only site)."""
    own = mapping.valeurs.get(column, {}).get("")
    if own:
        return own
    if column == "lieu" and mapping.lieu_vide:
        if mapping.lieu_vide != "lieu_unique":
            return mapping.lieu_vide
        if publisher is not None and len(publisher.lieux) == 1:
            return publisher.lieux[0].code
    return None


def _apply_filter(text: pd.DataFrame, mapping: TableMapping) -> pd.DataFrame:
    """Keep the rows of a shared export that belong to this table (``filtre``)."""
    assert mapping.filtre is not None
    column = "_" + normalise_header(mapping.filtre["colonne"])
    accepted = {fold(v) for v in mapping.filtre["valeurs"]}
    if column not in text:
        return text.iloc[0:0]
    keep = text[column].astype(str).map(fold).isin(accepted).to_numpy()
    return text[keep]


def _group_participants(frame: pd.DataFrame, text: pd.DataFrame, mapping: TableMapping) -> pd.DataFrame:
    """One row per participant (national exports) → one row per workshop, ``compte`` = its rows."""
    assert mapping.regroupement is not None
    keys = ["_" + normalise_header(h) for h in mapping.regroupement.get("par", [])]
    keys = [k for k in keys if k in text]
    count_column = mapping.regroupement["compte"]
    work = frame.copy()
    for k in keys:
        work[k] = text[k].astype(str).to_numpy()
    by = keys or [c for c in frame.columns if c != count_column]
    grouped = work.groupby(by, sort=False, observed=True, dropna=False)
    first = grouped.head(1).drop(columns=keys)
    first = first.copy()
    first[count_column] = grouped.size().to_numpy().astype("int64")
    return first.astype({count_column: "Int64"})


# --- the year -------------------------------------------------------------------------------


def collect_records(
    input_dir: Path,
    own: Correspondances | None = None,
    publisher: Publisher | None = None,
    year: int | None = None,
) -> tuple[Records, list[Problem]]:
    """Read every table found; return what could be read and every problem met."""
    sources, problems, notes = find_sources(input_dir, own)
    parts: dict[str, list[Table]] = {}
    for source in sources:
        table, found = parse_source(source, publisher, year)
        problems += found
        if table is not None:
            parts.setdefault(source.table, []).append(table)
    return Records({name: join_parts(found) for name, found in parts.items()}, notes), problems


#: Row numbers of the n-th sheet of a table are offset by n times this, so that rows stay
#: distinct records once the sheets are one table (a row without identifier is a person).
SHEET_ROW_OFFSET = 10_000_000


def join_parts(parts: list[Table]) -> Table:
    """Several sheets as one table; each stays in ``parts`` for messages true to its sheet."""
    if len(parts) == 1:
        return parts[0]
    frames, legacy = [], []
    for n, part in enumerate(parts):
        frame = part.frame.copy()
        frame.index = frame.index + n * SHEET_ROW_OFFSET
        frames.append(frame)
        if part.legacy_usager is not None:
            legacy.append(part.legacy_usager.set_axis(frame.index))
    joined = pd.concat(frames)
    for column in joined.columns:
        if any(isinstance(p.frame[column].dtype, pd.CategoricalDtype) for p in parts if column in p.frame):
            joined[column] = joined[column].astype("category")
    first = parts[0]
    return Table(
        first.name,
        first.file.split(" (feuille")[0],
        joined,
        sorted({h for p in parts for h in p.dropped_identifiers}),
        outside_year=sum(p.outside_year for p in parts),
        read_from=first.read_from,
        without_person=sum(p.without_person for p in parts),
        parts=parts,
        legacy_usager=pd.concat(legacy) if legacy and len(legacy) == len(parts) else None,
    )


def read_records(
    input_dir: Path, own: Correspondances | None = None, publisher: Publisher | None = None, year: int | None = None
) -> Records:
    """Read every contract table found in ``input_dir``; raise InvalidInput listing every problem."""
    records, problems = collect_records(input_dir, own, publisher, year)
    if problems:
        raise InvalidInput(problems)
    return records
