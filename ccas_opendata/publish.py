"""Publish: build the Datasette configuration directory (``publish/``) from every
year's Data Package.

``publish/`` is generated whole, in a staging directory, from the packages (the
source of truth) and the tool's templates: ``indicateurs.db`` (sqlite-utils, codes
as TEXT, indexes on the API's usual filters), ``metadata.json`` (licence, source,
column descriptions from the Table Schemas, canned queries), ``settings.json``
(read-only public site: immutable database, SQL time limit), ``inspect-data.json``
(marks the database immutable), ``templates/`` and ``static/``, and ``telechargements/``:
links to the versioned zips kept at the root of the publication folder (see
:mod:`downloads`), which survive every rebuild of ``publish/``.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlite_utils

from .csvsafe import neutralise_database
from .publisher import Publisher
from .excel import write_excel_files
from .lieux_mednum import write_lieux_mednum
from .granularity import labels as granularity_labels
from .modalites import SCHEMA as MODALITES_SCHEMA, modalite_rows
from .package import read_published
from .downloads import read_manifest
from .layout import DESCRIPTOR, DOWNLOADS, PUBLISHED_TABLE, RISK_REPORT, SITE_QUALITY_DOCS
from .site import SITE_DIR, canned_queries, render_site
from .site.render import accessibility
from .site.urls import SiteUrls
from .vocabulary import PUBLISHED_COLUMNS

if TYPE_CHECKING:
    from .context import Context

DATABASE = "indicateurs"

SETTINGS = {
    # A public, read-only API: queries are cut short, pages stay cacheable.
    "sql_time_limit_ms": 1000,
    "max_returned_rows": 5000,
    "default_page_size": 100,
    "allow_download": True,
    "allow_facet": True,
    "suggest_facets": False,
    "default_cache_ttl": 3600,
    "num_sql_threads": 3,
    "allow_csv_stream": True,
}


def read_package(directory: Path) -> dict:
    with open(directory / DESCRIPTOR, encoding="utf-8") as f:
        return json.load(f)


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def build_database(
    path: Path,
    packages: list[Path],
    changelog: list[dict] | None = None,
    files: list[dict] | None = None,
    labels: list[list[str]] | None = None,
) -> dict[str, int]:
    """``indicateurs.db`` from the packages, oldest year first. Returns row counts.

    Every ``indicateurs`` row is traced to its version by its year: ``annees`` gives the
    version online and its date, ``versions`` every version with its motif and zip.
    ``labels``: the rows of ``modalites`` (:func:`modalites.modalite_rows` over every year),
    which ``indicateurs`` references by (``dimension``, ``modalite``)."""
    changelog = changelog or []
    files = files or []
    db = sqlite_utils.Database(path, recreate=True)
    # One transaction for the whole build, DDL, indexes and ANALYZE included: outside
    # one, every CREATE commits and waits on fsync (1-2 s of wall time for 0.03 s of
    # CPU). The ``atomic()`` below nests as a savepoint; the commit is at the end.
    db.conn.execute("BEGIN")
    db.execute(
        "CREATE TABLE [modalites] ([dimension] TEXT, [code] TEXT, [libelle] TEXT, [ordre] INTEGER, PRIMARY KEY ([dimension], [code]))"
    )
    # ``valeur`` is NUMERIC, not REAL: counts are stored as integers and leave every CSV
    # and JSON as ``1563``, not ``1563.0`` (a REAL column would turn them into floats).
    db.execute(
        "CREATE TABLE [indicateurs] ([annee] INTEGER, [periode] TEXT, [lieu] TEXT, [indicateur] TEXT, [dimension] TEXT, [modalite] TEXT, "
        "[valeur] NUMERIC, [unite] TEXT, [secret] TEXT, PRIMARY KEY ([annee], [periode], [lieu], [indicateur], [dimension], [modalite]), "
        # Declared for reusers and tools (Datasette 0.65 shows labels of single-column keys only).
        "FOREIGN KEY ([dimension], [modalite]) REFERENCES [modalites]([dimension], [code]))"
    )
    db.table("definitions").create(
        {"indicateur": str, "libelle": str, "definition": str, "unite": str, "methode": str, "source": str}, pk="indicateur"
    )
    db.table("lieux").create(
        {"code": str, "nom": str, "adresse": str, "code_postal": str, "commune": str, "code_insee": str, "quartier": str}, pk="code"
    )
    db.table("annees").create(
        {
            "annee": int,
            "publie_le": str,
            "titre": str,
            "cases": int,
            "cases_masquees": int,
            "seuil_secret": int,
            "version": str,
            "version_du": str,
        },
        pk="annee",
    )
    db.table("versions").create(
        {
            "annee": int,
            "version": str,
            "date": str,
            "nature": str,
            "motif": str,
            "chiffres_modifies": int,
            "masques": int,
            "demasques": int,
            "fichier": str,
            "octets": int,
            "sha256": str,
            "courante": int,
        },
        pk=("annee", "version"),
    )
    with db.atomic():
        for directory in packages:
            descriptor = read_package(directory)
            # Typed as Any: the CSV's strings become the database's integers and numbers in place.
            rows: list[dict[str, Any]] = _rows(directory / PUBLISHED_TABLE)
            for row in rows:
                row["annee"] = int(row["annee"])
                row["valeur"] = published_number(row["valeur"])
                row["secret"] = "secret" if row["secret"] else ""  # one public symbol, also for years packaged before it
            db.table("indicateurs").insert_all(rows, batch_size=5000)
            risk = json.loads((directory / RISK_REPORT).read_text(encoding="utf-8"))
            year = int(directory.name)
            first = min((e["horodatage"] for e in changelog if e["annee"] == year), default=descriptor["created"])
            db.table("annees").insert(
                {
                    "annee": year,
                    "publie_le": first,
                    "titre": descriptor["title"],
                    "cases": len(rows),
                    "cases_masquees": sum(1 for r in rows if r["secret"]),
                    "seuil_secret": risk["seuil_secret"],
                    "version": descriptor.get("version", "1.0.0"),
                    "version_du": descriptor["created"],
                }
            )
            zips = {(f["annee"], f["version"]): f for f in files if "-v" in f["fichier"]}
            for entry in (e for e in changelog if e["annee"] == year):
                found = zips.get((year, entry["version"]), {})
                db.table("versions").insert(
                    {
                        "annee": year,
                        "version": entry["version"],
                        "date": entry["date"],
                        "nature": entry["nature"],
                        "motif": entry["motif"],
                        "chiffres_modifies": entry["chiffres_modifies"],
                        "masques": entry["masques"],
                        "demasques": entry["demasques"],
                        "fichier": found.get("fichier", ""),
                        "octets": found.get("octets", 0),
                        "sha256": found.get("sha256", ""),
                        "courante": int(entry["version"] == descriptor.get("version")),
                    }
                )
        db.table("modalites").insert_all(
            ({"dimension": d, "code": c, "libelle": l, "ordre": int(o)} for d, c, l, o in labels or []), batch_size=5000
        )
        if packages:
            latest = packages[-1]
            db.table("definitions").insert_all(_rows(latest / "definitions.csv"))
            db.table("lieux").insert_all(_rows(latest / "lieux.csv"))
    for columns in (["annee", "indicateur", "dimension"], ["indicateur", "lieu", "dimension"], ["periode"], ["annee", "lieu"]):
        db.table("indicateurs").create_index(columns, if_not_exists=True)
    db.conn.execute("ANALYZE")
    db.conn.commit()
    db.conn.close()
    counts = {}
    with sqlite3.connect(path) as conn:
        for table in ("indicateurs", "definitions", "lieux", "modalites", "annees", "versions"):
            counts[table] = conn.execute(f"select count(*) from [{table}]").fetchone()[0]
    conn.close()
    return counts


def all_modalites(ctx: Context, packages: list[Path]) -> list[list[str]]:
    """The labels of every code of every year online (years packaged before ``modalites.csv``
    existed included: the rows come from the tables, not from the packages' label files)."""
    if not packages:
        return []
    table = pd.concat([read_published(p / PUBLISHED_TABLE) for p in packages], ignore_index=True)
    return modalite_rows(table, ctx.publisher, list(ctx.catalogue.dimensions), granularity_labels(ctx.catalogue))


def published_number(text: str) -> int | float | None:
    """A ``valeur`` of a package as written there: ``1563`` stays an integer, ``12.5`` a float."""
    if text == "":
        return None
    return int(text) if text.lstrip("-").isdigit() else float(text)


def datasette_settings(publisher: Publisher) -> dict:
    """``settings.json``: the read-only public site, under the sub-path of ``base_url``."""
    return {**SETTINGS, "base_url": SiteUrls(publisher.base_url).datasette_base_url()}


def _column_descriptions(schema: dict) -> dict[str, str]:
    return {f["name"]: f"{f['title']} — {f['description']}" for f in schema["fields"]}


def datasette_metadata(publisher: Publisher, packages: list[Path]) -> dict:
    """Datasette ``metadata.json``: licence, source, per-column descriptions from the
    Table Schemas of the latest package, and the canned queries of the API page."""
    licence = publisher.licence_info
    descriptor = read_package(packages[-1]) if packages else {"resources": []}
    schemas = {r["name"]: r.get("schema") for r in descriptor["resources"]}
    tables: dict[str, dict[str, Any]] = {}
    titles = {
        "indicateurs": "Indicateurs d'activité (toutes années)",
        "definitions": "Définitions des indicateurs",
        "lieux": "Lieux d'accueil",
        "modalites": "Libellés des modalités (dimension, code, libellé)",
        "annees": "Années publiées (version en ligne de chaque année)",
        "versions": "Versions publiées de chaque année (journal des changements)",
    }
    for name, title in titles.items():
        entry: dict[str, Any] = {"title": title}
        if schemas.get(name):
            entry["columns"] = _column_descriptions(schemas[name])
            entry["description"] = next(r.get("description", "") for r in descriptor["resources"] if r["name"] == name)
        tables[name] = entry
    tables["indicateurs"]["sortable_columns"] = [c for c in PUBLISHED_COLUMNS if c not in ("unite", "secret")]
    tables["indicateurs"]["facets"] = ["annee", "indicateur", "dimension"]
    if "columns" not in tables["modalites"]:  # the latest package predates modalites.csv
        tables["modalites"]["columns"] = _column_descriptions(MODALITES_SCHEMA)
    tables["modalites"]["label_column"] = "libelle"
    return {
        "title": f"{publisher.nom} — données ouvertes",
        "description": "Indicateurs anonymisés de l'activité des permanences numériques.",
        "license": licence["title"],
        "license_url": licence["path"],
        "source": publisher.nom,
        "source_url": publisher.site_web or None,
        # Read by the site's plugin: Datasette's own footer states it too, as the RGAA asks.
        "accessibilite_etat": accessibility(publisher)["etat"],
        "databases": {
            DATABASE: {
                "title": "Indicateurs d'activité",
                "description": "Toutes les années publiées, au format long. Voir la page « API » pour des exemples.",
                "license": licence["title"],
                "license_url": licence["path"],
                "source": publisher.nom,
                "tables": tables,
                "queries": canned_queries(),
            }
        },
    }


def inspect_data(db_path: Path) -> dict:
    """What ``datasette inspect`` writes: listing the file makes Datasette open it immutable."""
    digest = hashlib.sha256(db_path.read_bytes()).hexdigest()
    with sqlite3.connect(db_path) as conn:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type='table' and name not like 'sqlite_%'")]
        counts = {t: {"count": conn.execute(f"select count(*) from [{t}]").fetchone()[0]} for t in tables}
    conn.close()
    return {DATABASE: {"hash": digest, "size": db_path.stat().st_size, "file": db_path.name, "tables": counts}}


def build_publish_dir(
    ctx: Context,
    target: Path,
    packages: list[Path],
    quality_docs: dict[int, Path],
    downloads: Path | None = None,
    changelog: list[dict] | None = None,
) -> dict[str, int]:
    """Write a complete ``publish/`` of the folder into ``target`` (which must not exist),
    reusing what the folder's ``publish/`` (the one it replaces, if any) drew of the same
    charts."""
    publisher = ctx.publisher
    target.mkdir(parents=True)
    files = read_manifest(downloads) if downloads is not None else []
    counts = build_database(target / f"{DATABASE}.db", packages, changelog, files, all_modalites(ctx, packages))
    neutralise_database(target / f"{DATABASE}.db")  # the API's CSV exports read the cells there
    (target / "metadata.json").write_text(
        json.dumps(datasette_metadata(publisher, packages), ensure_ascii=False, indent=2), encoding="utf-8"
    )
    (target / "settings.json").write_text(json.dumps(datasette_settings(publisher), indent=2), encoding="utf-8")
    (target / "inspect-data.json").write_text(json.dumps(inspect_data(target / f"{DATABASE}.db"), indent=2), encoding="utf-8")
    shutil.copytree(SITE_DIR / "templates", target / "templates")
    shutil.copytree(SITE_DIR / "static", target / "static")
    for directory in packages:
        shutil.copytree(directory, target / "static" / "paquets" / directory.name)
    write_excel_files(target / "static" / "excel", packages)
    for year, docs in quality_docs.items():
        if docs.exists():
            shutil.copytree(docs, target / SITE_QUALITY_DOCS / str(year))
    if downloads is not None:
        link_downloads(downloads, target / DOWNLOADS)
    render_site(ctx, target, packages, files, changelog or [], ctx.layout.publish)
    if packages:
        # rdflib (~0.1 s to import) only where the catalogue is written.
        from .dcat import write_catalogue

        write_catalogue(target / "pages", packages, publisher, files)
        updated = read_package(packages[-1])["created"][:10]
        write_lieux_mednum(target / "pages" / "lieux-mediation-numerique.csv", publisher, updated)
    return counts


def link_downloads(source: Path, target: Path) -> None:
    """``publish/telechargements/``: hard links to the kept zips (a copy where the file
    system refuses links), so that serving them costs no second copy on disk."""
    target.mkdir()
    for path in sorted(source.iterdir()):
        try:
            os.link(path, target / path.name)
        except OSError:
            shutil.copy2(path, target / path.name)
