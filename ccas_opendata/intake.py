"""The year's files, read and checked in one pass, with a report the agent can open.

Configuration, headers, cells, codes and cross-checks (the raw-records expectation
suites) are all collected before anything stops, grouped by problem, with the true row
numbers of her file. The French report is written next to her input (never in the
publication folder): it names rows, columns, and the wrong values of *code* columns only,
with what is accepted instead.
"""

from __future__ import annotations

import datetime as dt
import html
from pathlib import Path

from .publisher import Publisher
from .vocabulary import contract, extra_codes
from .correspondances import accepted_codes, contract_label, read_correspondances
from .errors import PROBLEM_KINDS, ROW_ADVICE, ConfigurationError, InvalidInput, Problem
from .ingest import Records, with_header, collect_records
from .ingest.validation import check_year

REPORT_NAME = "rapport-ccas-opendata-{year}.html"


def report_path(input_dir: Path, year: int) -> Path:
    return input_dir / REPORT_NAME.format(year=year)


def read_year(folder: Path, year: int, input_dir: Path, publisher: Publisher | None, configuration: list[str] | None = None) -> Records:
    """Read ``input_dir`` for ``year``; raise one InvalidInput with every problem found.

    ``configuration`` carries the problems of ``organisation.yml``, ``lieux.csv`` or
    ``quartiers.csv`` when they could not be read (``publisher`` is then None): they are
    reported with the rest instead of hiding it.
    """
    problems = [Problem("metadata", "", message, kind="configuration") for message in configuration or []]
    own, found = read_correspondances(folder)
    problems += found
    records, found = collect_records(input_dir, own, publisher, year)
    problems += found
    if publisher is not None and records.tables:
        flagged = {(p.file, p.column) for p in problems}
        # Values still « a_completer »: asked once by the correspondances, not again by the checks.
        flagged |= {(part.file, c) for t in records.tables.values() for part in t.each_part() for c in part.pending_columns}
        # Once for the year, every row named in its own sheet.
        checks = check_year(records, publisher, year)
        headers: dict[str, dict[str, str]] = {}
        for table in (part for t in records.tables.values() for part in t.each_part()):
            headers.setdefault(table.file, {}).update(table.read_from)
        problems += [with_header(p, headers.get(p.file, {})) for p in checks if (p.file, p.column) not in flagged]
    report = report_path(input_dir, year) if input_dir.is_dir() else None
    if problems:
        if report is not None:
            report.write_text(render_report(problems, year, publisher), encoding="utf-8")
        raise InvalidInput(problems, report=str(report) if report else None)
    if report is not None and report.exists():
        report.unlink()  # an old report would describe problems that are fixed
    return records


def read_year_without_publisher(folder: Path, year: int, input_dir: Path, error: ConfigurationError) -> None:
    """The configuration cannot be read: still read the files, and report everything."""
    read_year(folder, year, input_dir, None, error.messages)
    raise error  # the files were fine: the configuration alone is at fault


def _accepted_codes_section(publisher: Publisher | None) -> str:
    """Every code column with its codes and labels: what the agent may type."""
    parts = []
    labels = contract()["libelles"]
    for table, spec in contract()["tables"].items():
        for column, column_spec in spec["columns"].items():
            if column_spec["type"] not in ("code", "codes"):
                continue
            codes = accepted_codes(table, column)
            if codes is None and publisher is not None:
                source = publisher.lieux if column == "lieu" else publisher.quartiers
                pairs = [(item.code, item.nom) for item in source]
                pairs += [(extra, labels[column][extra]) for extra in extra_codes(column, table)]
            elif codes is None:
                continue
            else:
                pairs = [(code, contract_label(column, code) or "") for code in codes]
            rows = "".join(f"<tr><td><code>{html.escape(c)}</code></td><td>{html.escape(label)}</td></tr>" for c, label in pairs)
            parts.append(
                f"<h3>{html.escape(table)} : {html.escape(column)}</h3><table><tr><th>Code</th><th>Libellé (accepté aussi)</th></tr>{rows}</table>"
            )
    return "".join(parts)


def render_report(problems: list[Problem], year: int, publisher: Publisher | None) -> str:
    """The report as a standalone French HTML page (no script, no external resource)."""
    sections = []
    for kind, title in PROBLEM_KINDS.items():
        group = [p for p in problems if p.kind == kind]
        if not group:
            continue
        rows = []
        for p in group:
            lines = ", ".join(str(r) for r in p.rows) + (f" (et {p.count - len(p.rows)} autres)" if p.count > len(p.rows) else "")
            values = ", ".join(f"« {html.escape(v)} »" for v in p.values)
            column = p.column + (f" (« {p.header} » dans votre fichier)" if p.header else "")
            rows.append(
                f"<tr><td>{html.escape(p.file)}</td><td>{html.escape(lines)}</td><td>{html.escape(column)}</td>"
                f"<td>{html.escape(p.expected)}</td><td>{values}</td><td>{html.escape(p.accepted)}</td></tr>"
            )
        sections.append(
            f"<h2>{html.escape(title)} ({len(group)})</h2><table><tr><th>Fichier</th><th>Lignes</th><th>Colonne ou clé</th>"
            f"<th>Problème</th><th>Valeurs non reconnues</th><th>Accepté</th></tr>{''.join(rows)}</table>"
        )
    footer = f"<p><strong>{html.escape(ROW_ADVICE)}</strong></p>" if any(p.rows for p in problems) else ""
    organisation = html.escape(publisher.nom) if publisher else ""
    now = dt.datetime.now().strftime("%d/%m/%Y %H:%M")
    return f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Problèmes dans les fichiers {year}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:70rem;margin:1rem auto;padding:0 1rem;color:#1e1e1e}}
table{{border-collapse:collapse;margin:0 0 1.5rem;width:100%}}td,th{{border:1px solid #bbb;padding:.3rem .5rem;text-align:left;vertical-align:top}}
th{{background:#eee}}code{{background:#f4f4f4}}</style></head>
<body><main><h1>{len(problems)} problème(s) dans les fichiers de l'année {year}</h1>
<p>{organisation} — rapport du {now}. Rien n'a été publié ; la publication précédente est intacte.
Ce rapport reste sur cet ordinateur, à côté de vos fichiers : il n'est jamais publié.</p>
{"".join(sections)}{footer}
<h2>Codes acceptés</h2><p>Pour chaque colonne à codes, le code ou son libellé (majuscules, accents et espaces indifférents).
Vos propres libellés se déclarent dans <code>metadata/correspondances.yml</code>.</p>
{_accepted_codes_section(publisher)}
</main></body></html>
"""
