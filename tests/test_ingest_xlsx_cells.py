"""XLSX cells read by calamine as openpyxl read them: each kind of cell an agent's workbook
holds, written with openpyxl, comes back as the text a CSV would hold, and the grid is the
one pandas' openpyxl engine (the reader before calamine) gives, cell for cell."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pytest

from ccas_opendata.ingest import collect_records
from ccas_opendata.ingest.readers import read_grid, read_top_rows, sheet_names, spreadsheet, xlsx

#: (cell as written, number format or None, the text expected), one row each.
CELLS: list[tuple[object, str | None, str]] = [
    (dt.date(2025, 3, 1), None, "2025-03-01"),
    (dt.datetime(2025, 3, 2, 14, 30), None, "2025-03-02"),
    (45658, "dd/mm/yyyy", "2025-01-01"),  # a date cell as Excel stores it: a serial number
    (dt.time(0, 45), None, "45"),  # a duration typed 0:45 in a time cell
    (dt.timedelta(hours=1, minutes=15), None, "75"),
    (1.5, "[h]:mm", "2160"),  # 36 h in a duration cell
    ("01001", None, "01001"),  # an INSEE code typed as text keeps its zero
    ("2A004", None, "2A004"),
    (1001, None, "1001"),
    (1970.0, None, "1970"),
    (12.5, None, "12.5"),
    (True, None, "oui"),
    (False, None, "non"),
    (None, None, ""),
    ("N/A", None, ""),  # pandas' missing-value words, empty for both engines
    ("=20+25", None, ""),  # a formula never computed (refused by formulas.py, by row)
    ("1h30", None, "1h30"),
    (" Dupont  Marie ", None, " Dupont  Marie "),  # spaces kept: the person key folds them
]


@pytest.fixture(scope="module")
def workbook(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("cellules") / "accompagnements.xlsx"
    wb = openpyxl.Workbook()
    summary = wb.active
    summary.title = "Synthèse"
    summary.append(["Total", "=COUNTA(Données!A:A)"])
    ws = wb.create_sheet("Données")
    ws.append(["Relevé 2025"])  # a title row, then a blank row, above the header
    ws.append([])
    ws.append(["Valeur", "Fusion", "Texte"])
    for n, (value, number_format, _) in enumerate(CELLS, start=4):
        cell = ws.cell(row=n, column=1, value=value)
        if number_format:
            cell.number_format = number_format
    ws.cell(row=4, column=2, value="fusionnée")
    ws.merge_cells("B4:B5")  # the value is in the first cell only
    ws.row_dimensions[6].hidden = True  # a hidden row is still read
    ws.cell(row=6, column=3, value="cachée")
    wb.save(path)
    return path


def test_each_kind_of_cell_reads_as_the_text_a_csv_would_hold(workbook: Path):
    grid = read_grid(workbook, "Données", 2, 3, [0, 1, 2])
    assert list(grid.index) == list(range(4, 4 + len(CELLS)))  # the rows her spreadsheet shows
    assert [grid.at[row, 0] for row in grid.index] == [expected for _, _, expected in CELLS]
    assert [grid.at[row, 1] for row in (4, 5)] == ["fusionnée", ""]
    assert grid.at[6, 2] == "cachée"


def test_calamine_reads_every_cell_as_openpyxl_did(workbook: Path):
    for sheet in ("Données", "Synthèse", None, 2):
        top = spreadsheet.top_rows(workbook, sheet, 30, "openpyxl")
        assert read_top_rows(workbook, sheet) == top
        width = max(len(row) for row in top)
        before = spreadsheet.grid(workbook, sheet, 2, width, list(range(width)), "openpyxl")
        after = xlsx.grid(workbook, sheet, 2, width, list(range(width)))
        assert after.astype(str).to_numpy().tolist() == before.astype(str).to_numpy().tolist()
    assert sheet_names(workbook) == ["Synthèse", "Données"]


def test_a_workbook_rewritten_under_the_same_name_is_read_again(tmp_path: Path):
    """The header rows are kept between the two looks at a sheet: never across a change."""
    path = tmp_path / "accompagnements.xlsx"
    for header in (["Date", "Lieu"], ["Date", "Durée"]):
        wb = openpyxl.Workbook()
        wb.active.append(header)
        wb.save(path)
        assert read_top_rows(path, None) == [header]


def test_a_damaged_workbook_fails_as_the_callers_expect(tmp_path: Path):
    """calamine's own errors reach the callers as the ones they turn into advice (a
    damaged workbook, a sheet named in the correspondances that the workbook lacks)."""
    damaged = tmp_path / "abime.xlsx"
    with zipfile.ZipFile(damaged, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook><sheets><sheet name='A'")  # cut short
    with pytest.raises((ValueError, zipfile.BadZipFile)):
        sheet_names(damaged)
    with pytest.raises((ValueError, zipfile.BadZipFile)):
        read_top_rows(damaged, None)
    one_sheet = tmp_path / "une-feuille.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["Date"])
    wb.save(one_sheet)
    with pytest.raises(ValueError, match="not found"):
        read_top_rows(one_sheet, "absente")


def test_the_first_rows_names_included_are_not_kept_once_the_year_is_read(tmp_path: Path):
    wb = openpyxl.Workbook()
    wb.active.append(["Date", "Lieu", "Durée", "Thématiques", "Usager"])
    wb.active.append([dt.date(2025, 3, 1), "ccas_centre", 30, "famille_scolarite", "DUPONT Marie"])
    wb.save(tmp_path / "accompagnements.xlsx")
    records, problems = collect_records(tmp_path)
    assert problems == [] and len(records["accompagnements"].frame) == 1
    assert spreadsheet._top_rows.cache_info().currsize == 0
