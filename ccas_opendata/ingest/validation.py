"""The raw-record suites (Great Expectations), run once for the year: one GX context, one
run per table on its sheets joined, each failure named with the file, sheet and rows of
the sheet it was found in.

Every expectation of these suites checks one row at a time, so a row fails the same way
in its sheet or in the joined table; a sheet is run on its own only when the sheets of its
table do not carry the same columns (an optional column that one sheet lacks has nothing
to check there, and would be checked as empty in the joined table).
"""

from __future__ import annotations

from .. import quality
from ..publisher import Publisher
from ..errors import ROWS_KEPT, Problem
from .model import Records, Table
from .year import SHEET_ROW_OFFSET


def check_year(records: Records, publisher: Publisher, year: int) -> list[Problem]:
    """Every failure of the raw-record suites as a Problem naming file, rows and column,
    in the order a run sheet by sheet gave them (first sheets first, table by table)."""
    runs: dict[str, tuple[str, Table, list[Table]]] = {}
    for name, table in records.tables.items():
        parts = table.each_part()
        if len({tuple(part.frame.columns) for part in parts}) == 1:
            runs[name] = (name, table, parts)
        else:
            runs.update({f"{name}#{n}": (name, part, [part]) for n, part in enumerate(parts)})
    reports = quality.validate_records({key: (name, table.frame) for key, (name, table, _) in runs.items()}, publisher, year)
    order = {name: n for n, name in enumerate(records.tables)}
    found: list[tuple[tuple[int, int, int], Problem]] = []
    for key, (name, _, parts) in runs.items():
        first = 0 if len(parts) > 1 or "#" not in key else int(key.rsplit("#", 1)[1])
        for rank, failure in enumerate(reports[key].failures):
            by_part: dict[int, list[int]] = {}
            for row in failure.rows:
                by_part.setdefault(row // SHEET_ROW_OFFSET if len(parts) > 1 else 0, []).append(row % SHEET_ROW_OFFSET)
            if not failure.rows:  # a check that could not run: named for each of its sheets
                by_part = {n: [] for n in range(len(parts))}
            for n, rows in sorted(by_part.items()):
                count = len(rows) if len(parts) > 1 and failure.rows else failure.count
                problem = Problem(parts[n].file, failure.column, f"{failure.message}.", tuple(rows[:ROWS_KEPT]), count, kind="controle")
                found.append(((first + n, order[name], rank), problem))
    return [problem for _, problem in sorted(found, key=lambda item: item[0])]
