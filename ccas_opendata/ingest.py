"""Ingest: read the year's activity records in any form of the contract, keep only the
contract's columns, and parse them into typed columns.

Identifier and free-text columns are dropped right after the header is read, before
any value is parsed, so nothing downstream (errors included) can ever see them. Parse
errors name file, row and column, never the cell's content.

Every frame returned is indexed by the row number a spreadsheet shows (header = 1),
so later stages (Great Expectations included) can point at rows the agent can find.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from collections.abc import Callable
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
    #: Positions (1 = column A) of the columns outside the contract. Never their header:
    #: a header typed by hand can be a name or a phone number.
    dropped_unknown: list[int] = field(default_factory=list)


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
                count = len(t.dropped_unknown)
                where = ", ".join(f"{column_letter(p)} ({p})" for p in t.dropped_unknown)
                out.append(
                    f"{t.file} : colonnes inconnues écartées (jamais publiées) : {count}, en position {where} ; "
                    "leur en-tête n'est pas affiché (il peut contenir une donnée personnelle)."
                )
        return out


def column_letter(position: int) -> str:
    """``1`` → ``"A"``, ``27`` → ``"AA"``: the column as a spreadsheet names it."""
    letters = ""
    while position > 0:
        position, rest = divmod(position - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


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
    without BOM) when the whole file decodes so, else Windows-1252; ';' when the header
    has more of them than commas."""
    encoding = "utf-8-sig" if _is_utf8(path) else "cp1252"
    with open(path, encoding=encoding, errors="replace") as f:
        first_line = f.readline()
    return encoding, ";" if first_line.count(";") > first_line.count(",") else ","


def _read_csv(path: Path, keep: Callable[[str], bool]) -> pd.DataFrame:
    encoding, sep = csv_dialect(path)
    # Columns outside the contract (identifiers, free text) are never even loaded;
    # every cell is read as a category: a year has few distinct dates, codes or
    # durations, so parsing the distinct values is enough and memory stays small.
    return pd.read_csv(
        path, sep=sep, encoding=encoding, dtype="category", keep_default_na=False, na_filter=False,
        usecols=lambda name: keep(name),
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


def _read_spreadsheet(path: Path, keep: Callable[[str], bool]) -> pd.DataFrame:
    engine = "odf" if path.suffix.lower() == ".ods" else "openpyxl"
    frame = pd.read_excel(path, engine=engine, dtype=object, header=0)
    frame = frame.dropna(how="all")
    frame.columns = [_cell_to_text(c) for c in frame.columns]
    frame = frame[[c for c in frame.columns if keep(c)]]
    return frame.map(_cell_to_text).astype("category")


def read_header(path: Path) -> list[str]:
    """The column names of a file, without reading its rows."""
    if path.suffix.lower() == ".csv":
        encoding, sep = csv_dialect(path)
        return list(pd.read_csv(path, sep=sep, encoding=encoding, nrows=0).columns)
    engine = "odf" if path.suffix.lower() == ".ods" else "openpyxl"
    return [_cell_to_text(c) for c in pd.read_excel(path, engine=engine, nrows=0).columns]


def read_text_table(path: Path, keep: Callable[[str], bool] = lambda _: True) -> pd.DataFrame:
    """The kept columns, every cell as (categorical) text, index = the row number in the file."""
    frame = _read_csv(path, keep) if path.suffix.lower() == ".csv" else _read_spreadsheet(path, keep)
    frame.index = pd.RangeIndex(2, len(frame) + 2)
    return frame


# --- parsing ----------------------------------------------------------------------------
# Each parser takes the distinct values of a column (stripped text) and returns their
# parsed values and whether each is malformed; rows then take their value by code.

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


def fold_code(value: str, known: dict[str, str] | None = None) -> str:
    """``"Demandeur d'emploi"`` → ``"demandeur_emploi"``: exports often carry the label
    rather than the code. Case, accents, spaces and punctuation are folded; where the
    column has a closed list, a value that matches a code but for French articles
    (« de », « du », « d' »…) is mapped to it. Anything else is kept, folded, for the
    expectation suite to reject."""
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii").lower()
    words = [w for w in re.split(r"[^a-z0-9]+", folded) if w]
    code = "_".join(words)
    if known and code not in known.values():
        code = known.get("_".join(w for w in words if w not in _ARTICLES), code)
    return code


def _loose_lookup(codes: list[str]) -> dict[str, str]:
    return {"_".join(w for w in c.split("_") if w not in _ARTICLES): c for c in codes}


def _parse_codes(values: pd.Series, known: dict[str, str] | None = None) -> tuple[pd.Series, pd.Series]:
    parts = values.str.split(r"\s*[|,;]\s*", regex=True)
    joined = parts.map(lambda items: "|".join(fold_code(i, known) for i in items if i.strip()))
    return joined.astype(object), pd.Series(False, index=values.index)


def _parse_code(values: pd.Series, known: dict[str, str] | None = None) -> tuple[pd.Series, pd.Series]:
    return values.map(lambda v: fold_code(v, known)).astype(object), pd.Series(False, index=values.index)


def _keep_text(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    return values.astype(object), pd.Series(False, index=values.index)


PARSERS = {"date": _parse_date, "integer": _parse_integer, "boolean": _parse_boolean, "codes": _parse_codes, "code": _parse_code, "pseudonymous": _keep_text}
TEXT_KINDS = ("code", "codes", "pseudonymous")

EXPECTED_TEXT = {
    "date": "date attendue au format AAAA-MM-JJ ou JJ/MM/AAAA",
    "integer": "nombre entier attendu",
    "boolean": "oui/non (ou vrai/faux, 1/0) attendu",
}


def _closed_list(column_spec: dict) -> dict[str, str] | None:
    """The contract's codes for a column (``$genre``…), None for publisher-defined lists."""
    references = column_spec.get("values")
    references = references if isinstance(references, list) else [references]
    codes: list[str] = []
    for reference in references:
        name = str(reference).lstrip("$")
        if name not in contract()["codes"]:
            return None
        codes += contract()["codes"][name]
    return _loose_lookup(codes)


def _distinct(column: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """(distinct stripped texts, the code of each row into them)."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype(str).astype("category")
    uniques = pd.Series(column.cat.categories.astype(str), dtype=object).str.strip()
    return uniques, column.cat.codes.to_numpy()


def _drop_blank_rows(text: pd.DataFrame) -> pd.DataFrame:
    """Rows with every cell empty (office software writes ";;;;" lines after a table)
    are not records. The index keeps the file's row numbers of the others."""
    blank = np.ones(len(text), dtype=bool)
    for column in text.columns:
        uniques, codes = _distinct(text[column])
        blank &= (uniques == "").to_numpy()[codes] if len(uniques) else True
    return text[~blank] if blank.any() else text


def _rows(flags: np.ndarray, index: pd.Index) -> tuple[tuple[int, ...], int]:
    rows = index[flags]
    return tuple(int(r) for r in rows[:10]), int(flags.sum())


def parse_table(name: str, file: str, text: pd.DataFrame, header: list[str] | None = None) -> Table:
    """Parse the contract columns of ``text``; raise InvalidInput listing every missing
    column and every unparsable cell (by row and column)."""
    spec = contract()["tables"][name]["columns"]
    identifiers = {normalise_header(c) for c in contract()["identifier_columns"]}
    names = [normalise_header(c) for c in (header if header is not None else text.columns)]
    dropped_identifiers = sorted({h for h in names if h in identifiers})
    dropped_unknown = [position for position, h in enumerate(names, start=1) if h and h not in spec and h not in identifiers]
    text = text[[c for c in text.columns if normalise_header(c) in spec]]
    text.columns = [normalise_header(c) for c in text.columns]
    text = text.loc[:, ~text.columns.duplicated()]

    text = _drop_blank_rows(text)
    problems: list[Problem] = []
    for column, col_spec in spec.items():
        if col_spec.get("required") and column not in text.columns:
            problems.append(Problem(file, column, "colonne obligatoire absente de l'en-tête (ligne 1).", (1,), 1))
    if problems:
        raise InvalidInput(problems)

    parsed: dict[str, object] = {}
    for column in text.columns:
        kind = spec[column]["type"]
        if kind == "free_text":
            continue  # read by nothing: free text never leaves ingestion
        uniques, codes = _distinct(text[column])
        if kind in ("code", "codes"):
            values, bad = PARSERS[kind](uniques, _closed_list(spec[column]))
        else:
            values, bad = PARSERS[kind](uniques)
        empty = (uniques == "").to_numpy()
        bad = bad.to_numpy() & ~empty
        if bad.any():
            rows, count = _rows(bad[codes], text.index)
            problems.append(Problem(file, column, EXPECTED_TEXT[kind] + ".", rows, count))
        if spec[column].get("required") and empty.any():
            rows, count = _rows(empty[codes], text.index)
            if count:
                problems.append(Problem(file, column, "valeur obligatoire manquante.", rows, count))
        if kind in TEXT_KINDS:
            values = values.where(~empty, None)
            categories, value_codes = pd.factorize(values, use_na_sentinel=True)[::-1]
            parsed[column] = pd.Categorical.from_codes(value_codes[codes], categories=categories.astype(str)) if len(categories) else pd.Categorical([None] * len(codes))
        else:
            parsed[column] = values.array.take(codes)
    if problems:
        raise InvalidInput(problems)
    return Table(name, file, pd.DataFrame(parsed, index=text.index), dropped_identifiers, dropped_unknown)


def read_records(input_dir: Path) -> Records:
    """Read every contract table found in ``input_dir``. Only the contract's columns are
    loaded from the files: identifiers and free text are named in a warning, never read."""
    tables = {}
    for name, path in find_input_files(input_dir).items():
        spec = contract()["tables"][name]["columns"]
        header = read_header(path)
        text = read_text_table(path, keep=lambda column, spec=spec: normalise_header(column) in spec)
        tables[name] = parse_table(name, path.name, text, header)
    return Records(tables)
