"""The contract's vocabulary, read from ``contract.yml`` and from nowhere else.

Every stage names the contract's codes through here (the code of an empty cell, the codes
added to the publisher's own lists, the derived bands, the source tables, the published
table's columns), so that a new column, code or source is one edit of ``contract.yml``,
not a hunt through the package for a repeated literal.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

CONTRACT_FILE = Path(__file__).resolve().parent / "contract.yml"


@cache
def contract() -> dict[str, Any]:
    """The input contract (columns, codes, derived categories), read from ``contract.yml``."""
    with open(CONTRACT_FILE, encoding="utf-8") as f:
        return yaml.safe_load(f)


def thematiques_demarches() -> frozenset[str]:
    return frozenset(contract()["codes"]["thematiques_demarches"])


#: An empty cell: a modality of every breakdown, so that each adds up to its total.
NOT_GIVEN: str = contract()["code_non_communique"]

#: The input tables, in the contract's order: the sources the catalogue's indicators read.
SOURCES: tuple[str, ...] = tuple(contract()["tables"])

#: The published ``indicateurs`` table: its columns in order, and those identifying a figure.
PUBLISHED_COLUMNS: list[str] = list(contract()["publication"]["colonnes"])
PUBLISHED_KEY: list[str] = list(contract()["publication"]["cle"])


def columns(table: str) -> dict[str, dict[str, Any]]:
    """The contract's columns of ``table``, with their specifications, in order."""
    return contract()["tables"][table]["columns"]


def _references(table: str, column: str) -> list[str]:
    """The names a column's ``values`` refers to (``$lieux`` → ``lieux``)."""
    references = columns(table).get(column, {}).get("values", [])
    references = references if isinstance(references, list) else [references]
    return [str(r).lstrip("$") for r in references]


def publisher_list(table: str, column: str) -> dict[str, str] | None:
    """The publisher's own list a column takes its codes from (``listes_editeur``), or None
    when its codes are the contract's."""
    lists = contract()["listes_editeur"]
    found = [lists[name] for name in _references(table, column) if name in lists]
    return found[0] if found else None


def extra_codes(column: str, table: str | None = None) -> list[str]:
    """The codes the contract adds to the publisher's list feeding ``column``
    (``hors_les_murs`` for a workshop's site): in ``table``, or in any table."""
    tables = [table] if table is not None else list(SOURCES)
    codes: list[str] = []
    for name in tables:
        entry = publisher_list(name, column) if column in columns(name) else None
        if entry is not None and entry.get("en_plus") and entry["en_plus"] not in codes:
            codes.append(entry["en_plus"])
    return codes


def derived() -> dict[str, dict[str, Any]]:
    """Derived column → ``{table, depuis, tranches}``: a value banded by the contract's bands."""
    return contract()["derivees"]


def bands(dimension: str) -> list[dict[str, Any]]:
    """The bands of a derived column (``{code, max}``, in order), frozen in the contract."""
    return contract()[derived()[dimension]["tranches"]]


def band_codes(dimension: str) -> list[str]:
    """The codes of a derived column's bands, in order, with ``non_communique`` when no
    required column gives every record a value to band."""
    spec = derived()[dimension]
    codes = [band["code"] for band in bands(dimension)]
    given = columns(spec["table"])
    if not any(given.get(c, {}).get("required") for c in spec["depuis"]):
        codes.append(NOT_GIVEN)
    return codes


#: The two codes of a yes/no breakdown (a ``boolean`` column, a flag of the publisher's list).
YES: str = contract()["oui_non"]["vrai"]
NO: str = contract()["oui_non"]["faux"]


def boolean_columns(table: str) -> list[str]:
    """The ``boolean`` columns of ``table``, published as yes/no breakdowns."""
    return [column for column, spec in columns(table).items() if spec["type"] == "boolean"]


def flags() -> dict[str, dict[str, Any]]:
    """Derived yes/no column → ``{table, depuis, drapeau}``: whether the code of column
    ``depuis`` is flagged ``drapeau`` in the publisher's list it refers to (``qpv``)."""
    return contract()["indicatrices"]


def yes_no_dimensions() -> list[str]:
    """The breakdowns whose modalities are yes, no and ``non_communique``."""
    booleans = [column for table in SOURCES for column in boolean_columns(table)]
    return list(dict.fromkeys([*flags(), *booleans]))


def multi_valued() -> dict[str, str]:
    """Single-valued breakdown → the multi-valued (``codes``) column it is read from."""
    return {dimension: spec["depuis"] for dimension, spec in contract()["dimensions_multiples"].items()}


def when_empty(table: str, column: str) -> str | None:
    """The code an empty cell of a column means where the file has the column
    (``si_vide``: no orientation), or None when it is ``non_communique``."""
    return columns(table).get(column, {}).get("si_vide")


def column_of(dimension: str) -> tuple[str, str] | None:
    """The (table, contract column) a breakdown reads, the first table in the contract's
    order that has it; None for a breakdown no contract column gives."""
    column = multi_valued().get(dimension, dimension)
    return next(((table, column) for table in SOURCES if column in columns(table)), None)
