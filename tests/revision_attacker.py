"""A reader who keeps every downloadable version of a year and compares them.

Written apart from the protecting code (``secrecy.py``, ``versions.py``, ``inference.py``,
``risk.py`` and the revision part of ``release.py`` were not read): everything here works on
what anyone can download, the versioned zips of ``telechargements/`` and the public catalogue
(``metadata/indicateurs.yml``, published as ``definitions.csv``). The reader knows the
published method (shares rounded to 0.1, a share's denominator is its cell's total, the
threshold and the protection width printed in ``datapackage.json``) and nothing else.

Two attacks:

* ``pin_modalities``: between two versions, a cell *changed* when its value changed, when
  it went from published to hidden or back, when its secret mention changed
  (``primaire`` ↔ ``secondaire``) or when it appeared or vanished. In each breakdown
  (a dimension of one indicator at one period and site, the sites of one cell, the months
  of one cell), when exactly one modality changed among several, the reader has pinned the
  modality of whoever the revision added.
* ``bound_hidden_counts``: every hidden count of every version bounded by linear
  programming over all versions together: modalities of an additive dimension sum to their
  total, sites and months sum to the year, a published share brackets its count, the
  satisfaction rate brackets its numerator, distinct persons are at most accompaniments,
  a ``primaire`` mention means 1 to ``seuil − 1`` persons behind the cell, and (the
  motif says records were entered late) a later version only adds: each count grows by at
  most what its total grew. When the versions contradict « every published count is true »
  (a revision that holds small corrections back shows some counts as they were), the reader
  allows every count shown unchanged to hide a larger true value, and reports the counts it
  can prove stale and bound.
* ``changed_side_figures``, ``changed_pages``, ``database_figures``, ``changelog_counts``:
  the numbers printed beside the table (risk report, package, pages, database, changelog).
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import re
import sqlite3
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

# A cell of the long table, without its year (one zip holds one year).
Key = tuple[str, str, str, str, str]  # periode, lieu, indicateur, dimension, modalite
ENSEMBLE = "ensemble"
VERSIONED_ZIP = re.compile(r"ccas-opendata-(\d{4})-v(\d+)\.(\d+)\.(\d+)\.zip$")


@dataclass(frozen=True)
class Cell:
    value: float | None  # None when hidden
    secret: str  # the raw mention: empty when published, anything else when hidden

    @property
    def hidden(self) -> bool:
        return bool(self.secret) or self.value is None


@dataclass
class Version:
    """One downloadable version of a year, read from its zip only."""

    year: int
    version: tuple[int, int, int]
    cells: dict[Key, Cell]
    package: dict
    name: str
    risk: dict = field(default_factory=dict)  # risque.json of the zip, when it has one

    @property
    def label(self) -> str:
        return ".".join(map(str, self.version))

    @property
    def year_period(self) -> str:
        return str(self.year)

    @property
    def protection_width(self) -> int:
        """The width a hidden count must keep, as the package prints it."""
        return _published_number(self.package, ("largeurProtection", "largeur_protection"))

    @property
    def threshold(self) -> int:
        return _published_number(self.package, ("seuil", "seuil_secret"))


def _published_number(package: dict, names: tuple[str, ...]) -> int:
    method = package.get("secretStatistique", {})
    for name in names:
        if name in method:
            return int(method[name])
    raise KeyError(f"datapackage.json ne publie aucun de {names}")


def read_zip(path: Path) -> Version:
    match = VERSIONED_ZIP.search(path.name)
    if not match:
        raise ValueError(f"{path.name} n'est pas le zip d'une version")
    with zipfile.ZipFile(path) as archive:
        package = json.loads(archive.read("datapackage.json"))
        text = archive.read("indicateurs.csv").decode("utf-8-sig")
        risk = json.loads(archive.read("risque.json")) if "risque.json" in archive.namelist() else {}
    cells: dict[Key, Cell] = {}
    for row in csv.DictReader(io.StringIO(text)):
        key = (row["periode"], row["lieu"], row["indicateur"], row["dimension"], row["modalite"])
        raw = (row.get("valeur") or "").strip()
        cells[key] = Cell(float(raw) if raw else None, (row.get("secret") or "").strip())
    year = int(match.group(1))
    return Version(year, (int(match.group(2)), int(match.group(3)), int(match.group(4))), cells, package, path.name, risk)


def read_versions(folder: Path, year: int) -> list[Version]:
    """Every versioned zip of ``year`` in ``folder/telechargements``, oldest first."""
    found = [read_zip(p) for p in sorted((folder / "telechargements").glob(f"ccas-opendata-{year}-v*.zip"))]
    return sorted(found, key=lambda v: v.version)


# --- attack 1: which cells changed, and what that pins ---------------------------------


@dataclass(frozen=True)
class Change:
    key: Key
    kind: str  # valeur, masquee, publiee, mention, apparue, disparue


def changed_cells(old: Version, new: Version) -> list[Change]:
    changes = []
    for key in sorted(set(old.cells) | set(new.cells)):
        a, b = old.cells.get(key), new.cells.get(key)
        if a is None:
            changes.append(Change(key, "apparue"))
        elif b is None:
            changes.append(Change(key, "disparue"))
        elif not a.hidden and b.hidden:
            changes.append(Change(key, "masquee"))
        elif a.hidden and not b.hidden:
            changes.append(Change(key, "publiee"))
        elif a.hidden and b.hidden:
            if a.secret != b.secret:
                changes.append(Change(key, "mention"))
        elif a.value != b.value:
            changes.append(Change(key, "valeur"))
    return changes


@dataclass(frozen=True)
class Pin:
    axis: str  # a dimension, or « lieu », or « mois »
    modality: str
    group: tuple[str, ...]  # the breakdown in which it was the only modality to change
    kind: str


@dataclass
class PinReport:
    changes: list[Change]
    pins: list[Pin]
    narrowed: dict[tuple[str, tuple[str, ...]], frozenset[str]] = field(default_factory=dict)

    def pinned(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = defaultdict(set)
        for pin in self.pins:
            out[pin.axis].add(pin.modality)
        return dict(out)

    def counts_by_kind(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for change in self.changes:
            out[change.kind] += 1
        return dict(out)


def pin_modalities(old: Version, new: Version) -> PinReport:
    """Breakdowns in which the revision changed exactly one modality among several."""
    changes = changed_cells(old, new)
    changed = {c.key: c.kind for c in changes}
    keys = set(old.cells) | set(new.cells)
    year = new.year_period
    groups: dict[tuple[str, tuple[str, ...]], set[str]] = defaultdict(set)
    for periode, lieu, indicateur, dimension, modalite in keys:
        if dimension != ENSEMBLE:
            groups[(dimension, ("dimension", periode, lieu, indicateur, dimension))].add(modalite)
        if lieu != ENSEMBLE:
            groups[("lieu", ("lieu", periode, indicateur, dimension, modalite))].add(lieu)
        if periode != year:
            groups[("mois", ("mois", lieu, indicateur, dimension, modalite))].add(periode)
    report = PinReport(changes, [])
    for (axis, group), members in sorted(groups.items()):
        moved = {m for m in members if changed.get(_member_key(group, m)) is not None}
        if len(members) < 2 or not moved or moved == members:
            continue
        report.narrowed[(axis, group)] = frozenset(moved)
        if len(moved) == 1:
            (modality,) = moved
            report.pins.append(Pin(axis, modality, group, changed[_member_key(group, modality)]))
    return report


def _member_key(group: tuple[str, ...], member: str) -> Key:
    kind = group[0]
    if kind == "dimension":
        _, periode, lieu, indicateur, dimension = group
        return (periode, lieu, indicateur, dimension, member)
    if kind == "lieu":
        _, periode, indicateur, dimension, modalite = group
        return (periode, member, indicateur, dimension, modalite)
    _, lieu, indicateur, dimension, modalite = group
    return (member, lieu, indicateur, dimension, modalite)


# --- attack 2: linear bounds on every hidden count, all versions together ---------------


@dataclass(frozen=True)
class Bound:
    version: str
    key: Key
    low: int
    high: int
    secret: str
    of: str = "valeur"  # « personnes »: the persons behind the cell, as its mention tells them;
    # « vraie valeur »: the true count behind a published figure that may be frozen (shown)
    shown: float | None = None

    def narrow(self, width: int) -> bool:
        if self.of == "vraie valeur":
            # A figure shown as it was says « at most so many late records here », which holds
            # of any published figure; it leaks when the reader can prove it stale.
            return self.shown is not None and self.low > self.shown and self.width < width
        return self.width < width

    @property
    def width(self) -> int:
        return self.high - self.low


@dataclass
class Catalogue:
    """What the public catalogue says about how figures combine."""

    additive: set[str]
    sum_counts: set[str]  # agregation: somme, over the accompaniments
    person_counts: set[str]  # agregation: personnes
    shares_of: dict[str, str]  # share indicator -> its count
    rates: dict[str, tuple[str, str, list[str], list[str]]]  # taux -> (count, dimension, num, den)
    evolutions: dict[str, str] = field(default_factory=dict)  # evolution -> its count


def read_catalogue(path: Path) -> Catalogue:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    additive = {code for code, d in data["dimensions"].items() if d.get("additive")}
    sums, persons, shares, rates, evolutions = set(), set(), {}, {}, {}
    for entry in data["indicateurs"]:
        link = entry.get("lien") or {}
        from_records = entry.get("source") == "accompagnements"
        if entry.get("agregation") == "somme" and from_records:
            sums.add(entry["code"])
        if entry.get("agregation") == "personnes" and from_records:
            persons.add(entry["code"])
        if link.get("type") == "part":
            shares[entry["code"]] = link["de"]
        if link.get("type") == "evolution":
            evolutions[entry["code"]] = link["de"]
        if link.get("type") == "taux":
            rates[entry["code"]] = (
                link["de"],
                link["dimension"],
                [str(x) for x in link["numerateur"]],
                [str(x) for x in link["denominateur"]],
            )
    return Catalogue(additive, sums, persons, shares, rates, evolutions)


class _Model:
    """Variables are the true hidden counts of every version; published counts are constants.

    With ``freeze``, the reader also allows that a revision showed some counts as they were
    (small corrections held back): a count published with the same value as in the version
    before may hide a larger true value, a variable at least as large as what it shows."""

    def __init__(self, versions: list[Version], catalogue: Catalogue, freeze: bool = False):
        self.versions, self.catalogue, self.freeze = versions, catalogue, freeze
        self.counts = catalogue.sum_counts | catalogue.person_counts
        self.index: dict[tuple[int, Key], int] = {}
        self.stale: dict[tuple[int, Key], float] = {}
        for v, version in enumerate(versions):
            for key, cell in version.cells.items():
                if key[2] not in self.counts:
                    continue
                if cell.hidden:
                    self.index[(v, key)] = len(self.index)
                elif (
                    freeze
                    and v > 0
                    and (before := versions[v - 1].cells.get(key)) is not None
                    and not before.hidden
                    and before.value == cell.value
                ):
                    self.index[(v, key)] = len(self.index)
                    self.stale[(v, key)] = float(cell.value or 0.0)
        self.eq: list[tuple[dict[int, float], float]] = []  # sum(coef x) + const == 0
        self.le: list[tuple[dict[int, float], float]] = []  # sum(coef x) + const <= 0
        self.lower = np.zeros(len(self.index))
        self.upper = np.full(len(self.index), np.inf)
        for vk, shown in self.stale.items():
            self.lower[self.index[vk]] = shown

    def term(self, v: int, key: Key) -> tuple[dict[int, float], float] | None:
        """The true count of ``key`` in version ``v``."""
        cell = self.versions[v].cells.get(key)
        if cell is None:
            return None
        if (v, key) in self.index:
            return {self.index[(v, key)]: 1.0}, 0.0
        return {}, float(cell.value or 0.0)

    def shown(self, v: int, key: Key) -> tuple[dict[int, float], float] | None:
        """The count a published share or rate was computed from: what the version shows.
        Under a freeze, a hidden count of a revision may be the true one or the frozen one:
        no share is tied to it (None)."""
        cell = self.versions[v].cells.get(key)
        if cell is None:
            return None
        if not cell.hidden:
            return {}, float(cell.value or 0.0)
        if self.freeze and v > 0:
            return None
        return {self.index[(v, key)]: 1.0}, 0.0

    def add(self, terms: list[tuple[float, tuple[dict[int, float], float] | None]], equal: bool) -> None:
        """Add sum(coef · term) (== or <=) 0, skipped when a term is not published at all."""
        coefs: dict[int, float] = defaultdict(float)
        const = 0.0
        for factor, term in terms:
            if term is None:
                return
            for i, c in term[0].items():
                coefs[i] += factor * c
            const += factor * term[1]
        if not coefs:
            return
        (self.eq if equal else self.le).append((dict(coefs), const))


def _total_key(key: Key, year: str) -> Key:
    periode, lieu, indicateur, dimension, _ = key
    if dimension != ENSEMBLE:
        return (periode, lieu, indicateur, ENSEMBLE, ENSEMBLE)
    return (year, ENSEMBLE, indicateur, ENSEMBLE, ENSEMBLE)


def _half_step(values: list[float]) -> float:
    """Half the rounding step of published shares (0.1 → 0.05), with a hair of slack."""
    decimals = max((len(f"{x:.6f}".rstrip("0").split(".")[1]) for x in values), default=1)
    return 0.5 * 10.0 ** -max(decimals, 1) + 1e-9


# Year totals the risk report prints in words a reader can match to the table's cells.
RISK_TOTALS = {"enregistrements": "accompagnements", "personnes_distinctes": "usagers"}


def build_model(versions: list[Version], catalogue: Catalogue, additions_only: bool = True, freeze: bool = False) -> _Model:
    model = _Model(versions, catalogue, freeze)
    for v, version in enumerate(versions):
        _version_constraints(model, v, version)
        for field_name, indicateur in RISK_TOTALS.items():
            total = version.risk.get(field_name)
            key = (version.year_period, ENSEMBLE, indicateur, ENSEMBLE, ENSEMBLE)
            # under a freeze the report may count what is shown rather than what is true
            if isinstance(total, int | float) and key in version.cells and not (freeze and v > 0):
                model.add([(1.0, model.term(v, key)), (-float(total), ({}, 1.0))], True)
    if additions_only:
        for v in range(1, len(versions)):
            _growth_constraints(model, v - 1, v)
    return model


def _version_constraints(model: _Model, v: int, version: Version) -> None:
    cat, cells, year = model.catalogue, version.cells, version.year_period
    sites = sorted({k[1] for k in cells if k[1] != ENSEMBLE and k[2] in cat.sum_counts})
    months = sorted({k[0] for k in cells if k[0] != year and k[2] in cat.sum_counts})
    for key in list(cells):
        periode, lieu, indicateur, dimension, modalite = key
        if indicateur in cat.sum_counts and dimension == ENSEMBLE and modalite == ENSEMBLE:
            # every additive dimension of this total sums to it
            for dim in sorted(cat.additive):
                parts = [k for k in cells if k[:4] == (periode, lieu, indicateur, dim)]
                if parts:
                    model.add([(1.0, model.term(v, k)) for k in parts] + [(-1.0, model.term(v, key))], True)
        if indicateur in cat.sum_counts and lieu == ENSEMBLE:
            parts = [(periode, s, indicateur, dimension, modalite) for s in sites]
            if all(p in cells for p in parts):
                model.add([(1.0, model.term(v, p)) for p in parts] + [(-1.0, model.term(v, key))], True)
        if indicateur in cat.sum_counts and periode == year:
            parts = [(m, lieu, indicateur, dimension, modalite) for m in months]
            if all(p in cells for p in parts):
                model.add([(1.0, model.term(v, p)) for p in parts] + [(-1.0, model.term(v, key))], True)
        if indicateur in cat.person_counts:
            _person_constraints(model, v, version, key, sites, months)
        if cells[key].hidden and cells[key].secret == "primaire" and (v, key) in model.index:
            # « primaire » says: between 1 and seuil − 1 persons, hence at least one record
            i = model.index[(v, key)]
            model.lower[i] = max(model.lower[i], 1.0)
            if indicateur in cat.person_counts:
                model.upper[i] = min(model.upper[i], float(version.threshold - 1))
        if indicateur in cat.shares_of and not cells[key].hidden:
            count = cat.shares_of[indicateur]
            num = (periode, lieu, count, dimension, modalite)
            den = _total_key(num, year)
            share = float(cells[key].value or 0.0)
            h = _half_step([c.value for k, c in cells.items() if k[2] == indicateur and c.value is not None])
            # (p − h)/100 · D ≤ N ≤ (p + h)/100 · D
            model.add([((share - h) / 100, model.shown(v, den)), (-1.0, model.shown(v, num))], False)
            model.add([(1.0, model.shown(v, num)), (-(share + h) / 100, model.shown(v, den))], False)
        if indicateur in cat.rates and not cells[key].hidden:
            count, dim, numerator, denominator = cat.rates[indicateur]
            rate = float(cells[key].value or 0.0)
            h = _half_step([c.value for k, c in cells.items() if k[2] == indicateur and c.value is not None])
            nums = [(1.0, model.shown(v, (periode, lieu, count, dim, m))) for m in numerator]
            dens = [(1.0, model.shown(v, (periode, lieu, count, dim, m))) for m in denominator]
            model.add([((rate - h) / 100 * c, t) for c, t in dens] + [(-c, t) for c, t in nums], False)
            model.add([(c, t) for c, t in nums] + [(-(rate + h) / 100 * c, t) for c, t in dens], False)


def _person_constraints(model: _Model, v: int, version: Version, key: Key, sites: list[str], months: list[str]) -> None:
    cells, cat = version.cells, model.catalogue
    periode, lieu, indicateur, dimension, modalite = key
    # a person has at least one accompaniment where she is counted
    for count in sorted(cat.sum_counts):
        if (periode, lieu, count, dimension, modalite) in cells:
            model.add([(1.0, model.term(v, key)), (-1.0, model.term(v, (periode, lieu, count, dimension, modalite)))], False)
    # the whole counts each person once: at least each part, at most their sum
    by_site = [(periode, s, indicateur, dimension, modalite) for s in sites] if lieu == ENSEMBLE else []
    by_month = [(m, lieu, indicateur, dimension, modalite) for m in months] if periode == version.year_period else []
    for group in (by_site, by_month):
        group = [p for p in group if p in cells]
        if not group:
            continue
        for p in group:
            model.add([(1.0, model.term(v, p)), (-1.0, model.term(v, key))], False)
        model.add([(1.0, model.term(v, key))] + [(-1.0, model.term(v, p)) for p in group], False)


def _growth_constraints(model: _Model, a: int, b: int) -> None:
    """Late records only add: each count of ``b`` is at least its value in ``a`` and grows
    by at most what its total grew (accompaniments), or what its own accompaniments grew
    (persons)."""
    old, new = model.versions[a], model.versions[b]
    year = new.year_period
    for key in new.cells:
        if key not in old.cells or key[2] not in model.counts:
            continue
        model.add([(1.0, model.term(a, key)), (-1.0, model.term(b, key))], False)
        if key[2] in model.catalogue.sum_counts:
            total = (key[0], key[1], key[2], ENSEMBLE, ENSEMBLE) if key[3] != ENSEMBLE else _total_key(key, year)
            if total != key and total in old.cells and total in new.cells:
                model.add(
                    [(1.0, model.term(b, key)), (-1.0, model.term(a, key)), (-1.0, model.term(b, total)), (1.0, model.term(a, total))],
                    False,
                )
        else:
            acc = (key[0], key[1], "accompagnements", key[3], key[4])
            if acc in old.cells and acc in new.cells:
                model.add(
                    [(1.0, model.term(b, key)), (-1.0, model.term(a, key)), (-1.0, model.term(b, acc)), (1.0, model.term(a, acc))], False
                )


@dataclass
class BoundReport:
    bounds: list[Bound]
    feasible: bool
    width: int

    model: str = "publie"  # « publie »: every published count is true; « gel »: some may be frozen

    def narrow(self) -> list[Bound]:
        return [b for b in self.bounds if b.narrow(self.width)]


def bound_hidden_counts(versions: list[Version], catalogue: Catalogue, freeze: bool | None = None) -> BoundReport:
    """Tightest integer interval of each hidden count, from every version together.

    The reader first believes every published count (and that late records only add); when
    the versions contradict that, or with ``freeze=True``, it allows frozen figures."""
    if freeze is None:
        report = _bound(versions, catalogue, freeze=False)
        return report if report.feasible else _bound(versions, catalogue, freeze=True)
    return _bound(versions, catalogue, freeze)


def _bound(versions: list[Version], catalogue: Catalogue, freeze: bool) -> BoundReport:
    width = min(v.protection_width for v in versions)
    model = build_model(versions, catalogue, additions_only=True, freeze=freeze)
    n = len(model.index)
    label = "gel" if freeze else "publie"
    if n == 0:
        return BoundReport(mention_bounds(versions), True, width, label)

    def matrix(rows: list[tuple[dict[int, float], float]]) -> tuple[csr_matrix | None, np.ndarray | None]:
        if not rows:
            return None, None
        data, ri, ci = [], [], []
        for r, (coefs, _) in enumerate(rows):
            for i, c in coefs.items():
                data.append(c)
                ri.append(r)
                ci.append(i)
        return csr_matrix((data, (ri, ci)), shape=(len(rows), n)), np.array([-const for _, const in rows])

    a_eq, b_eq = matrix(model.eq)
    a_ub, b_ub = matrix(model.le)
    box = list(zip(model.lower, [None if math.isinf(u) else u for u in model.upper]))
    probe = linprog(np.zeros(n), A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=box, method="highs")
    if probe.status != 0:
        return BoundReport(mention_bounds(versions), False, width, label)
    bounds = []
    for (v, key), i in sorted(model.index.items(), key=lambda item: item[1]):
        c = np.zeros(n)
        c[i] = 1.0
        low = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=box, method="highs")
        lo = math.ceil(low.fun - 1e-6) if low.status == 0 else 0
        version = versions[v]
        if (v, key) in model.stale and lo <= model.stale[(v, key)]:
            # not provably stale: its upper end says nothing the published figure does not
            bounds.append(Bound(version.label, key, lo, 10**9, "", "vraie valeur", model.stale[(v, key)]))
            continue
        high = linprog(-c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=box, method="highs")
        hi = math.floor(-high.fun + 1e-6) if high.status == 0 else 10**9
        if (v, key) in model.stale:
            bounds.append(Bound(version.label, key, lo, hi, "", "vraie valeur", model.stale[(v, key)]))
        else:
            bounds.append(Bound(version.label, key, lo, hi, version.cells[key].secret))
    return BoundReport(bounds + mention_bounds(versions), True, width, label)


def mention_bounds(versions: list[Version]) -> list[Bound]:
    """A mention that says why a cell is hidden bounds the persons behind it: « primaire »
    is published for 1 to ``seuil − 1`` persons. One symbol for every hidden cell says nothing."""
    mentions = {c.secret for v in versions for c in v.cells.values() if c.hidden}
    if len(mentions) < 2:
        return []
    return [
        Bound(v.label, key, 1, v.threshold - 1, cell.secret, "personnes")
        for v in versions
        for key, cell in v.cells.items()
        if cell.secret == "primaire"
    ]


# --- attack 3: figures printed beside the table -----------------------------------------

IGNORED_METADATA = {"version", "created", "date", "horodatage"}


def side_figures(version: Version) -> dict[str, float]:
    """Every number of ``risque.json`` (those inside its sentences too) and every numeric field
    of ``datapackage.json``, by path, except the version's own identity. The package's
    sentences are left out: a revision note may cite the threshold."""
    found: dict[str, float] = {}

    def walk(node: object, path: str, sentences: bool) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if k not in IGNORED_METADATA:
                    walk(v, f"{path}/{k}", sentences)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]", sentences)
        elif isinstance(node, bool):
            return
        elif isinstance(node, int | float):
            found[path] = float(node)
        elif isinstance(node, str) and sentences:
            for i, number in enumerate(re.findall(r"\d+(?:[.,]\d+)?", node)):
                found[f"{path}#{i}"] = float(number.replace(",", "."))

    walk(version.risk, "risque.json", True)
    walk(version.package, "datapackage.json", False)
    return found


def changed_side_figures(old: Version, new: Version) -> dict[str, tuple[float | None, float | None]]:
    a, b = side_figures(old), side_figures(new)
    return {k: (a.get(k), b.get(k)) for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)}


def changelog_counts(folder: Path, year: int) -> list[dict[str, float]]:
    """The numbers the public changelog (``changements.json``, served as ``/changements``)
    prints for each revision of ``year``: how many figures it changed, hid, showed."""
    path = folder / "changements.json"
    if not path.is_file():
        return []
    entries = json.loads(path.read_text(encoding="utf-8")).get("changements", [])
    return [
        {k: float(v) for k, v in e.items() if isinstance(v, int | float) and not isinstance(v, bool) and k != "annee"}
        for e in entries
        if e.get("annee") == year and e.get("nature") != "publication"
    ]


# --- the site: pages and database as served ---------------------------------------------

# Pages that list versions themselves (sizes, hashes, dates, counts of versions): their
# numbers are the versions' metadata, not figures of the year.
VERSION_PAGES = ("telechargements", "changements", "catalogue")
_IDENTITY = re.compile(r"\d+\.\d+\.\d+|\d{4}-\d{2}-\d{2}(?:T[\d:]+Z?)?|[0-9a-f]{16,}")
_NUMBER = re.compile(r"\d{1,3}(?:[\u202f\u00a0]\d{3})+(?:,\d+)?|\d+(?:[.,]\d+)?")


def page_figures(publish: Path) -> dict[str, Counter[str]]:
    """The numbers each rendered page shows a reader (markup, SVG coordinates, versions,
    dates and hashes left out), by page."""
    found = {}
    for path in sorted((publish / "pages").rglob("*")):
        name = str(path.relative_to(publish / "pages"))
        if not path.is_file() or name.startswith(VERSION_PAGES):
            continue
        text = re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8", errors="replace"))
        found[name] = Counter(_NUMBER.findall(_IDENTITY.sub(" ", html.unescape(text))))
    return found


def changed_pages(old: Path, new: Path) -> dict[str, tuple[list[str], list[str]]]:
    """Pages whose numbers differ between two builds of ``publish/``: (only before, only after)."""
    a, b = page_figures(old), page_figures(new)
    out = {}
    for name in sorted(set(a) | set(b)):
        x, y = a.get(name, Counter()), b.get(name, Counter())
        if x != y:
            out[name] = (sorted((x - y).elements())[:6], sorted((y - x).elements())[:6])
    return out


def database_figures(publish: Path) -> tuple[dict[tuple, tuple], dict[tuple, tuple]]:
    """The served database: each figure's (value, hidden), and the numbers of the ``annees``
    table that are not the version's identity."""
    with sqlite3.connect(f"file:{publish / 'indicateurs.db'}?mode=ro", uri=True) as db:
        figures = {
            tuple(r[:6]): (r[6], bool(r[7]) or r[6] is None)
            for r in db.execute("select annee, periode, lieu, indicateur, dimension, modalite, valeur, secret from indicateurs")
        }
        db.row_factory = sqlite3.Row
        years = {}
        for row in db.execute("select * from annees"):
            years[(row["annee"],)] = tuple(
                (k, row[k]) for k in row.keys() if isinstance(row[k], int | float) and k not in ("annee",) and "version" not in k
            )
    return figures, years


# --- attack 4: the next year's evolutions ---------------------------------------------------


def evolution_leaks(earlier: list[Version], later: list[Version], catalogue: Catalogue) -> list[str]:
    """A published evolution and its year's count bracket the previous year's count. The
    evolution must rest on a figure that some version of the previous year shows; when that
    figure is hidden in every version, the bracket must be as wide as the protection."""
    leaks = []
    for version in later:
        previous = str(version.year - 1)
        for key, cell in version.cells.items():
            if key[2] not in catalogue.evolutions or cell.hidden:
                continue
            count = (key[0], key[1], catalogue.evolutions[key[2]], key[3], key[4])
            now = version.cells.get(count)
            if now is None or now.hidden or cell.value is None or now.value is None:
                continue
            h = _half_step([c.value for k, c in version.cells.items() if k[2] == key[2] and c.value is not None])
            low = now.value / (1 + (cell.value + h) / 100)
            high = now.value / (1 + (cell.value - h) / 100)
            before = (previous, *count[1:])
            shown = {
                float(v.cells[before].value or 0.0)
                for v in earlier
                if before in v.cells and not v.cells[before].hidden and v.cells[before].value is not None
            }
            width = min(v.protection_width for v in earlier)
            where = f"v{version.label} {'/'.join(key)} = {cell.value:g} with {now.value:g}"
            if shown and not any(low - 1e-9 <= x <= high + 1e-9 for x in shown):
                leaks.append(f"{where}: previous year in [{low:.1f}, {high:.1f}], never shown (shown: {sorted(shown)})")
            elif not shown and math.floor(high) - math.ceil(low) < width:
                leaks.append(f"{where}: hidden previous year in [{math.ceil(low)}, {math.floor(high)}]")
    return leaks
