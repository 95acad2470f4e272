"""``modele-accompagnements.xlsx``: the spreadsheet a CCAS can keep its year in.

One sheet per contract table with the French headers (``titre`` in the contract, which the
ingest reads back as the contract's columns), drop-down lists of the accepted French labels
(Excel data validation), and a « codes » sheet listing every code with its label. Written
from the contract alone, so a new code is a new line in ``contract.yml``.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from .vocabulary import contract
from .correspondances import accepted_codes, contract_label

TEMPLATE_NAME = "modele-accompagnements.xlsx"
TEMPLATE_ROWS = 2000


def _labels(column: str, codes: list[str]) -> list[str]:
    return [contract_label(column, code) or code for code in codes]


def write_template(path: Path) -> Path:
    """Write the template workbook at ``path``."""
    workbook = Workbook()
    codes_sheet = workbook.active
    codes_sheet.title = "codes"
    codes_sheet.append(["Colonne", "Code", "Libellé (à saisir dans les listes)"])
    for cell in codes_sheet[1]:
        cell.font = Font(bold=True)
    ranges: dict[tuple[str, str], str] = {}
    for table, spec in contract()["tables"].items():
        for column, column_spec in spec["columns"].items():
            codes = accepted_codes(table, column) if column_spec["type"] in ("code", "codes") else None
            if not codes or (table, column) in ranges:
                continue
            first = codes_sheet.max_row + 1
            for code, label in zip(codes, _labels(column, codes)):
                codes_sheet.append([column, code, label])
            ranges[(table, column)] = f"codes!$C${first}:$C${codes_sheet.max_row}"
    for table, spec in contract()["tables"].items():
        sheet = workbook.create_sheet(table, index=len(workbook.sheetnames) - 1)
        columns = [(c, cs) for c, cs in spec["columns"].items() if c not in ("annee_naissance", "tranche_age")]
        # « Âge » is enough here; bands come from national exports.
        for position, (column, column_spec) in enumerate(columns, start=1):
            cell = sheet.cell(row=1, column=position, value=column_spec["titre"])
            cell.font = Font(bold=True)
            letter = get_column_letter(position)
            sheet.column_dimensions[letter].width = max(12, len(column_spec["titre"]) + 4)
            if (table, column) in ranges:
                multi = column_spec["type"] == "codes"
                validation = DataValidation(
                    type="list",
                    formula1=f"={ranges[(table, column)]}",
                    allow_blank=True,
                    # Several thématiques are typed « A | B »: warn, don't refuse.
                    errorStyle="warning" if multi else "stop",
                    error="Choisissez un libellé de la liste (plusieurs : séparez-les par « | »)."
                    if multi
                    else "Choisissez un libellé de la liste.",
                    errorTitle="Valeur hors liste",
                )
                validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS}")
                sheet.add_data_validation(validation)
        sheet.freeze_panes = "A2"
    # The first sheet read is the table's: put « accompagnements » first.
    workbook.move_sheet("codes", offset=len(workbook.sheetnames))
    workbook.active = 0
    workbook.save(path)
    return path
