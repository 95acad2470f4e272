"""Statistical secrecy: decide what may be published, and prove it before publishing.

The method, in four steps (documented for citizens on ``/methode`` and in the risk report):

1. **Primary secrecy.** A figure is hidden when fewer than ``seuil_secret`` distinct
   persons stand behind it (one person with fifteen visits is one person). For a share,
   its numerator and its complement are groups of persons too, and must each be empty or
   reach the threshold. Zero counts describe nobody and stay published. **Dominance**: a
   cell where one person accounts for more than ``dominance_max`` of the accompaniments or
   of the minutes is hidden (a frequent visitor would otherwise be the figure). Where every
   person of a group falls in one category of a sensitive dimension (``situation``,
   ``autonomie``, ``orientation``), the whole breakdown is hidden for that group. Without a
   person identifier (declared in ``organisation.yml``) the threshold is
   ``seuil_sans_identifiant`` accompaniments and nothing describing persons is published.

2. **Propagation.** Every figure computed on a hidden count (share, mean, median,
   person count, evolution…) is hidden with it.

3. **Secondary suppression** works on the reader's model (:mod:`inference`): every
   relation a reader can derive from the catalogue, across sites, months, modalities,
   shares, means, evolutions and the secret flags. For each hidden count, smallest first,
   the reader's linear programme bounds it; while the interval of integers it leaves is
   narrower than ``largeur_protection``, one more published figure sharing a relation with
   it is hidden: the smallest cell of the lowest tier first (a site's modality, then a
   modality of the whole CCAS, then a site or month total, the year's total last), a
   derived figure before a count of the same tier. Hiding only widens intervals, so one
   pass suffices; the audit checks it. Every choice is ordered by value, then by name:
   the same input gives the same table under any hash seed.

4. **Audit.** :func:`audit` rebuilds the reader's model from the *published* table alone
   (with last year's published figures) and refuses
   the release if any hidden count can be placed in fewer than ``largeur_protection``
   integers. A published year is republished only if none of its figures changes
   (:func:`figures_changed`): the difference between two versions describes only the
   records that changed, which no threshold protects.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .aggregate import ENSEMBLE, KEY, previous_published
from .catalogue import Catalogue
from .config import Publisher
from .errors import SecrecyError
from .inference import Cell, Key, ReaderModel, add_table, integer_width, link_cells

PRIMARY, SECONDARY = "primaire", "secondaire"
SENSITIVE_IGNORED = {"non_communique"}
THIS, PREVIOUS = "publie", "annee_precedente"


# --- the reader's model of a table ------------------------------------------------------

def reader_model(
    table: pd.DataFrame,
    truth: pd.DataFrame | None,
    catalogue: Catalogue,
    publisher: Publisher,
    year: int,
    previous: pd.DataFrame | None = None,
) -> ReaderModel:
    """Everything a reader holding ``table`` and last year's published table can write
    down about the hidden counts. (Earlier versions of the same year need no place here:
    a year is republished only when its figures do not change, see
    :func:`figures_changed`.)"""
    model = ReaderModel()
    if previous is not None:
        _add_published_counts(model, previous, catalogue, PREVIOUS, year)
    add_table(model, table, catalogue, publisher, year, THIS, PREVIOUS if previous is not None else None, truth)
    return model


def _add_published_counts(model: ReaderModel, table: pd.DataFrame, catalogue: Catalogue, tag: str, year: int) -> None:
    """Last year's published counts, keyed by this year's cells: the constants this year's
    evolutions were computed from, read as the evolutions read them."""
    for code in catalogue.count_codes():
        for key, value in previous_published(table, code, year).items():
            model.values[(tag, code, key)] = float(value)


def is_narrow(interval: tuple[float, float], width: int) -> bool:
    return integer_width(*interval) < width


# --- audit ---------------------------------------------------------------------------------

@dataclass
class AuditResult:
    ok: bool
    hidden_cells: int
    failures: list[dict]
    width: int

    def as_dict(self) -> dict:
        """For the risk report: only how many cells were audited and whether it passed
        (a failed audit publishes nothing, so its intervals never leave the machine)."""
        return {"reussi": self.ok, "cases_masquees_auditees": self.hidden_cells, "largeur_protection": self.width}


def audit(
    table: pd.DataFrame,
    truth: pd.DataFrame | None,
    catalogue: Catalogue,
    publisher: Publisher,
    year: int,
    previous: pd.DataFrame | None = None,
) -> AuditResult:
    """Solve the reader's problem for every hidden count of the published table."""
    published = table[["annee", "periode", "lieu", "indicateur", "dimension", "modalite", "valeur", "unite", "secret"]]
    model = reader_model(published, truth, catalogue, publisher, year, previous)
    targets = sorted(c for c in model.hidden if c[0] == THIS)
    failures = []
    for cell, (low, high) in model.intervals(targets).items():
        _, code, (periode, lieu, dimension, modalite) = cell
        true = model.values.get(cell, math.nan)
        if is_narrow((low, high), publisher.largeur_protection):
            failures.append({
                "indicateur": code, "periode": periode, "lieu": lieu, "dimension": dimension, "modalite": modalite,
                "minimum": round(low, 2), "maximum": None if math.isinf(high) else round(high, 2),
                "exactement_recalculable": bool(high - low < 0.5),
            })
        elif not math.isnan(true) and not (low - 1e-6 <= true <= high + 1e-6):
            raise SecrecyError("Audit du secret : incohérence interne (une valeur vraie sort de l'intervalle calculé).")
    return AuditResult(not failures, len(targets), failures, publisher.largeur_protection)


# --- primary secrecy -------------------------------------------------------------------------

def primary_suppression(cells: pd.DataFrame, catalogue: Catalogue, threshold: int, dominance_max: float = 0.5) -> pd.Series:
    """Rows resting on fewer than ``threshold`` persons, or more than ``dominance_max`` due
    to one person. A figure on nobody (a zero count, its 0 % share) describes nobody and
    stays published."""
    dominated = cells["dominance"].fillna(0) > dominance_max if "dominance" in cells else False
    return ((cells["personnes"] > 0) & (cells["personnes"] < threshold)) | dominated


def homogeneous_groups(cells: pd.DataFrame, catalogue: Catalogue) -> set[tuple[str, str, str]]:
    """(periode, lieu, dimension) groups where every person with a known value of a
    sensitive dimension falls in one category."""
    sensitive = [d for d, spec in catalogue.dimensions.items() if spec.sensible]
    counts = cells[(cells["source"] == "accompagnements") & cells["indicateur"].isin(catalogue.additive_codes("accompagnements"))
                   & cells["dimension"].isin(sensitive) & (cells["valeur"] > 0) & ~cells["modalite"].isin(SENSITIVE_IGNORED)]
    sizes = counts.groupby(["periode", "lieu", "dimension"])["modalite"].nunique()
    return {tuple(k) for k in sizes[sizes == 1].index}


# --- secondary suppression ---------------------------------------------------------------------

def _tier(key: Key, year: int) -> int:
    periode, lieu, dimension, _ = key
    if dimension != ENSEMBLE:
        return 0 if lieu != ENSEMBLE else 1
    if periode == str(year) and lieu == ENSEMBLE:
        return 3
    return 2


class Suppressor:
    """Hides cells of one table on its reader's model, keeping figures and counts in step:
    a count hidden hides the source's other counts of the same cell and every derived
    figure computed from them."""

    def __init__(self, model: ReaderModel, catalogue: Catalogue, year: int, width: int):
        self.model, self.catalogue, self.year, self.width = model, catalogue, year, width
        self.counts_of_source = {s: catalogue.count_codes(s) for s in {i.source for i in catalogue.indicators}}
        self.dependents: dict[Cell, list[Cell]] = defaultdict(list)
        for figure in sorted(model.figures):
            tag, code, key = figure
            if tag != THIS:
                continue
            num, den, _ = link_cells(self.catalogue[code].lien, key, year)
            for family, k in num + den:
                self.dependents[(THIS, family, k)].append(figure)

    def hide_count(self, cell: Cell) -> list[Cell]:
        """Hide a count and its siblings; return the counts newly hidden."""
        _, family, key = cell
        added = []
        for sibling in self.counts_of_source[self.catalogue.source_of(family)]:
            other = (THIS, sibling, key)
            if other in self.model.values and other not in self.model.hidden:
                self.model.hidden.add(other)
                added.append(other)
        for count in [cell, *added]:
            for figure in self.dependents.get(count, []):
                self.model.hidden_figures.add(figure)
        return added

    def cost(self, cell: Cell) -> tuple:
        _, code, key = cell
        is_count = cell in self.model.values
        value = self.model.values[cell] if is_count else 0.0
        return (_tier(key, self.year), is_count, value == 0, value, code, key)

    def partner(self, cell: Cell, binding: list[int]) -> Cell | None:
        """The cheapest published figure to hide next, among the relations that bind
        ``cell`` (non-zero duals), else among those that involve it, else its component."""
        model = self.model
        _, component = model.component(cell)
        for pool in (binding, model.constraints_of(cell), component):
            candidates = set()
            for i in pool:
                constraint = model.constraints[i]
                if constraint.figure is not None and constraint.figure[0] == THIS:
                    candidates.add(constraint.figure)
                for _, c in constraint.terms:
                    if c[0] == THIS and c in model.values and c not in model.hidden:
                        candidates.add(c)
            if candidates:
                return min(candidates, key=self.cost)
        return None

    def protect(self, start: list[Cell]) -> None:
        queue = sorted(start, key=self.cost)
        done: set[Cell] = set()
        while queue:
            cell = queue.pop(0)
            if cell in done:
                continue
            done.add(cell)
            while True:
                interval, binding = self.model.solve(cell)
                if not is_narrow(interval, self.width):
                    break
                partner = self.partner(cell, binding)
                if partner is None:
                    _, code, key = cell
                    raise SecrecyError(
                        f"Secret statistique : impossible de protéger la case {code}/{'/'.join(key)} "
                        "par des suppressions secondaires."
                    )
                if partner in self.model.values:
                    newly = [partner, *self.hide_count(partner)]
                    queue = sorted(set(queue) | set(newly), key=self.cost)
                else:
                    self.model.hidden_figures.add(partner)


# --- re-releasing a published year ---------------------------------------------------------------

PUBLISHED_KEY = ["periode", "lieu", "indicateur", "dimension", "modalite"]


def figures_changed(before: pd.DataFrame, after: pd.DataFrame) -> int:
    """How many figures of a published version a new version would change (a value, a
    secret flag, a row added or removed). Anyone who kept the first version can take the
    difference, and it describes only the records that changed."""
    def figures(table: pd.DataFrame) -> pd.Series:
        value = table["valeur"].astype("float64").map(lambda v: "" if pd.isna(v) else repr(round(float(v), 6)))
        return pd.Series((value + "|" + table["secret"].fillna("").astype(str)).to_numpy(),
                         index=pd.MultiIndex.from_frame(table[PUBLISHED_KEY].astype(str)))
    old, new = figures(before), figures(after)
    joined = pd.concat([old.rename("avant"), new.rename("apres")], axis=1)
    return int((joined["avant"].fillna("∅") != joined["apres"].fillna("∅")).sum())


# --- protect -----------------------------------------------------------------------------------

@dataclass
class Protected:
    table: pd.DataFrame        # published columns plus ``source``, ``personnes`` and ``dominance``
    audit: AuditResult
    homogeneous: list[tuple[str, str, str]]


def protect(
    cells: pd.DataFrame,
    catalogue: Catalogue,
    publisher: Publisher,
    year: int,
    previous: pd.DataFrame | None = None,
    has_person_id: bool = True,
) -> Protected:
    """Apply primary, sensitive-attribute and secondary suppression, propagate to every
    derived figure, then audit the result. Raises SecrecyError when the audit fails."""
    truth = cells
    cells = cells.reset_index(drop=True)
    threshold = publisher.seuil_secret if has_person_id else publisher.seuil_sans_identifiant
    primary = primary_suppression(cells, catalogue, threshold, publisher.dominance_max)
    homogeneous = homogeneous_groups(cells, catalogue)
    in_homogeneous = pd.Series(
        [(p, l, d) in homogeneous for p, l, d in cells[["periode", "lieu", "dimension"]].itertuples(index=False)], index=cells.index
    ) if homogeneous else pd.Series(False, index=cells.index)
    cells["secret"] = np.where(primary | in_homogeneous, PRIMARY, "")

    published = cells.copy()
    published.loc[published["secret"] != "", "valeur"] = np.nan
    model = reader_model(published, truth, catalogue, publisher, year, previous)
    suppressor = Suppressor(model, catalogue, year, publisher.largeur_protection)
    # A primary count hides its cell's other counts and the figures computed from them.
    primary_counts = sorted(c for c in model.hidden if c[0] == THIS)
    for count in primary_counts:
        suppressor.hide_count(count)
    primary_cells = set(primary_counts)
    suppressor.protect(sorted(c for c in model.hidden if c[0] == THIS))

    # Write the model's decisions back into the table.
    hidden = {(code, key) for _, code, key in model.hidden if _ == THIS}
    hidden |= {(code, key) for tag, code, key in model.hidden_figures if tag == THIS}
    primary_keys = {(code, key) for _, code, key in primary_cells}
    keys = list(zip(cells["indicateur"], cells[KEY].itertuples(index=False, name=None)))
    newly = np.array([(code, key) in hidden for code, key in keys]) & (cells["secret"] == "").to_numpy()
    is_primary = np.array([(code, key) in primary_keys for code, key in keys])
    cells.loc[newly, "secret"] = np.where(is_primary[newly], PRIMARY, SECONDARY)
    cells = _add_missing_rows(cells, model, catalogue, year)
    cells.loc[cells["secret"] != "", "valeur"] = np.nan

    result = audit(cells, truth, catalogue, publisher, year, previous)
    if not result.ok:
        first = result.failures[0]
        raise SecrecyError(
            f"Audit du secret : {len(result.failures)} case(s) masquée(s) encadrée(s) à moins de "
            f"{publisher.largeur_protection} près, par exemple {first['indicateur']} / {first['periode']} / "
            f"{first['lieu']} / {first['dimension']} / {first['modalite']}."
        )
    return Protected(cells, result, sorted(homogeneous))


def _add_missing_rows(cells: pd.DataFrame, model: ReaderModel, catalogue: Catalogue, year: int) -> pd.DataFrame:
    """A derived figure that is undefined (nothing to divide by) has no row, which tells a
    reader its denominator is zero. Where that would give a hidden count back, the row is
    published as hidden instead."""
    rows = []
    for tag, code, key in sorted(model.hidden_figures):
        if tag != THIS or (tag, code, key) not in model.missing:
            continue
        indicator = catalogue[code]
        rows.append({"annee": year, "periode": key[0], "lieu": key[1], "indicateur": code, "dimension": key[2], "modalite": key[3],
                     "valeur": np.nan, "unite": indicator.unite, "secret": SECONDARY, "source": indicator.source,
                     "personnes": 0, "dominance": 0.0})
    if not rows:
        return cells
    return pd.concat([cells, pd.DataFrame(rows)], ignore_index=True)

