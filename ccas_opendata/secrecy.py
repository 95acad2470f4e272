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
   integers.

5. **Revisions freeze small changes.** A published year republished with different figures
   is a new version, and a reader may hold both: the difference between two versions is a
   table of the records that changed. The records of every published version are kept,
   pseudonymised, in the private ``.versions/`` folder; the revision aggregates the changed
   records (removed and added) into that *delta table* and protects it exactly like a
   publication (threshold, dominance, secondary suppression, audit). A figure whose delta
   the protected delta table publishes is revised; any other changed figure is **frozen**:
   the new version shows the value and the secret state of the version online, so nothing
   a reader can see moves (hiding it instead would turn exactly the late person's cells
   secret and give her profile away). The same holds against every earlier version still
   downloadable. Shares, means, medians and evolutions are frozen with any count they rest
   on (a median cannot be recomputed from published counts, and a share of a revised
   numerator over a frozen denominator would describe no set of records), and a share,
   rate, mean or median moves only when every count it rests on is revised: a frozen count
   looks like one no record changed, and the share of the second moving beside the share
   of the first held still would tell them apart. The reader's
   model holds both versions: the version online with its own relations (its own frozen
   figures as unknowns), each count of a cell no record changed tied to its new value (the
   reader is assumed to know which cells did not change), every frozen or hidden figure of
   the new version as an unknown, and, for a cell changed by too few persons, the
   difference between the versions as one more unknown that must stay
   ``largeur_protection`` wide. Secondary suppression and the audit work on that model; a
   figure secondary suppression picks in a revision is frozen too when the version online
   has it.

One public symbol: every hidden figure is published with ``secret`` = ``secret``, whatever
the rule that hid it (``primaire``/``secondaire`` would tell a reader which cells hold 1 to
``seuil_secret`` − 1 persons, an interval narrower than ``largeur_protection``). The rule
per cell (:attr:`Protected.reasons`) stays in the private work area.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .aggregate import ENSEMBLE, KEY, previous_published
from .catalogue import Catalogue
from .publisher import Publisher
from .vocabulary import NOT_GIVEN, PUBLISHED_COLUMNS, PUBLISHED_KEY
from .errors import SecrecyError
from .inference import Cell, Constraint, Key, ReaderModel, add_table, integer_width, link_cells

PRIMARY, SECONDARY = "primaire", "secondaire"  # private reasons, never published
FROZEN = "gel"  # private reason: a revision kept the version online's figure
SECRET = "secret"  # the one public symbol of a hidden figure
SENSITIVE_IGNORED = {NOT_GIVEN}
THIS, PREVIOUS = "publie", "annee_precedente"
EARLIER, DIFFERENCE = "version_en_ligne", "difference_de_versions"


@dataclass
class Revision:
    """What a reader holding the version online can combine with the new one (and, in
    ``older``, the earlier versions still downloadable, each with its own changed persons)."""

    published: pd.DataFrame  # the version online, published columns (as a reader sees them)
    changed_persons: dict[tuple[str, Key], int]  # (indicator, key) -> distinct persons whose records changed
    threshold: int
    older: list[Revision] = field(default_factory=list)
    #: The changed records (removed and added) aggregated like a year: the delta table.
    delta: pd.DataFrame | None = None
    #: Figures this version kept frozen from an earlier one (private, kept with its records):
    #: their published value is not the value of this version's records.
    frozen: set[tuple[str, Key]] = field(default_factory=set)

    def changed(self, code: str, key: Key) -> int:
        return self.changed_persons.get((code, key), 0)

    def every_version(self) -> list[Revision]:
        return [self, *self.older]

    def modelled(self) -> pd.DataFrame:
        """The version as the reader's model holds it: a figure it kept frozen is an
        unknown of its records (the value shown belongs to an earlier version)."""
        table = self.published.copy()
        if self.frozen:
            keys = list(zip(table["indicateur"], table[KEY].astype(str).itertuples(index=False, name=None)))
            mask = np.array([k in self.frozen for k in keys])
            table.loc[mask, "secret"] = SECRET
            table.loc[mask, "valeur"] = np.nan
        return table


# --- the reader's model of a table ------------------------------------------------------


def reader_model(
    table: pd.DataFrame,
    truth: pd.DataFrame | None,
    catalogue: Catalogue,
    publisher: Publisher,
    year: int,
    previous: pd.DataFrame | None = None,
    revision: Revision | None = None,
) -> ReaderModel:
    """Everything a reader holding ``table``, last year's published table and, for a
    revision, the version online can write down about the hidden counts."""
    model = ReaderModel()
    if previous is not None:
        _add_published_counts(model, previous, catalogue, PREVIOUS, year)
    add_table(model, table, catalogue, publisher, year, THIS, PREVIOUS if previous is not None else None, truth)
    if revision is not None:
        _add_version_online(model, revision, catalogue, publisher, year)
    return model


def _add_version_online(model: ReaderModel, revision: Revision, catalogue: Catalogue, publisher: Publisher, year: int) -> None:
    """The version online beside the new one. Its own relations hold (its evolutions are
    left out: they were read against a version of last year that may have changed since).
    A count no record changed is the same in both versions; a count changed by too few
    persons gets its difference as an unknown, audited like a hidden count."""
    add_table(model, revision.modelled(), catalogue, publisher, year, EARLIER)
    for cell in sorted(c for c in model.values if c[0] == THIS):
        _, code, key = cell
        earlier = (EARLIER, code, key)
        if earlier not in model.values or cell in model.latent:
            continue  # a count neither version publishes (a fine cell behind a coarse one): unknown in both
        changed = revision.changed(code, key)
        if changed == 0:
            model.add(Constraint(((1.0, cell), (-1.0, earlier)), 0.0, True))
        elif changed < revision.threshold and (model.is_variable(cell) or model.is_variable(earlier)):
            difference = (DIFFERENCE, code, key)
            model.latent.add(difference)
            model.lower[difference] = -math.inf
            model.add(Constraint(((1.0, difference), (-1.0, cell), (1.0, earlier)), 0.0, True))


def known_from_version_online(model: ReaderModel, revision: Revision | None) -> set[Cell]:
    """This version's counts that the version online published and no record changed:
    the reader knows them whether they are hidden now or not."""
    if revision is None:
        return set()
    known = set()
    for cell in model.values:
        tag, code, key = cell
        earlier = (EARLIER, code, key)
        if tag == THIS and earlier in model.values and not model.is_variable(earlier) and revision.changed(code, key) == 0:
            known.add(cell)
    return known


def audit_targets(model: ReaderModel, revision: Revision | None = None) -> list[Cell]:
    """The unknowns that must stay wide: the hidden counts of both versions and the
    differences between versions that too few persons made. A count hidden now but
    published, unchanged, in the version online is no secret: it is left out."""
    known = known_from_version_online(model, revision)
    return sorted(
        [c for c in model.hidden if c[0] == EARLIER or (c[0] == THIS and c not in known)] + [c for c in model.latent if c[0] == DIFFERENCE]
    )


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
    revision: Revision | None = None,
) -> AuditResult:
    """Solve the reader's problem for every hidden count of the published table (and, for
    a revision, of the version online and of the differences between the two)."""
    published = table[PUBLISHED_COLUMNS]
    model = reader_model(published, truth, catalogue, publisher, year, previous, revision)
    targets = audit_targets(model, revision)
    failures = []
    for cell, (low, high) in model.intervals(targets).items():
        tag, code, (periode, lieu, dimension, modalite) = cell
        true = model.values.get(cell, math.nan)
        if is_narrow((low, high), publisher.largeur_protection):
            failures.append(
                {
                    "version": tag,
                    "indicateur": code,
                    "periode": periode,
                    "lieu": lieu,
                    "dimension": dimension,
                    "modalite": modalite,
                    "minimum": round(low, 2),
                    "maximum": None if math.isinf(high) else round(high, 2),
                    "exactement_recalculable": bool(high - low < 0.5),
                }
            )
        elif not math.isnan(true) and not (low - 1e-6 <= true <= high + 1e-6):
            raise SecrecyError("Audit du secret : incohérence interne (une valeur vraie sort de l'intervalle calculé).")
    # The risk report counts this version's hidden cells, whatever else the revision audited.
    return AuditResult(not failures, sum(1 for t in targets if t[0] == THIS), failures, publisher.largeur_protection)


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
    counts = cells[
        (cells["source"] == "accompagnements")
        & cells["indicateur"].isin(catalogue.additive_codes("accompagnements"))
        & cells["dimension"].isin(sensitive)
        & (cells["valeur"] > 0)
        & ~cells["modalite"].isin(SENSITIVE_IGNORED)
    ]
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

    def __init__(self, model: ReaderModel, catalogue: Catalogue, year: int, width: int, known: set[Cell] | None = None):
        self.model, self.catalogue, self.year, self.width = model, catalogue, year, width
        self.known = known or set()  # counts the reader reads in the version online: hiding them protects nothing
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
        value = 0.0 if math.isnan(value) else value  # the version online's hidden counts: truth unknown
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
                    if c[0] == THIS and c in model.values and c not in model.hidden and c not in self.known:
                        candidates.add(c)
            if candidates:
                return min(candidates, key=self.cost)
        return None

    def protect(self, start: list[Cell]) -> None:
        queue = sorted(start, key=self.cost)
        done: set[Cell] = set()
        while queue:
            cell = queue.pop(0)
            if cell in done or cell in self.known:
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
                        f"Secret statistique : impossible de protéger la case {code}/{'/'.join(key)} par des suppressions secondaires."
                    )
                if partner in self.model.values:
                    newly = [partner, *self.hide_count(partner)]
                    queue = sorted(set(queue) | set(newly), key=self.cost)
                else:
                    self.model.hidden_figures.add(partner)


# --- re-releasing a published year ---------------------------------------------------------------


def publishable_deltas(
    revision: Revision, catalogue: Catalogue, publisher: Publisher, year: int, has_person_id: bool
) -> set[tuple[str, Key]]:
    """The counts whose change the protected delta table publishes: the counts of the
    delta table (the changed records, removed and added, aggregated like a year) run
    through the same protection as a publication. What two versions let a reader
    subtract are counts; a share, mean or median of the changed records is no
    difference of published figures and is left out. A delta that cannot be protected
    publishes nothing."""
    if revision.delta is None or revision.delta.empty:
        return set()
    counts = revision.delta[revision.delta["indicateur"].isin(catalogue.count_codes())]
    try:
        delta = protect(counts, catalogue, publisher, year, None, has_person_id, fixed_zeros=True).table
    except SecrecyError:
        return set()
    delta = delta[delta["secret"] == ""]
    return set(zip(delta["indicateur"], delta[KEY].astype(str).itertuples(index=False, name=None)))


def _rests_on_latent(catalogue: Catalogue, key: tuple[str, Key], year: int) -> bool:
    num, den, _ = link_cells(catalogue[key[0]].lien, key[1], year)
    return any(family in catalogue.latents for family, _ in num + den)


def _moves_with_its_counts(
    catalogue: Catalogue, key: tuple[str, Key], year: int, version: Revision, publishable: set[tuple[str, Key]], count_codes: set[str]
) -> bool:
    """Whether a derived figure may show its new value: only when every published count
    it is computed from is revised (changed, and its change published by the delta table).

    Why: a frozen count and a count no record changed look the same (both show the value
    online), and must stay alike through the figures computed from them. A site's total
    revised by a correction of 11 persons or more moves every share of that site; the share
    of a modality nobody late falls in would move with it, while the shares of the
    modalities with a few late persons (frozen counts) would not: the shares that stay put
    would name the late persons' small modalities. So a share whose numerator is not
    revised keeps the value online, as does a satisfaction rate or a median with any of
    the counts it rests on not revised (what ``/methode`` promises: a share, mean, median
    or evolution is corrected only when every figure it depends on is). An evolution is
    left to its own rule: beside its count, it rests on last year's published figure,
    which a revision of last year may move while every count of this year stays."""
    link = catalogue[key[0]].lien
    if link.get("type") == "evolution":
        return True
    num, den, _ = link_cells(link, key[1], year)
    return all(version.changed(*count) > 0 and count in publishable for count in num + den if count[0] in count_codes)


def frozen_by_delta(
    cells: pd.DataFrame, revision: Revision, catalogue: Catalogue, publisher: Publisher, year: int, has_person_id: bool
) -> set[tuple[str, Key]]:
    """Figures a revision keeps frozen: changed since a version still downloadable (the
    one online or an earlier one), shown differently there (value or secret state), and
    whose change that version's protected delta table would not publish (a count), or
    that fewer than the threshold of changed persons stand behind (a share, mean, median:
    besides, each is frozen with any count it rests on, see :func:`protect`), or that
    rests on a count the revision does not revise (see :func:`_moves_with_its_counts`)."""
    count_codes = set(catalogue.count_codes())
    keys = list(zip(cells["indicateur"], cells[KEY].astype(str).itertuples(index=False, name=None)))
    new = {k: (float(v), s != "") for k, v, s in zip(keys, cells["valeur"], cells["secret"])}
    frozen: set[tuple[str, Key]] = set()
    for version in revision.every_version():
        shown = version.published
        old = {
            (code, key): (float(v), isinstance(s, str) and s != "")
            for code, key, v, s in zip(
                shown["indicateur"], shown[KEY].astype(str).itertuples(index=False, name=None), shown["valeur"], shown["secret"]
            )
        }
        publishable = publishable_deltas(version, catalogue, publisher, year, has_person_id)
        for key, (value, hidden) in new.items():
            changed = version.changed(*key)
            if key[0] in count_codes:
                if changed == 0 or key in publishable:
                    continue
            elif (changed >= revision.threshold or (changed == 0 and not _rests_on_latent(catalogue, key, year))) and (
                _moves_with_its_counts(catalogue, key, year, version, publishable, count_codes)
            ):
                # A share of counts only moves with them (frozen with any of them); one
                # resting on persons the table does not count (repeat visitors, QPV
                # residents…) can move while its smallest group holds nobody changed.
                continue
            before = old.get(key)
            if before is None or before[1] != hidden or (not hidden and abs(before[0] - value) > 1e-9):
                frozen.add(key)
    return _months_make_the_year(frozen, keys, catalogue, year)


def _months_make_the_year(
    frozen: set[tuple[str, Key]], keys: list[tuple[str, Key]], catalogue: Catalogue, year: int
) -> set[tuple[str, Key]]:
    """A summed count's year and its months freeze together: the year with any of its
    months, and every month with the year. The published months keep adding up to the
    published year in every version (a check of every release, and what a reader expects
    of a table): a year held back beside months revised would not."""
    summed = {i.code for i in catalogue.indicators if i.agregation == "somme"}

    def is_month(key: Key) -> bool:
        return key[2] == ENSEMBLE and len(key[0]) == 7

    whole_years = {(code, key[1]) for code, key in frozen if code in summed and is_month(key)}
    whole_years |= {(code, key[1]) for code, key in frozen if code in summed and key[0] == str(year) and key[2] == ENSEMBLE}
    out = set(frozen)
    for code, key in keys:
        if (code, key[1]) in whole_years and key[2] == ENSEMBLE and (is_month(key) or key[0] == str(year)):
            out.add((code, key))
    return out


def public_secret(flags: pd.Series) -> pd.Series:
    """The one public symbol: ``secret`` for a hidden figure, empty otherwise (a version
    published before this rule said ``primaire``/``secondaire``: the same fact)."""
    hidden = flags.fillna("").astype(str) != ""
    return pd.Series(np.where(hidden, SECRET, ""), index=flags.index)


def figures_changed(before: pd.DataFrame, after: pd.DataFrame) -> int:
    """How many figures of a published version a new version would change (a value, a
    secret flag, a row added or removed). Anyone who kept the first version can take the
    difference, and it describes only the records that changed."""

    def figures(table: pd.DataFrame) -> pd.Series:
        value = table["valeur"].astype("float64").map(lambda v: "" if pd.isna(v) else repr(round(float(v), 6)))
        return pd.Series(
            (value + "|" + public_secret(table["secret"])).to_numpy(), index=pd.MultiIndex.from_frame(table[PUBLISHED_KEY].astype(str))
        )

    old, new = figures(before), figures(after)
    joined = pd.concat([old.rename("avant"), new.rename("apres")], axis=1)
    return int((joined["avant"].fillna("∅") != joined["apres"].fillna("∅")).sum())


# --- protect -----------------------------------------------------------------------------------


@dataclass
class Protected:
    table: pd.DataFrame  # published columns (``secret`` = ``secret`` or empty) plus ``source``, ``personnes`` and ``dominance``
    audit: AuditResult
    homogeneous: list[tuple[str, str, str]]
    #: Why each row is hidden or frozen (``primaire``, ``secondaire``, ``gel``; empty when
    #: published as computed), aligned with ``table``: private, for the work area and the
    #: risk report's totals per rule, never published per cell.
    reasons: pd.Series = field(default_factory=lambda: pd.Series(dtype=str))

    def totals(self) -> dict[str, int]:
        """Cells per rule (the risk report may give these totals, never which cells)."""
        return {rule: int((self.reasons == rule).sum()) for rule in (PRIMARY, SECONDARY, FROZEN)}


def protect(
    cells: pd.DataFrame,
    catalogue: Catalogue,
    publisher: Publisher,
    year: int,
    previous: pd.DataFrame | None = None,
    has_person_id: bool = True,
    revision: Revision | None = None,
    fixed_zeros: bool = False,
) -> Protected:
    """Apply primary, sensitive-attribute and secondary suppression (and, for a revision,
    the freeze of small changes), propagate to every derived figure, then audit the
    result. Raises SecrecyError when the audit fails.

    ``fixed_zeros`` is for a delta table: a cell no changed record touches shows no
    change in the new version whatever the delta table says, so hiding it protects
    nothing and secondary suppression never picks it."""
    truth = cells
    cells = cells.reset_index(drop=True)
    threshold = publisher.seuil_secret if has_person_id else publisher.seuil_sans_identifiant
    primary = primary_suppression(cells, catalogue, threshold, publisher.dominance_max)
    homogeneous = homogeneous_groups(cells, catalogue)
    in_homogeneous = (
        pd.Series(
            [(p, l, d) in homogeneous for p, l, d in cells[["periode", "lieu", "dimension"]].itertuples(index=False)], index=cells.index
        )
        if homogeneous
        else pd.Series(False, index=cells.index)
    )
    cells["secret"] = np.where(primary | in_homogeneous, PRIMARY, "")
    frozen = frozen_by_delta(cells, revision, catalogue, publisher, year, has_person_id) if revision is not None else set()

    published = cells.copy()
    published.loc[published["secret"] != "", "valeur"] = np.nan
    published["secret"] = public_secret(published["secret"])  # the reader sees one symbol
    model = reader_model(published, truth, catalogue, publisher, year, previous, revision)
    known = known_from_version_online(model, revision)
    if fixed_zeros:
        known |= {c for c, v in model.values.items() if c[0] == THIS and v == 0 and c not in model.hidden}
    suppressor = Suppressor(model, catalogue, year, publisher.largeur_protection, known)
    # A primary count hides its cell's other counts and the figures computed from them;
    # a frozen count is an unknown of the new version, with the same consequences.
    primary_counts = sorted(c for c in model.hidden if c[0] == THIS)
    for count in [*primary_counts, *sorted((THIS, code, key) for code, key in frozen)]:
        if count in model.values:
            model.hidden.add(count)
            suppressor.hide_count(count)
        elif count in model.figures:
            model.hidden_figures.add(count)
    primary_cells = set(primary_counts)
    suppressor.protect(audit_targets(model, revision))

    # Write the model's decisions back into the table (private reasons first).
    hidden = {(code, key) for _, code, key in model.hidden if _ == THIS}
    hidden |= {(code, key) for tag, code, key in model.hidden_figures if tag == THIS}
    hidden |= frozen  # a frozen figure the model does not hold (nothing to infer from it) is frozen all the same
    primary_keys = {(code, key) for _, code, key in primary_cells}
    keys = list(zip(cells["indicateur"], cells[KEY].astype(str).itertuples(index=False, name=None)))
    newly = np.array([(code, key) in hidden for code, key in keys]) & (cells["secret"] == "").to_numpy()
    is_primary = np.array([(code, key) in primary_keys for code, key in keys])
    cells.loc[newly, "secret"] = np.where(is_primary[newly], PRIMARY, SECONDARY)
    shown: dict[tuple[str, Key], tuple[float, str]] = {}
    if revision is not None:
        # A hidden figure the version online publishes is frozen (its value shown again)
        # unless it is a revised count hidden by its own primary rule. One the version
        # online hides as well stays hidden under its own rule: nothing is held back there,
        # and the agent's summary counts only the figures a correction really waits on.
        online = revision.published
        shown = {
            (code, key): (float(v), SECRET if isinstance(f, str) and f else "")
            for code, key, v, f in zip(
                online["indicateur"], online[KEY].astype(str).itertuples(index=False, name=None), online["valeur"], online["secret"]
            )
        }
        own_primary = (cells["secret"] == PRIMARY).to_numpy() & np.array([k not in frozen for k in keys])
        freeze = (cells["secret"] != "").to_numpy() & ~own_primary & np.array([k in shown and not shown[k][1] for k in keys])
        cells.loc[freeze, "secret"] = FROZEN
    cells = _add_missing_rows(cells, model, catalogue, year)
    cells.loc[cells["secret"] != "", "valeur"] = np.nan
    reasons = cells["secret"].copy()
    cells["secret"] = public_secret(cells["secret"])

    result = audit(cells, truth, catalogue, publisher, year, previous, revision)
    if not result.ok:
        first = result.failures[0]
        raise SecrecyError(
            f"Audit du secret : {len(result.failures)} case(s) masquée(s) encadrée(s) à moins de "
            f"{publisher.largeur_protection} près, par exemple {first['indicateur']} / {first['periode']} / "
            f"{first['lieu']} / {first['dimension']} / {first['modalite']}."
        )
    # Only now, after the audit of the model: a frozen figure shows the version online.
    final_keys = list(zip(cells["indicateur"], cells[KEY].astype(str).itertuples(index=False, name=None)))
    for n in np.flatnonzero((reasons == FROZEN).to_numpy()):
        value, flag = shown[final_keys[n]]
        cells.at[n, "valeur"], cells.at[n, "secret"] = (np.nan if flag else value), flag
        if not flag and value != 0:
            # The persons behind the figure shown are those of the version it comes from,
            # which published it on at least the threshold (a correction that removed a
            # few of them is held back with the rest).
            cells.at[n, "personnes"] = max(int(cells.at[n, "personnes"]), threshold)
    if revision is not None:
        # A frozen figure the version online has no row for (a mean over no accompaniment:
        # undefined) keeps having none. A row appearing, even secret, would say that its
        # modality is no longer empty: the late person's age band, her procedures.
        absent = np.array([key in frozen and key not in shown for key in final_keys], dtype=bool)
        if absent.any():
            cells = cells[~absent].reset_index(drop=True)
            reasons = reasons[~absent].reset_index(drop=True)
    return Protected(cells, result, sorted(homogeneous), reasons)


def _add_missing_rows(cells: pd.DataFrame, model: ReaderModel, catalogue: Catalogue, year: int) -> pd.DataFrame:
    """A derived figure that is undefined (nothing to divide by) has no row, which tells a
    reader its denominator is zero. Where that would give a hidden count back, the row is
    published as hidden instead."""
    rows = []
    for tag, code, key in sorted(model.hidden_figures):
        if tag != THIS or (tag, code, key) not in model.missing:
            continue
        indicator = catalogue[code]
        rows.append(
            {
                "annee": year,
                "periode": key[0],
                "lieu": key[1],
                "indicateur": code,
                "dimension": key[2],
                "modalite": key[3],
                "valeur": np.nan,
                "unite": indicator.unite,
                "secret": SECONDARY,
                "source": indicator.source,
                "personnes": 0,
                "dominance": 0.0,
            }
        )
    if not rows:
        return cells
    return pd.concat([cells, pd.DataFrame(rows)], ignore_index=True)
