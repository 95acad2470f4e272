"""The decompressed size of a spreadsheet, checked before it is read.

XLSX and ODS files are zip archives: 1 MB on disk can expand to gigabytes of XML
(by accident, or as a « zip bomb »), which pandas would read to the end before any
error. The archive's directory gives each member's size: summing it costs nothing,
and :mod:`zipfile` stops a member that would expand past its declared size (a
member that lies fails its CRC check instead).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from .vocabulary import contract
from .errors import Problem

ARCHIVES = (".xlsx", ".ods")


def archive_limit() -> int:
    """Bytes, from ``archive_max_mo`` in the contract."""
    return int(contract()["archive_max_mo"]) * 1_000_000


def oversized_archive(path: Path, limit: int | None = None) -> Problem | None:
    """A problem naming ``path`` when its members add up to more than the limit
    (or when it is no readable zip at all), else None."""
    if path.suffix.lower() not in ARCHIVES:
        return None
    limit = archive_limit() if limit is None else limit
    try:
        with zipfile.ZipFile(path) as archive:
            expanded = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        return Problem(
            path.name,
            "",
            f"ce fichier {path.suffix.lower()[1:].upper()} est illisible (abîmé, tronqué ou "
            "d'un autre format) : ouvrez-le dans votre tableur et enregistrez-le à nouveau.",
            kind="fichier",
        )
    if expanded > limit:
        return Problem(
            path.name,
            "",
            f"une fois décompressé, ce fichier ferait {expanded // 1_000_000} Mo, plus que les "
            f"{limit // 1_000_000} Mo permis (« archive_max_mo ») : il n'est pas lu. Un export d'une année en fait "
            "quelques-uns ; enregistrez-le à nouveau depuis votre tableur, ou exportez-le en CSV.",
            kind="fichier",
        )
    return None


def oversized_archives(paths: list[Path]) -> list[Problem]:
    return [p for p in (oversized_archive(path) for path in paths) if p is not None]
