"""``correspondances``: read the agent's files and propose ``metadata/correspondances.yml``.

The proposal is commented YAML she reviews once: each header matched to a contract
column, dropped, or « à compléter »; for each code column, every distinct value found
with the code it will become and that code's French label. Only values of code columns
are written (labels and codes are not personal data); values of ``usager``, dates, ages,
identifiers and unknown columns never are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .config import Publisher, contract
from .correspondances import TO_COMPLETE, Correspondances, TableMapping, accepted_codes, national_formats, normalise_header, value_lookup
from .ingest import (
    CodeReader, Source, candidate_files, default_code, matches_national_format, publisher_values, known_header, locate_header,
    plan_headers, read_source_text, showable, suggest_column,
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


def _guess_table(path: Path) -> str:
    stem = normalise_header(path.stem)
    for table in contract()["tables"]:
        if table.rstrip("s") in stem:
            return table
    return "accompagnements"


def propose(input_dir: Path, publisher: Publisher | None, existing: Correspondances | None = None) -> list[TableProposal]:
    """What each file of ``input_dir`` looks like against the contract."""
    proposals = []
    tables_seen: set[str] = set()
    for path in candidate_files(input_dir):
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


def _propose_source(source: Source, publisher: Publisher | None, national: str = "") -> TableProposal:
    table, mapping = source.table, source.mapping
    spec = contract()["tables"][table]["columns"]
    header_index, header = locate_header(source.path, mapping.feuille, lambda name: known_header(name, [mapping]))
    proposal = TableProposal(table, source.path.name, header_index + 1, national)
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
                if guess is not None:
                    proposal.columns.setdefault(guess, []).append(raw)
                elif known_header(name):
                    proposal.identifiers.append(raw)
                else:
                    proposal.unknown.append(raw)
        colonnes = {c: tuple(normalise_header(h) for h in hs) for c, hs in proposal.columns.items() if spec[c]["type"] == "codes" or len(hs) == 1}
        mapping = TableMapping(table, mapping.fichier, mapping.feuille, {**mapping.colonnes, **colonnes}, mapping.valeurs, mapping.ignorer | {normalise_header(h) for h in proposal.unknown})
        source = Source(table, source.path, mapping)
    plan = plan_headers(source, header, header_index + 1)
    coded = [c for c in plan.columns if spec[c]["type"] in ("code", "codes")]
    text = read_source_text(source, plan, coded)
    labels = contract()["libelles"]
    for column in coded:
        reader = CodeReader(value_lookup(table, column, publisher_values(column, publisher, table)), mapping.valeurs.get(column, {}), spec[column]["type"] == "codes")
        counts: dict[str, int] = {}
        for value, n in text[column].astype(str).str.strip().value_counts().items():
            for piece in reader.pieces(value) or [""]:
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
    return proposal


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
            if p.columns:
                out.append("  colonnes:")
                for column, headers in p.columns.items():
                    value = _q(headers[0]) if len(headers) == 1 else "[" + ", ".join(_q(h) for h in headers) + "]"
                    if len(headers) > 1 and spec[column]["type"] != "codes":
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
                if codes is None and publisher is not None:
                    codes = list(publisher_values(column, publisher, table) or {})
                out.append(f"    # codes possibles : {', '.join(codes or [])}")
                out.append(f"    {column}:")
                for value, code, label, n in rows:
                    comment = f"{n} ligne(s)" + (f" ; {label}" if label else "")
                    out.append(f"      {_q(value)}: {code}   # {comment}")
        out.append("")
    return "\n".join(out)


__all__ = ["TableProposal", "propose", "render_proposal"]
