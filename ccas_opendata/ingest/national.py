"""National formats (the Coop export, ``ccas_opendata/formats/*.yml``): a file recognised by
its headers, read with the format's rules and the CCAS's own values on top."""

from __future__ import annotations

import csv
import zipfile
from dataclasses import replace
from pathlib import Path

import pandas as pd

from ..correspondances import Correspondances, TableMapping, national_formats, normalise_header
from ..errors import Problem
from .model import Source
from .readers import read_top_rows


def matches_national_format(path: Path, national: Correspondances) -> bool:
    try:
        grid = read_top_rows(path, None)
    except (OSError, ValueError, zipfile.BadZipFile, csv.Error):
        return False
    return any(
        len(national.recognised_by & {normalise_header(c) for c in row}) >= max(3, len(national.recognised_by) * 2 // 3) for row in grid
    )


def _with_own_values(mapping: TableMapping, own: Correspondances | None) -> TableMapping:
    """A national format with the CCAS's own values on top (« Médiathèque Nord » is its
    ``mediatheque`` site): the export's layout is the tool's, the CCAS's words are its own."""
    if own is None or mapping.table not in own.tables:
        return mapping
    mine = own.tables[mapping.table].valeurs
    merged = {column: {**mapping.valeurs.get(column, {}), **mine.get(column, {})} for column in set(mapping.valeurs) | set(mine)}
    return replace(mapping, valeurs=merged)


def group_participants(frame: pd.DataFrame, text: pd.DataFrame, mapping: TableMapping) -> pd.DataFrame:
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


def national_sources(files: list[Path], sources: list[Source], own: Correspondances | None) -> tuple[list[Source], list[Problem]]:
    """The files no rule of the CCAS claimed that a national format recognises by their
    headers: one Source per table of the format, unless the table already has a file."""
    found: list[Source] = []
    problems: list[Problem] = []
    for path in files:
        national = next((n for n in national_formats() if matches_national_format(path, n)), None)
        if national is None:
            continue
        for table, mapping in national.tables.items():
            if any(s.table == table for s in sources + found):
                problems.append(
                    Problem(
                        path.name, "", f"la table « {table} » a déjà un fichier ; retirez l'un des deux du dossier.", kind="configuration"
                    )
                )
            else:
                found.append(Source(table, path, _with_own_values(mapping, own), national.label))
    return found, problems
