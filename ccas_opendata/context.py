"""The year being released: its folder, publisher, catalogue and year, carried through
every stage as one object (:class:`Context`), and what the folder already publishes.

The stages (:mod:`release`), the revision steps (:mod:`revision`) and what they call to
write a year (``package.package_year``, ``risk.risk_report``, ``publish.build_publish_dir``,
``site.render_site``) take a Context rather than publisher, catalogue and year in their own
order. Pure computations on frames (aggregation, secrecy, inference, the quality check
columns) keep their explicit arguments: they compute on frames, and the tests and benches
call them on frames no publication folder holds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .aggregate import MEASURES
from .anonymise import PERSON_KEY_RULE
from .catalogue import Catalogue, load_catalogue
from .errors import CcasError, ConfigurationError
from .intake import read_year_without_publisher
from .layout import DESCRIPTOR, Layout
from .package import read_published
from .publisher import Publisher, read_publisher
from .swap import recover
from .workarea import WorkArea

Progress = Callable[[str], None]


def quiet(_: str) -> None:
    """The default progress: a stage run from code says nothing."""


@dataclass
class Context:
    folder: Path
    year: int
    publisher: Publisher
    catalogue: Catalogue
    progress: Progress = quiet
    #: Rows of national exports dated outside the year, set aside by the ingest.
    set_aside: int = 0
    motif: str | None = None  # why a published year is revised (required when figures change)
    fingerprint: str | None = None  # of the pseudonymisation key, kept with the version's records
    #: The person-key rule of the year's pseudonyms (:func:`versions.year_rule`).
    person_rule: int = PERSON_KEY_RULE

    @property
    def layout(self) -> Layout:
        return Layout(self.folder)

    @property
    def work(self) -> WorkArea:
        """The year's private work area, with the names of what each stage leaves there."""
        return WorkArea(self.layout.year_work(self.year), self.year)

    def of_year(self, year: int) -> Context:
        """The same folder, publisher and catalogue for another year: the next year, whose
        evolutions a revision carries over."""
        return Context(self.folder, year, self.publisher, self.catalogue, self.progress)


def open_context(folder: Path, year: int, progress: Progress = quiet, motif: str | None = None, input_dir: Path | None = None) -> Context:
    """The year's context. With ``input_dir``, a configuration error is reported together
    with every problem of the input files (one run shows everything to fix)."""
    # Absolute from here on: GX's Data Docs and the swap renames need stable paths
    # whatever the current directory (``--dossier`` defaults to ".").
    folder = folder.resolve()
    recover(folder)  # a switch a killed run left half-done is finished before anything reads the folder
    try:
        publisher = read_publisher(folder)
    except ConfigurationError as error:
        if input_dir is None or not Layout(folder).metadata.is_dir():
            raise
        read_year_without_publisher(folder, year, input_dir, error)
        raise
    catalogue = load_catalogue(Layout(folder).catalogue, frozenset(MEASURES))
    motif = (motif or "").strip() or None
    if motif is not None and not Layout(folder).descriptor(year).exists():
        raise CcasError(
            f"L'année {year} n'est pas encore publiée : « --motif » ne sert qu'à réviser une année déjà en ligne.",
            advice="Retirez « --motif » pour une première publication.",
        )
    return Context(folder, year, publisher, catalogue, progress, motif=motif)


def published_years(folder: Path) -> list[int]:
    base = Layout(folder).datapackages
    if not base.exists():
        return []
    return sorted(int(p.name) for p in base.iterdir() if p.name.isdigit() and (p / DESCRIPTOR).exists())


def previous_table(folder: Path, year: int) -> pd.DataFrame | None:
    """Last year's published table, the base of ``evolution_*`` and of the cross-year audit."""
    path = Layout(folder).published_table(year - 1)
    return read_published(path) if path.exists() else None
