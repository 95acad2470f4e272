"""Detail that fits the volume: the granularity of each breakdown, chosen per year.

A small CCAS cannot publish 12 months, six age bands and every site × modality: most
cells would rest on fewer than ``seuil_secret`` persons, and secondary suppression would
hide the rest. Before suppressing, the release chooses, per breakdown, the finest level
the year's records can carry, among the levels the catalogue declares
(``metadata/indicateurs.yml``, ``granularite``), finest first:

- **periods**: months, then quarters (``AAAA-T1``…``AAAA-T4``), then semesters
  (``AAAA-S1``, ``AAAA-S2``), per source table;
- **dimensions**: the contract's modalities, then each coarser level the catalogue lists
  (age bands « moins de 25 ans », « 25 à 59 ans », « 60 ans et plus »; satisfaction 1 to 3
  together…), a level being a mapping of fine codes onto coarse ones;
- **site × modality**: published for a dimension only where at least ``part_minimale`` of
  its non-empty site cells reach the threshold.

A level is carried when every non-empty cell of the whole CCAS reaches the threshold; when
none is, the coarsest is taken. The choice reads the records before any suppression, in a
fixed order: the same records give the same granularity. A revision keeps the granularity
of the version online (:func:`of_table` reads it back from the published table), so two
versions of a year always publish the same cells.

Why not publish every level: a quarter beside its months and the year lets a reader
subtract; the reader's model (:mod:`inference`) holds every level a table publishes and the
relations between them (a quarter is the sum of its months, a coarse band the sum of its
fine bands), so the audit refuses a table where that would give a hidden cell away.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .catalogue import Catalogue
from .errors import ConfigurationError

MONTHS = "mois"
FINEST = "detail"
#: The level of a ``periode`` that names the whole year (``2024``).
YEAR = "annee"


@dataclass(frozen=True)
class Level:
    """One level of a breakdown: ``groups`` maps each coarse code onto the fine codes it
    merges (months ``01``…``12`` for periods); a code no group lists stays as it is."""

    code: str
    libelle: str
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    def coarse(self, code: str) -> str:
        for group, parts in self.groups.items():
            if code in parts:
                return group
        return code

    def codes(self, fine: list[str]) -> list[str]:
        """The level's codes, in the order of the fine codes they merge."""
        return list(dict.fromkeys(self.coarse(c) for c in fine))


@dataclass(frozen=True)
class Rules:
    """The catalogue's ``granularite``: the levels of each breakdown, finest first."""

    periods: tuple[Level, ...]
    dimensions: dict[str, tuple[Level, ...]]
    site_share: float
    sources: tuple[str, ...] = ()  # the tables whose granularity is chosen

    def period_level(self, code: str) -> Level:
        return next(level for level in self.periods if level.code == code)

    def level_of_period(self, period: object) -> str | None:
        """The level a ``periode`` code is published at: :data:`YEAR` for ``2024``,
        :data:`MONTHS` for ``2024-05``, the catalogue's level for ``2024-T2`` or ``2024-S1``;
        ``None`` for a code of no level (the published suite reports it)."""
        head = str(period)[:4]
        if not head.isdigit():
            return None
        if is_year(period):
            return YEAR if str(period) == head else None
        for level in self.periods:
            if str(period) in periods(self, level.code, int(head)):
                return level.code
        return None

    def dimension_level(self, dimension: str, code: str) -> Level:
        return next(level for level in self.dimensions.get(dimension, (Level(FINEST, ""),)) if level.code == code)


def rules(catalogue: Catalogue) -> Rules:
    spec = catalogue.granularite or {}
    periods = [Level(MONTHS, "mois")]
    for entry in spec.get("periodes") or []:
        periods.append(_level(entry))
    dimensions = {
        dimension: (Level(FINEST, "détail"), *(_level(entry) for entry in levels))
        for dimension, levels in (spec.get("dimensions") or {}).items()
    }
    return Rules(
        tuple(periods),
        dimensions,
        float((spec.get("lieu_dimensions") or {}).get("part_minimale", 0.0)),
        tuple(spec.get("sources") or ()),
    )


def _level(entry: dict) -> Level:
    groups = {str(code): tuple(str(c) for c in group["modalites"]) for code, group in (entry.get("groupes") or {}).items()}
    for code, members in groups.items():
        if code in members:
            # A reader could not tell the merged cell from the fine one it is named after.
            raise ConfigurationError(
                f"indicateurs.yml, granularite, niveau « {entry['niveau']} » : le groupe « {code} » porte le code d'une modalité qu'il regroupe."
            )
    labels = {str(code): str(group["libelle"]) for code, group in (entry.get("groupes") or {}).items()}
    return Level(str(entry["niveau"]), str(entry["libelle"]), groups, labels)


@dataclass(frozen=True)
class Granularity:
    """What a year publishes: the period level per source, the level per dimension, and the
    dimensions whose site × modality breakdown is left out. Empty: the finest everywhere."""

    periods: tuple[tuple[str, str], ...] = ()  # (source, level) where not months
    dimensions: tuple[tuple[str, str], ...] = ()  # (dimension, level) where not the contract's
    without_sites: tuple[str, ...] = ()  # dimensions whose site × modality cells are not published
    rules: Rules | None = field(default=None, compare=False)

    def period_level(self, source: str) -> str:
        return dict(self.periods).get(source, MONTHS)

    def periods_of(self, source: str, year: int) -> list[str]:
        if self.rules is None:
            return periods(Rules((Level(MONTHS, "mois"),), {}, 0.0), MONTHS, year)
        return periods(self.rules, self.period_level(source), year)

    def modalities_of(self, dimension: str, fine: list[str]) -> list[str]:
        level = self.dimension_level(dimension)
        if level == FINEST or self.rules is None:
            return fine
        return self.rules.dimension_level(dimension, level).codes(fine)

    def dimension_level(self, dimension: str) -> str:
        return dict(self.dimensions).get(dimension, FINEST)

    @property
    def finest(self) -> bool:
        return not (self.periods or self.dimensions or self.without_sites)


def is_year(period: object) -> bool:
    """A ``periode`` code names the whole year (``2024``), not a sub-period (``2024-05``,
    ``2024-T2``, ``2024-S1``): every sub-period is the year, a dash and its part."""
    return "-" not in str(period)


def year_rows(periods: pd.Series) -> pd.Series:
    """:func:`is_year` over a ``periode`` column."""
    return ~periods.astype(str).str.contains("-", regex=False)


def periods(rules: Rules, level: str, year: int) -> list[str]:
    """The ``periode`` codes of a level: ``AAAA-MM`` for months, ``AAAA-<group>`` otherwise."""
    if level == MONTHS:
        return [f"{year}-{m:02d}" for m in range(1, 13)]
    return [f"{year}-{group}" for group in rules.period_level(level).groups]


def period_of_month(rules: Rules, level: str, month: str) -> str:
    """``2024-05`` read at a level: ``2024-T2`` for quarters."""
    if level == MONTHS:
        return month
    return f"{month[:4]}-{rules.period_level(level).coarse(month[5:])}"


def sub_periods(rules: Rules, year: int) -> list[tuple[str, list[str]]]:
    """Each coarse period with the months it is made of: the relations a reader holding
    both levels can write."""
    out = []
    for level in rules.periods[1:]:
        for group, months in level.groups.items():
            out.append((f"{year}-{group}", [f"{year}-{m}" for m in months]))
    return out


PERIOD_COLUMN = "_periode"


def coarsen(frame: pd.DataFrame, source: str, granularity: Granularity) -> pd.DataFrame:
    """The records as the chosen levels read them: a ``_periode`` column (the month at
    the period level; ``mois`` itself is kept, the first visit of a person is read from it)
    and each coarsened dimension's codes mapped onto the level's."""
    rules = granularity.rules
    if granularity.finest or rules is None:
        return frame
    frame = frame.copy()
    level = granularity.period_level(source)
    if "mois" in frame and level != MONTHS:
        frame[PERIOD_COLUMN] = frame["mois"].astype(str).map(lambda m: period_of_month(rules, level, m))
    for dimension, code in granularity.dimensions:
        if dimension in frame:
            mapping = rules.dimension_level(dimension, code)
            frame[dimension] = frame[dimension].astype(str).map(mapping.coarse)
    return frame


# --- the choice --------------------------------------------------------------------------------


def _persons(frame: pd.DataFrame, source: str, by: list[str]) -> pd.Series:
    """Who stands behind each group, as the secrecy counts them: distinct persons for
    accompaniments, participations for workshops, registrations for trainings."""
    if source == "accompagnements":
        return frame.groupby(by, observed=True)["personne"].nunique()
    column = "participants" if source == "ateliers" else "inscrits"
    return frame.groupby(by, observed=True)[column].sum()


def _coded(column: pd.Series, level) -> np.ndarray:
    """The group number of each record once ``column``'s codes are read through ``level``
    (a function of the code as text): what ``column.astype(str).map(level)`` groups by,
    with ``level`` called once per distinct code rather than once per record, and integers
    to group on rather than strings (a million records: seconds of CPU per candidate level)."""
    if isinstance(column.dtype, pd.CategoricalDtype) and not column.hasnans:
        codes, distinct = column.cat.codes.to_numpy(), column.cat.categories.astype(str)
    else:
        codes, distinct = pd.factorize(column.astype(str))
    return pd.factorize(pd.Index([level(code) for code in distinct], dtype=object))[0][codes]


def _carried(persons: pd.Series, threshold: int) -> bool:
    nonzero = persons[persons > 0]
    return bool((nonzero >= threshold).all())


def choose(
    tables: dict[str, pd.DataFrame], catalogue: Catalogue, threshold: int, explode=None, every_dimension: set[str] | None = None
) -> Granularity:
    """The finest level of each breakdown the year's records carry (see the module's doc).

    ``explode(frame, dimension)`` gives one row per (record, code) of a multi-valued
    dimension (by default the aggregation's own), for the site × modality test."""
    from .aggregate import MULTI_VALUED  # here: the aggregation imports this module

    if explode is None:
        from .aggregate import _explode as explode
    spec = rules(catalogue)
    # Persons as integers, once: every candidate level counts distinct persons again.
    tables = {
        source: frame.assign(personne=pd.factorize(frame["personne"])[0]) if "personne" in frame else frame
        for source, frame in tables.items()
    }
    chosen_periods: list[tuple[str, str]] = []
    for source in sorted(s for s in tables if s in spec.sources):
        frame = tables[source]
        if "mois" not in frame or not any(i.source == source and "mois" in i.ventilations for i in catalogue.indicators):
            continue
        period_level = spec.periods[-1].code
        for candidate in spec.periods:
            grouped = frame.assign(_p=_coded(frame["mois"], lambda m, c=candidate.code: period_of_month(spec, c, m)))
            if _carried(_persons(grouped, source, ["_p"]), threshold):
                period_level = candidate.code
                break
        if period_level != MONTHS:
            chosen_periods.append((source, period_level))

    records = tables.get("accompagnements") if "accompagnements" in spec.sources else None
    chosen_levels: list[tuple[str, str]] = []
    levels_of: dict[str, Level] = {}
    for dimension, levels in sorted(spec.dimensions.items()):
        if records is None or dimension not in records:
            continue
        picked = levels[-1]
        for option in levels:
            grouped = records.assign(_m=_coded(records[dimension], option.coarse))
            if _carried(_persons(grouped, "accompagnements", ["_m"]), threshold):
                picked = option
                break
        levels_of[dimension] = picked
        if picked.code != FINEST:
            chosen_levels.append((dimension, picked.code))

    without_sites: list[str] = []
    if records is not None and spec.site_share > 0:
        site_dimensions = sorted(
            {d for i in catalogue.indicators if i.source == "accompagnements" and "lieu_dimensions" in i.ventilations for d in i.dimensions}
        )
        for dimension in site_dimensions:
            if dimension in MULTI_VALUED:
                frame = explode(records.assign(pid=records["personne"]), dimension)
                persons = frame.groupby(["lieu", dimension], observed=True)["pid"].nunique()
            elif dimension in records:
                found = levels_of.get(dimension)
                frame = records.assign(_m=_coded(records[dimension], found.coarse if found else str))
                persons = _persons(frame, "accompagnements", ["lieu", "_m"])
            else:
                continue
            nonzero = persons[persons > 0]
            if len(nonzero) and (nonzero >= threshold).mean() < spec.site_share:
                without_sites.append(dimension)
    return Granularity(tuple(chosen_periods), tuple(chosen_levels), tuple(without_sites), spec)


def of_table(table: pd.DataFrame, catalogue: Catalogue, year: int) -> Granularity:
    """The granularity a published table shows (what a revision keeps): its periods, the
    level of each dimension's codes, the dimensions without site × modality cells."""
    spec = rules(catalogue)
    table = table[table["annee"].astype(int) == year]
    sources = {i.code: i.source for i in catalogue.indicators}
    chosen_periods = []
    totals = table[(table["dimension"] == "ensemble") & (table["lieu"] == "ensemble")]
    for source in sorted(set(sources.values())):
        shown = set(totals.loc[totals["indicateur"].map(sources) == source, "periode"].astype(str))
        for level in spec.periods[1:]:
            if any(p in shown for p in periods(spec, level.code, year)):
                chosen_periods.append((source, level.code))
                break
    chosen_levels = []
    for dimension, levels in sorted(spec.dimensions.items()):
        shown = set(table.loc[table["dimension"] == dimension, "modalite"].astype(str))
        for level in levels[1:]:
            if any(code in shown for code in level.groups):
                chosen_levels.append((dimension, level.code))
                break
    site_dimensions = sorted(
        {d for i in catalogue.indicators if i.source == "accompagnements" and "lieu_dimensions" in i.ventilations for d in i.dimensions}
    )
    with_sites = set(table.loc[table["lieu"] != "ensemble", "dimension"].astype(str))
    published = set(table["dimension"].astype(str))
    without = [d for d in site_dimensions if d in published and d not in with_sites]
    return Granularity(tuple(chosen_periods), tuple(chosen_levels), tuple(without), spec)


# --- in French, for the package and /methode --------------------------------------------------


def describe(granularity: Granularity, catalogue: Catalogue) -> str:
    """The year's granularity in words a resident understands (empty when every breakdown
    is at its finest): written in the package's description and on ``/methode``."""
    spec = granularity.rules or rules(catalogue)
    parts = []
    for source, level in granularity.periods:
        groups = spec.period_level(level)
        parts.append(f"les {source} sont publiés par {groups.libelle} (période AAAA-{'/'.join(groups.groups)}) et non par mois")
    for dimension, level in granularity.dimensions:
        found = spec.dimension_level(dimension, level)
        merged = " ; ".join(f"« {found.labels[g]} » ({g}) regroupe {', '.join(m)}" for g, m in found.groups.items())
        parts.append(f"la dimension {dimension} est publiée en {found.libelle} : {merged}")
    if granularity.without_sites:
        parts.append(
            "les dimensions "
            + ", ".join(granularity.without_sites)
            + " ne sont publiées que pour l'ensemble du CCAS, pas lieu par lieu (la plupart de leurs cases lieu par lieu "
            "compteraient moins de personnes que le seuil)"
        )
    if not parts:
        return ""
    return (
        "Détail adapté au volume de l'année : pour que la plupart des chiffres puissent être publiés sans "
        "permettre de reconnaître personne, " + " ; ".join(parts) + "."
    )


def labels(catalogue: Catalogue) -> dict[tuple[str, str], str]:
    """(dimension, coarse code) -> French label, for the ``modalites`` table."""
    spec = rules(catalogue)
    return {(d, code): text for d, levels in spec.dimensions.items() for level in levels for code, text in level.labels.items()}
