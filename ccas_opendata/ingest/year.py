"""The year: every table found, read, its sheets joined, every problem collected."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..publisher import Publisher
from ..correspondances import Correspondances
from ..errors import InvalidInput, Problem
from .model import Records, Table
from .readers.spreadsheet import forget
from .sources import find_sources
from .table import parse_source


def collect_records(
    input_dir: Path,
    own: Correspondances | None = None,
    publisher: Publisher | None = None,
    year: int | None = None,
) -> tuple[Records, list[Problem]]:
    """Read every table found; return what could be read and every problem met."""
    try:
        sources, problems, notes = find_sources(input_dir, own)
        parts: dict[str, list[Table]] = {}
        for source in sources:
            table, found = parse_source(source, publisher, year)
            problems += found
            if table is not None:
                parts.setdefault(source.table, []).append(table)
    finally:
        forget()
    return Records({name: join_parts(found) for name, found in parts.items()}, notes), problems


#: Row numbers of the n-th sheet of a table are offset by n times this, so that rows stay
#: distinct records once the sheets are one table (a row without identifier is a person).
SHEET_ROW_OFFSET = 10_000_000


def join_parts(parts: list[Table]) -> Table:
    """Several sheets as one table; each stays in ``parts`` for messages true to its sheet."""
    if len(parts) == 1:
        return parts[0]
    frames, legacy = [], []
    for n, part in enumerate(parts):
        frame = part.frame.copy()
        frame.index = frame.index + n * SHEET_ROW_OFFSET
        frames.append(frame)
        if part.legacy_usager is not None:
            legacy.append(part.legacy_usager.set_axis(frame.index))
    joined = pd.concat(frames)
    for column in joined.columns:
        if any(isinstance(p.frame[column].dtype, pd.CategoricalDtype) for p in parts if column in p.frame):
            joined[column] = joined[column].astype("category")
    first = parts[0]
    return Table(
        first.name,
        first.file.split(" (feuille")[0],
        joined,
        sorted({h for p in parts for h in p.dropped_identifiers}),
        outside_year=sum(p.outside_year for p in parts),
        read_from=first.read_from,
        without_person=sum(p.without_person for p in parts),
        parts=parts,
        legacy_usager=pd.concat(legacy) if legacy and len(legacy) == len(parts) else None,
    )


def read_records(
    input_dir: Path, own: Correspondances | None = None, publisher: Publisher | None = None, year: int | None = None
) -> Records:
    """Read every contract table found in ``input_dir``; raise InvalidInput listing every problem."""
    records, problems = collect_records(input_dir, own, publisher, year)
    if problems:
        raise InvalidInput(problems)
    return records
