"""Formula cells of an XLSX sheet that carry no computed value.

A workbook keeps, beside each formula, the value the spreadsheet last computed; the
reader takes that value, as the agent sees it. A file written by a program that never
computed it (or saved with recalculation off) has a formula and no value: read as is,
the cell would be a silent blank. This finds those cells so that they are refused, by
row and column, instead.

Only the sheet's XML is scanned, and only when it holds a formula at all: a data sheet
without formulas costs one substring search.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PACKAGE_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_CELL_REF = re.compile(r"^([A-Z]+)(\d+)$")


def _sheet_member(archive: zipfile.ZipFile, sheet: str | int | None) -> str | None:
    """The archive member holding a sheet (by name, 1-based position, or the first)."""
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    sheets = workbook.find(f"{_MAIN}sheets")
    if sheets is None:
        return None
    entries = list(sheets)
    if sheet is None:
        chosen = entries[:1]
    elif isinstance(sheet, int):
        chosen = entries[sheet - 1 : sheet]
    else:
        chosen = [e for e in entries if e.get("name") == sheet]
    if not chosen:
        return None
    rel_id = chosen[0].get(f"{_REL}id")
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    target = next((r.get("Target") for r in rels.iter(f"{_PACKAGE_REL}Relationship") if r.get("Id") == rel_id), None)
    if target is None:
        return None
    return target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)


def _column_number(letters: str) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch) - ord("A") + 1
    return number


def _has_formula(archive: zipfile.ZipFile, member: str) -> bool:
    """Whether the sheet's XML holds a ``<f>`` element, read in chunks (a sheet can be 200 MB)."""
    tail = b""
    with archive.open(member) as f:
        while chunk := f.read(1 << 20):
            if b"<f>" in tail + chunk or b"<f " in tail + chunk:
                return True
            tail = chunk[-3:]
    return False


def formulas_without_value(path: Path, sheet: str | int | None, positions: list[int], first_row: int) -> dict[int, list[int]]:
    """Column position (0-based) → spreadsheet rows (from ``first_row``) whose cell is a
    formula without a computed value, for the columns at ``positions``."""
    if path.suffix.lower() != ".xlsx":
        return {}
    with zipfile.ZipFile(path) as archive:
        member = _sheet_member(archive, sheet)
        if member is None or member not in archive.namelist():
            return {}
        if not _has_formula(archive, member):
            return {}
        wanted = {p + 1 for p in positions}
        found: dict[int, list[int]] = {}
        with archive.open(member) as f:
            for _, cell in ElementTree.iterparse(f):
                if cell.tag != f"{_MAIN}c":
                    continue
                match = _CELL_REF.match(cell.get("r", ""))
                if match and cell.find(f"{_MAIN}f") is not None:
                    column, row = _column_number(match[1]), int(match[2])
                    value = cell.find(f"{_MAIN}v")
                    # An empty text result (=SI(A5="";"";…)) is a value: Excel marks it t="str".
                    computed = value is not None and (bool((value.text or "").strip()) or cell.get("t") == "str")
                    if column in wanted and row >= first_row and not computed:
                        found.setdefault(column - 1, []).append(row)
                cell.clear()
    return found
