"""Versioned downloads: one immutable zip per year and version, the current version's
alias, and the manifest the site and the catalogue read.

The zips live in ``telechargements/`` at the root of the publication folder, not in
``publish/`` (which every release rebuilds whole): a version once published is never
rewritten, and ``publish/`` gets links to them at build time. Every zip is
byte-reproducible: entries in a fixed order, with the package's ``created`` date as
their timestamp and fixed modes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import zipfile
from pathlib import Path

import pandas as pd

from .csvsafe import RULE as CELL_RULE
from .csvsafe import markdown_text
from .layout import DOWNLOADS
from .publisher import Publisher
from .package import read_published_bytes
from .site.urls import SiteUrls

MANIFEST = "telechargements.json"
PREFIX = "ccas-opendata"


def zip_name(year: int, version: str | None = None) -> str:
    """``ccas-opendata-2024-v1.1.0.zip`` for a version, ``ccas-opendata-2024.zip`` for the current one."""
    return f"{PREFIX}-{year}.zip" if version is None else f"{PREFIX}-{year}-v{version}.zip"


def is_alias(name: str) -> bool:
    """``ccas-opendata-2024.zip``, the current version's alias (not a version's own zip)."""
    return "-v" not in name


def _zip_time(created: str) -> tuple[int, int, int, int, int, int]:
    moment = dt.datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ")
    moment = max(moment, dt.datetime(1980, 1, 1))  # the zip format starts in 1980
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def citation_text(publisher: Publisher, descriptor: dict, year: int, version: str) -> str:
    date = descriptor["created"][:10]
    return (
        f"{publisher.nom}, « {descriptor['title']} », version {version} du {date}, "
        f"fichier {zip_name(year, version)}, licence {publisher.licence_info['title']}."
    )


def readme(publisher: Publisher, descriptor: dict, year: int, version: str, history: list[dict]) -> str:
    """The French README of a version: what, how made, licence, how to cite, secrecy."""
    secrecy = descriptor["secretStatistique"]
    resources = "\n".join(f"- `{r['path']}` : {r['title']} — {r['description']}" for r in descriptor["resources"])
    md = markdown_text  # what the CCAS typed (name, motif) is shown as text, never as Markdown or HTML
    lines = [
        f"# {md(descriptor['title'])}",
        "",
        f"Version {version} du {descriptor['created'][:10]}.",
        "",
        "## Ce que contiennent ces données",
        "",
        descriptor["description"],
        "",
        resources,
        "- `datapackage.json` : la description du paquet (format Frictionless Data Package), avec le schéma de chaque table.",
        "- `CITATION.cff` : la citation, lisible par les logiciels de bibliographie.",
        "",
        "## Comment elles sont produites",
        "",
        f"{md(publisher.nom)} tient un registre de ses accompagnements, ateliers et formations. Chaque année, l'outil "
        "ccas-opendata lit ce registre sur le poste de l'agent, retire les identités et le texte libre, remplace "
        "l'identifiant de la personne par un pseudonyme, réduit les dates au mois et les âges à des tranches, "
        "calcule les indicateurs décrits dans `definitions.csv`, applique le secret statistique puis contrôle "
        "les tables avant publication. Les données individuelles ne quittent jamais le CCAS.",
        "",
        "## Secret statistique",
        "",
        secrecy["methode"],
        "",
        f"Seuil : {secrecy['seuil']} personnes distinctes ; largeur de protection : {secrecy['largeurProtection']}. "
        "Le rapport de risque est dans `risque.json`. Une révision ne publie pas un chiffre modifié par moins de "
        "personnes que le seuil, et l'audit tient compte de la version précédente.",
        "",
        "## Versions",
        "",
    ]
    lines += [f"- {e['version']} ({e['date']}) : {md(e['motif'])}" for e in history] or [f"- {version} : première publication"]
    lines += [
        "",
        "Chaque version reste téléchargeable sous son propre nom (`" + zip_name(year, "X.Y.Z") + "`) et ne change plus "
        "une fois publiée ; `" + zip_name(year) + "` est toujours la version en cours.",
        "",
        "## Licence",
        "",
        f"{publisher.licence_info['title']} ({publisher.licence_info['path']}).",
        "",
        "## Citer ces données",
        "",
        md(citation_text(publisher, descriptor, year, version)),
        "",
        f"Contact : {md(publisher.contact)}",
        "",
        "## Cellules de texte",
        "",
        descriptor.get("cellulesDeTexte", CELL_RULE),
        "",
    ]
    return "\n".join(lines)


def _yaml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid YAML double-quoted scalar


def citation_cff(publisher: Publisher, descriptor: dict, year: int, version: str) -> str:
    """The citation of one version: it points at the data (the year's downloads and this
    version's zip, which never changes), not at the organisation's home page."""
    licence = publisher.licence_info["name"]
    urls = SiteUrls(publisher.base_url)
    archive = urls.absolute(f"/{DOWNLOADS}/{zip_name(year, version)}")
    lines = [
        "cff-version: 1.2.0",
        f"message: {_yaml_string('Si vous utilisez ces données, merci de les citer ainsi.')}",
        "type: dataset",
        f"title: {_yaml_string(descriptor['title'])}",
        f"version: {_yaml_string(version)}",
        f"date-released: {_yaml_string(descriptor['created'][:10])}",
        "authors:",
        f"  - name: {_yaml_string(publisher.nom)}",
        f"    email: {_yaml_string(publisher.contact)}",
        *([f"    website: {_yaml_string(publisher.site_web)}"] if publisher.site_web else []),
        f"url: {_yaml_string(urls.absolute(f'/{DOWNLOADS}#annee-{year}'))}",
        f"repository-artifact: {_yaml_string(archive)}",
        "identifiers:",
        "  - type: url",
        f"    value: {_yaml_string(archive)}",
        f"    description: {_yaml_string(f'Archive de la version {version} (ne change jamais)')}",
        f"license: {_yaml_string(licence)}",
        f"abstract: {_yaml_string(descriptor['description'])}",
        "keywords:",
        *[f"  - {_yaml_string(k)}" for k in descriptor.get("keywords", [])],
    ]
    return "\n".join(lines) + "\n"


def write_zip(target: Path, package: Path, publisher: Publisher, history: list[dict]) -> None:
    """The zip of one version of a year: the package's files, README.md, CITATION.cff."""
    descriptor = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
    year, version = int(package.name), str(descriptor["version"])
    moment = _zip_time(descriptor["created"])
    entries = {path.name: path.read_bytes() for path in sorted(package.iterdir()) if path.is_file()}
    entries["README.md"] = readme(publisher, descriptor, year, version, history).encode("utf-8")
    entries["CITATION.cff"] = citation_cff(publisher, descriptor, year, version).encode("utf-8")
    with zipfile.ZipFile(target, "w") as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=moment)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, entries[name], compresslevel=9)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def stage_downloads(
    target: Path,
    current: Path,
    new_packages: list[Path],
    publisher: Publisher,
    changelog: list[dict],
    current_versions: dict[int, tuple[str, str]],
) -> None:
    """Write the downloads folder a release will swap in: every zip already published
    (unchanged: copied, never rewritten), a zip for each new version, the aliases of the
    current versions and the manifest. ``current_versions``: year -> (version, created)."""
    target.mkdir(parents=True)
    if current.exists():
        for path in sorted(current.glob(f"{PREFIX}-*-v*.zip")):
            shutil.copy2(path, target / path.name)
    for package in new_packages:
        descriptor = json.loads((package / "datapackage.json").read_text(encoding="utf-8"))
        year, version = int(package.name), str(descriptor["version"])
        path = target / zip_name(year, version)
        if not path.exists():  # a version once published never changes
            history = [e for e in changelog if e["annee"] == year and e["horodatage"] <= descriptor["created"]]
            write_zip(path, package, publisher, history)
    files = []
    urls = SiteUrls(publisher.base_url)  # ``url``: the link a page or a reuser follows, sub-path included
    for year, (version, _) in sorted(current_versions.items()):
        shutil.copy2(target / zip_name(year, version), target / zip_name(year))
    dates = {(e["annee"], e["version"]): e["date"] for e in changelog}
    for path in sorted(target.glob(f"{PREFIX}-*.zip")):
        stem = path.name.removeprefix(PREFIX + "-").removesuffix(".zip")
        year_text, _, version_text = stem.partition("-v")
        year = int(year_text)
        version = version_text or current_versions[year][0]
        files.append(
            {
                "annee": year,
                "version": version,
                "fichier": path.name,
                "url": urls.path(f"/{DOWNLOADS}/{path.name}"),
                "octets": path.stat().st_size,
                "sha256": sha256_of(path),
                "date": dates.get((year, version), current_versions.get(year, (version, "0000-00-00"))[1][:10]),
                "courant": version == current_versions.get(year, ("", ""))[0],
            }
        )
    (target / MANIFEST).write_text(json.dumps({"fichiers": files}, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def published_in_zip(path: Path) -> pd.DataFrame:
    """The ``indicateurs`` table of a version, as its zip holds it."""
    with zipfile.ZipFile(path) as archive:
        return read_published_bytes(archive.read("indicateurs.csv"))


def read_manifest(directory: Path) -> list[dict]:
    path = directory / MANIFEST
    return list(json.loads(path.read_text(encoding="utf-8"))["fichiers"]) if path.exists() else []
