"""Statistical secrecy: decide what may be published, and prove it before publishing.

The method, in four steps (documented for citizens in the risk report):

1. **Primary secrecy.** A figure is hidden when fewer than ``seuil_secret`` distinct
   persons stand behind it (one person with fifteen visits is one person). Zero counts
   describe nobody and stay published. Where every person of a group (the year, a site)
   falls in one category of a sensitive dimension (``situation``, ``autonomie``,
   ``orientation``), the whole breakdown is hidden for that group: publishing it would
   tell anything about a neighbour known to have come.

2. **Secondary suppression.** The count tables of a year are one linked problem: each
   breakdown adds up to its lieu's total, sites add up to the year, months add up to
   the year, QPV cells add up the quartiers they cover. For every hidden cell, the
   attacker's linear programme (minimum and maximum of the cell given every published
   count and every equation, cells ≥ 0) is solved with HiGHS; while the cell can be
   pinned down to an interval narrower than ``largeur_protection``, one more cell of an
   equation it belongs to is hidden: the smallest cell of the lowest tier first (a
   site's modality, then a modality of the whole CCAS, then a site or month total, the
   year's total last). Hiding more can only widen intervals, so one pass suffices.
   This is the attacker-LP loop of sdcTable's SIMPLEHEURISTIC, on our table structure.

3. **Propagation.** Every figure computed on a hidden cell (share, mean, median,
   person count, evolution…) is hidden with it, and a rate is hidden when any count
   it is computed from is hidden, so no share or mean gives a hidden count back.

4. **Audit.** :func:`audit` rebuilds the attacker's problem from the *published* table
   alone, with the shares, rates and evolutions as the inequalities their rounding
   allows, and earlier years' published figures where they meet this year's; the
   release is refused if any hidden cell is exactly recoverable or narrower than the
   protection width.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from .aggregate import ENSEMBLE, KEY, MEASURES, lieux_of, previous_published, share_parent
from .catalogue import Catalogue
from .config import Publisher
from .errors import SecrecyError

PRIMARY, SECONDARY = "primaire", "secondaire"
ROUNDING = 0.05  # published ratios are rounded to 0.1: the truth is within ± 0.05
SENSITIVE_IGNORED = {"non_communique"}

Key = tuple[str, str, str, str]  # (periode, lieu, dimension, modalite)
ONE = ("__constante__", ("", "", "", ""))  # a term worth 1, for constraints with a constant


# --- the linear structure of a year's count tables ---------------------------------------

@dataclass
class LinearModel:
    """Equations between the count cells of one source: each is ``total = Σ parts``."""

    source: str
    keys: list[Key]
    equations: list[tuple[Key, list[Key]]]

    def equations_of(self, key: Key) -> list[tuple[Key, list[Key]]]:
        return [eq for eq in self.equations if eq[0] == key or key in eq[1]]


def build_model(source: str, keys: list[Key], catalogue: Catalogue, publisher: Publisher, year: int) -> LinearModel:
    """The additivity equations that hold between the given cells of ``source``."""
    present = set(keys)
    additive = {code for code, d in catalogue.dimensions.items() if d.additive}
    equations: list[tuple[Key, list[Key]]] = []
    by_group: dict[tuple[str, str, str], list[Key]] = defaultdict(list)
    for key in keys:
        periode, lieu, dimension, _ = key
        if dimension != ENSEMBLE and dimension in additive:
            by_group[(periode, lieu, dimension)].append(key)
    # A breakdown adds up to its group's total.
    for (periode, lieu, _), parts in by_group.items():
        total = (periode, lieu, ENSEMBLE, ENSEMBLE)
        if total in present:
            equations.append((total, sorted(parts)))
    # Sites add up to the whole CCAS, for the total and for every modality.
    lieux = lieux_of(source, publisher)
    for key in keys:
        periode, lieu, dimension, modalite = key
        if lieu == ENSEMBLE and (dimension == ENSEMBLE or dimension in additive):
            parts = [(periode, s, dimension, modalite) for s in lieux]
            if all(p in present for p in parts):
                equations.append((key, parts))
    # Months add up to the year.
    year_total = (str(year), ENSEMBLE, ENSEMBLE, ENSEMBLE)
    months = [(f"{year}-{m:02d}", ENSEMBLE, ENSEMBLE, ENSEMBLE) for m in range(1, 13)]
    if year_total in present and all(m in present for m in months):
        equations.append((year_total, months))
    # QPV cells add up the quartiers they cover (one dimension nested in another).
    if "qpv" in additive and "quartier" in additive:
        qpv = publisher.qpv_codes
        groups = {"oui": [q for q in publisher.quartier_codes if q in qpv],
                  "non": [q for q in publisher.quartier_codes if q not in qpv] + ["hors_commune"],
                  "non_communique": ["non_communique"]}
        for key in keys:
            periode, lieu, dimension, modalite = key
            if dimension == "qpv" and modalite in groups:
                parts = [(periode, lieu, "quartier", q) for q in groups[modalite]]
                if all(p in present for p in parts):
                    equations.append((key, parts))
    return LinearModel(source, sorted(present), equations)


# --- the attacker's problem ------------------------------------------------------------------

@dataclass
class Constraint:
    """``Σ coef·term (==|<=) 0`` where a term is a (family, key) cell."""

    terms: list[tuple[float, tuple[str, Key]]]
    equality: bool


@dataclass
class AttackerProblem:
    """What a reader holding every published figure knows about the hidden cells."""

    known: dict[tuple[str, Key], float]
    hidden: dict[tuple[str, Key], float]  # true values, used only to report, never as constraints
    constraints: list[Constraint] = field(default_factory=list)

    def intervals(self, cells: list[tuple[str, Key]] | None = None) -> dict[tuple[str, Key], tuple[float, float]]:
        """Minimum and maximum of each hidden cell over everything consistent with what is known."""
        variables = sorted(self.hidden)
        index = {v: i for i, v in enumerate(variables)}
        a_eq, b_eq, a_ub, b_ub = [], [], [], []
        for constraint in self.constraints:
            row = np.zeros(len(variables))
            constant = 0.0
            touches = False
            for coef, term in constraint.terms:
                if term in index:
                    row[index[term]] += coef
                    touches = True
                elif term in self.known:
                    constant += coef * self.known[term]
                else:
                    break  # a term neither published nor hidden: the relation is not usable
            else:
                if touches:
                    (a_eq if constraint.equality else a_ub).append(row)
                    (b_eq if constraint.equality else b_ub).append(-constant)
        out = {}
        for cell in cells or variables:
            c = np.zeros(len(variables))
            c[index[cell]] = 1.0
            bounds = []
            for sign in (1.0, -1.0):
                res = linprog(
                    sign * c,
                    A_ub=np.array(a_ub) if a_ub else None, b_ub=np.array(b_ub) if b_ub else None,
                    A_eq=np.array(a_eq) if a_eq else None, b_eq=np.array(b_eq) if b_eq else None,
                    bounds=(0, None), method="highs",
                )
                if res.status == 3:  # unbounded
                    bounds.append(np.inf)
                elif res.status == 0:
                    bounds.append(sign * res.fun)
                else:
                    raise SecrecyError(f"Audit du secret : le problème de l'attaquant n'a pas pu être résolu ({res.message}).")
            out[cell] = (bounds[0], bounds[1])
        return out


def _equality(total: tuple[str, Key], parts: list[tuple[str, Key]]) -> Constraint:
    return Constraint([(1.0, total)] + [(-1.0, p) for p in parts], equality=True)


def link_terms(link: dict, key: Key, year: int) -> tuple[list[tuple[str, Key]], list[tuple[str, Key]]]:
    """The count cells a derived figure is computed from, as (numerator, denominator)
    terms: what the audit turns into inequalities and what propagation hides it with."""
    if link["type"] == "part":
        return [(link["de"], key)], [(link["de"], share_parent(key[0], key[1], key[2], year))]
    if link["type"] == "ratio":
        return [(link["numerateur"], key)], [(link["denominateur"], key)]
    if link["type"] == "taux":
        cells = lambda mods: [(link["de"], (key[0], key[1], link["dimension"], m)) for m in mods]  # noqa: E731
        return cells(link["numerateur"]), cells(link["denominateur"])
    return [(link["de"], key)], []  # evolution: last year's figure is a published constant


def _ratio_bounds(num: list[tuple[str, Key]], den: list[tuple[str, Key]], value: float, factor: float) -> list[Constraint]:
    """``value`` = Σnum / Σden × factor, rounded to 0.1: two linear inequalities."""
    lo, hi = (value - ROUNDING) / factor, (value + ROUNDING) / factor
    upper = [(1.0, t) for t in num] + [(-hi, t) for t in den]          # Σnum − hi·Σden ≤ 0
    lower = [(-1.0, t) for t in num] + [(lo, t) for t in den]          # lo·Σden − Σnum ≤ 0
    return [Constraint(upper, False), Constraint(lower, False)]


def attacker_problem(
    table: pd.DataFrame,
    truth: pd.DataFrame | None,
    catalogue: Catalogue,
    publisher: Publisher,
    year: int,
    previous: pd.DataFrame | None = None,
) -> AttackerProblem:
    """The attacker's knowledge, built from a published ``table`` (values of hidden rows
    are taken from ``truth``, the unprotected cells, only to check the result)."""
    table = table[table["annee"].astype(int) == year]
    known: dict[tuple[str, Key], float] = {}
    hidden: dict[tuple[str, Key], float] = {}
    true_values = {}
    if truth is not None:
        for row in truth.itertuples(index=False):
            true_values[(row.indicateur, (row.periode, row.lieu, row.dimension, row.modalite))] = row.valeur
    count_codes = [i.code for i in catalogue.indicators if i.additif]
    for row in table.itertuples(index=False):
        cell = (row.indicateur, (str(row.periode), row.lieu, row.dimension, row.modalite))
        if row.indicateur not in count_codes:
            continue
        if row.secret:
            hidden[cell] = float(true_values.get(cell, np.nan))
        else:
            known[cell] = float(row.valeur)
    problem = AttackerProblem(known, hidden)

    for indicator in catalogue.indicators:
        if not indicator.additif:
            continue
        keys = [k for (code, k) in list(known) + list(hidden) if code == indicator.code]
        model = build_model(indicator.source, keys, catalogue, publisher, year)
        for total, parts in model.equations:
            problem.constraints.append(_equality((indicator.code, total), [(indicator.code, p) for p in parts]))

    published = table[table["secret"] == ""]
    for indicator in catalogue.indicators:
        link = indicator.lien
        if not link:
            continue
        before = previous_published(previous, link["de"], year) if link["type"] == "evolution" and previous is not None else None
        rows = published[published["indicateur"] == indicator.code]
        for row in rows.itertuples(index=False):
            key = (str(row.periode), row.lieu, row.dimension, row.modalite)
            value = float(row.valeur)
            num, den = link_terms(link, key, year)
            if link["type"] != "evolution":
                factor = 100.0 if link["type"] in ("part", "taux") else float(link["facteur"])
                problem.constraints += _ratio_bounds(num, den, value, factor)
            elif before is not None and key in before.index:
                # cur = before × (1 + e/100), e known to ± 0.05: two bounds on cur.
                lo, hi = before[key] * (1 + (value - ROUNDING) / 100), before[key] * (1 + (value + ROUNDING) / 100)
                problem.known[ONE] = 1.0
                problem.constraints.append(Constraint([(1.0, num[0]), (-hi, ONE)], False))
                problem.constraints.append(Constraint([(-1.0, num[0]), (lo, ONE)], False))
    return problem


@dataclass
class AuditResult:
    ok: bool
    hidden_cells: int
    failures: list[dict]
    width: int

    def as_dict(self) -> dict:
        return {"reussi": self.ok, "cases_masquees_auditees": self.hidden_cells, "largeur_protection": self.width, "echecs": self.failures}


def audit(
    table: pd.DataFrame,
    truth: pd.DataFrame,
    catalogue: Catalogue,
    publisher: Publisher,
    year: int,
    previous: pd.DataFrame | None = None,
) -> AuditResult:
    """Solve the attacker's problem for every hidden count cell of the published table."""
    problem = attacker_problem(table, truth, catalogue, publisher, year, previous)
    failures = []
    for cell, (low, high) in problem.intervals().items():
        true = problem.hidden[cell]
        if high - low < publisher.largeur_protection - 1e-6:
            code, (periode, lieu, dimension, modalite) = cell
            failures.append({
                "indicateur": code, "periode": periode, "lieu": lieu, "dimension": dimension, "modalite": modalite,
                "minimum": round(low, 2), "maximum": None if np.isinf(high) else round(high, 2),
                "exactement_recalculable": bool(high - low < 0.5),
            })
        elif not np.isnan(true) and not (low - 1e-6 <= true <= high + 1e-6):
            raise SecrecyError("Audit du secret : incohérence interne (une valeur vraie sort de l'intervalle calculé).")
    return AuditResult(not failures, len(problem.hidden), failures, publisher.largeur_protection)


# --- deciding what to hide --------------------------------------------------------------------

def primary_suppression(cells: pd.DataFrame, catalogue: Catalogue, threshold: int) -> pd.Series:
    """Rows resting on fewer than ``threshold`` persons (zero counts excepted)."""
    count_codes = {i.code for i in catalogue.indicators if MEASURES[i.mesure].is_count}
    zero_count = cells["indicateur"].isin(count_codes) & (cells["valeur"] == 0)
    return (cells["personnes"] < threshold) & ~zero_count


def homogeneous_groups(cells: pd.DataFrame, catalogue: Catalogue) -> set[tuple[str, str, str]]:
    """(periode, lieu, dimension) groups where every person with a known value of a
    sensitive dimension falls in one category."""
    sensitive = [d for d, spec in catalogue.dimensions.items() if spec.sensible]
    counts = cells[(cells["source"] == "accompagnements") & cells["indicateur"].isin(catalogue.additive_codes("accompagnements"))
                   & cells["dimension"].isin(sensitive) & (cells["valeur"] > 0) & ~cells["modalite"].isin(SENSITIVE_IGNORED)]
    sizes = counts.groupby(["periode", "lieu", "dimension"])["modalite"].nunique()
    return {tuple(k) for k in sizes[sizes == 1].index}


def _tier(key: Key, year: int) -> int:
    periode, lieu, dimension, _ = key
    if dimension != ENSEMBLE:
        return 0 if lieu != ENSEMBLE else 1
    if periode == str(year) and lieu == ENSEMBLE:
        return 3
    return 2


def suppress_secondary(
    cells: pd.DataFrame,
    hidden_keys: dict[str, set[Key]],
    catalogue: Catalogue,
    publisher: Publisher,
    year: int,
) -> dict[str, set[Key]]:
    """Extend each source's hidden cells until every hidden cell is protected."""
    result = {}
    for source, primary in hidden_keys.items():
        families = catalogue.additive_codes(source)
        rows = cells[cells["indicateur"].isin(families)]
        values = {(r.indicateur, (r.periode, r.lieu, r.dimension, r.modalite)): float(r.valeur) for r in rows.itertuples(index=False)}
        keys = sorted({k for (_, k) in values})
        model = build_model(source, keys, catalogue, publisher, year)
        first_family = families[0]
        hidden = set(primary)
        queue = sorted(hidden, key=lambda k: values.get((first_family, k), 0))
        while queue:
            key = queue.pop(0)
            while True:
                weak = _weakly_protected(key, hidden, values, families, model, publisher.largeur_protection)
                if not weak:
                    break
                partner = _choose_partner(key, hidden, values, first_family, model, year)
                if partner is None:
                    raise SecrecyError(
                        f"Secret statistique : impossible de protéger la case {source}/{'/'.join(key)} "
                        "par des suppressions secondaires."
                    )
                hidden.add(partner)
                queue.append(partner)
        result[source] = hidden
    return result


def _weakly_protected(key: Key, hidden: set[Key], values: dict, families: list[str], model: LinearModel, width: int) -> bool:
    """Whether the attacker can pin ``key`` down too narrowly, for any count family.

    Only the equations connected to ``key`` through hidden cells matter; the others are
    constants and are left out to keep the programmes small.
    """
    component = _hidden_component(key, hidden, model)
    equations = [eq for eq in model.equations if eq[0] in component or any(p in component for p in eq[1])]
    for family in families:
        known = {(family, k): values[(family, k)] for eq in equations for k in [eq[0], *eq[1]] if k not in hidden}
        problem = AttackerProblem(known, {(family, k): values[(family, k)] for k in component})
        problem.constraints = [_equality((family, total), [(family, p) for p in parts]) for total, parts in equations]
        low, high = problem.intervals([(family, key)])[(family, key)]
        if high - low < width - 1e-6:
            return True
    return False


def _hidden_component(key: Key, hidden: set[Key], model: LinearModel) -> set[Key]:
    """Hidden cells linked to ``key`` through equations (the only unknowns that matter)."""
    component, frontier = {key}, [key]
    while frontier:
        current = frontier.pop()
        for total, parts in model.equations_of(current):
            for other in [total, *parts]:
                if other in hidden and other not in component:
                    component.add(other)
                    frontier.append(other)
    return component


def _choose_partner(key: Key, hidden: set[Key], values: dict, family: str, model: LinearModel, year: int) -> Key | None:
    """The cheapest published cell to hide next: first in an equation where ``key`` is the
    only unknown (it would be recomputed exactly), else in any equation of its component."""
    def cost(k: Key) -> tuple:
        v = values[(family, k)]
        return (_tier(k, year), v == 0, v, k)

    alone = [eq for eq in model.equations_of(key) if sum(1 for k in [eq[0], *eq[1]] if k in hidden) == 1]
    pools = [alone, [eq for k in _hidden_component(key, hidden, model) for eq in model.equations_of(k)]]
    for equations in pools:
        candidates = {k for total, parts in equations for k in [total, *parts] if k not in hidden}
        if candidates:
            return min(candidates, key=cost)
    return None


@dataclass
class Protected:
    table: pd.DataFrame        # published columns plus ``source`` and ``personnes``
    audit: AuditResult
    homogeneous: list[tuple[str, str, str]]


def protect(
    cells: pd.DataFrame,
    catalogue: Catalogue,
    publisher: Publisher,
    year: int,
    previous: pd.DataFrame | None = None,
) -> Protected:
    """Apply primary, sensitive-attribute and secondary suppression, propagate to every
    derived figure, then audit the result. Raises SecrecyError when the audit fails."""
    truth = cells
    cells = cells.copy()
    primary = primary_suppression(cells, catalogue, publisher.seuil_secret)
    homogeneous = homogeneous_groups(cells, catalogue)
    in_homogeneous = pd.Series(
        [(p, l, d) in homogeneous for p, l, d in cells[["periode", "lieu", "dimension"]].itertuples(index=False)], index=cells.index
    ) if homogeneous else pd.Series(False, index=cells.index)
    cells["secret"] = np.where(primary | in_homogeneous, PRIMARY, "")

    # The cell of a source is hidden when one of its count figures is (primary).
    hidden_primary: dict[str, set[Key]] = {}
    for source in cells["source"].unique():
        counts = cells[(cells["source"] == source) & cells["indicateur"].isin(catalogue.additive_codes(source))]
        hidden_primary[source] = {tuple(k) for k in counts.loc[counts["secret"] == PRIMARY, KEY].itertuples(index=False)}
    hidden = suppress_secondary(cells, hidden_primary, catalogue, publisher, year)

    # Propagate: every figure on a hidden cell, every rate over a hidden count.
    key_tuples = list(cells[KEY].itertuples(index=False, name=None))
    for i, (source, key) in enumerate(zip(cells["source"], key_tuples)):
        if cells.at[i, "secret"] == "" and key in hidden.get(source, set()):
            cells.at[i, "secret"] = PRIMARY if key in hidden_primary.get(source, set()) else SECONDARY
    _propagate_links(cells, catalogue, hidden, year)
    cells.loc[cells["secret"] != "", "valeur"] = np.nan

    result = audit(cells, truth, catalogue, publisher, year, previous)
    if not result.ok:
        first = result.failures[0]
        raise SecrecyError(
            f"Audit du secret : {len(result.failures)} case(s) masquée(s) recalculable(s) à moins de "
            f"{publisher.largeur_protection} près, par exemple {first['indicateur']} / {first['periode']} / "
            f"{first['lieu']} / {first['dimension']} / {first['modalite']}."
        )
    return Protected(cells, result, sorted(homogeneous))


def _propagate_links(cells: pd.DataFrame, catalogue: Catalogue, hidden: dict[str, set[Key]], year: int) -> None:
    for indicator in catalogue.indicators:
        link = indicator.lien
        if not link:
            continue
        hidden_keys = hidden.get(indicator.source, set())
        mask = (cells["indicateur"] == indicator.code) & (cells["secret"] == "")
        for i in cells.index[mask]:
            key = (cells.at[i, "periode"], cells.at[i, "lieu"], cells.at[i, "dimension"], cells.at[i, "modalite"])
            num, den = link_terms(link, key, year)
            if any(k in hidden_keys for _, k in num + den):
                cells.at[i, "secret"] = SECONDARY
