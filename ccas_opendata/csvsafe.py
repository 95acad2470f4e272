"""Cells a spreadsheet would run, and text a Markdown or HTML reader would interpret.

A published CSV is opened in Excel or LibreOffice by most of its readers. A cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is taken as a formula
there (« formula injection »: ``=HYPERLINK(…)``, ``=cmd|…``), and the text of a site
name, of the organisation's name or of a revision's motif is typed by people. The rule,
applied to every text cell of every published CSV and of the database the API serves
(and stated in each package's description):

    a cell that starts with one of those characters gets a leading apostrophe « ' »,
    unless it is only a number or a telephone number (a sign, digits, spaces, dots,
    parentheses: ``-12.5``, ``+33 5 65 00 00 00``), which no spreadsheet runs.

So negative evolutions stay numbers, and a national-format telephone stays valid.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER_LIKE = re.compile(r"^[+-]?[\d\s().]*\d[\d\s().]*$")
RULE = (
    "Les cellules de texte qui commencent par =, +, -, @, une tabulation ou un retour chariot sont précédées d'une "
    "apostrophe (') pour qu'aucun tableur ne les exécute comme des formules ; les nombres et numéros de téléphone "
    "(-12.5, +33 5 65 00 00 00) restent tels quels."
)


def safe_cell(value: object) -> object:
    """The cell as published: text neutralised by the rule above, anything else as is."""
    if isinstance(value, str) and value.startswith(TRIGGERS) and not _NUMBER_LIKE.match(value):
        return "'" + value
    return value


def _safe_sql_cell(value: str | bytes | int | float | None) -> str | bytes | int | float | None:
    return "'" + value if isinstance(value, str) and safe_cell(value) != value else value


def safe_row(row: Iterable[object]) -> list[object]:
    return [safe_cell(v) for v in row]


def neutralise_database(path: Path) -> int:
    """Apply the rule to every text cell of every table of ``path``: Datasette's CSV
    exports read them there. Returns the number of cells changed."""
    changed = 0
    with sqlite3.connect(path) as db:
        db.create_function("safe_cell", 1, _safe_sql_cell, deterministic=True)
        tables = [r[0] for r in db.execute("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'")]
        for table in tables:
            for column in [r[1] for r in db.execute(f"pragma table_info([{table}])")]:
                cursor = db.execute(
                    f"update [{table}] set [{column}] = safe_cell([{column}]) "
                    f"where typeof([{column}]) = 'text' and safe_cell([{column}]) is not [{column}]"
                )
                changed += cursor.rowcount
    db.close()
    return changed


_MARKDOWN = re.compile(r"([\\`*_{}\[\]<>#|~!])")


def markdown_text(text: str) -> str:
    """``text`` as literal Markdown (and HTML) for a README: every character Markdown or
    HTML gives a meaning to is escaped, ``&`` written as an entity, lines joined."""
    flat = " ".join(str(text).split())
    return _MARKDOWN.sub(r"\\\1", flat.replace("&", "&amp;"))
