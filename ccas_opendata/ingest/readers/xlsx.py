"""XLSX workbooks, read by calamine (python-calamine, pandas' ``calamine`` engine): about
ten times openpyxl's speed on an agent's workbook, with the same cells (dates, times and
durations typed, numbers typed as text kept as text). openpyxl stays to write the
templates."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import python_calamine

from . import spreadsheet

ENGINE = "calamine"


@contextmanager
def _as_openpyxl_failed() -> Iterator[None]:
    """calamine's errors as the ones the callers name for her (openpyxl's): a damaged
    archive is a BadZipFile, any other unreadable content a ValueError."""
    try:
        yield
    except python_calamine.ZipError as e:
        raise zipfile.BadZipFile(str(e)) from e
    except python_calamine.CalamineError as e:
        raise ValueError(str(e)) from e


def sheet_names(path: Path) -> list[str]:
    with _as_openpyxl_failed():
        return spreadsheet.sheet_names(path, ENGINE)


def top_rows(path: Path, sheet: str | int | None, rows: int) -> list[list[str]]:
    with _as_openpyxl_failed():
        return spreadsheet.top_rows(path, sheet, rows, ENGINE)


def grid(path: Path, sheet: str | int | None, header_index: int, width: int, positions: list[int]) -> pd.DataFrame:
    with _as_openpyxl_failed():
        return spreadsheet.grid(path, sheet, header_index, width, positions, ENGINE)
