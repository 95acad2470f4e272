"""Workbooks read through pandas (the engine named by the format's reader): typed cells
brought back to the text a CSV would hold."""

from __future__ import annotations

import datetime as dt
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd


def cell_to_text(value: object) -> str:
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


def pandas_sheet(sheet: str | int | None) -> str | int:
    """A sheet as pandas names it: by name, or 0-based position (``sheet`` is 1-based, None the first)."""
    if sheet is None:
        return 0
    if isinstance(sheet, int):
        return sheet - 1
    return sheet


def sheet_names(path: Path, engine: str) -> list[str]:
    return [str(n) for n in pd.ExcelFile(path, engine=engine).sheet_names]


def top_rows(path: Path, sheet: str | int | None, rows: int, engine: str) -> list[list[str]]:
    # A workbook's sheet is parsed whole even for its first rows: the header is looked for
    # twice (is this sheet the table's? then where is its header?), parsed once.
    return [list(row) for row in _top_rows(path, _contents(path), sheet, rows, engine)]


def forget() -> None:
    """Drop the first rows kept between the looks at a sheet: her cells as typed (names
    included) live no longer than the reading of the year."""
    _top_rows.cache_clear()


def _contents(path: Path) -> tuple[tuple[str, int, int], ...]:
    """What a workbook holds, from its zip directory (each member's name, CRC and size):
    a file rewritten between two reads, even within one clock tick, is read again."""
    with zipfile.ZipFile(path) as archive:
        return tuple((member.filename, member.CRC, member.file_size) for member in archive.infolist())


@lru_cache(maxsize=64)
def _top_rows(
    path: Path, contents: tuple[tuple[str, int, int], ...], sheet: str | int | None, rows: int, engine: str
) -> tuple[tuple[str, ...], ...]:
    grid = pd.read_excel(path, engine=engine, dtype=object, header=None, nrows=rows, sheet_name=pandas_sheet(sheet))
    return tuple(tuple(cell_to_text(c) for c in row) for row in grid.itertuples(index=False))


def grid(path: Path, sheet: str | int | None, header_index: int, width: int, positions: list[int], engine: str) -> pd.DataFrame:
    raw = pd.read_excel(path, engine=engine, dtype=object, header=None, skiprows=header_index + 1, sheet_name=pandas_sheet(sheet))
    raw = raw.reindex(columns=range(max(width, raw.shape[1])))
    return raw[positions].map(cell_to_text).astype("category")
