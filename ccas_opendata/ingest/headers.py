"""Header planning: which row of her file is the header, and what becomes of each of its
columns (a contract column, an identifier dropped unread, a column she chose to ignore,
or a header to ask her about)."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path


from ..vocabulary import contract
from ..correspondances import TableMapping, header_suggestions, normalise_header
from ..errors import Problem
from .model import Source, column_letter
from .readers import read_top_rows


def find_header_row(rows: list[list[str]], known: Callable[[str], bool]) -> int:
    """0-based index of the header: the first row with the most recognised headers
    (a title row or an export's filters above the table are skipped)."""
    scores = [sum(1 for c in row if c.strip() and known(normalise_header(c))) for row in rows]
    if not scores or max(scores) < 2:
        return 0
    return scores.index(max(scores))


def locate_header(path: Path, sheet: str | int | None, known: Callable[[str], bool]) -> tuple[int, list[str]]:
    """(0-based index, cells) of a file's header: read once, then handed to ``read_grid``."""
    top = read_top_rows(path, sheet)
    header_index = find_header_row(top, known)
    return header_index, [c.strip() for c in (top[header_index] if top else [])]


def _is_identifier(name: str) -> bool:
    """Identifying and free-text columns, whatever follows their first words
    (« Observations du conseiller », « Téléphone portable »)."""
    for identifier in identifier_headers():
        if name == identifier or name.startswith(identifier + "_"):
            return True
    return False


@cache  # the contract is read once and never changes while the tool runs
def identifier_headers() -> frozenset[str]:
    return frozenset(normalise_header(c) for c in contract()["identifier_columns"])


def known_header(name: str, mappings: Iterable[TableMapping] = ()) -> bool:
    """Whether a normalised header means something to the tool (to find the header row)."""
    if not name:
        return False
    for spec in contract()["tables"].values():
        if name in spec["columns"]:
            return True
    if name in header_suggestions() or _is_identifier(name):
        return True
    return any(name in m.header_to_column() or name in m.ignorer for m in mappings)


def suggest_column(name: str, table: str) -> str | None:
    """The contract column an unmapped header most likely is."""
    spec = contract()["tables"][table]["columns"]
    guess = header_suggestions().get(name)
    if guess in spec:
        return guess
    close = difflib.get_close_matches(name, list(spec), n=1, cutoff=0.8)
    if close:
        return close[0]
    # « Motif de la venue » starts with « Motif », « Dossier n° » with « Dossier »: usual headers.
    for known, column in sorted(header_suggestions().items(), key=lambda item: -len(item[0])):
        if column in spec and (name.startswith(known + "_") or name.endswith("_" + known)):
            return column
    return None


@dataclass
class HeaderPlan:
    """What to do with each column of a file."""

    #: contract column → positions (0-based) feeding it, in order.
    columns: dict[str, list[int]] = field(default_factory=dict)
    identifiers: list[str] = field(default_factory=list)
    ignored: list[int] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: positions read for the mapping's own needs (filter, grouping), by source header.
    extra: dict[str, int] = field(default_factory=dict)
    #: The header's row (1-based, as the spreadsheet shows it) and its number of cells.
    header_row: int = 1
    width: int = 0


def plan_headers(source: Source, header: list[str], header_row: int = 1) -> HeaderPlan:
    """What to do with each of her headers: read for a contract column, dropped unread
    (an identifier, or a column she chose to ignore), or asked about; and which required
    or declared column her header lacks."""
    table, mapping, file = source.table, source.mapping, source.label
    spec = contract()["tables"][table]["columns"]
    own = mapping.header_to_column()
    mapped_columns = set(mapping.colonnes) | ({"lieu"} if mapping.lieu_feuille else set())
    extra_headers = _extra_headers(mapping)
    plan = HeaderPlan(header_row=header_row, width=len(header))
    if mapping.lieu_feuille:
        plan.columns["lieu"] = []  # the sheet's name, added by read_source_text
    for position, raw in enumerate(header):
        name = normalise_header(raw)
        if not name:
            continue  # an unnamed column: empty cells of a wider sheet
        if name in extra_headers:
            plan.extra[name] = position
        if name in mapping.pending_headers and name not in own:
            continue  # already asked by the correspondances (« a_completer »): never read meanwhile
        readable = name in spec and name not in mapped_columns and spec[name]["type"] != "free_text"
        if name in own:
            plan.columns.setdefault(own[name], []).append(position)
            if readable and name != own[name]:
                # « Année de naissance » in the person key still gives the age band.
                plan.columns.setdefault(name, []).append(position)
        elif name in mapping.ignorer:
            plan.ignored.append(position + 1)
        elif readable:
            plan.columns.setdefault(name, []).append(position)
        elif name in extra_headers:
            continue
        elif _is_dropped_unread(name, spec):
            plan.identifiers.append(raw)
        else:
            plan.problems.append(_unknown_header(raw, position, table, file))
    plan.problems += _missing_headers(plan, source, header)
    return plan


def _extra_headers(mapping: TableMapping) -> set[str]:
    """Headers read for the mapping's own needs: the filter's column, the grouping's keys."""
    extra = {normalise_header(mapping.filtre["colonne"])} if mapping.filtre else set()
    if mapping.regroupement:
        extra.update(normalise_header(h) for h in mapping.regroupement.get("par", []))
    return extra


def _is_dropped_unread(name: str, spec: dict) -> bool:
    """An identifying header, exactly or by its first words (« Observations du conseiller »),
    unless it is a usual spelling of a contract column (« Note de satisfaction »): dropped
    before any value is read."""
    return (
        (name in spec and spec[name]["type"] == "free_text")
        or name in identifier_headers()
        or (_is_identifier(name) and header_suggestions().get(name) not in spec)
    )


def _unknown_header(raw: str, position: int, table: str, file: str) -> Problem:
    """A header that is no column of the contract: what to declare, with the column it
    most likely is."""
    guess = suggest_column(normalise_header(raw), table)
    where = f"colonne {column_letter(position + 1)}"
    if guess:
        expected = (
            f"l'en-tête « {raw} » ({where}) ressemble à « {guess} » : ajoutez-le dans metadata/correspondances.yml "
            f'(« {table}: colonnes: {guess}: "{raw}" »), ou sous « ignorer » s\'il ne doit pas être lu.'
        )
    else:
        # Not shown: a header typed by hand can be a person's name or phone number.
        expected = (
            f"la {where} a un en-tête qui n'est pas une colonne du contrat (non affiché : il peut contenir une "
            "donnée personnelle) : associez-le à une colonne dans metadata/correspondances.yml, ou ajoutez-le "
            "sous « ignorer » pour l'écarter."
        )
    return Problem(file, "", expected, kind="en-tete")


def _missing_headers(plan: HeaderPlan, source: Source, header: list[str]) -> list[Problem]:
    """Required columns her header lacks, and optional ones declared in the correspondances
    under a header it lacks."""
    table, mapping, file = source.table, source.mapping, source.label
    spec = contract()["tables"][table]["columns"]
    problems = []
    counted = mapping.regroupement["compte"] if mapping.regroupement else None
    for column, col_spec in spec.items():
        if col_spec.get("required") and column not in plan.columns and column != counted:
            hint = (
                f" (déclaré comme « {'», «'.join(mapping.colonnes[column])} » dans correspondances.yml, introuvable)"
                if column in mapping.colonnes
                else ""
            )
            problems.append(
                Problem(file, column, f"colonne obligatoire absente de l'en-tête{hint}.", (plan.header_row,), 1, kind="en-tete")
            )
    found = {normalise_header(h) for h in header}
    for column, headers in mapping.colonnes.items():
        missing = [h for h in headers if h not in found]
        if missing and column in plan.columns and not spec[column].get("required"):
            problems.append(
                Problem(file, column, f"en-tête déclaré dans correspondances.yml introuvable : {', '.join(missing)}.", kind="en-tete")
            )
    return problems
