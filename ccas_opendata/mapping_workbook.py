"""``metadata/correspondances.xlsx``: the correspondances as a workbook she completes in Excel.

The same rules as ``correspondances.yml`` (records.md, « A workbook as agents keep it »),
laid out for a spreadsheet: a sheet « En-têtes » with each of her headers and a drop-down
of the contract's columns (or « ignorer »); one sheet per code column with each distinct
value she typed (single pieces, never combinations), how many rows carry it, the tool's
suggestion, and a drop-down of the codes with their French labels. ``read_mapping_workbook``
turns it back into the YAML's structure, so one parser (``parse_correspondances``) checks
both; an answer left empty is one question, named by sheet and row.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.worksheet.datavalidation import DataValidation

from .publisher import Publisher
from .vocabulary import contract
from .correspondances import TO_COMPLETE, accepted_codes, contract_label
from .errors import Problem

WORKBOOK_NAME = "correspondances.xlsx"
HEADERS_SHEET = "En-têtes"
LISTS_SHEET = "listes"
IGNORE = "ignorer"
#: Her header cell standing for « the site is the sheet's name » (``lieu: {feuille: true}``).
SHEET_NAME_HEADER = "(nom de la feuille)"
#: Her value cell standing for an empty cell (``valeurs: {lieu: {"": code}}``).
EMPTY_VALUE = "(cellule vide)"
LABEL_SEPARATOR = " — "
HEADER_COLUMNS = ["Table", "Fichier", "Feuilles", "Votre en-tête", "Colonne du contrat (ou « ignorer »)"]
VALUE_COLUMNS = ["Valeur tapée", "Lignes", "Suggestion", "Code retenu"]
FIRST_VALUE_ROW = 4


def _sheet_title(table: str, column: str) -> str:
    return (column if table == "accompagnements" else f"{column} ({table})")[:31]


def _code_choices(table: str, column: str, publisher: Publisher | None) -> list[str]:
    from .ingest import publisher_values

    from .correspondances import labelled_integer
    from .proposal import number_choices

    if labelled_integer(column):
        return number_choices(table, column)
    codes = accepted_codes(table, column)
    if codes is None:
        names = publisher_values(column, publisher, table) or {}
        return [f"{code}{LABEL_SEPARATOR}{name}" for code, name in names.items()]
    return [f"{code}{LABEL_SEPARATOR}{contract_label(column, code) or code}" for code in codes]


def _bold(row: Any) -> None:
    for cell in row:
        cell.font = Font(bold=True)


def write_mapping_workbook(proposals: list[Any], publisher: Publisher | None, path: Path) -> Path:
    """Write the proposals (``proposal.TableProposal``) as the workbook she completes."""
    workbook = Workbook()
    headers = workbook.active
    headers.title = HEADERS_SHEET
    lists = workbook.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    list_column = 0

    def drop_down(choices: list[str]) -> str:
        nonlocal list_column
        list_column += 1
        for row, choice in enumerate(choices, start=1):
            lists.cell(row=row, column=list_column, value=choice)
        letter = lists.cell(row=1, column=list_column).column_letter
        return f"={LISTS_SHEET}!${letter}$1:${letter}${max(1, len(choices))}"

    headers.append(HEADER_COLUMNS)
    _bold(headers[1])
    for width, letter in zip((18, 28, 40, 30, 34), "ABCDE"):
        headers.column_dimensions[letter].width = width
    for p in proposals:
        if p.national:
            continue  # a national export is read without settings; only its values are hers
        spec = contract()["tables"][p.table]["columns"]
        choices = drop_down([c for c, s in spec.items() if s["type"] != "free_text"] + [IGNORE])
        validation = DataValidation(type="list", formula1=choices, allow_blank=True)
        headers.add_data_validation(validation)
        rows: list[tuple[str, str]] = [(SHEET_NAME_HEADER, "lieu")] if p.lieu_from_sheet else []
        rows += [(h, column) for column, hs in p.columns.items() for h in hs]
        rows += [(h, IGNORE) for h in p.ignored] + [(h, "") for h in p.unknown]
        for header, column in rows:
            headers.append([p.table, p.file, " | ".join(p.sheets), header, column])
            validation.add(f"E{headers.max_row}")
    for p in proposals:
        for column, values in p.values.items():
            sheet = workbook.create_sheet(_sheet_title(p.table, column))
            sheet.append(["Table", p.table, "Colonne", column])
            sheet.append([])
            sheet.append(VALUE_COLUMNS)
            _bold(sheet[3])
            for width, letter in zip((40, 10, 45, 45), "ABCD"):
                sheet.column_dimensions[letter].width = width
            codes = _code_choices(p.table, column, publisher)
            by_code = {choice.split(LABEL_SEPARATOR)[0]: choice for choice in codes}
            validation = DataValidation(type="list", formula1=drop_down(codes), allow_blank=True)
            sheet.add_data_validation(validation)
            for typed, code, _label, n in values:
                suggestion = by_code.get(code, code) if code != TO_COMPLETE else ""
                sheet.append([typed or EMPTY_VALUE, n, suggestion, suggestion])
                validation.add(f"D{sheet.max_row}")
            sheet.freeze_panes = f"A{FIRST_VALUE_ROW}"
    workbook.move_sheet(LISTS_SHEET, offset=len(workbook.sheetnames))
    workbook.save(path)
    return path


def _code(answer: object) -> str:
    """« famille_scolarite — Famille, scolarité » → ``famille_scolarite``; a bare code as is."""
    return str(answer).split(LABEL_SEPARATOR)[0].strip() if answer is not None else ""


def read_mapping_workbook(path: Path, source: str) -> tuple[dict[str, Any], list[Problem]]:
    """The workbook in the YAML's structure, and one problem per answer left empty."""
    workbook = load_workbook(path, read_only=True, data_only=True)
    data: dict[str, Any] = {}
    problems: list[Problem] = []
    if HEADERS_SHEET in workbook.sheetnames:
        for number, row in enumerate(workbook[HEADERS_SHEET].iter_rows(min_row=2, values_only=True), start=2):
            table, fichier, feuilles, header, column = (list(row) + [None] * 5)[:5]
            if not table or header is None:
                continue
            rules = data.setdefault(str(table), {})
            if fichier:
                rules["fichier"] = str(fichier)
            if feuilles:
                rules["feuilles"] = [s.strip() for s in str(feuilles).split("|") if s.strip()]
            column = str(column or "").strip()
            if not column:
                problems.append(
                    Problem(
                        source,
                        f"{HEADERS_SHEET}, ligne {number}",
                        f"« {header} » : choisissez la colonne du contrat qu'il alimente, ou « {IGNORE} ».",
                        kind="configuration",
                    )
                )
                rules.setdefault(TO_COMPLETE, []).append(str(header))
            elif column == IGNORE:
                rules.setdefault("ignorer", []).append(str(header))
            elif str(header) == SHEET_NAME_HEADER:
                rules.setdefault("colonnes", {})[column] = {"feuille": True}
            else:
                rules.setdefault("colonnes", {}).setdefault(column, []).append(str(header))
    for name in workbook.sheetnames:
        if name in (HEADERS_SHEET, LISTS_SHEET):
            continue
        rows = list(workbook[name].iter_rows(values_only=True))
        if not rows or len(rows[0]) < 4 or rows[0][0] != "Table":
            continue
        table, column = str(rows[0][1]), str(rows[0][3])
        values = data.setdefault(table, {}).setdefault("valeurs", {}).setdefault(column, {})
        for number, row in enumerate(rows[FIRST_VALUE_ROW - 1 :], start=FIRST_VALUE_ROW):
            typed, _n, _suggestion, answer = (list(row) + [None] * 4)[:4]
            if typed is None:
                continue
            typed_text = "" if str(typed) == EMPTY_VALUE else str(typed)
            code = _code(answer)
            if not code:
                problems.append(
                    Problem(
                        source,
                        f"{name}, ligne {number}",
                        f"« {typed} » : choisissez son code dans la liste (colonne « Code retenu »).",
                        kind="configuration",
                    )
                )
                values[typed_text] = TO_COMPLETE
                continue
            values[typed_text] = code
    workbook.close()
    return data, problems
