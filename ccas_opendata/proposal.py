"""``correspondances``: read the agent's files and propose ``metadata/correspondances.yml``.

The proposal is commented YAML she reviews once: each header matched to a contract
column, dropped, or « à compléter »; for each code column, every distinct value found
with the code it will become and that code's French label. Only values of code columns
are written (labels and codes are not personal data); values of ``usager``, dates, ages,
identifiers and unknown columns never are.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from .publisher import Publisher
from .vocabulary import contract

from .correspondances import (
    TO_COMPLETE,
    Correspondances,
    TableMapping,
    accepted_codes,
    fold,
    labelled_integer,
    national_formats,
    normalise_header,
    value_lookup,
)
from .ingest import (
    CodeReader,
    Source,
    candidate_files,
    default_code,
    integer_labels,
    matches_national_format,
    misnamed,
    publisher_values,
    known_header,
    locate_header,
    plan_headers,
    read_source_text,
    sheet_names,
    showable,
    suggest_column,
)


@dataclass
class TableProposal:
    table: str
    file: str
    header_row: int
    national: str = ""
    columns: dict[str, list[str]] = field(default_factory=dict)
    identifiers: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    #: Headers already under « ignorer » in her file: kept in the proposal.
    ignored: list[str] = field(default_factory=list)
    #: column → [(value as typed, proposed code or TO_COMPLETE, label, rows)]
    values: dict[str, list[tuple[str, str, str, int]]] = field(default_factory=dict)
    #: The sheets feeding the table, when the workbook has several (``feuilles``).
    sheets: list[str] = field(default_factory=list)
    #: The site is the sheet's name (``lieu: {feuille: true}``).
    lieu_from_sheet: bool = False
    #: Sheets of the workbook no table reads, with why.
    skipped_sheets: list[tuple[str, str]] = field(default_factory=list)


#: Headers that name a person (« Nom », « Nom Prénom »): proposed as the key of ``usager``.
PERSON_KEY_HEADERS = frozenset(normalise_header(h) for h in contract()["cle_personne"])


def _guess_table(path: Path) -> str:
    stem = normalise_header(path.stem)
    for table in contract()["tables"]:
        if table.rstrip("s") in stem:
            return table
    return "accompagnements"


def sheets_by_table(path: Path, existing: Correspondances | None) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    """The sheets of a workbook grouped by the table they look like (by their name:
    « Ateliers », « Formations agents »; else accompaniments), and the sheets whose header
    is not a table's (a summary of formulas, a list of values)."""
    groups: dict[str, list[str]] = {}
    skipped: list[tuple[str, str]] = []
    for name in sheet_names(path):
        table = _guess_table(Path(name))
        mappings = [existing.for_table(table) if existing else TableMapping(table)]
        _, header = locate_header(path, name, functools.partial(known_header, mappings=mappings))
        if sum(1 for h in header if known_header(normalise_header(h), mappings)) < 2:
            skipped.append((name, "aucun en-tête de tableau reconnu (résumé, listes ?)"))
            continue
        groups.setdefault(table, []).append(name)
    return groups, skipped


def propose(input_dir: Path, publisher: Publisher | None, existing: Correspondances | None = None) -> list[TableProposal]:
    """What each file of ``input_dir`` looks like against the contract."""
    proposals = []
    tables_seen: set[str] = set()
    for path in candidate_files(input_dir):
        if misnamed(path) is not None:
            continue  # named by the release, with what to do
        if path.suffix.lower() in (".xlsx", ".ods") and len(sheet_names(path)) > 1:
            groups, skipped = sheets_by_table(path, existing)
            first = True
            for table, sheets in groups.items():
                if table in tables_seen:
                    continue
                tables_seen.add(table)
                mapping = existing.for_table(table) if existing else TableMapping(table)
                mapping = replace(mapping, fichier=path.name, feuille=sheets[0], feuilles=tuple(sheets))
                proposal = _propose_source(Source(table, path, mapping), publisher, sheets=sheets)
                proposal.skipped_sheets = skipped if first else []
                first = False
                proposals.append(proposal)
            continue
        national = next((n for n in national_formats() if matches_national_format(path, n)), None)
        if national is not None:
            for table, mapping in national.tables.items():
                proposals.append(_propose_source(Source(table, path, mapping, national.label), publisher, national=national.label))
            continue
        table = next((t for t, m in (existing.tables.items() if existing else []) if m.matches_file(path)), None) or _guess_table(path)
        if table in tables_seen:
            continue
        tables_seen.add(table)
        mapping = existing.for_table(table) if existing else TableMapping(table)
        proposals.append(_propose_source(Source(table, path, mapping), publisher))
    return proposals


def _propose_source(source: Source, publisher: Publisher | None, national: str = "", sheets: list[str] | None = None) -> TableProposal:
    table, mapping = source.table, source.mapping
    spec = contract()["tables"][table]["columns"]
    header_index, header = locate_header(source.path, mapping.feuille, lambda name: known_header(name, [mapping]))
    proposal = TableProposal(table, source.path.name, header_index + 1, national, sheets=list(sheets or []))
    own_usager = mapping.header_to_column()
    has_usager = any(
        own_usager.get(n) == "usager" or n == "usager" or suggest_column(n, table) == "usager" for n in map(normalise_header, header)
    )
    # Without a file number, her names are the key that counts persons (never read otherwise).
    person_key = [] if has_usager else [raw for raw in header if normalise_header(raw) in PERSON_KEY_HEADERS]
    if not national:
        # Propose a column for every header the mapping does not already place.
        own = mapping.header_to_column()
        for raw in header:
            name = normalise_header(raw)
            if not name:
                continue
            if name in own:
                proposal.columns.setdefault(own[name], []).append(raw)
            elif name in spec and spec[name]["type"] != "free_text":
                continue  # already a contract column
            elif name in mapping.ignorer:
                proposal.ignored.append(raw)
            else:
                guess = suggest_column(name, table)
                if guess is not None and spec[guess]["type"] == "free_text":
                    proposal.identifiers.append(raw)  # free text is never read (« Thème » of a training)
                elif guess is not None:
                    proposal.columns.setdefault(guess, []).append(raw)
                elif raw in person_key and "usager" in spec:
                    proposal.columns.setdefault("usager", []).append(raw)
                elif known_header(name):
                    proposal.identifiers.append(raw)
                else:
                    proposal.unknown.append(raw)
        colonnes = {
            c: tuple(normalise_header(h) for h in hs)
            for c, hs in proposal.columns.items()
            if spec[c]["type"] in ("codes", "pseudonymous") or len(hs) == 1
        }
        has_site = "lieu" in colonnes or "lieu" in mapping.colonnes or any(normalise_header(h) == "lieu" for h in header)
        proposal.lieu_from_sheet = mapping.lieu_feuille or (len(proposal.sheets) > 1 and "lieu" in spec and not has_site)
        mapping = replace(
            mapping,
            colonnes={**mapping.colonnes, **colonnes},
            ignorer=mapping.ignorer | {normalise_header(h) for h in proposal.unknown},
            lieu_feuille=proposal.lieu_from_sheet,
        )
        source = Source(table, source.path, mapping)
    plan = plan_headers(source, header, header_index + 1)
    coded = [c for c in plan.columns if spec[c]["type"] in ("code", "codes")]
    labelled = [c for c in plan.columns if labelled_integer(c) and not national]
    parts = [replace(source, mapping=replace(mapping, feuille=sheet)) for sheet in proposal.sheets] or [source]
    text = pd.concat([read_source_text(part, plan, coded + labelled) for part in parts]) if coded or labelled else pd.DataFrame()
    labels = contract()["libelles"]
    for column in coded:
        reader = CodeReader(
            value_lookup(table, column, publisher_values(column, publisher, table)),
            mapping.valeurs.get(column, {}),
            spec[column]["type"] == "codes",
        )
        counts: dict[str, int] = {}
        spelling: dict[str, str] = {}  # one line per fingerprint: « C.C.A.S. », « CCAS » and « ccas » are one value
        for value, n in text[column].astype(str).str.strip().value_counts().items():
            for piece in reader.pieces(value) or [""]:
                piece = spelling.setdefault(fold(piece), piece)
                counts[piece] = counts.get(piece, 0) + int(n)
        rows = []
        for value, n in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
            if value == "":
                if column == "lieu" and default_code(column, mapping, publisher) is None:
                    rows.append(("", TO_COMPLETE, "lignes sans lieu : le lieu à leur attribuer", n))
                continue
            if not showable(value):
                continue
            code, unknown = reader.read(value)
            if code is not None and not unknown and national and column != "lieu":
                continue  # the national format already reads it
            names = dict(publisher_values(column, publisher, table) or {})
            label = labels.get(column, {}).get(code or "", "") or names.get(code or "", "")
            rows.append((value, code if code and not unknown else TO_COMPLETE, label, n))
        if national:
            rows = [r for r in rows if r[1] == TO_COMPLETE or column == "lieu"]
        if rows:
            proposal.values[column] = rows
    for column in labelled:
        # Satisfaction typed as words: the contract's labels are read as they are; hers are asked.
        known = integer_labels(column, mapping)
        asked: dict[str, int] = {}
        first_spelling: dict[str, str] = {}
        for value, n in text[column].astype(str).str.strip().value_counts().items():
            if value and not value.lstrip("+-").isdigit() and fold(value) not in known and showable(value):
                value = first_spelling.setdefault(fold(value), value)
                asked[value] = asked.get(value, 0) + int(n)
        if asked:
            proposal.values[column] = [(v, TO_COMPLETE, "", n) for v, n in sorted(asked.items(), key=lambda item: -item[1])]
    return proposal


def number_choices(table: str, column: str) -> list[str]:
    """The numbers a labelled integer column takes (satisfaction: 1 to 5)."""
    spec = contract()["tables"][table]["columns"][column]
    return [str(n) for n in range(spec.get("min", 0), spec.get("max", 0) + 1)]


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def render_proposal(proposals: list[TableProposal], publisher: Publisher | None) -> str:
    """The proposal as commented YAML, in the contract's format."""
    out = [
        "# Correspondances proposées par « ccas-opendata correspondances » : relisez chaque ligne.",
        "# « a_completer » : à remplacer par un code (liste en commentaire) ou, pour un en-tête, à déplacer",
        "# sous « colonnes » (colonne du contrat) ou « ignorer » (jamais lu). Tant qu'il en reste, la",
        "# publication refuse de partir. Les valeurs des colonnes « usager », dates et âges ne sont jamais recopiées.",
        "",
    ]
    by_table: dict[str, list[TableProposal]] = {}
    for p in proposals:
        by_table.setdefault(p.table, []).append(p)
    for table, items in by_table.items():
        p = items[0]
        spec = contract()["tables"][table]["columns"]
        out.append(f"{table}:")
        if p.national:
            out.append(f"  # {p.file} : {p.national}, lu sans réglage ; seules vos valeurs ci-dessous sont à relire.")
        else:
            out.append(f"  fichier: {_q(p.file)}   # en-tête trouvé ligne {p.header_row}")
            if p.sheets:
                out.append("  feuilles: [" + ", ".join(_q(s) for s in p.sheets) + "]")
            for sheet, why in p.skipped_sheets:
                out.append(f"  # Feuille {_q(sheet)} non lue : {why}.")
            if p.columns or p.lieu_from_sheet:
                out.append("  colonnes:")
                if p.lieu_from_sheet:
                    out.append("    lieu: {feuille: true}   # le lieu est le nom de la feuille")
                for column, headers in p.columns.items():
                    value = _q(headers[0]) if len(headers) == 1 else "[" + ", ".join(_q(h) for h in headers) + "]"
                    if spec[column]["type"] == "pseudonymous" and any(normalise_header(h) in PERSON_KEY_HEADERS for h in headers):
                        value = "[" + ", ".join(_q(h) for h in headers) + "]"
                        out.append("    # la clé de la personne, jamais publiée : chaque en-tête est rapproché (majuscules, accents,")
                        out.append("    # espaces) puis haché avec votre clé ; ajoutez « Année de naissance » pour séparer les homonymes")
                    elif len(headers) > 1 and spec[column]["type"] != "codes":
                        out.append(f"    # {column}: plusieurs en-têtes ressemblent à cette colonne ({', '.join(headers)}) : gardez-en un")
                        value = _q(headers[0])
                    out.append(f"    {column}: {value}")
            if p.identifiers:
                out.append("  # Écartés d'office (identifiants, texte libre), jamais lus : " + ", ".join(p.identifiers))
            if p.ignored:
                out.append("  ignorer: [" + ", ".join(_q(h) for h in p.ignored) + "]")
            if p.unknown:
                out.append("  # En-têtes inconnus : colonne du contrat (sous « colonnes ») ou « ignorer » ?")
                out.append(f"  {TO_COMPLETE}: [" + ", ".join(_q(h) for h in p.unknown) + "]")
        if p.values:
            out.append("  valeurs:")
            for column, rows in p.values.items():
                codes = accepted_codes(table, column)
                if labelled_integer(column):
                    codes = number_choices(table, column)
                elif codes is None and publisher is not None:
                    codes = list(publisher_values(column, publisher, table) or {})
                out.append(f"    # codes possibles : {', '.join(codes or [])}")
                out.append(f"    {column}:")
                for value, code, label, n in rows:
                    comment = f"{n} ligne(s)" + (f" ; {label}" if label else "")
                    out.append(f"      {_q(value)}: {code}   # {comment}")
        out.append("")
    return "\n".join(out)


__all__ = ["TableProposal", "propose", "render_proposal"]
