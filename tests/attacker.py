"""An independent attacker of the published ``indicateurs.csv`` tables.

Written from the public contract only (the specs, the catalogue ``metadata/indicateurs.yml``,
``organisation.yml``, ``lieux.csv``, ``quartiers.csv``), never from the code that protects the
figures: it reads what any reader can download and asks what they can derive from it. Its
relations come from the definitions (``mesure``, ``ventilations``, ``dimensions``, ``additif``,
a dimension's ``additive``, ``lien`` part/taux/ratio/evolution); it ignores whatever else the
catalogue says about the publisher's own audit model.

**What a reader derives.** One linear programme, variables ≥ 0 (counts), solved with HiGHS
(``scipy.optimize.linprog``). Every version of every year handed in has its own variables and
relations; a published figure fixes its variable.

* counts (``additif: true``): ensemble = Σ sites (``lieux.csv``; ateliers also ``hors_les_murs``)
  for the total and, with ``lieu_dimensions``, for every modality, multi-valued ones included (a
  record has one site); year = Σ 12 months; for an additive dimension a lieu's total = Σ
  modalities; for a multi-valued one each modality ≤ total ≤ Σ modalities; qpv=oui = Σ QPV
  quartiers, qpv=non = other quartiers + ``hors_commune``, qpv=non_communique = quartier's;
* ``usagers`` (not additive over sites or months): year ≥ each part, ≤ their sum, ≤ accompaniments;
* a cell flagged ``primaire`` holds at least one person (too few is not none: zeros are published);
* a figure published to 0.1 is an interval (±0.05): part (a modality's share of its lieu total, a
  month's or a site's share of the year), taux (satisfaction 4+5 over 1..5), ratio (participants
  per atelier, presence rate), evolution (against the previous year's count, as read in the last
  version of that year handed in before it);
* ``part_demarches``: latent D per period and lieu, D/accompaniments in the interval, every
  administrative thematique cell ≤ D ≤ their sum, D(year) = Σ months' D = Σ sites' D;
* ``part_personnes_plusieurs_visites`` p of U persons: repeaters R, R/U in the interval, R ≤ U,
  accompaniments ≥ U + R; ``part_personnes_qpv``: Q QPV persons among K ≤ U with known quartier;
* ``moyenne_duree`` (beyond the brief, since it is linear too): latent minutes M per cell, M/A in
  the interval, 1·A ≤ M ≤ 480·A (the contract's durations), M additive over sites and additive
  dimensions, and a lieu's M within the bounds of its ``duree_tranche`` cells. Medians: nothing.

Every hidden count cell gets its [min, max], LP bounds rounded inwards to integers (with
``integral=True`` a cell the LP leaves under twice the protection width is re-solved as an
integer programme). For a year held in several versions, new − old of every cell is bounded too,
on the joint programme (both versions' relations at once); with ``additions_only`` the reader also
assumes the revision only added records (late entries), so no count of the new version is smaller.

**Findings.** ``narrow``: hidden cells with max − min < ``largeur_protection``; version
differences (a cell hidden in one version at least) that narrow, proven non-zero and under the
threshold. ``small_groups``: groups of 1 to seuil−1 persons (or of accompaniments, hence of
persons) a reader can prove exist: a published person count under the threshold; a
``secondaire`` one proved in [1, seuil−1] (a ``primaire`` one says so itself); a share's
numerator or complement (R and U−R, Q and K−Q, D and A−D, satisfied and not) or the
accompaniments of a lieu without a multi-valued modality (total − cell) proved in [1, seuil−1];
the repeat-visit bound (a single repeater made k visits); between two versions of a year, a
published person count moved by 1 to seuil−1, or a published zero that became hidden.
"""

from __future__ import annotations

import csv
import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

# records.md, "Administrative procedures": the first group of thematiques.
ADMINISTRATIVE = (
    "papiers_elections_citoyennete",
    "famille_scolarite",
    "social_sante",
    "travail_formation",
    "logement",
    "transports_mobilite",
    "argent_impots",
    "justice",
    "etrangers_europe",
    "loisirs_sports_culture",
    "associations",
    "aide_aux_demarches_administratives",
)
DUREE = (1, 480)  # records.md: duree is 1 to 480 minutes
HALF = 0.05 + 1e-9  # half the rounding step of a figure published to 0.1
E = "ensemble"


class AttackError(Exception):
    """The published tables contradict a relation the contract implies: the attacker or the
    publisher is wrong, and a test must not pass or fail on it silently."""


@dataclass
class Findings:
    narrow: list[tuple[str, float, float]] = field(default_factory=list)
    small_groups: list[str] = field(default_factory=list)
    intervals: dict[tuple, tuple[float, float]] = field(default_factory=dict)  # hidden cell -> [min, max]
    differences: dict[tuple, tuple[float, float]] = field(default_factory=dict)  # (old, new, cell) -> [min, max]

    def report(self, limit: int = 12) -> str:
        lines = [f"{len(self.narrow)} narrow interval(s), {len(self.small_groups)} small group(s)"]
        lines += [f"  narrow {what}: [{lo:g}, {hi:g}]" for what, lo, hi in self.narrow[:limit]]
        lines += [f"  small group: {what}" for what in self.small_groups[:limit]]
        return "\n".join(lines)


def describe(key: tuple) -> str:
    version, indicateur, periode, lieu, dimension, modalite = key
    return f"v{version} {periode} {lieu} {indicateur} {dimension}={modalite}"


def duration_bin(code: str) -> tuple[int, int] | None:
    """Minutes covered by a ``duree_tranche`` code such as ``15_29_min`` (None if unreadable)."""
    if m := re.fullmatch(r"moins_de_(\d+)_min", code):
        return DUREE[0], int(m[1]) - 1
    if m := re.fullmatch(r"(\d+)_(\d+)_min", code):
        return int(m[1]), int(m[2])
    if m := re.fullmatch(r"(\d+)_min_et_plus", code):
        return int(m[1]), DUREE[1]
    return None


class Programme:
    """Variables (≥ 0) named by tuples and rows lo ≤ Σ coef·x ≤ hi. Published figures are
    constants, so the programme falls apart into small components, each solved on its own."""

    def __init__(self):
        self.ids: dict[tuple, int] = {}
        self.lo: list[float] = []
        self.hi: list[float] = []
        self.rows: list[tuple[dict[int, float], float, float]] = []
        self._systems: dict = {}

    def var(self, key: tuple, value: float | None = None) -> int:
        if key not in self.ids:
            self.ids[key] = len(self.lo)
            self.lo.append(0.0)
            self.hi.append(math.inf)
        if value is not None:
            self.lo[self.ids[key]] = self.hi[self.ids[key]] = value
        return self.ids[key]

    def add(self, terms: list[tuple[tuple, float]], lo: float = -math.inf, hi: float = math.inf) -> None:
        coefs: dict[int, float] = {}
        for key, coef in terms:
            coefs[self.var(key)] = coefs.get(self.var(key), 0.0) + coef
        self.rows.append((coefs, lo, hi))

    def equal(self, left: tuple, rights: list[tuple]) -> None:
        self.add([(left, 1.0)] + [(r, -1.0) for r in rights], 0.0, 0.0)

    def at_most(self, small: list[tuple], big: list[tuple], factor: float = 1.0) -> None:
        self.add([(k, 1.0) for k in small] + [(k, -factor) for k in big], hi=0.0)

    def ratio(self, num: list[tuple], den: list[tuple], value: float, factor: float = 1.0, share: bool = False) -> None:
        """factor·Σnum / Σden rounds to ``value`` at 0.1. Counts are integers: a published ratio
        has den ≥ 1, a non-zero one num ≥ 1, and a share under 100 % a complement ≥ 1."""
        self.add([(k, factor) for k in num] + [(k, -(value - HALF)) for k in den], lo=0.0)
        self.add([(k, factor) for k in num] + [(k, -(value + HALF)) for k in den], hi=0.0)
        self.add([(k, 1.0) for k in den], lo=1.0)
        if value - HALF > 0:
            self.add([(k, 1.0) for k in num], lo=1.0)
        if share and value + HALF < 100:
            self.add([(k, 1.0) for k in den] + [(k, -1.0) for k in num], lo=1.0)

    def fixed(self, i: int) -> bool:
        return self.lo[i] == self.hi[i]

    def prepare(self) -> None:
        """Union-find over the free variables of every row; check the rows left constant."""
        parent = list(range(len(self.lo)))

        def find(i):
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        names = {i: k for k, i in self.ids.items()}
        for coefs, lo, hi in self.rows:
            free = [i for i in coefs if not self.fixed(i)]
            total = sum(c * self.lo[i] for i, c in coefs.items())
            if not free and not lo - 1e-6 <= total <= hi + 1e-6:
                raise AttackError(f"published figures break {[(names[i], c) for i, c in coefs.items()]}: {total:g} ∉ [{lo}, {hi}]")
            for a, b in itertools.pairwise(free):
                parent[find(a)] = find(b)
        self.root = [find(i) for i in range(len(self.lo))]
        self.members: dict[int, list[int]] = {}  # component -> its free variables, and its rows
        self.by_root: dict[int, list[int]] = {}
        for i in (i for i in range(len(self.lo)) if not self.fixed(i)):
            self.members.setdefault(self.root[i], []).append(i)
        for r, (coefs, _, _) in enumerate(self.rows):
            if (first := next((i for i in coefs if not self.fixed(i)), None)) is not None:
                self.by_root.setdefault(self.root[first], []).append(r)

    def _system(self, roots: frozenset):
        """The rows of some components as sparse matrices, constants moved to the right."""
        if roots not in self._systems:
            free = [i for root in sorted(roots) for i in self.members[root]]
            local = {i: j for j, i in enumerate(free)}
            # rows, columns, coefficients, right-hand sides
            ub: tuple[list[int], list[int], list[float], list[float]] = ([], [], [], [])
            eq: tuple[list[int], list[int], list[float], list[float]] = ([], [], [], [])
            for r in (r for root in roots for r in self.by_root.get(root, [])):
                coefs, lo, hi = self.rows[r]
                const = sum(c * self.lo[i] for i, c in coefs.items() if self.fixed(i))
                sides = (
                    [(eq, 1.0, lo - const)]
                    if lo == hi
                    else [(ub, 1.0, hi - const)] * math.isfinite(hi) + [(ub, -1.0, const - lo)] * math.isfinite(lo)
                )
                for target, sign, rhs in sides:
                    for i, c in coefs.items():
                        if not self.fixed(i):
                            target[0].append(len(target[3]))
                            target[1].append(local[i])
                            target[2].append(sign * c)
                    target[3].append(rhs)

            def matrix(t):
                if not t[3]:
                    return None, None
                return coo_matrix((t[2], (t[0], t[1])), shape=(len(t[3]), len(free))).tocsr(), np.array(t[3])

            box = [(self.lo[i], None if math.isinf(self.hi[i]) else self.hi[i]) for i in free]
            self._systems[roots] = (local, *matrix(ub), *matrix(eq), box)
        return self._systems[roots]

    def bounds(self, expr: dict[int, float], integral: bool = False) -> tuple[float, float]:
        """[min, max] of Σ coef·x, rounded inwards to integers (every variable is a count)."""
        const = sum(c * self.lo[i] for i, c in expr.items() if self.fixed(i))
        free = {i: c for i, c in expr.items() if not self.fixed(i) and c}
        if not free:
            return const, const
        local, A_ub, b_ub, A_eq, b_eq, box = self._system(frozenset(self.root[i] for i in free))
        extremes = []
        for sense in (1.0, -1.0):  # minimise expr, then -expr
            c = np.zeros(len(local))
            for i, coef in free.items():
                c[local[i]] = sense * coef
            res = linprog(
                c,
                A_ub=A_ub,
                b_ub=b_ub,
                A_eq=A_eq,
                b_eq=b_eq,
                bounds=box,
                method="highs",
                integrality=np.ones(len(local)) if integral else None,
            )
            if res.status == 2:
                raise AttackError("the published figures admit no solution: a relation of the attacker is wrong")
            extremes.append(-sense * math.inf if res.status == 3 else sense * res.fun)
        lo = math.ceil(extremes[0] - 1e-6) if math.isfinite(extremes[0]) else extremes[0]
        hi = math.floor(extremes[1] + 1e-6) if math.isfinite(extremes[1]) else extremes[1]
        if lo > hi:
            raise AttackError("the published figures admit no integer solution: a relation of the attacker is wrong")
        return const + lo, const + hi


@dataclass
class Table:
    version: int
    year: int
    values: dict[tuple, float | None]  # (indicateur, periode, lieu, dimension, modalite) -> value, None if hidden
    primary: set[tuple]  # hidden as "primaire": too few persons, so not none


def read_table(path: Path, version: int) -> Table:
    values, primary, years = {}, set(), set()
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            years.add(int(row["annee"]))
            key = (row["indicateur"], row["periode"], row["lieu"], row["dimension"], row["modalite"])
            hidden = row["secret"].strip() or not row["valeur"].strip()
            values[key] = None if hidden else float(row["valeur"])
            if row["secret"].strip() == "primaire":
                primary.add(key)
    if len(years) != 1:
        raise AttackError(f"{path}: expected one year, found {sorted(years)}")
    return Table(version, years.pop(), values, primary)


class Attacker:
    def __init__(self, csv_paths: list[Path], metadata: Path, integral: bool = False, additions_only: bool = False):
        self.catalogue = yaml.safe_load((metadata / "indicateurs.yml").read_text(encoding="utf-8"))
        organisation = yaml.safe_load((metadata / "organisation.yml").read_text(encoding="utf-8")) or {}
        self.seuil = int(organisation.get("seuil_secret", 11))
        self.largeur = float(organisation.get("largeur_protection", self.seuil))
        with open(metadata / "lieux.csv", encoding="utf-8-sig", newline="") as handle:
            self.sites = [row["code"] for row in csv.DictReader(handle)]
        with open(metadata / "quartiers.csv", encoding="utf-8-sig", newline="") as handle:
            self.qpv = {row["code"]: row.get("qpv", "").strip().lower() in ("oui", "true", "1", "vrai") for row in csv.DictReader(handle)}
        self.dimensions = self.catalogue.get("dimensions", {})
        self.indicators = {ind["code"]: ind for ind in self.catalogue["indicateurs"]}
        self.counts = {c for c, ind in self.indicators.items() if ind.get("additif") or ind.get("mesure") == "personnes"}
        self.persons = {c for c in self.counts if self.indicators[c].get("source") == "accompagnements"}
        self.tables = [read_table(Path(p), v) for v, p in enumerate(csv_paths)]
        self.integral = integral
        self.additions_only = additions_only
        self.lp = Programme()
        self.groups: list[tuple[str, list[tuple[tuple, float]]]] = []  # numerators and complements of shares
        self.repeaters: list[tuple] = []
        self.findings = Findings()

    # -- the reader's relations ------------------------------------------------------------
    def sites_of(self, code: str) -> list[str]:
        return self.sites + (["hors_les_murs"] if self.indicators[code].get("source") == "ateliers" else [])

    def modalities(self, t: Table, code: str, dim: str) -> list[str]:
        return list(dict.fromkeys(k[4] for k in t.values if k[0] == code and k[3] == dim))

    def group(self, what: str, plus: list[tuple], minus: Sequence[tuple] = ()) -> None:
        self.groups.append((what, [(k, 1.0) for k in plus] + [(k, -1.0) for k in minus]))

    def build(self) -> None:
        for t in self.tables:
            for (code, *rest), value in t.values.items():
                if code in self.counts:
                    i = self.lp.var((t.version, code, *rest), value)
                    if (code, *rest) in t.primary:
                        self.lp.lo[i] = 1.0  # « primaire »: a few persons, not none
            for code, ind in self.indicators.items():
                present = any(k[0] == code for k in t.values)
                if ind.get("additif"):
                    self.additive(t, code, ind)
                elif ind.get("mesure") == "personnes" and present:
                    self.usagers(t, code, ind)
                elif ind.get("mesure") == "part_demarches" and present:
                    self.demarches(t, code, ind)
                elif ind.get("mesure") == "moyenne_duree" and present:
                    self.minutes(t, code, ind)
            for (code, per, lieu, dim, mod), value in t.values.items():
                if value is not None and code in self.indicators:
                    self.link(t, code, per, lieu, dim, mod, value)
        if self.additions_only:  # a revision made of late records: no count went down
            for old, new in self.version_pairs():
                for cell in old.values:
                    if cell[0] in self.counts and cell in new.values:
                        self.lp.add([((new.version, *cell), 1.0), ((old.version, *cell), -1.0)], lo=0.0)

    def merges(self, dim: str) -> list[tuple[str, list[str]]]:
        """(coarse code, the codes it merges) for every level the catalogue's ``granularite`` declares."""
        levels = ((self.catalogue.get("granularite") or {}).get("dimensions") or {}).get(dim) or []
        return [(g, list(spec["modalites"])) for level in levels for g, spec in (level.get("groupes") or {}).items()]

    def one_level(self, mods: list[str], dim: str) -> list[str]:
        """The modalities without the codes a published coarse code already counts."""
        merged = {m for g, fine in self.merges(dim) if g in mods for m in fine}
        return [m for m in mods if m not in merged]

    def period_levels(self, t: Table, code: str) -> list[list[tuple[str, list[str]]]]:
        """Each period level published for ``code`` (months, then the catalogue's ``granularite``
        quarters, semesters): [(period code, the month codes it spans)], only levels present in full."""
        Y = str(t.year)
        levels = [[(f"{Y}-{m:02d}", [f"{m:02d}"]) for m in range(1, 13)]]
        for level in (self.catalogue.get("granularite") or {}).get("periodes", []):
            levels.append([(f"{Y}-{g}", list(spec["modalites"])) for g, spec in level.get("groupes", {}).items()])
        return [lv for lv in levels if all(any(k[0] == code and k[1] == per for k in t.values) for per, _ in lv)]

    def periods(self, t: Table, code: str) -> None:
        """year = Σ the periods of each published level; a coarse period = Σ the finer ones it spans."""
        v, Y, lp = t.version, str(t.year), self.lp
        levels = self.period_levels(t, code)
        for level in levels:
            lp.equal((v, code, Y, E, E, E), [(v, code, per, E, E, E) for per, _ in level])
        for fine, coarse in itertools.combinations(levels, 2):
            for per, months in coarse:
                inside = [(v, code, f, E, E, E) for f, ms in fine if set(ms) <= set(months)]
                if inside and len(fine) > len(coarse):
                    lp.equal((v, code, per, E, E, E), inside)

    def version_pairs(self) -> list[tuple[Table, Table]]:
        return [(old, new) for old in self.tables for new in self.tables if new.year == old.year and new.version > old.version]

    def additive(self, t: Table, code: str, ind: dict) -> None:
        v, Y, lp, ven = t.version, str(t.year), self.lp, ind.get("ventilations", [])
        total = lambda lieu: (v, code, Y, lieu, E, E)
        sites = self.sites_of(code)
        if "lieu" in ven:
            lp.equal(total(E), [total(s) for s in sites])
        if "mois" in ven:
            self.periods(t, code)
        lieux = [E] + (sites if "lieu_dimensions" in ven else [])
        for dim in ind.get("dimensions", []):
            mods = self.modalities(t, code, dim)
            cell = lambda lieu, m, dim=dim: (v, code, Y, lieu, dim, m)
            for m in mods if "lieu_dimensions" in ven else []:
                lp.equal(cell(E, m), [cell(s, m) for s in sites])
            for lieu in lieux if mods else []:
                if self.dimensions.get(dim, {}).get("additive", True):
                    lp.equal(total(lieu), [cell(lieu, m) for m in self.one_level(mods, dim)])
                else:
                    for m in mods:
                        lp.at_most([cell(lieu, m)], [total(lieu)])
                        if code in self.persons:  # a modality published is its absence published
                            self.group(f"{describe(total(lieu))} without {dim}={m}", [total(lieu)], [cell(lieu, m)])
                    lp.at_most([total(lieu)], [cell(lieu, m) for m in mods])
                for merged, fine in self.merges(dim):  # the catalogue's coarse code = Σ the codes it merges
                    if merged in mods and all(m in mods for m in fine):  # both levels published
                        lp.equal(cell(lieu, merged), [cell(lieu, m) for m in fine])
                if dim == "qpv" and self.modalities(t, code, "quartier"):
                    q = lambda names, lieu=lieu: [(v, code, Y, lieu, "quartier", n) for n in names]
                    lp.equal(cell(lieu, "oui"), q([n for n, yes in self.qpv.items() if yes]))
                    lp.equal(cell(lieu, "non"), q([n for n, yes in self.qpv.items() if not yes] + ["hors_commune"]))
                    lp.equal(cell(lieu, "non_communique"), q(["non_communique"]))

    def usagers(self, t: Table, code: str, ind: dict) -> None:
        v, Y, lp, ven, of = t.version, str(t.year), self.lp, ind.get("ventilations", []), ind["source"]
        whole = (v, code, Y, E, E, E)
        lp.at_most([whole], [(v, of, Y, E, E, E)])  # a person has at least one accompaniment
        for parts in (
            [(v, code, Y, s, E, E) for s in self.sites_of(code)] if "lieu" in ven else [],
            *([(v, code, per, E, E, E) for per, _ in level] for level in self.period_levels(t, code) if "mois" in ven),
        ):
            if parts:
                lp.at_most([whole], parts)
                for p in parts:
                    lp.at_most([p], [whole])
                    lp.at_most([p], [(v, of, *p[2:])])

    def demarches(self, t: Table, code: str, ind: dict) -> None:
        """Latent D (administrative accompaniments) per period and lieu."""
        v, Y, lp, of, ven = t.version, str(t.year), self.lp, ind.get("source", "accompagnements"), ind["ventilations"]
        D = lambda per, lieu: ("D", v, per, lieu)
        levels = self.period_levels(t, of) if "mois" in ven else []
        months = [per for per, _ in levels[0]] if levels else []  # the finest published level
        sites = self.sites if "lieu" in ven else []
        if months:
            lp.equal(D(Y, E), [D(m, E) for m in months])
        if sites:
            lp.equal(D(Y, E), [D(Y, s) for s in sites])
        for per, lieu in [(Y, E)] + [(m, E) for m in months] + [(Y, s) for s in sites]:
            A = (v, of, per, lieu, E, E)
            lp.at_most([D(per, lieu)], [A])
            admin = [(v, of, per, lieu, "thematique", m) for m in ADMINISTRATIVE if (of, per, lieu, "thematique", m) in t.values]
            for cell in admin:
                lp.at_most([cell], [D(per, lieu)])
            if admin:
                lp.at_most([D(per, lieu)], admin)
            if (value := t.values.get((code, per, lieu, E, E))) is not None:
                lp.ratio([D(per, lieu)], [A], value, 100.0, share=True)
                self.group(f"administrative accompaniments v{v} {per} {lieu} ({value:g}%)", [D(per, lieu)])
                self.group(f"non-administrative accompaniments v{v} {per} {lieu} ({100 - value:.1f}%)", [A], [D(per, lieu)])

    def minutes(self, t: Table, code: str, ind: dict) -> None:
        """Latent total minutes M per cell: mean × count, each record lasting 1 to 480 minutes."""
        v, Y, lp, of = t.version, str(t.year), self.lp, ind.get("source", "accompagnements")
        M = lambda lieu, dim, mod: ("M", v, Y, lieu, dim, mod)
        cells = [(E, E, E)] + [(s, E, E) for s in self.sites if "lieu" in ind["ventilations"]]
        for dim in ind.get("dimensions", []) if "dimensions" in ind["ventilations"] else []:
            if not (mods := self.modalities(t, of, dim)):
                continue
            cells += [(E, dim, m) for m in mods]
            if self.dimensions.get(dim, {}).get("additive", True):
                lp.equal(M(E, E, E), [M(E, dim, m) for m in self.one_level(mods, dim)])
            else:
                for m in mods:
                    lp.at_most([M(E, dim, m)], [M(E, E, E)])
                lp.at_most([M(E, E, E)], [M(E, dim, m) for m in mods])
        if "lieu" in ind["ventilations"]:
            lp.equal(M(E, E, E), [M(s, E, E) for s in self.sites])
        for lieu, dim, mod in cells:
            A = (v, of, Y, lieu, dim, mod)
            lp.at_most([A], [M(lieu, dim, mod)], 1.0 / DUREE[0])
            lp.at_most([M(lieu, dim, mod)], [A], DUREE[1])
            if (value := t.values.get((code, Y, lieu, dim, mod))) is not None:
                lp.ratio([M(lieu, dim, mod)], [A], value)
            found = [(m, duration_bin(m)) for m in self.modalities(t, of, "duree_tranche")]
            bins = [(m, b) for m, b in found if b is not None]
            if dim == E and found and len(bins) == len(found):  # every bin readable
                lp.add([(M(lieu, E, E), 1.0), *[((v, of, Y, lieu, "duree_tranche", m), -b[0]) for m, b in bins]], lo=0.0)
                lp.add([(M(lieu, E, E), 1.0), *[((v, of, Y, lieu, "duree_tranche", m), -b[1]) for m, b in bins]], hi=0.0)

    def link(self, t: Table, code: str, per: str, lieu: str, dim: str, mod: str, value: float) -> None:
        """The rounding interval of one published share, rate, ratio or evolution."""
        ind, v, Y, lp = self.indicators[code], t.version, str(t.year), self.lp
        lien, mesure = ind.get("lien") or {}, ind.get("mesure")
        kind, of = lien.get("type"), lien.get("de")
        if mesure in ("part_demarches", "moyenne_duree", "mediane_duree"):
            return  # handled with their latent counts, or nothing linear
        if mesure in ("part_personnes_plusieurs_visites", "part_personnes_qpv"):
            self.person_share(t, mesure, per, lieu, value)
        elif kind == "part" and not (per == Y and lieu == E and dim == E):
            num, den = [(v, of, per, lieu, dim, mod)], [(v, of, Y, E if dim == E else lieu, E, E)]
            lp.ratio(num, den, value, 100.0, share=True)
        elif kind == "taux":
            cells = lambda mods: [(v, of, per, lieu, lien["dimension"], m) for m in mods]
            num, den = cells(lien["numerateur"]), cells(lien["denominateur"])
            lp.ratio(num, den, value, 100.0, share=True)
            self.group(f"v{v} {per} {lieu} {code} ({value:g}%): numerator", num)
            self.group(f"v{v} {per} {lieu} {code} ({value:g}%): complement", [k for k in den if k not in num])
        elif kind == "ratio" and {lien["numerateur"], lien["denominateur"]} <= self.counts:
            lp.ratio(
                [(v, lien["numerateur"], per, lieu, dim, mod)],
                [(v, lien["denominateur"], per, lieu, dim, mod)],
                value,
                float(lien.get("facteur", 1)),
            )
        elif kind == "evolution":
            previous = [p for p in self.tables if p.year == t.year - 1]
            if before := [p for p in previous if p.version < v] or previous:  # 100·A/P rounds to 100 + e
                old = (before[-1].version, of, str(t.year - 1), lieu, dim, mod)
                lp.ratio([(v, of, per, lieu, dim, mod)], [old], 100.0 + value, 100.0)

    def person_share(self, t: Table, mesure: str, per: str, lieu: str, value: float) -> None:
        v, lp = t.version, self.lp
        users, visits = (v, "usagers", per, lieu, E, E), (v, "accompagnements", per, lieu, E, E)
        if ("usagers", per, lieu, E, E) not in t.values:
            return  # without a person identifier, nothing linear about persons
        where = f"v{v} {per} {lieu} ({value:g}%)"
        if mesure == "part_personnes_plusieurs_visites":
            R = ("R", v, per, lieu)
            lp.ratio([R], [users], value, 100.0, share=True)
            lp.at_most([R], [users])
            lp.at_most([users, R], [visits])  # a repeater came at least twice
            self.group(f"persons who came several times {where}", [R])
            self.group(f"persons who came once {where}", [users], [R])
            self.repeaters.append((where, R, users, visits))
        else:
            Q, K = ("Q", v, per, lieu), ("K", v, per, lieu)
            lp.ratio([Q], [K], value, 100.0, share=True)
            lp.at_most([Q], [K])
            lp.at_most([K], [users])
            self.group(f"persons living in a QPV {where}", [Q])
            self.group(f"persons with a known quartier outside QPV {where}", [K], [Q])

    # -- what the reader learns --------------------------------------------------------------
    def expression(self, terms: list[tuple[tuple, float]]) -> dict[int, float]:
        expr: dict[int, float] = {}
        for key, coef in terms:
            expr[self.lp.ids[key]] = expr.get(self.lp.ids[key], 0.0) + coef
        return expr

    def run(self) -> Findings:
        self.build()
        lp, f = self.lp, self.findings
        lp.prepare()
        for t in self.tables:
            for (code, *rest), value in t.values.items():
                key = (t.version, code, *rest)
                if code in self.counts and value is None:
                    lo, hi = lp.bounds({lp.ids[key]: 1.0})
                    if self.integral and hi - lo < 2 * self.largeur:
                        lo, hi = lp.bounds({lp.ids[key]: 1.0}, integral=True)
                    f.intervals[key] = (lo, hi)
                    if hi - lo < self.largeur:
                        f.narrow.append((describe(key), lo, hi))
                    if code in self.persons and lo >= 1 and hi < self.seuil and (code, *rest) not in t.primary:
                        f.small_groups.append(f"secondary {describe(key)} proved in [{lo:g}, {hi:g}]")
                elif code in self.persons and value is not None and 0 < value < self.seuil:
                    f.small_groups.append(f"published {describe(key)} = {value:g} < {self.seuil}")
        for what, terms in self.groups:
            lo, hi = lp.bounds(self.expression(terms))
            if lo >= 1 and hi < self.seuil:
                f.small_groups.append(f"{what}: proved between {lo:g} and {hi:g}")
        for where, R, users, visits in self.repeaters:  # U − R persons came once, R persons the rest
            if lp.bounds(self.expression([(R, 1.0)])) == (1, 1):
                k = lp.bounds(self.expression([(visits, 1.0), (users, -1.0), (R, 1.0)]))
                f.small_groups.append(f"a single person came several times {where}: {k[0]:g} to {k[1]:g} visits")
        self.versions()
        return f

    def versions(self) -> None:
        """Differences between two versions of a year, bounded on the joint programme."""
        f = self.findings
        for old, new in self.version_pairs():
            for cell, a in old.values.items():
                if cell[0] not in self.counts or cell not in new.values:
                    continue
                b = new.values[cell]
                label = f"{cell[1]} {cell[2]} {cell[0]} {cell[3]}={cell[4]} (v{old.version}→v{new.version})"
                if a is not None and b is not None:
                    f.differences[(old.version, new.version, cell)] = (b - a, b - a)
                    if cell[0] in self.persons and 0 < abs(b - a) < self.seuil:
                        f.small_groups.append(f"published in both versions, moved by {b - a:+g}: {label}")
                    continue
                if 0 in (a, b):
                    f.small_groups.append(f"published zero in one version, hidden in the other: {label}")
                lo, hi = self.lp.bounds(self.expression([((new.version, *cell), 1.0), ((old.version, *cell), -1.0)]))
                f.differences[(old.version, new.version, cell)] = (lo, hi)
                if hi - lo < self.largeur and (0 < lo < self.seuil or -self.seuil < hi < 0):
                    f.narrow.append((f"difference {label}", lo, hi))  # a proven small change


def attack(csv_paths: list[Path], metadata: Path, integral: bool = False, additions_only: bool = False) -> Findings:
    """Everything a reader holding these ``indicateurs.csv`` (every year and version, in the order
    they were downloaded) and the folder's ``metadata/`` can derive; see the module docstring."""
    return Attacker([Path(p) for p in csv_paths], Path(metadata), integral, additions_only).run()
