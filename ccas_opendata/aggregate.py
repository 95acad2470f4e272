"""Aggregate the anonymised records into the cells of the ``indicateurs`` table.

Every cell carries, besides its published columns, the number of distinct persons
behind it (``personnes``): the secrecy stage decides from it what may be published.
Nothing here hides anything; nothing here rounds counts.

A cell is identified by ``(periode, lieu, dimension, modalite)`` within its source
table; all the indicators of one source computed on the same cell share its secrecy.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .catalogue import Catalogue, Indicator
from .publisher import Publisher
from .correspondances import accepted_codes, labelled_integer
from .ingest.table import publisher_values
from .vocabulary import (
    NO,
    NOT_GIVEN,
    PUBLISHED_COLUMNS,
    PUBLISHED_KEY,
    YES,
    band_codes,
    column_of,
    columns,
    derived,
    extra_codes,
    multi_valued,
    thematiques_demarches,
    when_empty,
    yes_no_dimensions,
)
from .errors import ConfigurationError
from .granularity import PERIOD_COLUMN, Granularity, choose, coarsen

ENSEMBLE = "ensemble"
COLUMNS = PUBLISHED_COLUMNS
INTERNAL_COLUMNS = COLUMNS + ["source", "personnes", "dominance"]
KEY = [c for c in PUBLISHED_KEY if c != "indicateur"]

# Column of the anonymised table behind each dimension (multi-valued ones are exploded).
MULTI_VALUED = multi_valued()


def modalities(dimension: str, publisher: Publisher) -> list[str]:
    """Every modality of a dimension, in publication order: breakdowns list them all,
    zeros included, so that they add up to their total and keep the same shape each year.
    All from the contract (its codes, bands, yes/no codes, bounds) and the publisher's
    lists; a dimension no contract column enumerates raises KeyError."""
    if dimension in derived():
        return band_codes(dimension)
    if dimension in yes_no_dimensions():
        return [YES, NO, NOT_GIVEN]
    found = column_of(dimension)
    if found is None:
        raise KeyError(dimension)
    table, column = found
    spec = columns(table)[column]
    own = publisher_values(column, publisher, table)
    if own is not None:
        values = list(own)
    elif spec["type"] in ("code", "codes"):
        values = list(accepted_codes(table, column) or [])
    elif labelled_integer(column):  # a score (satisfaction: 1 to 5)
        values = [str(n) for n in range(spec["min"], spec["max"] + 1)]
    else:
        raise KeyError(dimension)
    values += [code for code in [when_empty(table, column)] if code is not None]
    return values if NOT_GIVEN in values or spec.get("required") else values + [NOT_GIVEN]


def lieux_of(source: str, publisher: Publisher) -> list[str]:
    return publisher.lieu_codes + extra_codes("lieu", source)


# --- statistics per group -------------------------------------------------------------


def rated_answers(catalogue: Catalogue) -> tuple[str, list[str], list[str]] | None:
    """(column, favourable codes, answered codes) of the satisfaction rate: the ``lien`` of
    the catalogue's ``taux_satisfaction`` indicators (the audit reads the same), or None
    when the catalogue has none. Two such indicators must say the same, as their cells
    come from one pair of counts."""
    links = {
        (i.lien["dimension"], tuple(i.lien["numerateur"]), tuple(i.lien["denominateur"]))
        for i in catalogue.indicators
        if i.mesure == "taux_satisfaction"
    }
    if len(links) > 1:
        raise ConfigurationError(
            "Les indicateurs « taux_satisfaction » du catalogue ne comptent pas les mêmes réponses.",
            advice="Donnez-leur le même « lien » (dimension, numerateur, denominateur) dans metadata/indicateurs.yml.",
        )
    if not links:
        return None
    column, favourable, answered = links.pop()
    return column, list(favourable), list(answered)


def _prepare_accompagnements(frame: pd.DataFrame, rated: tuple[str, list[str], list[str]] | None) -> pd.DataFrame:
    frame = frame.assign(pid=pd.factorize(frame["personne"])[0])
    demarches = "|".join(sorted(thematiques_demarches()))
    frame["demarche"] = frame["thematiques"].str.contains(rf"(?:^|\|)(?:{demarches})(?:\||$)", regex=True)
    if rated is not None:
        column, favourable, answered = rated
        frame["sat_rep"] = frame[column].isin(answered)
        frame["sat_fav"] = frame[column].isin(favourable)
    else:
        frame["sat_rep"] = frame["sat_fav"] = False
    return frame


# What the statistics read: a multi-valued breakdown explodes only these columns.
STAT_COLUMNS = [
    "_tout",
    "mois",
    PERIOD_COLUMN,
    "lieu",
    "pid",
    "duree",
    "demarche",
    "sat_rep",
    "sat_fav",
    "qpv",
    "participants",
    "inscrits",
    "presents",
]


def _explode(frame: pd.DataFrame, dimension: str) -> pd.DataFrame:
    """One row per (record, code) of a multi-valued column. The codes are split once
    per distinct combination and joined back on the category code: splitting a
    million strings costs seconds, a few hundred combinations nothing."""
    values = frame[MULTI_VALUED[dimension]].astype("category")
    combinations = values.cat.categories
    pairs = pd.DataFrame(
        [(i, code) for i, combination in enumerate(combinations) for code in str(combination).split("|") if code],
        columns=["_combinaison", dimension],
    )
    slim = frame[[c for c in STAT_COLUMNS if c in frame]].assign(_combinaison=values.cat.codes.to_numpy())
    exploded = slim.merge(pairs, on="_combinaison", how="inner", sort=False).drop(columns="_combinaison")
    exploded[dimension] = exploded[dimension].astype("category")
    return exploded


@dataclass
class Grouping:
    """One breakdown of a source: the group columns and how they map onto the key."""

    ventilation: str
    dimension: str  # "ensemble" for ventilations without dimension
    period: str = "mois"  # the column of the chosen period level (``_periode`` when coarser)

    def by(self) -> list[str]:
        by = {
            "annee": ["_tout"],
            "mois": [self.period],
            "lieu": ["lieu"],
            "dimensions": [self.dimension],
            "lieu_dimensions": ["lieu", self.dimension],
        }
        return by[self.ventilation]


class GroupStats:
    """Statistics of one source per grouping, computed once and shared by indicators."""

    def __init__(
        self,
        source: str,
        frame: pd.DataFrame,
        granularity: Granularity | None = None,
        rated: tuple[str, list[str], list[str]] | None = None,
    ):
        self.source = source
        frame = frame.assign(_tout=ENSEMBLE)
        frame = _prepare_accompagnements(frame, rated) if source == "accompagnements" else frame
        # Coarsened after the satisfaction flags are read from the 1-to-5 answers.
        self.frame = coarsen(frame, source, granularity) if granularity is not None else frame
        self._exploded: dict[str, pd.DataFrame] = {}
        self._cache: dict[tuple[str, str, str], pd.Series] = {}
        self._persons: dict[tuple[str, str], pd.DataFrame] = {}
        self._groupbys: dict[tuple[str, str], Any] = {}
        self._orders: dict[str, np.ndarray] = {}

    def complement_persons(self, grouping: Grouping, index: pd.Index) -> pd.Series:
        """For a multi-valued breakdown, the persons behind each modality's complement: the
        group's records without that code, a group a reader gets by subtracting the cell
        from its total (for workshops, the participations, as everywhere for them)."""
        cached = (grouping.ventilation, grouping.dimension, "complement")
        if cached not in self._cache:
            self._cache[cached] = self._complement_persons(grouping, index)
        return self._cache[cached]

    def _complement_persons(self, grouping: Grouping, index: pd.Index) -> pd.Series:
        dimension = grouping.dimension
        outer = [c for c in grouping.by() if c != dimension] or ["_tout"]
        exploded = self._frame_for(grouping)
        if self.source == "accompagnements":
            (outer_column,) = outer  # « _tout » or « lieu »: one column beside the code
            only, everyone = _persons_only_with_code(exploded, self.frame, outer_column, dimension)
        else:
            only = exploded.assign(_tout=ENSEMBLE).groupby([*outer, dimension], observed=True)["participants"].sum()
            everyone = self.frame.groupby(outer, observed=True)["participants"].sum()
        only = only.droplevel(0) if grouping.ventilation == "dimensions" else only
        full = pd.Series(0, index=index).add(only.reindex(index).fillna(0), fill_value=0)
        group_of = [ENSEMBLE] * len(index) if grouping.ventilation == "dimensions" else list(index.get_level_values(0))
        return pd.Series(everyone.reindex(group_of).fillna(0).to_numpy() - full.to_numpy(), index=index)

    def _person_order(self, grouping: Grouping) -> np.ndarray:
        """The records of the grouping's frame in person order, sorted once per frame."""
        name = grouping.dimension if grouping.dimension in MULTI_VALUED else ""
        if name not in self._orders:
            self._orders[name] = person_order(self._frame_for(grouping)["pid"].to_numpy())
        return self._orders[name]

    def _frame_for(self, grouping: Grouping) -> pd.DataFrame:
        if grouping.dimension in MULTI_VALUED:
            if grouping.dimension not in self._exploded:
                self._exploded[grouping.dimension] = _explode(self.frame, grouping.dimension)
            return self._exploded[grouping.dimension]
        return self.frame

    def get(self, grouping: Grouping, stat: str) -> pd.Series:
        key = (grouping.ventilation, grouping.dimension, stat)
        if key not in self._cache:
            frame = self._frame_for(grouping)
            if stat in PERSON_STATS:
                group = (grouping.ventilation, grouping.dimension)
                if group not in self._persons:
                    self._persons[group] = _person_table(frame, grouping.by())
                self._cache[key] = _per_group(PERSON_STATS[stat](self._persons[group]))
            elif stat in GROUPED_STATS or stat in ("personnes", "dominance"):
                group = (grouping.ventilation, grouping.dimension)
                if group not in self._groupbys:
                    # Only the grouping being computed keeps its groupby: each holds its
                    # records' group numbers (8 bytes a record, twice that for an exploded
                    # breakdown), 380 MiB for the 35 groupings of a million records, and an
                    # indicator asks all it needs of a grouping in a row.
                    self._groupbys = {group: _grouped(frame, grouping.by())}
                if stat in GROUPED_STATS:
                    self._cache[key] = GROUPED_STATS[stat](self._groupbys[group], frame)
                else:  # persons and dominance share one sort of (group, person)
                    runs = person_runs(
                        self._groupbys[group],
                        frame["pid"].to_numpy(),
                        frame["duree"].to_numpy() if "duree" in frame else None,
                        self._person_order(grouping),
                    )
                    for name, series in runs.items():
                        self._cache[(grouping.ventilation, grouping.dimension, name)] = series
            else:
                self._cache[key] = STATS[stat](frame, grouping.by(), self._person_order(grouping))
        return self._cache[key]


def _persons_only_with_code(exploded: pd.DataFrame, frame: pd.DataFrame, outer: str, dimension: str) -> tuple[pd.Series, pd.Series]:
    """Per (``outer`` group, code): the persons all of whose records in the group carry the
    code (they are not in the code's complement); and the distinct persons per group.

    Counted on packed integers (group, code, person) with one sort each, not with pandas
    group-bys on three keys and a merge (a million records: ~3 s of CPU, measured)."""

    def codes(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
        if isinstance(column.dtype, pd.CategoricalDtype) and not column.hasnans:
            return column.cat.codes.to_numpy().astype(np.int64), column.cat.categories
        found, labels = pd.factorize(column)
        return found.astype(np.int64), pd.Index(labels)

    if outer == "_tout":
        out_e, out_f, out_labels = np.zeros(len(exploded), np.int64), np.zeros(len(frame), np.int64), pd.Index([ENSEMBLE])
    else:
        both = pd.concat([frame[outer].astype(object), exploded[outer].astype(object)], ignore_index=True)
        found, out_labels = codes(both)
        out_f, out_e = found[: len(frame)], found[len(frame) :]
    code_e, code_labels = codes(exploded[dimension])
    pid_e, pid_f = exploded["pid"].to_numpy().astype(np.int64), frame["pid"].to_numpy().astype(np.int64)
    # A missing key (code -1) is in no group, as a group-by drops it.
    kept_e, kept_f = (out_e >= 0) & (code_e >= 0), out_f >= 0
    out_e, code_e, pid_e, out_f, pid_f = out_e[kept_e], code_e[kept_e], pid_e[kept_e], out_f[kept_f], pid_f[kept_f]
    persons = int(max(pid_f.max(initial=-1), pid_e.max(initial=-1))) + 1
    n_codes = len(code_labels)
    group_person, total = np.unique(out_f * persons + pid_f, return_counts=True)
    cell_person, with_code = np.unique((out_e * n_codes + code_e) * persons + pid_e, return_counts=True)
    cell = cell_person // persons
    of_group_person = (cell // n_codes) * persons + cell_person % persons
    all_records = with_code == total[np.searchsorted(group_person, of_group_person)]
    cells, only_counts = np.unique(cell[all_records], return_counts=True)
    groups, everyone_counts = np.unique(group_person // persons, return_counts=True)
    only = pd.Series(
        only_counts, index=pd.MultiIndex.from_arrays([out_labels[cells // n_codes], code_labels[cells % n_codes]], names=[outer, dimension])
    )
    return only, pd.Series(everyone_counts, index=pd.Index(out_labels[groups], name=outer))


def _grouped(frame: pd.DataFrame, by: list[str]):
    return frame.groupby(by if len(by) > 1 else by[0], observed=True, sort=False)


def _person_table(frame: pd.DataFrame, by) -> pd.DataFrame:
    """One row per person and group: visits, and whether their first record is in a QPV."""
    ordered = frame[list(dict.fromkeys(by + ["pid", "mois", "qpv"]))].sort_values("mois", kind="stable")
    persons = ordered.groupby(by + ["pid"], observed=True, sort=False).agg(visites=("pid", "size"), qpv=("qpv", "first"))
    return persons.reset_index(level="pid", drop=True)


def _per_group(flags: pd.Series) -> pd.Series:
    return flags.groupby(level=list(range(flags.index.nlevels)), sort=False).sum()


# Statistics over persons rather than records: computed from one person table per grouping.
PERSON_STATS: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "personnes_plusieurs": lambda p: p["visites"] > 1,
    "personnes_une_visite": lambda p: p["visites"] == 1,
    "personnes_qpv_connu": lambda p: p["qpv"] != NOT_GIVEN,
    "personnes_qpv": lambda p: p["qpv"] == "oui",
    "personnes_hors_qpv": lambda p: p["qpv"] == "non",
}


def distinct_per_group(groups, values: np.ndarray, by_person: np.ndarray | None = None) -> pd.Series:
    """Distinct non-negative integers per group (``nunique``, without hashing a million
    values per breakdown)."""
    return person_runs(groups, values, None, by_person)["personnes"]


def _group_ids(groups) -> np.ndarray:
    """Each record's group number, as ``ngroup()`` numbers them. ``ngroup()`` rebuilds an
    indexed Series (0.1 s a million records, ×47 groupings); the grouper already holds
    the array. Its attribute is private: where a pandas lacks it, ``ngroup()``."""
    ids = getattr(getattr(groups, "_grouper", None), "ids", None)
    if ids is None or len(ids) != len(groups.obj):
        ids = groups.ngroup().to_numpy()
    return np.asarray(ids).astype(np.int64)


def person_order(pid: np.ndarray) -> np.ndarray:
    """The records in person order (stable): sorted once per frame, shared by every grouping."""
    return np.argsort(pid, kind="stable")


def person_runs(groups, pid: np.ndarray, minutes: np.ndarray | None, by_person: np.ndarray | None = None) -> dict[str, pd.Series]:
    """Per group, from the records sorted by (group, person): the distinct persons, and
    the largest part of the group's records (or of its minutes, whichever is larger) due
    to a single person, which the dominance rule reads.

    ``by_person`` (:func:`person_order` of ``pid``) is the one O(n log n) sort, shared by
    every grouping of a frame: each grouping then only reorders it by its group number,
    a stable radix sort on 16-bit integers (linear), and gets the very order a sort of
    packed (group, person) integers gives, so every sum runs in the same order."""
    ids = _group_ids(groups)
    n_groups = groups.ngroups
    index = groups.size().index
    if not len(ids):
        return {
            "personnes": pd.Series(np.zeros(n_groups, dtype=np.int64), index=index),
            "dominance": pd.Series(np.zeros(n_groups), index=index),
        }
    base = int(pid.max()) + 1
    packed = ids * base + pid.astype(np.int64)
    if n_groups < 2**15:
        by_person = person_order(pid) if by_person is None else by_person
        order = by_person[np.argsort(ids[by_person].astype(np.int16), kind="stable")]
    else:
        order = np.argsort(packed, kind="stable")
    ordered = packed[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    owner = ordered[starts] // base
    # Runs are in group order: each group's runs are contiguous (max per group by reduceat,
    # not the unbuffered and ~10× slower ``np.maximum.at``).
    first_run = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    share = np.zeros(n_groups)
    weights = [np.ones(len(ids))] + ([minutes.astype("float64")] if minutes is not None else [])
    for weight in weights:
        per_person = np.add.reduceat(weight[order], starts)
        top = np.zeros(n_groups)
        top[owner[first_run]] = np.maximum.reduceat(per_person, first_run)
        total = np.bincount(ids, weights=weight, minlength=n_groups)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.maximum(share, np.where(total > 0, top / total, 0.0))
    return {"personnes": pd.Series(np.bincount(owner, minlength=n_groups), index=index), "dominance": pd.Series(share, index=index)}


# Statistics read from a cached groupby of the grouping's frame.
GROUPED_STATS: dict[str, Callable[[Any, pd.DataFrame], pd.Series]] = {
    "n": lambda g, f: g.size(),
    "duree_moyenne": lambda g, f: g["duree"].mean(),
    "duree_mediane": lambda g, f: g["duree"].median(),
    "n_demarche": lambda g, f: g["demarche"].sum(),
    "sat_rep": lambda g, f: g["sat_rep"].sum(),
    "sat_fav": lambda g, f: g["sat_fav"].sum(),
    "participants": lambda g, f: g["participants"].sum(),
    "inscrits": lambda g, f: g["inscrits"].sum(),
    "presents": lambda g, f: g["presents"].sum(),
}


# Statistics over a subset of the records.
def _persons_where(frame: pd.DataFrame, by: list[str], rows: pd.Series, by_person: np.ndarray | None = None) -> pd.Series:
    """Distinct persons per group among ``rows``. The subset's person order is read off
    the frame's (``by_person``): its rows, in that order, renumbered (no new sort)."""
    subset = frame[rows]
    order = None
    if by_person is not None:
        keep = rows.to_numpy(dtype=bool)
        order = (np.cumsum(keep) - 1)[by_person[keep[by_person]]]
    return distinct_per_group(_grouped(subset, by), subset["pid"].to_numpy(), order)


STATS: dict[str, Callable[[pd.DataFrame, list[str], np.ndarray | None], pd.Series]] = {
    "personnes_sat": lambda f, by, o: _persons_where(f, by, f["sat_rep"], o),
    "personnes_sat_fav": lambda f, by, o: _persons_where(f, by, f["sat_fav"], o),
    "personnes_sat_autre": lambda f, by, o: _persons_where(f, by, f["sat_rep"] & ~f["sat_fav"], o),
    "personnes_demarche": lambda f, by, o: _persons_where(f, by, f["demarche"], o),
    "personnes_hors_demarche": lambda f, by, o: _persons_where(f, by, ~f["demarche"], o),
}


# --- measures ---------------------------------------------------------------------------


def _ratio(num: pd.Series, den: pd.Series, factor: float = 100.0) -> pd.Series:
    den = den.astype("float64")
    return num.astype("float64") / den.where(den > 0) * factor


@dataclass(frozen=True)
class Measure:
    """How a measure computes a value and the persons behind it from group statistics.

    ``persons`` names the statistic that counts who stands behind the figure: distinct
    persons for individual accompaniments, participations for workshops, registrations
    for trainings (collective figures that describe no individual).
    """

    value: Callable[[Callable[[str], pd.Series]], pd.Series]
    persons: str
    needs_usager: bool = False
    is_count: bool = False
    # A share's numerator and its complement are groups of persons too: their persons
    # statistics, each of which must be zero or reach the threshold.
    split: tuple[str, str] | None = None


PERSONS_OF_SOURCE = {"accompagnements": "personnes", "ateliers": "participants", "formations": "inscrits"}

MEASURES: dict[str, Measure] = {
    "nombre": Measure(lambda s: s("n"), "@source", is_count=True),
    "part": Measure(lambda s: s("n"), "@source"),  # divided by its parent in aggregate()
    "personnes": Measure(lambda s: s("personnes"), "personnes", needs_usager=True, is_count=True),
    "part_personnes_plusieurs_visites": Measure(
        lambda s: _ratio(s("personnes_plusieurs"), s("personnes")),
        "personnes",
        needs_usager=True,
        split=("personnes_plusieurs", "personnes_une_visite"),
    ),
    "moyenne_duree": Measure(lambda s: s("duree_moyenne"), "personnes"),
    "mediane_duree": Measure(lambda s: s("duree_mediane"), "personnes"),
    "part_demarches": Measure(
        lambda s: _ratio(s("n_demarche"), s("n")), "personnes", split=("personnes_demarche", "personnes_hors_demarche")
    ),
    "part_personnes_qpv": Measure(
        lambda s: _ratio(s("personnes_qpv"), s("personnes_qpv_connu")),
        "personnes_qpv_connu",
        needs_usager=True,
        split=("personnes_qpv", "personnes_hors_qpv"),
    ),
    "taux_satisfaction": Measure(
        lambda s: _ratio(s("sat_fav"), s("sat_rep")), "personnes_sat", split=("personnes_sat_fav", "personnes_sat_autre")
    ),
    "evolution": Measure(lambda s: s("n"), "@source"),  # compared with last year in aggregate()
    "somme_participants": Measure(lambda s: s("participants"), "@source", is_count=True),
    "moyenne_participants": Measure(lambda s: _ratio(s("participants"), s("n"), 1.0), "@source"),
    "somme_inscrits": Measure(lambda s: s("inscrits"), "@source", is_count=True),
    "somme_presents": Measure(lambda s: s("presents"), "@source", is_count=True),
    "taux_presence": Measure(lambda s: _ratio(s("presents"), s("inscrits")), "@source"),
}


def share_parent(periode: str, lieu: str, dimension: str, year: int) -> tuple[str, str, str, str]:
    """The cell a share is taken of: a modality's parent is its lieu's total; a month's
    or a site's parent is the year's total. Used by aggregation and by the audit alike."""
    if dimension != ENSEMBLE:
        return (periode, lieu, ENSEMBLE, ENSEMBLE)
    return (str(year), ENSEMBLE, ENSEMBLE, ENSEMBLE)


def _groupings(indicator: Indicator, granularity: Granularity | None = None) -> list[Grouping]:
    """The breakdowns of an indicator at the year's granularity: a site × modality
    breakdown the year cannot carry is left out."""
    granularity = granularity or Granularity()
    coarse = granularity.period_level(indicator.source) != "mois"
    out: list[Grouping] = []
    for ventilation in indicator.ventilations:
        if ventilation in ("dimensions", "lieu_dimensions"):
            out.extend(
                Grouping(ventilation, d)
                for d in indicator.dimensions
                if not (ventilation == "lieu_dimensions" and d in granularity.without_sites)
            )
        else:
            out.append(Grouping(ventilation, ENSEMBLE, PERIOD_COLUMN if coarse and ventilation == "mois" else "mois"))
    return out


def expected_keys(
    indicator: Indicator, publisher: Publisher, year: int, granularity: Granularity | None = None
) -> list[tuple[str, str, str, str]]:
    """Every cell key an indicator has in a year where its figure is defined: a reader
    who sees a row missing knows that its denominator is zero."""
    keys: list[tuple[str, str, str, str]] = []
    for grouping in _groupings(indicator, granularity):
        columns = _key_columns(_full_index(grouping, indicator.source, publisher, year, granularity), grouping, year)
        keys += list(zip(columns["periode"], columns["lieu"], columns["dimension"], columns["modalite"]))
    return keys


def _full_index(grouping: Grouping, source: str, publisher: Publisher, year: int, granularity: Granularity | None = None) -> pd.Index:
    """Every group a breakdown must show, empty ones included, at the year's granularity."""
    granularity = granularity or Granularity()
    months = granularity.periods_of(source, year)
    lieux = lieux_of(source, publisher)
    if grouping.ventilation == "annee":
        return pd.Index([ENSEMBLE])
    if grouping.ventilation == "mois":
        return pd.Index(months, name="mois")
    if grouping.ventilation == "lieu":
        return pd.Index(lieux, name="lieu")
    mods = granularity.modalities_of(grouping.dimension, modalities(grouping.dimension, publisher))
    if grouping.ventilation == "dimensions":
        return pd.Index(mods, name=grouping.dimension)
    return pd.MultiIndex.from_product([lieux, mods], names=["lieu", grouping.dimension])


def _key_columns(index: pd.Index, grouping: Grouping, year: int) -> dict[str, list[str]]:
    n = len(index)
    periode, lieu, dimension, modalite = [str(year)] * n, [ENSEMBLE] * n, [ENSEMBLE] * n, [ENSEMBLE] * n
    if grouping.ventilation == "mois":
        periode = list(index)
    elif grouping.ventilation == "lieu":
        lieu = list(index)
    elif grouping.ventilation == "dimensions":
        dimension, modalite = [grouping.dimension] * n, list(index)
    elif grouping.ventilation == "lieu_dimensions":
        lieu = list(index.get_level_values(0))
        dimension, modalite = [grouping.dimension] * n, list(index.get_level_values(1))
    return {"periode": periode, "lieu": lieu, "dimension": dimension, "modalite": modalite}


def aggregate(
    tables: dict[str, pd.DataFrame],
    publisher: Publisher,
    catalogue: Catalogue,
    year: int,
    previous: pd.DataFrame | None = None,
    every_breakdown: bool = False,
    granularity: Granularity | None = None,
) -> pd.DataFrame:
    """All the cells of the year, unprotected: published columns plus ``source`` and
    ``personnes``. ``previous`` is last year's published table (for ``evolution``).
    ``every_breakdown`` keeps the breakdowns the records say nothing about (a revision
    counts the persons behind every cell of the records that changed, see :mod:`versions`).
    ``granularity`` is the level of each breakdown (:mod:`granularity`); by default the
    finest the records carry (the finest of all for ``every_breakdown``)."""
    has_usager = bool(tables["accompagnements"]["usager_connu"].any())
    if not has_usager and not publisher.sans_identifiant_personne:
        raise ConfigurationError(
            "Les accompagnements n'ont pas de colonne « usager » (identifiant de la personne) : l'outil ne peut pas "
            "compter les personnes distinctes, et une personne venue douze fois compterait pour douze.",
            advice="Ajoutez la colonne « usager » (le numéro de dossier, par exemple ; il n'est jamais publié), ou "
            "déclarez « sans_identifiant_personne: oui » dans metadata/organisation.yml : seuls les chiffres sur "
            "les accompagnements seront publiés, avec le seuil « seuil_sans_identifiant ».",
        )
    unknown = {source: set() if every_breakdown else unknown_dimensions(frame) for source, frame in tables.items()}
    if not has_usager:  # a dimension describing the person would weigh a frequent visitor many times
        unknown["accompagnements"] |= {code for code, d in catalogue.dimensions.items() if d.personne}
    if granularity is None and not every_breakdown:
        threshold = publisher.seuil_secret if has_usager else publisher.seuil_sans_identifiant
        granularity = choose(tables, catalogue, threshold)
    rated = rated_answers(catalogue)
    stats = {source: GroupStats(source, frame, granularity, rated) for source, frame in tables.items()}
    parts: list[pd.DataFrame] = []

    for indicator in catalogue.indicators:
        measure = MEASURES[indicator.mesure]
        if indicator.source not in stats or (measure.needs_usager and not has_usager):
            continue
        source_stats = stats[indicator.source]
        persons_stat = PERSONS_OF_SOURCE[indicator.source] if measure.persons == "@source" else measure.persons
        for grouping in _groupings(indicator, granularity):
            if grouping.dimension in unknown[indicator.source]:
                continue  # the records say nothing about it: no breakdown to publish
            index = _full_index(grouping, indicator.source, publisher, year, granularity)

            def stat(name: str, grouping=grouping, index=index, source_stats=source_stats) -> pd.Series:
                return source_stats.get(grouping, name).reindex(index)

            value = measure.value(stat)
            if measure.is_count:
                value = value.fillna(0)
            persons = stat(persons_stat).fillna(0).astype("int64")
            if measure.split:
                persons = _smallest_group(persons, *(stat(name).fillna(0).astype("int64") for name in measure.split))
            if grouping.dimension in MULTI_VALUED:
                persons = _smallest_group(persons, source_stats.complement_persons(grouping, index).astype("int64"))
            cells = pd.DataFrame(_key_columns(index, grouping, year))
            cells["valeur"] = value.to_numpy(dtype="float64")
            cells["personnes"] = persons.to_numpy()
            cells["dominance"] = stat("dominance").fillna(0).to_numpy() if indicator.source == "accompagnements" else 0.0
            parts.append(cells.assign(indicateur=indicator.code, unite=indicator.unite, source=indicator.source))

    frame = pd.concat(parts, ignore_index=True)
    frame = _finish_shares(frame, catalogue, year)
    frame = finish_evolutions(frame, catalogue, previous, year)
    frame["valeur"] = round_figures(frame, catalogue)
    frame["annee"] = year
    frame["secret"] = ""
    # Undefined ratios (nobody answered, nothing to divide by) are not figures: no row.
    frame = frame[frame["valeur"].notna()].reset_index(drop=True)
    return frame[INTERNAL_COLUMNS]


def _smallest_group(persons: pd.Series, *groups: pd.Series) -> pd.Series:
    """The persons behind a figure: its own, and those of every group a reader can derive
    from it (a share's numerator and complement, a multi-valued cell's complement) where
    that group is not empty (an empty group describes nobody, like a zero count)."""
    sides = [persons] + [side.where(side > 0, persons) for side in groups]
    return pd.concat(sides, axis=1).min(axis=1).astype("int64")


def round_figures(frame: pd.DataFrame, catalogue: Catalogue) -> pd.Series:
    """Counts stay exact; shares, rates, means and minutes are rounded half up to 0.1.
    Rounding happens here, once, so the secrecy audit reasons on the published figures."""
    counts = {i.code for i in catalogue.indicators if MEASURES[i.mesure].is_count}
    values = frame["valeur"].astype("float64")
    rounded = np.floor(values * 10 + 0.5) / 10
    return values.where(frame["indicateur"].isin(counts), rounded)


def unknown_dimensions(frame: pd.DataFrame) -> set[str]:
    """Dimensions on which every record is « non communiqué » (column absent or empty):
    a breakdown of them would only restate the total."""
    unknown = set()
    for column in frame.columns:
        dimension = {v: k for k, v in MULTI_VALUED.items()}.get(column, column)
        values = frame[column]
        if values.dtype.kind not in "biuf" and len(values) and values.nunique(dropna=False) == 1 and values.iloc[0] == NOT_GIVEN:
            unknown.add(dimension)
    return unknown


def _lookup(frame: pd.DataFrame, code: str) -> pd.Series:
    rows = frame[frame["indicateur"] == code]
    return pd.Series(rows["valeur"].to_numpy(), index=pd.MultiIndex.from_frame(rows[KEY]))


def _finish_shares(frame: pd.DataFrame, catalogue: Catalogue, year: int) -> pd.DataFrame:
    for indicator in catalogue.indicators:
        if indicator.mesure != "part":
            continue
        base = _lookup(frame, indicator.lien["de"])
        mask = frame["indicateur"] == indicator.code
        parents = [share_parent(p, l, d, year) for p, l, d in frame.loc[mask, ["periode", "lieu", "dimension"]].itertuples(index=False)]
        den = base.reindex(pd.MultiIndex.from_tuples(parents, names=KEY)).to_numpy(dtype="float64")
        # An empty cell is 0 % of a non-empty total: its row is published like the zero
        # count, so that a missing share always means an empty total.
        num = np.nan_to_num(frame.loc[mask, "valeur"].to_numpy(dtype="float64"))
        with np.errstate(divide="ignore", invalid="ignore"):
            frame.loc[mask, "valeur"] = np.where(den > 0, num / den * 100, np.nan)
    return frame


def previous_published(previous: pd.DataFrame, code: str, year: int) -> pd.Series:
    """Last year's published (not hidden) figures of ``code``, keyed by this year's cell
    key (``2023`` read as ``2024``, ``2023-05`` as ``2024-05``). Used by the evolutions
    and by the audit, so both read last year the same way."""
    prev = previous[(previous["indicateur"] == code) & (previous["secret"].fillna("") == "")].copy()
    prev["periode"] = prev["periode"].astype(str).str.replace(str(year - 1), str(year), regex=False)
    return pd.Series(prev["valeur"].astype("float64").to_numpy(), index=pd.MultiIndex.from_frame(prev[KEY].astype(str)))


def finish_evolutions(
    frame: pd.DataFrame,
    catalogue: Catalogue,
    previous: pd.DataFrame | None,
    year: int,
    current: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The ``evolution`` rows of ``frame`` computed from their ``lien.de`` figure: this
    year's in ``current`` (``frame`` itself during aggregation; the published table when
    a revision recomputes the next year's evolutions), last year's as published. The one
    implementation: aggregation and :func:`revision.recompute_evolutions` both call it."""
    current = frame if current is None else current
    for indicator in catalogue.indicators:
        if indicator.mesure != "evolution":
            continue
        mask = frame["indicateur"] == indicator.code
        if previous is None or previous.empty:
            frame.loc[mask, "valeur"] = np.nan
            continue
        keys = pd.MultiIndex.from_frame(frame.loc[mask, KEY].astype(str))
        frame.loc[mask, "valeur"] = evolution_values(indicator, keys, current, previous, year)
    return frame


def evolution_values(indicator: Indicator, keys: pd.MultiIndex, current: pd.DataFrame, previous: pd.DataFrame, year: int) -> np.ndarray:
    """(figure of ``lien.de`` this year / its published figure last year − 1) × 100 for each
    key; undefined (NaN) where either is missing or last year's is zero or hidden. The
    figure compared is the one the catalogue names: records for ``accompagnements``,
    distinct persons for ``usagers``, whatever a new indicator's ``de`` is."""
    source = indicator.lien["de"]
    rows = current[current["indicateur"] == source]
    now = pd.Series(rows["valeur"].astype("float64").to_numpy(), index=pd.MultiIndex.from_frame(rows[KEY].astype(str)))
    this_year = now.reindex(keys).to_numpy(dtype="float64")
    before = previous_published(previous, source, year).reindex(keys).to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(before > 0, (this_year / before - 1) * 100, np.nan)
