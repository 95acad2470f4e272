"""The raw-record checks (Great Expectations) run once for the year on a workbook of one
sheet per site, and still name each failing row in its own sheet, as they did when they ran
sheet by sheet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from ccas_opendata.publisher import read_publisher
from ccas_opendata.errors import InvalidInput
from ccas_opendata.intake import read_year
from conftest import make_folder

YEAR = 2025
CORRESPONDANCES = """\
accompagnements:
  fichier: "Permanences.xlsx"
  feuilles: "*"
  colonnes:
    lieu: {feuille: true}
  valeurs:
    lieu: {"MDH Centre": ccas_centre, "MDH Prainet": maison_quartier_nord}
"""


def write_sheets(path: Path, sheets: dict[str, list[list[object]]]) -> None:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    wb.save(path)


def problems_of(tmp_path: Path, sheets: dict[str, list[list[object]]]) -> list[tuple[str, str, str, tuple[int, ...], int]]:
    folder = make_folder(tmp_path / "publication")
    (folder / "metadata" / "correspondances.yml").write_text(CORRESPONDANCES, encoding="utf-8")
    inputs = tmp_path / "entrees"
    inputs.mkdir()
    write_sheets(inputs / "Permanences.xlsx", sheets)
    with pytest.raises(InvalidInput) as raised:
        read_year(folder, YEAR, inputs, read_publisher(folder))
    return [(p.file, p.column, p.expected, p.rows, p.count) for p in raised.value.problems]


def day(month: int, year: int = YEAR) -> dt.date:
    return dt.date(year, month, 1)


CENTRE = "Permanences.xlsx (feuille « MDH Centre »)"
PRAINET = "Permanences.xlsx (feuille « MDH Prainet »)"
OUTSIDE_YEAR = "la date doit tomber dans l'année publiée."
TOO_LONG = "la durée doit être comprise entre 1 et 480 minutes."


def test_each_failure_is_named_in_its_own_sheet_and_row(tmp_path: Path):
    header: list[object] = ["Date", "Durée", "Thématiques"]
    problems = problems_of(
        tmp_path,
        {
            "MDH Centre": [header, [day(1), 30, "famille_scolarite"], [day(2), 600, "famille_scolarite"], [day(3), 45, "social_sante"]],
            "MDH Prainet": [
                ["Suivi des permanences"],  # a title row: the rows below are one further down
                header,
                [day(4), 700, "famille_scolarite"],
                [day(5, YEAR - 1), 20, "famille_scolarite"],
                [day(6), 900, "social_sante"],
            ],
        },
    )
    # By hand: row 3 of the first sheet; rows 3 and 5 (too long) and 4 (2024) of the second.
    assert problems == [
        (CENTRE, "duree", TOO_LONG, (3,), 1),
        (PRAINET, "date", OUTSIDE_YEAR, (4,), 1),
        (PRAINET, "duree", TOO_LONG, (3, 5), 2),
    ]


def test_sheets_without_the_same_columns_are_each_checked_on_their_own(tmp_path: Path):
    """A column that one sheet lacks is not checked as empty there: here « Satisfaction »,
    whose 9 is out of bounds in the first sheet and absent from the second."""
    problems = problems_of(
        tmp_path,
        {
            "MDH Centre": [
                ["Date", "Durée", "Thématiques", "Satisfaction"],
                [day(1), 30, "famille_scolarite", 9],
                [day(2), 45, "famille_scolarite", 4],
            ],
            "MDH Prainet": [["Date", "Durée", "Thématiques"], [day(3), 600, "social_sante"]],
        },
    )
    assert [(file, column, rows, count) for file, column, _, rows, count in problems] == [
        (CENTRE, "satisfaction", (2,), 1),
        (PRAINET, "duree", (2,), 1),
    ]
