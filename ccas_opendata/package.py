"""Package a protected year as a Frictionless Data Package (``datapackages/YYYY/``).

Everything written here is deterministic: rows in a fixed order, numbers formatted
by one function, JSON with fixed key order, and ``created`` taken from
``SOURCE_DATE_EPOCH`` when it is set, so that re-running a release on the same input
gives byte-identical packages.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .csvsafe import RULE as CELL_RULE
from .csvsafe import safe_row
from .aggregate import COLUMNS, ENSEMBLE, MEASURES
from .catalogue import Catalogue
from .layout import DESCRIPTOR, PUBLISHED_TABLE, RISK_REPORT
from .granularity import Granularity, describe, labels, of_table, rules, year_rows
from .vocabulary import NOT_GIVEN, PUBLISHED_KEY, SOURCES, extra_codes
from .errors import PackageError
from . import modalites

if TYPE_CHECKING:  # the context reads published tables with this module
    from .context import Context

PACKAGE_FILES = (PUBLISHED_TABLE, "definitions.csv", "lieux.csv", "modalites.csv", RISK_REPORT, DESCRIPTOR)
LIEUX_COLUMNS = ["code", "nom", "adresse", "code_postal", "commune", "code_insee", "quartier"]


def slug(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")


def created_timestamp() -> str:
    """ISO timestamp of the release: ``SOURCE_DATE_EPOCH`` when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = dt.datetime.fromtimestamp(int(epoch), dt.UTC) if epoch else dt.datetime.now(dt.UTC).replace(microsecond=0)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def format_value(value: float, integral: bool) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(round(value)) if integral else f"{value:.1f}"


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(safe_row(row) for row in rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")


def published_rows(table: pd.DataFrame, catalogue: Catalogue) -> list[list[str]]:
    """The ``indicateurs`` rows as text, in catalogue order then period, lieu, dimension."""
    integral = {i.code for i in catalogue.indicators if MEASURES[i.mesure].is_count}
    order = {code: n for n, code in enumerate(catalogue.codes)}
    dim_order = {code: n for n, code in enumerate([ENSEMBLE, *catalogue.dimensions])}
    frame = table.assign(
        _i=table["indicateur"].map(order),
        _d=table["dimension"].map(dim_order),
        _l=(table["lieu"] != ENSEMBLE).astype(int),
        _p=~year_rows(table["periode"]),  # the year first, then its sub-periods
    ).sort_values(["_i", "_p", "periode", "_l", "lieu", "_d"], kind="stable")
    rows = []
    for row in frame.itertuples(index=False):
        rows.append(
            [
                str(row.annee),
                str(row.periode),
                row.lieu,
                row.indicateur,
                row.dimension,
                row.modalite,
                format_value(row.valeur, row.indicateur in integral),
                row.unite,
                row.secret,
            ]
        )
    return rows


def read_published(path: Path) -> pd.DataFrame:
    """Read a published ``indicateurs.csv`` back (codes as text, figures as floats)."""
    return read_published_bytes(path.read_bytes())


def read_published_bytes(data: bytes) -> pd.DataFrame:
    """A published ``indicateurs.csv`` from its bytes (a file, or a member of a zip)."""
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    frame["valeur"] = pd.to_numeric(frame["valeur"].replace("", None)).astype("float64")
    frame["annee"] = frame["annee"].astype(int)
    return frame


def indicateurs_schema(ctx: Context, granularity: Granularity | None = None) -> dict:
    catalogue = ctx.catalogue
    lieux = [ENSEMBLE] + ctx.publisher.lieu_codes + extra_codes("lieu")
    schema = _indicateurs_schema(lieux, catalogue, ctx.year)
    if granularity is not None and not granularity.finest:
        # A year published at a coarser level says so where its codes are described.
        spec = granularity.rules or rules(catalogue)
        codes = [g for level in spec.periods[1:] for g in level.groups]
        field = schema["fields"][1]
        field["description"] = (
            "AAAA pour l'année entière, AAAA-MM pour un mois, "
            + ", ".join(f"AAAA-{'/'.join(level.groups)} pour un {level.libelle}" for level in spec.periods[1:])
            + "."
        )
        field["constraints"]["pattern"] = r"\d{4}(-(0[1-9]|1[0-2]|" + "|".join(codes) + "))?"
        schema["fields"][5]["description"] += " " + describe(granularity, catalogue)
    return schema


def _indicateurs_schema(lieux: list[str], catalogue: Catalogue, year: int) -> dict:
    return {
        "fields": [
            {
                "name": "annee",
                "type": "integer",
                "title": "Année",
                "description": "Année publiée.",
                "constraints": {"required": True, "minimum": year, "maximum": year},
            },
            {
                "name": "periode",
                "type": "string",
                "title": "Période",
                "description": "AAAA pour l'année entière, AAAA-MM pour un mois.",
                "constraints": {"required": True, "pattern": r"\d{4}(-(0[1-9]|1[0-2]))?"},
            },
            {
                "name": "lieu",
                "type": "string",
                "title": "Lieu",
                "description": "Code du lieu (voir la ressource « lieux »), ou « ensemble » pour tout le CCAS.",
                "constraints": {"required": True, "enum": lieux},
            },
            {
                "name": "indicateur",
                "type": "string",
                "title": "Indicateur",
                "description": "Code de l'indicateur (voir la ressource « definitions »).",
                "constraints": {"required": True, "enum": catalogue.codes},
            },
            {
                "name": "dimension",
                "type": "string",
                "title": "Dimension",
                "description": "« ensemble », ou la ventilation : tranche d'âge, genre, situation, quartier, thématique…",
                "constraints": {"required": True, "enum": [ENSEMBLE, *catalogue.dimensions]},
            },
            {
                "name": "modalite",
                "type": "string",
                "title": "Modalité",
                "description": f"Code de la catégorie dans la dimension, ou « ensemble ». « {NOT_GIVEN} » regroupe les cellules vides du fichier source.",
                "constraints": {"required": True},
            },
            {
                "name": "valeur",
                "type": "number",
                "title": "Valeur",
                "description": "Le chiffre publié : nombres exacts, pourcentages et minutes arrondis à 0,1. Vide lorsque la case est sous secret statistique.",
                "constraints": {"minimum": -100},
            },
            {
                "name": "unite",
                "type": "string",
                "title": "Unité",
                "description": "nombre, pourcentage ou minutes.",
                "constraints": {"required": True, "enum": ["nombre", "pourcentage", "minutes"]},
            },
            {
                "name": "secret",
                "type": "string",
                "title": "Secret statistique",
                "description": "Vide si le chiffre est publié ; « secret » s'il est masqué par le secret statistique, quelle que soit la règle qui le masque (seuil, dominance, protection des autres cases masquées) : une seule mention, pour ne pas dire quelles cases comptent moins de personnes que le seuil. Les versions publiées avant cette règle portaient deux mentions différentes, qui disent la même chose : le chiffre est masqué.",
                "constraints": {"enum": ["secret"]},
            },
        ],
        "missingValues": [""],
        "primaryKey": list(PUBLISHED_KEY),
        # Every code has its French label in the « modalites » resource (checked by Frictionless).
        "foreignKeys": [modalites.FOREIGN_KEY],
    }


# A Table Schema: nested lists and dicts, read by key (``Any`` rather than ``object``).
DEFINITIONS_SCHEMA: dict[str, Any] = {
    "fields": [
        {
            "name": "indicateur",
            "type": "string",
            "title": "Indicateur",
            "description": "Code de l'indicateur.",
            "constraints": {"required": True, "unique": True},
        },
        {
            "name": "libelle",
            "type": "string",
            "title": "Libellé",
            "description": "Nom de l'indicateur en français.",
            "constraints": {"required": True},
        },
        {
            "name": "definition",
            "type": "string",
            "title": "Définition",
            "description": "Ce que mesure l'indicateur.",
            "constraints": {"required": True},
        },
        {
            "name": "unite",
            "type": "string",
            "title": "Unité",
            "description": "nombre, pourcentage ou minutes.",
            "constraints": {"required": True, "enum": ["nombre", "pourcentage", "minutes"]},
        },
        {
            "name": "methode",
            "type": "string",
            "title": "Méthode",
            "description": "Comment le chiffre est calculé.",
            "constraints": {"required": True},
        },
        {
            "name": "source",
            "type": "string",
            "title": "Source",
            "description": "Table d'activité dont l'indicateur est calculé.",
            "constraints": {"required": True, "enum": list(SOURCES)},
        },
    ],
    "primaryKey": ["indicateur"],
}

LIEUX_SCHEMA = {
    "fields": [
        {
            "name": "code",
            "type": "string",
            "title": "Code",
            "description": "Code du lieu, utilisé dans la colonne « lieu » des indicateurs.",
            "constraints": {"required": True, "unique": True},
        },
        {"name": "nom", "type": "string", "title": "Nom", "description": "Nom du lieu d'accueil."},
        {"name": "adresse", "type": "string", "title": "Adresse", "description": "Adresse du lieu (lieu public)."},
        {
            "name": "code_postal",
            "type": "string",
            "title": "Code postal",
            "description": "Code postal.",
            "constraints": {"pattern": r"\d{5}"},
        },
        {"name": "commune", "type": "string", "title": "Commune", "description": "Nom de la commune."},
        {
            "name": "code_insee",
            "type": "string",
            "title": "Code INSEE",
            "description": "Code officiel géographique de la commune (texte : 01001, 2A004).",
            "constraints": {"pattern": r"\d{5}|2[AB]\d{3}"},
        },
        {"name": "quartier", "type": "string", "title": "Quartier", "description": "Code du quartier où se trouve le lieu."},
    ],
    "primaryKey": ["code"],
}

SECRECY_METHOD = (
    "Aucun chiffre n'est publié lorsque moins de {seuil} personnes distinctes se trouvent derrière lui "
    "(une personne venue quinze fois compte pour une) ; pour une part de personnes, les "
    "personnes comptées et les autres doivent chacune atteindre ce seuil ; aucun nombre d'accompagnements ni "
    "aucune durée ne doit plus de {dominance} % de sa valeur à une seule personne. Lorsque toutes les personnes d'un "
    "groupe ont la même situation, la même autonomie ou la même orientation, cette ventilation n'est pas "
    "publiée pour le groupe. D'autres cases sont ensuite masquées pour qu'aucune case "
    "masquée ne puisse être recalculée à partir des totaux, mois, lieux, modalités, parts, taux, moyennes, médianes, "
    "évolutions et mentions « secret » : "
    "un audit par programmation linéaire vérifie avant publication que chaque case masquée ne peut être "
    "encadrée à moins de {largeur} unités près. Une année corrigée après sa publication est publiée dans une "
    "nouvelle version, les précédentes restant téléchargeables : les enregistrements modifiés forment une table de "
    "différences protégée comme une publication ; un chiffre dont la différence ne serait pas publiée (moins de {seuil} "
    "personnes concernées, ou masquée pour en protéger une autre) garde la valeur et la mention de la version en ligne "
    "(il est gelé, sans aucune marque), et l'audit porte sur les deux versions ensemble "
    "(ni une case masquée de l'une ou de l'autre, ni l'écart entre les versions d'une case ainsi modifiée, ne peut "
    "être encadré à moins de {largeur} unités près). Toute case masquée porte la seule mention « secret ». Les identifiants, commentaires, dates exactes et années de "
    "naissance ne quittent jamais le poste de l'agent."
)


def package_year(
    ctx: Context,
    directory: Path,
    table: pd.DataFrame,
    risk: dict,
    version: str = "1.0.0",
    created: str | None = None,
) -> Path:
    """Write the year's package into ``directory`` (created) and validate it. A revision
    passes its ``version``; a re-release that changes no figure keeps the version online
    and its ``created``, so that its package (and zip) keep their bytes."""
    publisher, catalogue, year = ctx.publisher, ctx.catalogue, ctx.year
    directory.mkdir(parents=True, exist_ok=True)
    _write_csv(directory / PUBLISHED_TABLE, COLUMNS, published_rows(table, catalogue))
    _write_csv(
        directory / "definitions.csv",
        [f["name"] for f in DEFINITIONS_SCHEMA["fields"]],
        [[r[f["name"]] for f in DEFINITIONS_SCHEMA["fields"]] for r in catalogue.as_rows()],
    )
    _write_csv(directory / "lieux.csv", LIEUX_COLUMNS, [[getattr(l, c) for c in LIEUX_COLUMNS] for l in publisher.lieux])
    _write_csv(
        directory / "modalites.csv",
        modalites.COLUMNS,
        modalites.modalite_rows(table, publisher, list(catalogue.dimensions), labels(catalogue)),
    )
    (directory / RISK_REPORT).write_text(json.dumps(risk, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    licence = publisher.licence_info
    granularity = of_table(table, catalogue, year)
    descriptor = {
        "profile": "data-package",
        "name": f"{slug(publisher.nom)}-activite-{year}",
        "title": f"{publisher.nom} — activité des permanences numériques {year}",
        "description": (
            f"Indicateurs anonymisés de l'activité d'accompagnement numérique {publisher.of_name} en {year} : "
            "accompagnements individuels (par mois, lieu, âge, situation, quartier, thématique…), ateliers "
            "collectifs et formations des professionnels. Publié au titre de la loi pour une République "
            "numérique (2016), après anonymisation et secret statistique."
            + (" " + describe(granularity, catalogue) if describe(granularity, catalogue) else "")
        ),
        "version": version,
        "created": created or created_timestamp(),
        "homepage": publisher.site_web or None,
        "licenses": [licence],
        "contributors": [{"title": publisher.nom, "role": "publisher", "email": publisher.contact, "siret": publisher.siret}],
        "sources": [{"title": f"Registre d'activité des permanences numériques {publisher.of_name}, année {year} (non publié)"}],
        "keywords": [
            "CCAS",
            "inclusion numérique",
            "médiation numérique",
            "accompagnement",
            "démarches en ligne",
            "action sociale",
            str(year),
        ],
        "temporalCoverage": {"start": f"{year}-01-01", "end": f"{year}-12-31"},
        "spatialCoverage": {"commune": publisher.commune, "type": "code INSEE"},
        # How text cells are protected from spreadsheets (csvsafe.py): readers must know the apostrophe is ours.
        "cellulesDeTexte": CELL_RULE,
        "secretStatistique": {
            "methode": SECRECY_METHOD.format(
                seuil=publisher.seuil_secret, largeur=publisher.largeur_protection, dominance=round(publisher.dominance_max * 100)
            )
            + ("" if risk.get("identifiant_usager", True) else " " + risk["remarque_identifiant"]),
            "seuil": publisher.seuil_secret,
            "largeurProtection": publisher.largeur_protection,
            "rapport": RISK_REPORT,
        },
        "resources": [
            {
                "name": "indicateurs",
                "path": PUBLISHED_TABLE,
                "profile": "tabular-data-resource",
                "title": "Indicateurs d'activité",
                "description": "Table longue : une ligne par période, lieu, indicateur, dimension et modalité.",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": indicateurs_schema(ctx, granularity),
            },
            {
                "name": "definitions",
                "path": "definitions.csv",
                "profile": "tabular-data-resource",
                "title": "Définitions des indicateurs",
                "description": "Le catalogue des indicateurs : libellé, définition, unité, méthode.",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": DEFINITIONS_SCHEMA,
            },
            {
                "name": "lieux",
                "path": "lieux.csv",
                "profile": "tabular-data-resource",
                "title": "Lieux d'accueil",
                "description": "Les lieux publics où se tiennent les permanences.",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": LIEUX_SCHEMA,
            },
            {
                "name": "modalites",
                "path": "modalites.csv",
                "profile": "tabular-data-resource",
                "title": "Libellés des modalités",
                "description": "Le libellé français de chaque code des colonnes « dimension » et « modalite » des indicateurs "
                "(« feminin » : « Femmes »), et son rang dans la dimension.",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": modalites.SCHEMA,
            },
            {
                "name": "risque",
                "path": RISK_REPORT,
                "profile": "data-resource",
                "title": "Rapport de risque de ré-identification",
                "description": "Seuil, cases masquées, résultat de l'audit du secret et appréciation au regard des critères du G29.",
                "format": "json",
                "mediatype": "application/json",
                "encoding": "utf-8",
            },
        ],
    }
    if descriptor["homepage"] is None:
        del descriptor["homepage"]
    path = directory / DESCRIPTOR
    path.write_text(json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    validate_package(path)
    return path


def validate_package(path: Path) -> None:
    """``frictionless validate`` in-process; raise PackageError with the first errors."""
    from frictionless import validate

    report = validate(str(path))
    if not report.valid:
        errors = [f"{e.type} : {e.message}" for task in report.tasks for e in task.errors][:10]
        errors += [f"{e.type} : {e.message}" for e in report.errors][:10]
        raise PackageError(f"Le paquet {path.parent.name} ne passe pas la validation Frictionless :\n  - " + "\n  - ".join(errors))
