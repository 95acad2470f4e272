"""One reader per input format, chosen by the file's extension (a new format is a new
module here). Each reads cells as text, the same text whatever the format: what a CSV
would hold for the same sheet.

A reader has three functions: ``top_rows(path, sheet, rows)`` (the first rows, to find
the header), ``grid(path, sheet, header_index, width, positions)`` (the cells below the
header, only at ``positions``) and ``sheet_names(path)``.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pandas as pd

from . import csv, ods, xlsx

READERS: dict[str, ModuleType] = {".csv": csv, ".xlsx": xlsx, ".ods": ods}
EXTENSIONS = tuple(READERS)
#: Rows searched for the header (exports put a title or filters above it).
HEADER_SEARCH_ROWS = 30


def reader(path: Path) -> ModuleType:
    """The reader of a file, by its extension (candidate files have one of ``EXTENSIONS``)."""
    return READERS[path.suffix.lower()]


def sheet_names(path: Path) -> list[str]:
    """The sheets of a workbook, in their order."""
    names: list[str] = reader(path).sheet_names(path)
    return names


def read_top_rows(path: Path, sheet: str | int | None) -> list[list[str]]:
    """The first rows of a file as text, to find its header."""
    rows: list[list[str]] = reader(path).top_rows(path, sheet, HEADER_SEARCH_ROWS)
    return rows


def read_grid(path: Path, sheet: str | int | None, header_index: int, width: int, positions: list[int]) -> pd.DataFrame:
    """The cells below the header (``width`` columns) at ``positions``, every cell as
    (categorical) text, indexed by spreadsheet row number.

    Only the kept columns are ever loaded: identifiers and free text stay on disk. Blank
    lines are kept (then dropped by the caller) so that row numbers stay true.
    """
    frame: pd.DataFrame = reader(path).grid(path, sheet, header_index, width, positions)
    frame.index = pd.RangeIndex(header_index + 2, header_index + 2 + len(frame))
    return frame
