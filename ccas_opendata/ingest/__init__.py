"""Ingest: read the year's activity records as the CCAS has them (the contract's files, its
own spreadsheet described in ``metadata/correspondances.yml``, or a national export) and
parse them into the contract's typed columns.

Identifier and free-text columns are dropped right after the header is read, before any
value is parsed, so nothing downstream (errors included) can ever see them. Every problem
is collected, not raised at the first one: configuration, headers, cells and codes come
back together so that the agent fixes her file in one pass.

Every frame returned is indexed by the row number her spreadsheet shows (title rows and
blank lines counted), so later stages (Great Expectations included) point at rows she
can find.

One module per concept, in the order a file goes through them: :mod:`.sources` (which
files and sheets feed which table), :mod:`.readers` (one reader per format, cells as
text), :mod:`.headers` (her headers mapped to the contract's columns), :mod:`.values`
(durations, dates, multi-valued codes), :mod:`.national` (national exports),
:mod:`.table` (one source parsed), :mod:`.year` (every table, sheets joined) and
:mod:`.validation` (the raw-record suites, once for the year). The rest of the package
imports from here.
"""

from ..correspondances import normalise_header
from .headers import HeaderPlan, known_header, locate_header, plan_headers, suggest_column
from .model import Records, Source, Table, column_letter
from .national import matches_national_format
from .readers import sheet_names
from .sources import candidate_files, find_sources, misnamed
from .table import default_code, parse_source, publisher_values, read_source_text, with_header
from .values import CodeReader, integer_labels, showable
from .year import collect_records, join_parts, read_records

__all__ = [
    "CodeReader",
    "HeaderPlan",
    "Records",
    "Source",
    "Table",
    "candidate_files",
    "collect_records",
    "column_letter",
    "default_code",
    "find_sources",
    "integer_labels",
    "join_parts",
    "known_header",
    "locate_header",
    "matches_national_format",
    "misnamed",
    "normalise_header",
    "parse_source",
    "plan_headers",
    "publisher_values",
    "read_records",
    "read_source_text",
    "sheet_names",
    "showable",
    "suggest_column",
    "with_header",
]
