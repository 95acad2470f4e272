"""Labels as data: the ``modalites`` table (``dimension``, ``code``, ``libelle``, ``ordre``).

Why: the ``indicateurs`` table carries codes (``70_plus``, ``feminin``), stable across years and
versions, and without this table every reuser re-typed the French labels the site shows
(« 70 ans et plus », « Femmes »). It is published in each package (a resource that the
``indicateurs`` schema references by a foreign key, so that Frictionless checks every code has
its label) and as a table of the database (joined on ``dimension`` and ``modalite = code``).

The labels are the ones the site shows: the contract's (``contract.yml``, ``libelles``), the
publisher's names for its quartiers, and the site's own for derived codes
(``site/libelles.yml``, ``modalites``). ``ordre`` is the publication order of
:func:`aggregate.modalities` (the order of the site's charts), codes found only in the table
coming after.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd
import yaml

from .aggregate import ENSEMBLE, MULTI_VALUED, modalities
from .publisher import Publisher
from .correspondances import contract_label

COLUMNS = ["dimension", "code", "libelle", "ordre"]
SITE_LABELS = Path(__file__).parent / "site" / "libelles.yml"

SCHEMA = {
    "fields": [
        {
            "name": "dimension",
            "type": "string",
            "title": "Dimension",
            "description": "Code de la dimension (colonne « dimension » des indicateurs).",
            "constraints": {"required": True},
        },
        {
            "name": "code",
            "type": "string",
            "title": "Code",
            "description": "Code de la modalité (colonne « modalite » des indicateurs).",
            "constraints": {"required": True},
        },
        {
            "name": "libelle",
            "type": "string",
            "title": "Libellé",
            "description": "Libellé français de la modalité, tel que le site l'affiche.",
            "constraints": {"required": True},
        },
        {
            "name": "ordre",
            "type": "integer",
            "title": "Ordre",
            "description": "Rang de la modalité dans sa dimension (ordre des graphiques du site).",
            "constraints": {"required": True, "minimum": 1},
        },
    ],
    "primaryKey": ["dimension", "code"],
}
# The ``indicateurs`` schema's reference: each (dimension, modalite) has its row here.
FOREIGN_KEY = {"fields": ["dimension", "modalite"], "reference": {"resource": "modalites", "fields": ["dimension", "code"]}}


@cache
def _site_labels() -> dict:
    with open(SITE_LABELS, encoding="utf-8") as f:
        return dict(yaml.safe_load(f)["modalites"])


def label(dimension: str, code: str, publisher: Publisher) -> str:
    """The French label of a modality, as the site shows it (the code itself when none is known)."""
    if dimension == "quartier":
        names = {q.code: q.nom for q in publisher.quartiers}
        if code in names:
            return names[code]
    site = _site_labels()
    per_dimension = site.get(dimension)
    found = (
        contract_label(MULTI_VALUED.get(dimension, dimension), code)
        or (per_dimension.get(code) if isinstance(per_dimension, dict) else None)
        or site.get(code)
    )
    return str(found) if isinstance(found, str) else code


def _known(dimension: str, publisher: Publisher) -> list[str]:
    if dimension == ENSEMBLE:
        return [ENSEMBLE]
    try:
        return modalities(dimension, publisher)
    except KeyError:  # a dimension the contract does not enumerate: the table's codes only
        return []


def modalite_rows(
    table: pd.DataFrame, publisher: Publisher, dimensions: list[str], coarse: dict[tuple[str, str], str] | None = None
) -> list[list[str]]:
    """One row per (dimension, code) the table uses, and every other code of those dimensions,
    in ``dimensions`` order (``ensemble`` first), then the publication order of the codes.
    ``coarse`` labels the codes of the catalogue's coarser levels (:func:`granularity.labels`)."""
    coarse = coarse or {}
    used = table[["dimension", "modalite"]].drop_duplicates()
    rows = []
    order = [ENSEMBLE, *dimensions]
    order += [d for d in dict.fromkeys(used["dimension"]) if d not in order]
    for dimension in order:
        present = list(used.loc[used["dimension"] == dimension, "modalite"])
        if not present:
            continue
        codes = _known(dimension, publisher)
        codes += [c for c in present if c not in codes]
        rows += [
            [dimension, code, coarse.get((dimension, code)) or label(dimension, code, publisher), str(rank)]
            for rank, code in enumerate(codes, start=1)
        ]
    return rows
