"""Sources: which files of the input folder feed which contract table, and which sheets of
a workbook; a file that cannot be what its name says is refused before it is read."""

from __future__ import annotations

import zipfile
from dataclasses import replace
from pathlib import Path


from ..archive import oversized_archives
from ..vocabulary import contract
from ..correspondances import FILE_NAME, Correspondances, TableMapping, normalise_header
from ..errors import Problem
from .headers import known_header, locate_header, plan_headers
from .model import Source
from .national import national_sources
from .readers import EXTENSIONS, read_top_rows, sheet_names


#: What a file really is, by its first bytes, when its name says otherwise.
_MAGIC = {
    b"\x89PNG": "une image PNG",
    b"\xff\xd8\xff": "une image JPEG",
    b"GIF8": "une image GIF",
    b"%PDF": "un document PDF",
    b"\xd0\xcf\x11\xe0": "un ancien classeur Excel (.xls) ou document Word (.doc)",
    b"PK\x03\x04": "un classeur ou une archive ZIP",
}


SAVE_AS = "ouvrez-le dans votre tableur et enregistrez-le en CSV, XLSX ou ODS (Fichier › Enregistrer sous), puis relancez."


def misnamed(path: Path) -> str | None:
    """Why a file cannot be what its name says (a PNG renamed .csv, a truncated .xlsx), by
    its first bytes; None when it may well be."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError as e:
        return f"fichier illisible ({e.strerror or type(e).__name__})."
    if not head:
        return "fichier vide : exportez à nouveau vos données."
    actual = next((what for magic, what in _MAGIC.items() if head.startswith(magic)), None)
    if path.suffix.lower() in (".xlsx", ".ods"):
        if actual == "un classeur ou une archive ZIP":
            return None
        return (
            f"ce n'est pas un classeur {path.suffix.lower()}"
            + (f" mais {actual}" if actual else " (fichier abîmé ou d'un autre format)")
            + " : "
            + SAVE_AS
        )
    if actual is not None:
        return f"ce n'est pas un fichier CSV mais {actual} renommé : " + SAVE_AS
    if b"\x00" in head:
        return "ce n'est pas un fichier texte CSV (contenu binaire) : " + SAVE_AS
    return None


def unreadable(path: Path, error: BaseException) -> Problem:
    """A file that cannot be opened, named, with what to do: never a traceback."""
    if isinstance(error, zipfile.BadZipFile):
        why = "classeur abîmé (fichier incomplet ou mal copié)"
    else:
        why = f"fichier illisible ({type(error).__name__})"
    return Problem(path.name, "", f"{why} : " + SAVE_AS, kind="fichier")


def candidate_files(input_dir: Path) -> list[Path]:
    return [
        p
        for p in sorted(input_dir.iterdir())
        if p.is_file() and p.suffix.lower() in EXTENSIONS and not p.name.startswith(("~$", ".", "rapport-"))
    ]


def find_sources(input_dir: Path, own: Correspondances | None) -> tuple[list[Source], list[Problem], list[str]]:
    """Each contract table's file (and sheets): by the CCAS's rules (``fichier``, default
    ``<table>.*``; ``feuilles``), else a national export recognised by its headers. The
    third item says what became of every sheet of her workbooks."""
    if not input_dir.is_dir():
        return (
            [],
            [Problem(str(input_dir), "", "dossier d'entrée introuvable : vérifiez le chemin donné à la commande.", kind="absent")],
            [],
        )
    files = candidate_files(input_dir)
    problems: list[Problem] = []
    # What a file is by its first bytes (a PNG renamed .csv), then how big a workbook expands.
    broken = {p: why for p in files if (why := misnamed(p)) is not None}
    for path, why in broken.items():
        problems.append(Problem(path.name, "", why, kind="fichier"))
    files = [p for p in files if p not in broken]
    oversized = oversized_archives(files)
    if oversized:  # not a byte of them is read
        return [], problems + oversized, []
    sources, problems_of_rules = own_sources(input_dir, files, own)
    problems += problems_of_rules
    claimed = {s.path for s in sources}
    sources += _sheets_of_the_same_workbook(sources)
    sources, notes, found = expand_sheets(sources, own)
    problems += found
    national, found = national_sources([p for p in files if p not in claimed], sources, own)
    sources += national
    problems += found
    if not problems:
        problems = missing_required_files(input_dir, sources)
    return sources, problems, notes


def own_sources(input_dir: Path, files: list[Path], own: Correspondances | None) -> tuple[list[Source], list[Problem]]:
    """The file of each table by the CCAS's rules (``fichier``, default ``<table>.*``): one at most."""
    sources: list[Source] = []
    problems: list[Problem] = []
    for table in contract()["tables"]:
        mapping = own.for_table(table) if own else TableMapping(table)
        matches = [p for p in files if mapping.matches_file(p)]
        if len(matches) > 1:
            problems.append(
                Problem(
                    input_dir.name,
                    "",
                    f"plusieurs fichiers pour la table « {table} » ({', '.join(p.name for p in matches)}) : n'en gardez qu'un.",
                    kind="configuration",
                )
            )
        elif matches:
            sources.append(Source(table, matches[0], mapping))
    return sources, problems


def missing_required_files(input_dir: Path, sources: list[Source]) -> list[Problem]:
    """The tables the contract requires a file for and that none feeds."""
    return [
        Problem(
            input_dir.name,
            "",
            f"fichier « {table}.csv » (ou .xlsx, .ods) introuvable : il est obligatoire. Un fichier à votre format "
            "se déclare dans metadata/correspondances.yml (clé « fichier »).",
            kind="absent",
        )
        for table, spec in contract()["tables"].items()
        if spec["required_file"] and not any(s.table == table for s in sources)
    ]


def carries_header(source: Source) -> bool:
    """Whether a sheet holds the table: its header has every required column (a summary of
    formulas, a list of values or a pivot does not)."""
    try:
        header_index, header = locate_header(source.path, source.mapping.feuille, lambda name: known_header(name, [source.mapping]))
    except (OSError, ValueError):
        return False
    plan = plan_headers(source, header, header_index + 1)
    return not any(p.kind == "en-tete" and p.rows for p in plan.problems)


def expand_sheets(sources: list[Source], own: Correspondances | None) -> tuple[list[Source], list[str], list[Problem]]:
    """One Source per sheet where ``feuilles`` names several (or ``"*"``); every sheet of
    those workbooks accounted for: read (for which table) or skipped (why)."""
    out: list[Source] = []
    problems: list[Problem] = []
    fate: dict[Path, dict[str, str]] = {}
    claimed = _claimed_sheets(sources)
    for source in sources:
        if not source.mapping.feuilles:
            out.append(source)
            if source.path.suffix.lower() != ".csv":
                # None: the first sheet, named once the workbook's sheets are listed below.
                sheet = source.mapping.feuille
                fate.setdefault(source.path, {})[str(sheet) if sheet is not None else ""] = f"lue pour « {source.table} »"
            continue
        try:
            names = sheet_names(source.path)
        except (OSError, ValueError, zipfile.BadZipFile) as e:
            problems.append(unreadable(source.path, e))
            continue
        seen = fate.setdefault(source.path, {})
        chosen, found = _chosen_sheets(source, names, claimed.get(source.path, set()))
        problems += found
        read = 0
        for name in chosen:
            part = Source(source.table, source.path, replace(source.mapping, feuille=name), source.format_label, sheet=name)
            if carries_header(part):
                out.append(part)
                seen[name] = f"lue pour « {source.table} »"
                read += 1
            else:
                seen.setdefault(name, f"ignorée : son en-tête n'est pas celui de « {source.table} » (résumé, liste ou tableau croisé ?)")
        if not read and chosen:
            problems.append(
                Problem(
                    source.path.name,
                    "",
                    f"aucune feuille ne porte l'en-tête de « {source.table} » ({', '.join(f'« {n} »' for n in chosen)}).",
                    kind="en-tete",
                )
            )
    return out, _sheet_notes(fate), problems


def _claimed_sheets(sources: list[Source]) -> dict[Path, set[str]]:
    """The sheets each workbook's tables name (``feuille``, or ``feuilles`` without ``*``):
    ``"*"`` takes every other one."""
    claimed: dict[Path, set[str]] = {}
    for source in sources:
        if source.mapping.feuilles and "*" not in source.mapping.feuilles:
            claimed.setdefault(source.path, set()).update(source.mapping.feuilles)
        elif source.mapping.feuille is not None and not source.mapping.feuilles:
            claimed.setdefault(source.path, set()).add(str(source.mapping.feuille))
    return claimed


def _chosen_sheets(source: Source, names: list[str], claimed: set[str]) -> tuple[list[str], list[Problem]]:
    """The sheets ``feuilles`` takes for the source's table, among the workbook's ``names``:
    with ``"*"`` every sheet no other table claims or is named after; else those it lists
    (one it lists and the workbook lacks is a problem of the correspondances)."""
    wanted = source.mapping.feuilles
    if "*" in wanted:
        other_tables = {t for t in contract()["tables"] if t != source.table}
        return [n for n in names if n not in claimed and normalise_header(n) not in other_tables], []
    missing = [n for n in wanted if n not in names]
    problems = [
        Problem(
            f"metadata/{FILE_NAME}",
            f"{source.table}.feuilles",
            f"feuille(s) {', '.join(f'« {n} »' for n in missing)} introuvable(s) dans {source.path.name} ; "
            f"feuilles du classeur : {', '.join(f'« {n} »' for n in names)}.",
            kind="configuration",
        )
    ]
    return [n for n in wanted if n in names], problems if missing else []


def _sheet_notes(fate: dict[Path, dict[str, str]]) -> list[str]:
    """One line per workbook of several sheets: what became of each sheet, in its order."""
    notes = []
    for path, sheets in fate.items():
        try:
            names = sheet_names(path)
        except (OSError, ValueError, zipfile.BadZipFile):
            continue
        if len(names) < 2:
            continue
        for key in [k for k in sheets if k not in names]:  # the first sheet, or one given by position
            position = int(key) if key.isdigit() else 1
            if 1 <= position <= len(names):
                sheets.setdefault(names[position - 1], sheets.pop(key))
        described = [f"« {n} » {sheets.get(n, 'non lue (aucune table ne la nomme dans correspondances)')}" for n in names]
        notes.append(f"{path.name} : feuilles " + " ; ".join(described) + ".")
    return notes


def _sheets_of_the_same_workbook(sources: list[Source]) -> list[Source]:
    """The template keeps every table in one workbook: a table without a file of its own
    is read from the sheet of its name in the accompagnements workbook, when it has rows."""
    main = next((s for s in sources if s.table == "accompagnements" and s.path.suffix.lower() in (".xlsx", ".ods")), None)
    if main is None:
        return []
    try:
        sheets = sheet_names(main.path)
    except (OSError, ValueError, zipfile.BadZipFile):
        return []
    found = []
    for table in contract()["tables"]:
        if any(s.table == table for s in sources):
            continue
        sheet = next((name for name in sheets if normalise_header(name) == table), None)
        if sheet is not None and len(read_top_rows(main.path, sheet)) > 1:
            found.append(Source(table, main.path, TableMapping(table, feuille=sheet)))
    return found
