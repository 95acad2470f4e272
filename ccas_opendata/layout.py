"""The publication folder's layout: one object names every path in it.

A publication folder holds ``metadata/`` (written by the CCAS), ``datapackages/``,
``publish/``, ``telechargements/`` and ``changements.json`` (written by releases),
``.travail/`` (the private work area, never published, removed after a successful
release) and ``.versions/`` (the private records of every published version, kept for
revisions). Stages ask :class:`Layout` for a path instead of joining the folder's name
with theirs, so a folder's shape is read in one place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: The tool's own metadata, used where a folder has none of its own.
DEFAULTS_DIR = Path(__file__).resolve().parent / "defaults"

WORK_AREA = ".travail"
VERSIONS_AREA = ".versions"
# Private areas: the work area, and the records of every published version. Owner-only,
# dot-named, never published.
PRIVATE_AREAS = (WORK_AREA, VERSIONS_AREA)
#: The folder of the downloadable archives, also their path on the site.
DOWNLOADS = "telechargements"
CHANGELOG = "changements.json"
PUBLISHED_TABLE = "indicateurs.csv"
DESCRIPTOR = "datapackage.json"
RISK_REPORT = "risque.json"
CATALOGUE = "indicateurs.yml"
#: Where the site serves each year's Data Docs (``publish/static/qualite/AAAA/``).
SITE_QUALITY_DOCS = Path("static", "qualite")


@dataclass(frozen=True)
class Layout:
    """The named paths of one publication folder."""

    folder: Path

    @property
    def metadata(self) -> Path:
        return self.folder / "metadata"

    @property
    def catalogue(self) -> Path:
        """The folder's own indicator catalogue, or the one shipped with the tool."""
        own = self.metadata / CATALOGUE
        return own if own.exists() else DEFAULTS_DIR / CATALOGUE

    @property
    def datapackages(self) -> Path:
        return self.folder / "datapackages"

    def package(self, year: int) -> Path:
        """The published package of ``year``."""
        return self.datapackages / str(year)

    def published_table(self, year: int) -> Path:
        """The published ``indicateurs`` table of ``year``."""
        return self.package(year) / PUBLISHED_TABLE

    def descriptor(self, year: int) -> Path:
        """The ``datapackage.json`` of ``year``: a year is published when it exists."""
        return self.package(year) / DESCRIPTOR

    def risk_report(self, year: int) -> Path:
        return self.package(year) / RISK_REPORT

    @property
    def publish(self) -> Path:
        """The site (a Datasette configuration folder)."""
        return self.folder / "publish"

    def quality_docs(self, year: int) -> Path:
        """The Data Docs of ``year`` on the site."""
        return self.publish / SITE_QUALITY_DOCS / str(year)

    @property
    def downloads(self) -> Path:
        return self.folder / DOWNLOADS

    @property
    def changelog(self) -> Path:
        """The changelog's data, kept at the root of the folder."""
        return self.folder / CHANGELOG

    @property
    def work(self) -> Path:
        """The private work area. Dot-named so that nothing serving the folder lists it."""
        return self.folder / WORK_AREA

    def year_work(self, year: int) -> Path:
        """The work area of one year's stages (``.travail/AAAA/``)."""
        return self.work / str(year)

    @property
    def versions(self) -> Path:
        return self.folder / VERSIONS_AREA

    def year_versions(self, year: int) -> Path:
        return self.versions / str(year)

    def snapshot(self, year: int, version: str) -> Path:
        """The private records a version of ``year`` was made from."""
        return self.year_versions(year) / version


def private_dir(path: Path) -> Path:
    """Create ``path`` (and its missing parents) and return it, with ``.travail`` and every
    folder below it on the way readable by the owner only (0700).

    The work area holds pseudonymised records and person counts: on a shared machine, or
    after a run killed before its clean-up, nobody else may read them. Folders that will
    be published (the staged package, the site, the Data Docs) are created by their stage
    with ordinary modes inside these private ones, so they keep ordinary modes once moved
    into place.
    """
    parts = path.parts
    areas = [n for n, part in enumerate(parts) if part in PRIVATE_AREAS]
    if not areas:
        path.mkdir(parents=True, exist_ok=True)
        return path
    start = areas[0]
    Path(*parts[:start]).mkdir(parents=True, exist_ok=True)
    for depth in range(start + 1, len(parts) + 1):
        directory = Path(*parts[:depth])
        directory.mkdir(mode=0o700, exist_ok=True)
        # mkdir's mode is masked by the umask and ignored for an existing folder
        # (one left by an older version): set it explicitly.
        directory.chmod(0o700)
    return path


def private_file(path: Path) -> Path:
    """Create (or empty) ``path`` readable by its owner only (0600) and return it.

    Writers that open an existing file (``open(path, "w")``, ``DataFrame.to_csv``,
    ``Path.write_text``) keep its mode, so the content written next stays private.
    """
    private_dir(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(descriptor)
    path.chmod(0o600)
    return path
