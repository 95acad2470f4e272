"""One table: the cells of one source read as text, then parsed into the contract's typed
columns; every problem of its headers, cells and codes returned together."""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..publisher import Publisher
from ..vocabulary import contract, extra_codes, publisher_list
from ..correspondances import FILE_NAME, TableMapping, accepted_codes, fold, normalise_header, value_lookup
from ..errors import ROWS_KEPT, Problem
from ..formulas import formulas_without_value
from .headers import HeaderPlan, locate_header, known_header, plan_headers
from .model import Source, Table
from .national import group_participants
from .readers import read_grid
from .sources import unreadable
from .values import CodeReader, EXPECTED_TEXT, PARSERS, UNIT_PARSERS, duration_showable, integer_labels, showable


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


def publisher_values(column: str, publisher: Publisher | None, table: str) -> dict[str, str] | None:
    """Code → name of the publisher's own lists (its sites, its quartiers), with the codes the
    contract adds to them (``listes_editeur``: a workshop away from every site…)."""
    listed = publisher_list(table, column)
    if publisher is None or listed is None:
        return None
    own = {
        "lieux.csv": [(lieu.code, lieu.nom) for lieu in publisher.lieux],
        "quartiers.csv": [(q.code, q.nom) for q in publisher.quartiers],
    }
    values = dict(own[listed["fichier"]])
    for extra in extra_codes(column, table):
        values[extra] = contract()["libelles"][column][extra]
    return values


def _accepted_text(table: str, column: str, example: str) -> str:
    listed = publisher_list(table, column)
    if accepted_codes(table, column) is not None or listed is None:
        where = "les codes et libellés listés dans le rapport HTML (et la feuille « codes » du modèle)."
    else:
        extras = "".join(f", ou « {code} »" for code in extra_codes(column, table))
        where = f"un code ou un nom de {column} déclaré dans metadata/{listed['fichier']}{extras}."
    own = f' Ce sont vos propres libellés ? Déclarez-les une fois dans metadata/correspondances.yml : « {table}: valeurs: {column}: {{"{example}": code}} ».'
    return where + own


def parse_source(source: Source, publisher: Publisher | None, year: int | None) -> tuple[Table | None, list[Problem]]:
    """Read and parse one file into its contract table; every problem is returned."""
    table, mapping, file = source.table, source.mapping, source.label
    spec = contract()["tables"][table]["columns"]
    located = _locate_header(source)
    if isinstance(located, Problem):
        return None, [located]
    header_index, header = located
    plan = plan_headers(source, header, header_index + 1)
    if any(p.column in spec and spec[p.column].get("required") for p in plan.problems):
        return None, plan.problems  # without a required column, the cells cannot be checked
    text = read_source_text(source, plan)
    problems = plan.problems + _formulas_without_value(source, plan)
    parsed: dict[str, object] = {}
    pending_columns: list[str] = []
    legacy_usager: pd.Series | None = None
    for column in plan.columns:
        read, codes, legacy = _read_column(source, plan, column, text, publisher)
        problems += read.problems
        if read.pending:
            pending_columns.append(column)
        if spec[column].get("required") and read.empty.any():
            problems += _missing_values(file, column, read.empty[codes], text.index)
        parsed[column] = _rows_values(read, codes, spec[column]["type"])
        legacy_usager = legacy if legacy is not None else legacy_usager
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
        frame = group_participants(frame, text, mapping)
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


def _read_column(
    source: Source, plan: HeaderPlan, column: str, text: pd.DataFrame, publisher: Publisher | None
) -> tuple[_ReadColumn, np.ndarray, pd.Series | None]:
    """One column read from its distinct texts, the code of each row into them, and for a
    person key of one cell the key as the legacy rule read it."""
    mapping = source.mapping
    kind = contract()["tables"][source.table]["columns"][column]["type"]
    uniques, codes = _distinct(text[column])
    if kind == "pseudonymous" and mapping.sans_identifiant:
        # « Bénéficiaire anonyme » is no person: such rows have no identifier.
        uniques = uniques.where(~uniques.map(fold).isin(mapping.sans_identifiant), "")
    default = default_code(column, mapping, publisher)
    if default is not None:
        uniques = uniques.where(uniques != "", default)
    if kind in ("code", "codes"):
        return _read_codes(source, column, uniques, codes, text.index, publisher), codes, None
    if kind != "pseudonymous":
        return _read_typed(source, column, uniques, codes, text.index), codes, None
    legacy_usager = None
    if len(plan.columns[column]) == 1:
        # What the legacy rule hashed: the stripped cell, empty = no person.
        legacy = uniques.astype(object).where(uniques != "", None)
        legacy_usager = pd.Series(legacy.to_numpy()[codes], index=text.index, dtype=object)
    return _read_person(uniques), codes, legacy_usager


def _locate_header(source: Source) -> tuple[int, list[str]] | Problem:
    """(0-based index, cells) of the source's header, or why it cannot be read."""
    mapping = source.mapping
    try:
        return locate_header(source.path, mapping.feuille, lambda name: known_header(name, [mapping]))
    except (OSError, UnicodeDecodeError, csv.Error, zipfile.BadZipFile) as e:
        return unreadable(source.path, e)
    except ValueError as e:
        if mapping.feuille is not None and source.path.suffix.lower() != ".csv" and "not found" in str(e).lower():
            return Problem(
                f"metadata/{FILE_NAME}",
                f"{source.table}.feuille",
                f"feuille « {mapping.feuille} » introuvable dans {source.path.name}.",
                kind="configuration",
            )
        return unreadable(source.path, e)


def _formulas_without_value(source: Source, plan: HeaderPlan) -> list[Problem]:
    """Cells of the read columns holding a formula the spreadsheet never computed."""
    positions = [p for ps in plan.columns.values() for p in ps]
    uncached = formulas_without_value(source.path, source.mapping.feuille, positions, plan.header_row + 1)
    problems = []
    for column, positions in plan.columns.items():
        formula_rows = sorted(r for p in positions for r in uncached.get(p, []))
        if formula_rows:
            problems.append(
                Problem(
                    source.label,
                    column,
                    "formule sans valeur calculée (le fichier a été enregistré sans recalcul) : ouvrez-le dans votre "
                    "tableur et enregistrez-le, ou remplacez la formule par sa valeur.",
                    tuple(formula_rows[:ROWS_KEPT]),
                    len(formula_rows),
                )
            )
    return problems


@dataclass
class _ReadColumn:
    """One contract column read from its distinct texts (``values`` aligned on them)."""

    values: pd.Series
    #: Which distinct texts stand for no value.
    empty: np.ndarray
    problems: list[Problem] = field(default_factory=list)
    #: Some value is still « a_completer » in the correspondances: asked there, not here.
    pending: bool = False


def _read_codes(
    source: Source, column: str, uniques: pd.Series, codes: np.ndarray, index: pd.Index, publisher: Publisher | None
) -> _ReadColumn:
    """A code column: each distinct text as its code(s); unrecognised values named when showable."""
    table, mapping = source.table, source.mapping
    multi = contract()["tables"][table]["columns"][column]["type"] == "codes"
    # The publisher's lists cannot be checked without its metadata (reported apart).
    open_list = accepted_codes(table, column) is None and publisher is None
    reader = CodeReader(
        value_lookup(table, column, publisher_values(column, publisher, table)), mapping.valeurs.get(column, {}), multi, open_list
    )
    results = [reader.read(u) for u in uniques]
    values = pd.Series([r[0] for r in results], dtype=object)
    # A value she was asked about in the correspondances (« a_completer ») is not asked again here.
    pending = mapping.pending_values.get(column, frozenset())
    results = [(code, [w for w in wrong if fold(w) not in pending]) for code, wrong in results]
    waiting = np.array([any(fold(w) in pending for w in reader.pieces(u)) or (u == "" and "" in pending) for u in uniques], dtype=bool)
    bad = np.array([bool(r[1]) for r in results], dtype=bool)
    problems = []
    if bad.any():
        rows, count = _rows(bad[codes], index)
        if count:
            wrong = sorted({w for r, is_bad in zip(results, bad) if is_bad for w in r[1] if showable(w)})
            problems.append(
                Problem(
                    source.label,
                    column,
                    "valeur non reconnue.",
                    rows,
                    count,
                    kind="code",
                    values=tuple(wrong[:12]),
                    accepted=_accepted_text(table, column, wrong[0] if wrong else "votre libellé"),
                )
            )
    empty = (uniques == "").to_numpy() | values.isna().to_numpy() & ~bad & ~waiting
    return _ReadColumn(values, empty, problems, bool(waiting.any()))


def _read_person(uniques: pd.Series) -> _ReadColumn:
    """The person key's fingerprint before the keyed HMAC: « DUPONT Marie » and « Dupont
    marie » are one person (several key columns were joined in order by read_source_text)."""
    values = uniques.map(fold).astype(object)
    return _ReadColumn(values, (values == "").to_numpy())


def _read_typed(source: Source, column: str, uniques: pd.Series, codes: np.ndarray, index: pd.Index) -> _ReadColumn:
    """A date, number, duration, count or yes/no column: its parser's values, malformed
    cells named (a duration as typed, when it cannot be personal)."""
    column_spec = contract()["tables"][source.table]["columns"][column]
    kind, unit = column_spec["type"], column_spec.get("unite")
    empty = (uniques == "").to_numpy()
    labels = integer_labels(column, source.mapping)
    typed = pd.Series([labels.get(fold(u), u) for u in uniques], dtype=object) if labels else uniques
    values, bad_series = UNIT_PARSERS.get(unit, PARSERS[kind])(typed)
    bad = bad_series.to_numpy() & ~empty
    problems = []
    if bad.any():
        rows, count = _rows(bad[codes], index)
        if count:
            expected = f"nombre entier de {unit} attendu (ex. 30 ou 75)." if unit else EXPECTED_TEXT[kind]
            shown: tuple[str, ...] = ()
            if unit == "minutes":
                # A duration as typed is no personal data: shown, unless it looks like a number of a person.
                expected = "durée en minutes attendue (ex. 45, 45 min, 1h30, 1 h 30, 0:45)."
                shown = tuple(sorted({str(u) for u, b in zip(uniques, bad) if b and duration_showable(str(u))})[:12])
            problems.append(Problem(source.label, column, expected, rows, count, values=shown))
    return _ReadColumn(values, empty, problems)


def _missing_values(file: str, column: str, empty_rows: np.ndarray, index: pd.Index) -> list[Problem]:
    rows, count = _rows(empty_rows, index)
    if not count:
        return []
    hint = (
        ' Pour des lignes sans lieu (à domicile, à distance), déclarez leur lieu dans metadata/correspondances.yml : « valeurs: lieu: {"": code_du_lieu} ».'
        if column == "lieu"
        else ""
    )
    return [Problem(file, column, "valeur obligatoire manquante." + hint, rows, count)]


def _rows_values(read: _ReadColumn, codes: np.ndarray, kind: str) -> object:
    """The column's value on each row (row → distinct text by ``codes``): categorical for
    codes and persons, the parser's dtype otherwise."""
    if kind not in ("code", "codes", "pseudonymous"):
        return read.values.array.take(codes)
    values = read.values.where(~read.empty, None)
    categories, value_codes = pd.factorize(values, use_na_sentinel=True)[::-1]
    if not len(categories):
        return pd.Categorical([None] * len(codes))
    return pd.Categorical.from_codes(value_codes[codes], categories=categories.astype(str))


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
