"""What a reader can infer from published figures: the linear model of a publication.

A reader holding every published table (every year, every version) knows each published
count exactly and, for each hidden one, whatever the published figures imply. Those
implications are linear, and all of them are generated here from the catalogue
(``metadata/indicateurs.yml``) and the publisher's metadata, never listed by hand:

- **structure of counts**: for every count family (published, or *latent* such as the
  administrative accompaniments behind a share), a site's or the whole CCAS's total and
  its modalities (``=`` the sum for an additive dimension of a ``somme`` family; between
  the largest part and the sum for a multi-valued dimension or a ``personnes`` family);
  the whole CCAS and its sites, the year and its months, for every modality, multi-valued
  ones included (a record has one site and one month); QPV cells and the quartiers they
  cover;
- **derived figures** (the catalogue's ``lien``): a share, rate, ratio or mean published to
  0.1 puts its numerator within ``(v ± 0.05) × denominator``; an evolution puts this year's
  count within last year's published figure × ``(1 + (e ± 0.05)/100)``; a row missing where
  the catalogue expects one says its denominator is zero;
- **latent counts** bounded by the cells they come from (``au_moins_un_de``: at least the
  largest of the thematique cells, at most their sum; ``par_enregistrement``: between the
  contract's minimum and maximum per record) and the catalogue's ``relations``
  (``usagers + usagers_plusieurs_visites <= accompagnements``…);
- **the secret flags themselves**: a count hidden under primary secrecy is not zero (zero
  counts are published), unless its whole breakdown is hidden.

A relation the model cannot express raises :class:`SecrecyError`: a figure the model
ignored would be a figure the audit silently trusts.

:class:`ReaderModel` keeps which cells are hidden apart from the constraints, so secondary
suppression can hide one more cell (a constant becomes a variable) or one more derived
figure (its constraints drop out) and ask again, on the same model the audit uses.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .aggregate import ENSEMBLE, expected_keys, lieux_of, modalities, share_parent
from .catalogue import Catalogue
from .publisher import Publisher
from .vocabulary import NOT_GIVEN, contract, extra_codes
from .errors import SecrecyError
from .granularity import FINEST, of_table, rules, sub_periods

ROUNDING = 0.05  # published ratios are rounded to 0.1: the truth is within ± 0.05
EPSILON = 1e-7

Key = tuple[str, str, str, str]  # (periode, lieu, dimension, modalite)
Cell = tuple[str, str, Key]  # (version tag, family or indicator, key)


@dataclass(frozen=True)
class Constraint:
    """``Σ coef·cell + constant (== | <=) 0``; ``figure`` is the published derived figure
    the constraint comes from (``None`` for the structure of the counts)."""

    terms: tuple[tuple[float, Cell], ...]
    constant: float
    equality: bool
    figure: Cell | None = None


@dataclass
class ReaderModel:
    """Cells, what is published of them, and the constraints a reader can write."""

    values: dict[Cell, float] = field(default_factory=dict)  # count cells: published value or truth if hidden
    hidden: set[Cell] = field(default_factory=set)  # count cells not published
    latent: set[Cell] = field(default_factory=set)  # counts never published
    lower: dict[Cell, float] = field(default_factory=dict)  # what the secret flags say
    hidden_figures: set[Cell] = field(default_factory=set)  # derived figures not published
    figures: dict[Cell, float] = field(default_factory=dict)  # derived figures (NaN: hidden or missing)
    missing: set[Cell] = field(default_factory=set)  # derived figures without a row: undefined
    constraints: list[Constraint] = field(default_factory=list)
    _by_cell: dict[Cell, list[int]] = field(default_factory=lambda: defaultdict(list))
    _cached: tuple | None = None  # the last component's matrices, reused while nothing is hidden

    def add(self, constraint: Constraint) -> None:
        index = len(self.constraints)
        self.constraints.append(constraint)
        for _, cell in constraint.terms:
            self._by_cell[cell].append(index)

    def is_variable(self, cell: Cell) -> bool:
        return cell in self.hidden or cell in self.latent

    def active(self, index: int) -> bool:
        figure = self.constraints[index].figure
        return figure is None or figure not in self.hidden_figures

    def constraints_of(self, cell: Cell) -> list[int]:
        return [i for i in self._by_cell.get(cell, []) if self.active(i)]

    def component(self, cell: Cell) -> tuple[list[Cell], list[int]]:
        """The unknowns linked to ``cell`` through active constraints, and those constraints:
        the only part of the model that bears on ``cell``."""
        seen, frontier, rows = {cell}, [cell], set()
        while frontier:
            current = frontier.pop()
            for i in self.constraints_of(current):
                if i in rows:
                    continue
                rows.add(i)
                for _, other in self.constraints[i].terms:
                    if other not in seen and self.is_variable(other):
                        seen.add(other)
                        frontier.append(other)
        return sorted(seen), sorted(rows)

    def intervals(self, cells: Iterable[Cell]) -> dict[Cell, tuple[float, float]]:
        """Minimum and maximum of each unknown cell over everything consistent with what is
        published (linear relaxation, solved with HiGHS)."""
        return {cell: self.solve(cell)[0] for cell in cells}

    def solve(self, cell: Cell) -> tuple[tuple[float, float], list[int]]:
        """The interval of ``cell`` and the constraints that bind it (non-zero duals at the
        minimum or the maximum): the relations secondary suppression must break."""
        variables, rows = self.component(cell)
        signature = frozenset(variables)
        if self._cached is None or self._cached[0] != (signature, len(self.hidden), len(self.hidden_figures)):
            self._cached = ((signature, len(self.hidden), len(self.hidden_figures)), self._matrices(variables, rows))
        index, a_eq, b_eq, a_ub, b_ub, bounds, eq_rows, ub_rows = self._cached[1]
        key = _programme_key(index[cell], a_eq, b_eq, a_ub, b_ub, bounds)
        solved = _SOLVED.get(key)
        if solved is None:
            solved = _solve_programme(index[cell], len(index), a_eq, b_eq, a_ub, b_ub, bounds)
            if len(_SOLVED) >= _SOLVED_KEPT:
                _SOLVED.clear()
            _SOLVED[key] = solved
        ends, eq_binding, ub_binding = solved
        return ends, sorted({eq_rows[i] for i in eq_binding} | {ub_rows[i] for i in ub_binding})

    def _matrices(self, variables: list[Cell], rows: list[int]):
        from scipy.sparse import csr_matrix

        index = {v: i for i, v in enumerate(variables)}
        eq: tuple[list, list, list, list, list] = ([], [], [], [], [])  # data, row, col, rhs, constraint number
        ub: tuple[list, list, list, list, list] = ([], [], [], [], [])
        for r in rows:
            constraint = self.constraints[r]
            target = eq if constraint.equality else ub
            constant = constraint.constant
            row_number = len(target[3])
            for coef, cell in constraint.terms:
                if cell in index:
                    target[0].append(coef)
                    target[1].append(row_number)
                    target[2].append(index[cell])
                else:
                    constant += coef * self.values[cell]
            target[3].append(-constant)
            target[4].append(r)

        def matrix(parts):
            data, r, c, rhs, _ = parts
            if not rhs:
                return None, None
            return csr_matrix((data, (r, c)), shape=(len(rhs), len(variables))), np.array(rhs)

        a_eq, b_eq = matrix(eq)
        a_ub, b_ub = matrix(ub)
        bounds = [(self.lower.get(v, 0.0), None) for v in variables]
        return index, a_eq, b_eq, a_ub, b_ub, bounds, eq[4], ub[4]


#: Programmes already solved, by their content (:func:`_programme_key`): the audit asks
#: again, on a model built anew from the published table, what secondary suppression last
#: asked on its own, and a revision protects its delta table and then the year (about a
#: quarter of a revision's programmes are asked twice, measured). HiGHS gives the same
#: answer to the same programme, so the answer is kept, not recomputed. Bounded: a few
#: thousand small programmes.
_SOLVED: dict[bytes, tuple[tuple[float, float], tuple[int, ...], tuple[int, ...]]] = {}
_SOLVED_KEPT = 20_000


def _programme_key(target: int, a_eq, b_eq, a_ub, b_ub, bounds: list) -> bytes:
    """Every number that defines the programme: the target column, both matrices (CSR
    arrays), both right-hand sides and the bounds."""
    digest = hashlib.sha256(str((target, a_eq is None, a_ub is None, bounds)).encode())
    for matrix in (a_eq, a_ub):
        if matrix is not None:
            for part in (matrix.shape, matrix.indptr, matrix.indices, matrix.data):
                digest.update(np.asarray(part).tobytes() + b"|")
    for rhs in (b_eq, b_ub):
        if rhs is not None:
            digest.update(np.asarray(rhs, dtype="float64").tobytes() + b"|")
    return digest.digest()


def _solve_programme(target: int, size: int, a_eq, b_eq, a_ub, b_ub, bounds: list):
    """The minimum and maximum of column ``target``, and the positions (among the equality
    rows, among the inequality rows) of the rows with non-zero duals at either end.

    HiGHS is driven directly, through the bindings scipy ships (``scipy.optimize._highspy``),
    with the very model, options and fresh solver per solve that ``linprog(method="highs")``
    hands it: the same answers (checked on every programme of the demo years' releases and
    revision, ends and binding rows alike), without ``linprog``'s checks, conversions and
    option manager, which cost 3 to 5 times the solve itself on these small programmes
    (measured paired: a revision's 402 programmes, 2.46 s → 0.67 s of CPU)."""
    # scipy (~0.3 s to import) only where a programme is solved: a refused input never pays for it.
    from scipy.optimize._highspy import _core as highs
    from scipy.sparse import vstack

    blocks = [m for m in (a_ub, a_eq) if m is not None]  # linprog's order: inequalities first
    matrix = (vstack(blocks) if len(blocks) > 1 else blocks[0]).tocsc()
    n_ub = 0 if b_ub is None else len(b_ub)
    no_eq, no_ub = np.empty(0), np.empty(0)
    upper = np.concatenate((no_ub if b_ub is None else b_ub, no_eq if b_eq is None else b_eq)).astype("float64")
    lower = np.concatenate((np.full(n_ub, -highs.kHighsInf), no_eq if b_eq is None else b_eq)).astype("float64")
    model = highs.HighsLp()
    model.num_col_ = model.a_matrix_.num_col_ = size
    model.num_row_ = model.a_matrix_.num_row_ = len(upper)
    model.a_matrix_.format_ = highs.MatrixFormat.kColwise
    model.a_matrix_.start_, model.a_matrix_.index_, model.a_matrix_.value_ = matrix.indptr, matrix.indices, matrix.data
    model.row_lower_, model.row_upper_ = lower, upper
    model.col_lower_ = np.array([-highs.kHighsInf if low is None else low for low, _ in bounds], dtype="float64")
    model.col_upper_ = np.array([highs.kHighsInf if high is None else high for _, high in bounds], dtype="float64")
    ends: list[float] = []
    eq_binding: set[int] = set()
    ub_binding: set[int] = set()
    for sign in (1.0, -1.0):
        objective = np.zeros(size)
        objective[target] = sign
        model.col_cost_ = objective
        solver = _run_highs(highs, model, presolve=True)
        status = solver.getModelStatus()
        if status == highs.HighsModelStatus.kInfeasible:
            # HiGHS's presolve reports some unbounded problems as infeasible (a block
            # whose totals are all hidden, e.g. two workshops): decide without it.
            solver = _run_highs(highs, model, presolve=False)
            status = solver.getModelStatus()
        if status == highs.HighsModelStatus.kUnbounded:
            ends.append(math.inf)
            continue
        if status != highs.HighsModelStatus.kOptimal:
            raise SecrecyError(f"Audit du secret : le problème du lecteur n'a pas pu être résolu ({solver.modelStatusToString(status)}).")
        ends.append(sign * solver.getInfo().objective_function_value)
        for row in np.flatnonzero(np.abs(np.asarray(solver.getSolution().row_dual)) > 1e-9):
            if row < n_ub:
                ub_binding.add(int(row))
            else:
                eq_binding.add(int(row) - n_ub)
    return (ends[0], ends[1]), tuple(sorted(eq_binding)), tuple(sorted(ub_binding))


def _run_highs(highs, model, presolve: bool):
    """A fresh solver, as ``linprog`` makes one per call: its answer depends on the
    programme alone, never on what this process solved before."""
    options = highs.HighsOptions()
    options.presolve = "on" if presolve else "off"
    options.output_flag = options.log_to_console = False
    options.highs_debug_level = 0
    options.simplex_strategy = 1  # dual simplex, linprog's choice
    solver = highs._Highs()
    solver.passOptions(options)
    solver.passModel(model)
    solver.run()
    return solver


def integer_width(low: float, high: float) -> float:
    """Width of the interval of integers a reader can place a count in."""
    if math.isinf(high):
        return math.inf
    return math.floor(high + EPSILON) - math.ceil(low - EPSILON)


# --- building the model from published tables ---------------------------------------------


def _key(row) -> Key:
    return (str(row.periode), str(row.lieu), str(row.dimension), str(row.modalite))


def _bounds_between(total: Cell, parts: list[Cell], equal: bool) -> list[Constraint]:
    """``total = Σ parts``, or ``each part <= total <= Σ parts``."""
    out = [Constraint(((1.0, total),) + tuple((-1.0, p) for p in parts), 0.0, equality=equal)]
    if not equal:
        out += [Constraint(((1.0, p), (-1.0, total)), 0.0, equality=False) for p in parts]
    return out


def _ratio_constraints(num: list[Cell], den: list[Cell], value: float, factor: float, figure: Cell) -> list[Constraint]:
    """``value`` = Σnum / Σden × factor rounded to 0.1: two inequalities."""
    low, high = (value - ROUNDING) / factor, (value + ROUNDING) / factor
    upper = tuple((1.0, t) for t in num) + tuple((-high, t) for t in den)
    lower = tuple((-1.0, t) for t in num) + tuple((low, t) for t in den)
    return [Constraint(upper, 0.0, False, figure), Constraint(lower, 0.0, False, figure)]


def link_cells(link: dict, key: Key, year: int) -> tuple[list[tuple[str, Key]], list[tuple[str, Key]], float]:
    """The count cells a derived figure is computed from: (numerator, denominator, factor).
    Used by the reader's model and by the propagation of secrecy alike."""
    kind = link["type"]
    if kind == "part":
        return [(link["de"], key)], [(link["de"], share_parent(key[0], key[1], key[2], year))], 100.0
    if kind == "ratio":
        return [(link["numerateur"], key)], [(link["denominateur"], key)], float(link["facteur"])
    if kind == "taux":
        cells = [(link["de"], (key[0], key[1], link["dimension"], m)) for m in link["numerateur"]]
        return cells, [(link["de"], (key[0], key[1], link["dimension"], m)) for m in link["denominateur"]], 100.0
    if kind == "evolution":
        return [(link["de"], key)], [], 1.0
    if kind == "mediane":
        bands = [(key[0], key[1], link["dimension"], band["code"]) for band in contract()[link["tranches"]]]
        return [(link["de"], b) for b in bands], [(link["de"], key)], 1.0
    return [], [], 1.0  # "aucun": no relation to counts, by the catalogue's own account


def _fine_codes(dimension: str, publisher: Publisher) -> list[str]:
    """Every modality of a dimension at its finest (empty for a dimension the aggregation
    does not know, whose parts are then taken as given)."""
    try:
        return modalities(dimension, publisher)
    except KeyError:
        return []


def _structure(model: ReaderModel, tag: str, family: str, keys: set[Key], catalogue: Catalogue, publisher: Publisher, year: int) -> None:
    """Totals and their parts, for one count family of one table."""
    somme = catalogue.aggregation_of(family) == "somme"
    cell = lambda k: (tag, family, k)
    by_group: dict[tuple[str, str, str], list[Key]] = defaultdict(list)
    for key in sorted(keys):
        if key[2] != ENSEMBLE:
            by_group[key[:3]].append(key)
    spec = rules(catalogue)
    for (periode, lieu, dimension), parts in sorted(by_group.items()):
        total = (periode, lieu, ENSEMBLE, ENSEMBLE)
        additive = catalogue.dimensions[dimension].additive
        fine = _fine_codes(dimension, publisher)
        for level_parts, whole in _levels_present(spec.dimensions.get(dimension, ()), parts, fine):
            if total not in keys:
                continue
            if whole or not fine:
                for c in _bounds_between(cell(total), [cell(p) for p in level_parts], somme and additive):
                    model.add(c)
            elif somme and additive:  # some parts only: together at most the total
                model.add(Constraint(tuple((1.0, cell(p)) for p in level_parts) + ((-1.0, cell(total)),), 0.0, False))
            else:
                for p in level_parts:
                    model.add(Constraint(((1.0, cell(p)), (-1.0, cell(total))), 0.0, False))
        # A coarse modality published (or latent) beside the fine ones it merges is their sum.
        for level in spec.dimensions.get(dimension, ())[1:]:
            for group, merged in level.groups.items():
                coarse = (periode, lieu, dimension, group)
                members = [(periode, lieu, dimension, m) for m in merged]
                if coarse in keys and all(m in keys for m in members):
                    for c in _bounds_between(cell(coarse), [cell(m) for m in members], somme and additive):
                        model.add(c)
    lieux = lieux_of(catalogue.source_of(family), publisher)
    for key in sorted(keys):
        periode, lieu, dimension, modalite = key
        if lieu != ENSEMBLE:
            continue
        sites = [(periode, s, dimension, modalite) for s in lieux]
        if all(s in keys for s in sites):
            for c in _bounds_between(cell(key), [cell(s) for s in sites], somme):
                model.add(c)
    # The year and each level of periods it is published at; a quarter and its months.
    year_total = (str(year), ENSEMBLE, ENSEMBLE, ENSEMBLE)
    for level in spec.periods:
        codes = [f"{year}-{m:02d}" for m in range(1, 13)] if not level.groups else [f"{year}-{g}" for g in level.groups]
        periods = [(p, ENSEMBLE, ENSEMBLE, ENSEMBLE) for p in codes]
        if year_total in keys and all(p in keys for p in periods):
            for c in _bounds_between(cell(year_total), [cell(p) for p in periods], somme):
                model.add(c)
    for coarse_period, months_of in sub_periods(spec, year):
        coarse_key = (coarse_period, ENSEMBLE, ENSEMBLE, ENSEMBLE)
        members = [(m, ENSEMBLE, ENSEMBLE, ENSEMBLE) for m in months_of]
        if coarse_key in keys and all(m in keys for m in members):
            for c in _bounds_between(cell(coarse_key), [cell(m) for m in members], somme):
                model.add(c)
    if "qpv" in catalogue.dimensions and "quartier" in catalogue.dimensions:
        qpv = publisher.qpv_codes
        covered = {
            "oui": [q for q in publisher.quartier_codes if q in qpv],
            "non": [q for q in publisher.quartier_codes if q not in qpv] + extra_codes("quartier", "accompagnements"),
            NOT_GIVEN: [NOT_GIVEN],
        }
        for key in sorted(keys):
            periode, lieu, dimension, modalite = key
            if dimension == "qpv" and modalite in covered:
                parts = [(periode, lieu, "quartier", q) for q in covered[modalite]]
                if all(p in keys for p in parts):
                    for c in _bounds_between(cell(key), [cell(p) for p in parts], somme):
                        model.add(c)


def _levels_present(levels: tuple, parts: list[Key], fine: list[str]) -> list[tuple[list[Key], bool]]:
    """The sets of a group's parts that partition its total, each with whether it is whole:
    one per level present (a table holding a coarse code and the fine codes it merges has
    two partitions of the same total). A set is whole when it holds every code of its level
    (``fine``: the contract's modalities); a count the table does not publish at a level
    (a site's satisfaction answers behind its rate) may leave one part out."""
    codes = {p[3] for p in parts}
    every_group = {g for level in levels if level.code != FINEST for g in level.groups}
    fine_parts = [p for p in parts if p[3] not in every_group]
    out = []
    if fine_parts:
        out.append((fine_parts, set(fine) <= {p[3] for p in fine_parts}))
    for level in levels:
        if level.code == FINEST or not any(g in codes for g in level.groups):
            continue
        members = [p for p in parts if p[3] in level.groups or (p[3] in fine and level.coarse(p[3]) == p[3])]
        out.append((members, set(level.codes(fine)) <= {p[3] for p in members}))
    return out


def add_table(
    model: ReaderModel,
    table: pd.DataFrame,
    catalogue: Catalogue,
    publisher: Publisher,
    year: int,
    tag: str,
    previous_tag: str | None = None,
    truth: pd.DataFrame | None = None,
) -> None:
    """Add what a reader learns from one published table of ``year`` (one version).

    ``table`` has the published columns, ``valeur`` empty where ``secret`` is set. The true
    values of hidden cells are taken from ``truth`` when given (to check the model, and for
    secondary suppression), never used as constraints. ``previous_tag`` names last year's
    published counts, already added under this year's keys (``2023-05`` read as
    ``2024-05``), that this year's evolutions were computed from.
    """
    table = table[table["annee"].astype(int) == year]
    true_values: dict[tuple[str, Key], float] = {}
    if truth is not None:
        for row in truth.itertuples(index=False):
            true_values[(row.indicateur, _key(row))] = float(row.valeur)
    counts = set(catalogue.count_codes())
    keys_of: dict[str, set[Key]] = defaultdict(set)
    rows_of: dict[str, dict[Key, tuple[float, str]]] = defaultdict(dict)
    for row in table.itertuples(index=False):
        key = _key(row)
        secret = str(row.secret) if isinstance(row.secret, str) else ""
        rows_of[row.indicateur][key] = (float(row.valeur) if not secret else math.nan, secret)
        if row.indicateur not in counts:
            continue
        cell = (tag, row.indicateur, key)
        keys_of[row.indicateur].add(key)
        if secret:
            model.hidden.add(cell)
            model.values[cell] = true_values.get((row.indicateur, key), math.nan)
        else:
            model.values[cell] = float(row.valeur)

    # What the flags say: a primary count is not zero, unless its whole breakdown is hidden.
    for family, rows in rows_of.items():
        if family not in counts:
            continue
        wholly_hidden = {k[:3] for k in rows if k[2] != ENSEMBLE}
        for key, (_, secret) in rows.items():
            if key[2] != ENSEMBLE and not secret:
                wholly_hidden.discard(key[:3])
        for key, (_, secret) in rows.items():
            if secret == "primaire" and (key[2] == ENSEMBLE or key[:3] not in wholly_hidden):
                model.lower[(tag, family, key)] = 1.0

    # Latent counts exist wherever a derived figure built on them is expected.
    granularity = of_table(table, catalogue, year)
    expected = {i.code: expected_keys(i, publisher, year, granularity) for i in catalogue.indicators if i.code in rows_of}
    latent_keys: dict[str, set[Key]] = defaultdict(set)
    derived = [i for i in catalogue.indicators if not i.is_count and i.code in rows_of]
    unpublished: dict[str, set[Key]] = defaultdict(set)
    for indicator in derived:
        for key in sorted(set(expected[indicator.code]) | set(rows_of[indicator.code])):
            num, den, _ = link_cells(indicator.lien, key, year)
            for family, k in num + den:
                if family in catalogue.latents:
                    latent_keys[family].add(k)
                elif family in counts and k not in keys_of[family] and key in rows_of[indicator.code]:
                    # A count the year does not publish at this level (a site's satisfaction
                    # answers when site × satisfaction is left out, the answers 1, 2, 3 when
                    # merged): an unknown of the reader, bound by the published figures.
                    if indicator.lien["type"] != "evolution":
                        unpublished[family].add(k)
    for family, keys in latent_keys.items():
        for key in keys:
            model.latent.add((tag, family, key))
        keys_of[family] |= keys
    for family, keys in unpublished.items():
        for key in keys:
            model.latent.add((tag, family, key))
            model.values.setdefault((tag, family, key), true_values.get((family, key), math.nan))
        keys_of[family] |= keys

    for family in sorted(keys_of):
        _structure(model, tag, family, keys_of[family], catalogue, publisher, year)
    _latent_bounds(model, tag, catalogue, latent_keys, keys_of)
    for relation in catalogue.relations:
        shared = set.intersection(*(keys_of.get(f, set()) for f in relation.left + relation.right))
        for key in sorted(shared):
            terms = tuple((1.0, (tag, f, key)) for f in relation.left) + tuple((-1.0, (tag, f, key)) for f in relation.right)
            model.add(Constraint(terms, 0.0, False))

    # Derived figures: published ones bound their counts; missing ones say "denominator zero".
    for indicator in derived:
        rows = rows_of[indicator.code]
        present_dimensions = {k[2] for k in rows}
        for key in sorted(set(expected[indicator.code]) | set(rows)):
            figure = (tag, indicator.code, key)
            num, den, factor = link_cells(indicator.lien, key, year)
            if indicator.lien["type"] == "evolution":
                num_cells = [(tag, f, k) for f, k in num]
                den_cells = [(previous_tag or "", f, k) for f, k in num]  # last year's figure, keyed by this year's cell
            else:
                num_cells = [(tag, f, k) for f, k in num]
                den_cells = [(tag, f, k) for f, k in den]
            if key not in rows:
                if key[2] not in present_dimensions or indicator.lien["type"] == "aucun":
                    continue  # the whole breakdown is absent (nothing known about it): no figure expected
                if indicator.lien["type"] == "evolution":
                    continue  # not computed when last year's figure is hidden or zero: says nothing new
                if any(c not in model.values and c not in model.latent for c in den_cells) and not granularity.finest:
                    continue  # its counts are of a breakdown the year does not publish: a reader knows nothing of them
                _require(model, den_cells, indicator.code, key)
                if not any(model.is_variable(c) for c in den_cells):
                    continue  # the reader reads the denominator itself
                model.figures[figure] = math.nan
                model.missing.add(figure)
                model.add(Constraint(tuple((1.0, c) for c in den_cells), 0.0, True, figure))
                continue
            value, secret = rows[key]
            model.figures[figure] = value
            if secret:
                model.hidden_figures.add(figure)
                continue
            if indicator.lien["type"] == "aucun" or (indicator.lien["type"] == "evolution" and previous_tag is None):
                continue  # no relation to counts; or no earlier year published to compare with
            _require(model, num_cells + den_cells, indicator.code, key)
            if indicator.lien["type"] == "mediane":
                for c in _median_constraints(num_cells, den_cells[0], value, indicator.lien, figure):
                    model.add(c)
            elif indicator.lien["type"] == "evolution":
                # now = before × (1 + e/100), e known to ± 0.05: two bounds, linear in both years.
                (now,), (before,) = num_cells, den_cells
                low, high = 1 + (value - ROUNDING) / 100, 1 + (value + ROUNDING) / 100
                model.add(Constraint(((1.0, now), (-high, before)), 0.0, False, figure))
                model.add(Constraint(((-1.0, now), (low, before)), 0.0, False, figure))
            else:
                for c in _ratio_constraints(num_cells, den_cells, value, factor, figure):
                    model.add(c)


def band_bounds(column_table: str, column: str, bands_name: str) -> list[tuple[float, float]]:
    """(minimum, maximum) of each band of a derived category (``tranches_duree``), from the
    contract: a band starts where the one before it ends."""
    low = float(contract()["tables"][column_table]["columns"][column]["min"])
    out = []
    for band in contract()[bands_name]:
        out.append((low, float(band["max"])))
        low = float(band["max"]) + 1
    return out


def _median_constraints(bands: list[Cell], records: Cell, median: float, link: dict, figure: Cell) -> list[Constraint]:
    """At least half the records last at most the median, and at least half at least the
    median: the bands that can hold such records add up to half the records or more."""
    bounds = band_bounds("accompagnements", link["colonne"], link["tranches"])
    at_most = tuple((-1.0, b) for b, (low, _) in zip(bands, bounds) if low <= median)
    at_least = tuple((-1.0, b) for b, (_, high) in zip(bands, bounds) if high >= median)
    return [Constraint(((0.5, records),) + side, 0.0, False, figure) for side in (at_most, at_least)]


def _require(model: ReaderModel, cells: list[Cell], code: str, key: Key) -> None:
    missing = [c for c in cells if c not in model.values and c not in model.latent]
    if missing:
        _, family, k = missing[0]
        raise SecrecyError(
            f"Audit du secret : le chiffre {code} / {'/'.join(key)} se calcule à partir de {family} / {'/'.join(k)}, "
            "absent du modèle du lecteur ; l'audit ne publie pas un chiffre qu'il ne sait pas relier aux effectifs."
        )


def _latent_bounds(
    model: ReaderModel, tag: str, catalogue: Catalogue, latent_keys: dict[str, set[Key]], keys_of: dict[str, set[Key]]
) -> None:
    """What defines a latent count bounds it: the cells it is made of, or its records."""
    codes = contract()["codes"]
    for family, keys in sorted(latent_keys.items()):
        latent = catalogue.latents[family]
        for key in sorted(keys):
            cell = (tag, family, key)
            if latent.au_moins_un_de:
                spec = latent.au_moins_un_de
                parts = [(key[0], key[1], spec["dimension"], m) for m in codes[spec["modalites"]]]
                if all(p in keys_of.get(spec["indicateur"], set()) for p in parts):
                    for c in _bounds_between(cell, [(tag, spec["indicateur"], p) for p in parts], False):
                        model.add(c)
            if latent.par_enregistrement:
                spec = latent.par_enregistrement
                column = contract()["tables"][latent.source]["columns"][spec["colonne"]]
                records = (tag, spec["indicateur"], key)
                if key in keys_of.get(spec["indicateur"], set()):
                    model.add(Constraint(((float(column["min"]), records), (-1.0, cell)), 0.0, False))
                    model.add(Constraint(((1.0, cell), (-float(column["max"]), records)), 0.0, False))
                bands = [(key[0], key[1], spec["dimension"], b["code"]) for b in contract()[spec["tranches"]]] if "tranches" in spec else []
                if key[2] == ENSEMBLE and bands and all(b in keys_of.get(spec["indicateur"], set()) for b in bands):
                    # Each band's records last between the band's bounds.
                    bounds = band_bounds(latent.source, spec["colonne"], spec["tranches"])
                    counts = [(tag, spec["indicateur"], b) for b in bands]
                    model.add(Constraint(tuple((low, c) for c, (low, _) in zip(counts, bounds)) + ((-1.0, cell),), 0.0, False))
                    model.add(Constraint(((1.0, cell),) + tuple((-high, c) for c, (_, high) in zip(counts, bounds)), 0.0, False))
