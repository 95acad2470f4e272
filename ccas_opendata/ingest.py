"""Ingest: read the year's activity records in any form of the contract, keep only the
contract's columns, and parse them into typed columns.

Identifier and free-text columns are dropped right after the header is read, before
any value is parsed, so nothing downstream (errors included) can ever see them. Parse
errors name file, row and column, never the cell's content.

Every frame returned is indexed by the row number a spreadsheet shows (header = 1),
so later stages (Great Expectations included) can point at rows the agent can find.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .config import contract
from .errors import InvalidInput, Problem

EXTENSIONS = (".csv", ".xlsx", ".ods")
TRUE_WORDS = {"oui", "true", "1", "vrai", "o", "yes", "x"}
FALSE_WORDS = {"non", "false", "0", "faux", "n", "no"}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FR_DATE = re.compile(r"^\d{1,2}/\d{1,2}/\d{4}$")
_INTEGER = re.compile(r"^[+-]?\d+(\.0+)?$")


@dataclass
class Table:
    """One input table after ingestion: typed columns, indexed by file row number."""

    name: str
    file: str
    frame: pd.DataFrame
    dropped_identifiers: list[str] = field(default_factory=list)
    dropped_unknown: list[str] = field(default_factory=list)


@dataclass
class Records:
    """The year's input tables (``accompagnements`` always, the others when given)."""

    tables: dict[str, Table]

    def __getitem__(self, name: str) -> Table:
        return self.tables[name]

    def __contains__(self, name: str) -> bool:
        return name in self.tables

    @property
    def warnings(self) -> list[str]:
        out = []
        for t in self.tables.values():
            if t.dropped_identifiers:
                out.append(f"{t.file} : colonnes identifiantes écartées avant tout traitement : {', '.join(t.dropped_identifiers)}.")
            if t.dropped_unknown:
                out.append(f"{t.file} : colonnes inconnues écartées (jamais publiées) : {', '.join(t.dropped_unknown)}.")
        return out


# Articles dropped from headers: "Année de naissance" is "annee_naissance".
_ARTICLES = {"de", "du", "des", "d", "la", "le", "les", "l"}


def normalise_header(name: str) -> str:
    """``"Année de naissance"`` → ``"annee_naissance"``: case, accents, articles, spaces and
    punctuation folded, so headers typed by hand match the contract."""
    folded = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode("ascii").lower()
    words = [w for w in re.split(r"[^a-z0-9]+", folded) if w and w not in _ARTICLES]
    return "_".join(words)


def find_input_files(input_dir: Path) -> dict[str, Path]:
    """Map each contract table to its file in ``input_dir`` (``accompagnements.csv``…)."""
    if not input_dir.is_dir():
        raise InvalidInput([Problem(str(input_dir), "", "dossier d'entrée introuvable.")])
    found: dict[str, list[Path]] = {}
    for path in sorted(input_dir.iterdir()):
        if path.suffix.lower() in EXTENSIONS and not path.name.startswith(("~$", ".")):
            table = normalise_header(path.stem)
            if table in contract()["tables"]:
                found.setdefault(table, []).append(path)
    problems = [
        Problem(input_dir.name, "", f"plusieurs fichiers pour la table « {t} » ({', '.join(p.name for p in paths)}) : n'en gardez qu'un.")
        for t, paths in found.items()
        if len(paths) > 1
    ]
    for table, spec in contract()["tables"].items():
        if spec["required_file"] and table not in found:
            problems.append(Problem(input_dir.name, "", f"fichier « {table}.csv » (ou .xlsx, .ods) introuvable : il est obligatoire."))
    if problems:
        raise InvalidInput(problems)
    return {t: paths[0] for t, paths in found.items()}


# --- reading cells as text ------------------------------------------------------------

def _read_csv(path: Path) -> pd.DataFrame:
    raw = path.read_bytes()
    try:
        text_head = raw[:65536].decode("utf-8-sig")
        encoding = "utf-8-sig"
        raw.decode("utf-8-sig")  # the whole file, not just its head, must be UTF-8
    except UnicodeDecodeError:
        encoding, text_head = "cp1252", raw[:65536].decode("cp1252", errors="replace")
    first_line = text_head.splitlines()[0] if text_head else ""
    sep = ";" if first_line.count(";") > first_line.count(",") else ","
    return pd.read_csv(
        path, sep=sep, encoding=encoding, dtype=str, keep_default_na=False, na_filter=False, skipinitialspace=False
    )


def _cell_to_text(value: object) -> str:
    """Spreadsheet cells arrive typed; bring them back to the text a CSV would hold."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _read_spreadsheet(path: Path) -> pd.DataFrame:
    engine = "odf" if path.suffix.lower() == ".ods" else "openpyxl"
    frame = pd.read_excel(path, engine=engine, dtype=object, header=0)
    frame = frame.dropna(how="all")
    frame.columns = [_cell_to_text(c) for c in frame.columns]
    return frame.map(_cell_to_text)


def read_text_table(path: Path) -> pd.DataFrame:
    """All cells as stripped text, index = the row number in the file."""
    frame = _read_csv(path) if path.suffix.lower() == ".csv" else _read_spreadsheet(path)
    frame.index = pd.RangeIndex(2, len(frame) + 2)
    return frame


# --- parsing ----------------------------------------------------------------------------

def _fold_text(series: pd.Series) -> pd.Series:
    return series.astype(str).str.strip().str.lower()


def _parse_date(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    iso = values.str.match(_ISO_DATE)
    fr = values.str.match(_FR_DATE)
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    if iso.any():
        parsed[iso] = pd.to_datetime(values[iso], format="%Y-%m-%d", errors="coerce")
    if fr.any():
        parsed[fr] = pd.to_datetime(values[fr], format="%d/%m/%Y", errors="coerce")
    return parsed, parsed.isna()


def _parse_integer(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    cleaned = values.str.replace(r"[\s\u00a0\u202f]", "", regex=True)
    ok = cleaned.str.match(_INTEGER)
    parsed = pd.to_numeric(cleaned.where(ok), errors="coerce").astype("Int64")
    return parsed, ~ok


def _parse_boolean(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    folded = values.str.lower()
    is_true, is_false = folded.isin(TRUE_WORDS), folded.isin(FALSE_WORDS)
    parsed = pd.Series(pd.NA, index=values.index, dtype="boolean")
    parsed[is_true] = True
    parsed[is_false] = False
    return parsed, ~(is_true | is_false)


def _parse_codes(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    parts = values.str.lower().str.replace(r"\s*[|,;]\s*", "|", regex=True).str.strip("|")
    return parts, pd.Series(False, index=values.index)


EXPECTED_TEXT = {
    "date": "date attendue au format AAAA-MM-JJ ou JJ/MM/AAAA",
    "integer": "nombre entier attendu",
    "boolean": "oui/non (ou vrai/faux, 1/0) attendu",
}


def parse_table(name: str, file: str, text: pd.DataFrame) -> Table:
    """Keep the contract's columns of ``text`` and parse them; raise InvalidInput listing
    every missing column and every unparsable cell (by row and column)."""
    spec = contract()["tables"][name]["columns"]
    identifiers = {normalise_header(c) for c in contract()["identifier_columns"]}
    header = {normalise_header(c): c for c in text.columns}

    dropped_identifiers = sorted(h for h in header if h in identifiers)
    dropped_unknown = sorted(h for h in header if h not in spec and h not in identifiers and h)
    # Drop before any value is looked at: from here on only contract columns exist.
    text = text[[header[h] for h in header if h in spec]]
    text.columns = [normalise_header(c) for c in text.columns]

    problems: list[Problem] = []
    for column, col_spec in spec.items():
        if col_spec.get("required") and column not in text.columns:
            problems.append(Problem(file, column, "colonne obligatoire absente de l'en-tête (ligne 1).", (1,), 1))
    if problems:
        raise InvalidInput(problems)

    parsed: dict[str, pd.Series] = {}
    for column in text.columns:
        kind = spec[column]["type"]
        if kind == "free_text":
            continue  # read by nothing: free text never leaves ingestion
        values = text[column].astype(str).str.strip()
        empty = values == ""
        if kind == "date":
            out, bad = _parse_date(values)
        elif kind == "integer":
            out, bad = _parse_integer(values)
        elif kind == "boolean":
            out, bad = _parse_boolean(values)
        elif kind == "codes":
            out, bad = _parse_codes(values)
        elif kind == "code":
            out, bad = values.str.lower(), pd.Series(False, index=values.index)
        else:  # pseudonymous: kept verbatim, only ever hashed
            out, bad = values, pd.Series(False, index=values.index)
        bad = bad & ~empty
        if bad.any():
            rows = bad[bad].index
            problems.append(Problem(file, column, EXPECTED_TEXT[kind] + ".", tuple(int(r) for r in rows[:10]), int(bad.sum())))
        if spec[column].get("required") and empty.any():
            rows = empty[empty].index
            problems.append(Problem(file, column, "valeur obligatoire manquante.", tuple(int(r) for r in rows[:10]), int(empty.sum())))
        if kind in ("code", "codes", "pseudonymous"):
            out = out.where(~empty, None)
        parsed[column] = out
    if problems:
        raise InvalidInput(problems)
    return Table(name, file, pd.DataFrame(parsed, index=text.index), dropped_identifiers, dropped_unknown)


def read_records(input_dir: Path) -> Records:
    """Read every contract table found in ``input_dir``."""
    tables = {}
    for name, path in find_input_files(input_dir).items():
        text = read_text_table(path)
        tables[name] = parse_table(name, path.name, text)
    return Records(tables)
