"""The year's figures ready for a spreadsheet: ``/static/excel/ccas-opendata-AAAA-excel.csv``.

Why a second CSV: the package's ``indicateurs.csv`` follows the open-data conventions (UTF-8
without BOM, ``,`` and a decimal point), which a French Excel opens as one column, with
« Non communiqué » garbled and 12.5 read as a date. This copy is UTF-8 with a BOM, ``;``
separated, with decimal commas, and the French label of each modality beside its code;
the codes, rows and order are those of the package (generated from it at publish time).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

PREFIX = "ccas-opendata"


def excel_name(year: int) -> str:
    return f"{PREFIX}-{year}-excel.csv"


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def excel_csv(package: Path) -> bytes:
    """The package's ``indicateurs`` with ``;``, decimal commas, a BOM and ``libelle_modalite``."""
    labels_path = package / "modalites.csv"
    labels = {(r["dimension"], r["code"]): r["libelle"] for r in _rows(labels_path)} if labels_path.exists() else {}
    rows = _rows(package / "indicateurs.csv")
    buffer = io.StringIO()
    columns = [*(rows[0].keys() if rows else []), "libelle_modalite"]
    writer = csv.DictWriter(buffer, fieldnames=columns, delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {**row, "valeur": row["valeur"].replace(".", ","), "libelle_modalite": labels.get((row["dimension"], row["modalite"]), "")}
        )
    return "\ufeff".encode() + buffer.getvalue().encode("utf-8")


def write_excel_files(directory: Path, packages: list[Path]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for package in packages:
        (directory / excel_name(int(package.name))).write_bytes(excel_csv(package))
