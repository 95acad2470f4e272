"""ODS workbooks, read by pandas' ``odf`` engine."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import spreadsheet

ENGINE = "odf"


def sheet_names(path: Path) -> list[str]:
    return spreadsheet.sheet_names(path, ENGINE)


def top_rows(path: Path, sheet: str | int | None, rows: int) -> list[list[str]]:
    return spreadsheet.top_rows(path, sheet, rows, ENGINE)


def grid(path: Path, sheet: str | int | None, header_index: int, width: int, positions: list[int]) -> pd.DataFrame:
    return spreadsheet.grid(path, sheet, header_index, width, positions, ENGINE)
