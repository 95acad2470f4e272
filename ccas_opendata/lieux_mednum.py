"""The sites in the national "lieux de médiation numérique" format
(``/lieux-mediation-numerique.csv``, schema.data.gouv.fr LaMednum/standard-mediation-num).

The national map of digital mediation is built from files in this format. Which column
comes from where is data (``lieux_mednum.yml``): the sites' codes, names and addresses
from ``metadata/lieux.csv``, the CCAS's SIRET and name from ``organisation.yml``, the date
of the last publication, and the optional columns (hours, services, coordinates…) the CCAS
may add to ``lieux.csv`` under the national names.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from .csvsafe import safe_row
from .publisher import Publisher, mednum_schema


def mednum_rows(publisher: Publisher, updated: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows; ``updated`` is the last publication's date (YYYY-MM-DD)."""
    columns = mednum_schema()["colonnes"]
    header = [c["nom"] for c in columns]
    organisation = {"siret": publisher.siret, "nom": publisher.nom, "contact": publisher.contact}
    rows = []
    for lieu in publisher.lieux:
        optional = dict(lieu.mediation)
        row = []
        for column in columns:
            source = column.get("depuis")
            if source is None:
                default = column.get("defaut", "")
                value = optional.get(column["nom"]) or (organisation[default.split(".", 1)[1]] if default else "")
            elif source == "publication.date":
                value = updated
            else:
                kind, key = source.split(".", 1)
                value = getattr(lieu, key) if kind == "lieu" else organisation[key]
            row.append(value)
        rows.append(row)
    return header, rows


def write_lieux_mednum(path: Path, publisher: Publisher, updated: str) -> Path:
    header, rows = mednum_rows(publisher, updated)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(safe_row(row) for row in rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path
