"""CSV as Excel or LibreOffice write it: UTF-8 (with or without BOM) or Windows-1252,
``;`` or ``,``, sniffed from the file itself."""

from __future__ import annotations

import codecs
import csv
from pathlib import Path

import pandas as pd


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


def sheet_names(path: Path) -> list[str]:
    raise ValueError(f"{path.name} est un fichier CSV : il n'a pas de feuilles.")


def top_rows(path: Path, sheet: str | int | None, rows: int) -> list[list[str]]:
    encoding, sep = csv_dialect(path)
    with open(path, encoding=encoding, newline="") as f:
        reader = csv.reader(f, delimiter=sep)
        return [row for _, row in zip(range(rows), reader)]


def grid(path: Path, sheet: str | int | None, header_index: int, width: int, positions: list[int]) -> pd.DataFrame:
    if not positions:
        return pd.DataFrame(index=range(0))
    encoding, sep = csv_dialect(path)
    # Every cell as a category: a year has few distinct dates, codes or durations,
    # so parsing the distinct values is enough and memory stays small.
    return pd.read_csv(
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
