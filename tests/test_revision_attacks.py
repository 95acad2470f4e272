"""Issue 15: a reader holding every version of a year learns nothing about one late person.

A 1,500-accompaniment year of the project's generator is released, then revised with one
person entered late (2 or 3 accompaniments at one site). The attacker of
``revision_attacker.py`` (written without reading the protecting code) compares the
downloadable versions cell by cell, values and secret mentions alike, bounds every hidden
count over all versions, and reads the numbers printed beside the table (risk report,
package, pages, database, changelog). Scenarios: the issue's canary; random late persons
(Hypothesis, 4 releases); the next year published, then the year corrected again (its
evolutions revised); a correction of 26 persons (25 alike and the canary) followed by one
more person; random groups of 11 to 40 late persons (Hypothesis) and the group of 38 that
once failed there (a share moving beside a count shown unchanged). The late persons' true
profiles are known here only to tell a real pin from noise: a pin counts when it names a
modality of 1 to ``seuil − 1`` of the persons added.
"""

from __future__ import annotations

import csv
import dataclasses
import random
import datetime as dt
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, event, given, note, settings
from hypothesis import strategies as st

from ccas_opendata.publisher import read_publisher
from ccas_opendata.vocabulary import contract
from ccas_opendata.demo import synthetic_accompagnements, synthetic_ateliers, synthetic_formations, write_table

from conftest import REPO, make_folder, release
from revision_attacker import (
    BoundReport,
    Catalogue,
    PinReport,
    Version,
    bound_hidden_counts,
    changed_pages,
    changed_side_figures,
    changelog_counts,
    evolution_leaks,
    database_figures,
    pin_modalities,
    read_catalogue,
    read_versions,
    read_zip,
)

pytestmark = pytest.mark.slow

YEAR = 2023
BASE_SIZE = 1500
MOTIF = "Accompagnements de décembre saisis en retard"
CONTRACT = contract()
NC = "non_communique"


@dataclass(frozen=True)
class Visit:
    date: dt.date
    duree: int
    thematiques: tuple[str, ...]
    autonomie: str
    orientation: str  # empty: not redirected
    satisfaction: str  # empty: no answer
    type_lieu: str
    intervenant: str


@dataclass(frozen=True)
class LatePerson:
    usager: str
    age: int
    genre: str
    situation: str
    composition_familiale: str
    quartier: str
    canal: str
    materiel: tuple[str, ...]
    lieu: str
    visits: tuple[Visit, ...]

    def __repr__(self) -> str:  # Hypothesis prints failing groups of 40: one line each
        visits = ", ".join(f"{v.date:%m-%d} {v.duree} min {'|'.join(v.thematiques)}" for v in self.visits)
        return (
            f"LatePerson({self.usager}: {self.age} ans, {self.genre or NC}, {self.situation or NC}, "
            f"{self.composition_familiale or NC}, {self.quartier or NC}, {self.lieu}; {visits})"
        )

    def rows(self) -> list[dict]:
        """Her accompaniments as the generator's export writes them (French headers)."""
        rows = []
        for i, visit in enumerate(sorted(self.visits, key=lambda v: v.date)):
            rows.append(
                {
                    "Date": visit.date,
                    "Lieu": self.lieu,
                    "Usager": self.usager,
                    "Nom": "NOMTARDIF",
                    "Téléphone": "06 00 00 99 99",
                    "Durée": visit.duree,
                    "Thématiques": "|".join(visit.thematiques),
                    "Premier accompagnement": "oui" if i == 0 else "non",
                    "Année de naissance": YEAR - self.age,
                    "Genre": self.genre,
                    "Situation": self.situation,
                    "Composition familiale": self.composition_familiale,
                    "Quartier": self.quartier,
                    "Autonomie": visit.autonomie,
                    "Orientation": visit.orientation,
                    "Canal": self.canal,
                    "Matériel": "|".join(self.materiel),
                    "Satisfaction": visit.satisfaction,
                    "Type de lieu": visit.type_lieu,
                    "Intervenant": visit.intervenant,
                    "Commentaire": "",
                }
            )
        return rows

    def profile(self, qpv_quartiers: set[str]) -> dict[str, set[str]]:
        """The modalities she falls in, per axis the attacker reads (dimension, lieu, mois)."""

        def band(value: int, bands: list[dict]) -> str:
            return next(b["code"] for b in bands if value <= b["max"])

        visits = self.visits
        return {
            "tranche_age": {band(self.age, CONTRACT["tranches_age"])},
            "genre": {self.genre or NC},
            "situation": {self.situation or NC},
            "composition_familiale": {self.composition_familiale or NC},
            "quartier": {self.quartier or NC},
            "qpv": {NC if not self.quartier else "oui" if self.quartier in qpv_quartiers else "non"},
            "canal": {self.canal or NC},
            "materiel": set(self.materiel) or {NC},
            "thematique": {t for v in visits for t in v.thematiques},
            "autonomie": {v.autonomie or NC for v in visits},
            "orientation": {v.orientation or "aucune" for v in visits},
            "satisfaction": {v.satisfaction or NC for v in visits},
            "type_lieu": {v.type_lieu or NC for v in visits},
            "intervenant": {v.intervenant or NC for v in visits},
            "duree_tranche": {band(v.duree, CONTRACT["tranches_duree"]) for v in visits},
            "premier_accompagnement": {"oui", "non"} if len(visits) > 1 else {"oui"},
            "lieu": {self.lieu},
            "mois": {v.date.strftime("%Y-%m") for v in visits},
        }


# The canary of the issue: under 18, female, retired, a QPV quartier, one site, three visits.
CANARY = LatePerson(
    usager="TARDIF-0001",
    age=15,
    genre="feminin",
    situation="retraite",
    composition_familiale="famille_monoparentale",
    quartier="la_plaine",
    canal="communication",
    materiel=("tablette",),
    lieu="mediatheque_sud",
    visits=tuple(
        Visit(dt.date(YEAR, 12, day), 45, (theme,), "autonome", "", "2", "lieu_activite", "benevole")
        for day, theme in ((5, "logement"), (12, "social_sante"), (19, "logement"))
    ),
)


def qpv_quartiers(folder: Path) -> set[str]:
    with open(folder / "metadata" / "quartiers.csv", encoding="utf-8") as f:
        return {row["code"] for row in csv.DictReader(f) if row["qpv"].strip().lower() in ("oui", "true", "1")}


def write_inputs(directory: Path, publisher, late: list[LatePerson]) -> Path:
    """The generator's year, plus the late persons' rows, in Excel's CSV UTF-8."""
    directory.mkdir(parents=True, exist_ok=True)
    frame = base_records()
    if late:
        frame = pd.concat([frame, pd.DataFrame([r for p in late for r in p.rows()])], ignore_index=True)
    write_table(frame, directory / "accompagnements", "csv-utf8")
    write_table(synthetic_ateliers(YEAR, publisher), directory / "ateliers", "csv-utf8")
    write_table(synthetic_formations(YEAR), directory / "formations", "csv-utf8")
    return directory


@pytest.fixture(scope="module")
def base_folder(tmp_path_factory, publisher) -> Path:
    """The year released once (version 1.0.0); tests copy it before revising."""
    base = tmp_path_factory.mktemp("revision-attaque")
    folder = make_folder(base / "ccas")
    result = release(folder, YEAR, write_inputs(base / "entrees", publisher, []))
    assert result.exit_code == 0, result
    return folder


def revise(base_folder: Path, target: Path, publisher, late: list[LatePerson]):
    folder = target / "ccas"
    shutil.copytree(base_folder, folder, symlinks=True)
    result = release(folder, YEAR, write_inputs(target / "entrees", publisher, late), "--motif", MOTIF)
    return folder, result


@pytest.fixture(scope="module")
def canary(base_folder: Path, tmp_path_factory, publisher) -> Path:
    folder, result = revise(base_folder, tmp_path_factory.mktemp("revision-canari"), publisher, [CANARY])
    assert result.exit_code == 0, result
    return folder


def real_pins(report: PinReport, profiles: list[dict[str, set[str]]], threshold: int) -> dict[str, set[str]]:
    """The pins that name a modality of 1 to ``threshold − 1`` of the persons added."""
    out: dict[str, set[str]] = {}
    for axis, mods in report.pinned().items():
        few = {m for m in mods if 1 <= sum(m in p.get(axis, set()) for p in profiles) < threshold}
        if few:
            out[axis] = few
    return out


def describe(report: PinReport, profiles: list[dict[str, set[str]]], threshold: int) -> str:
    pinned, real = report.pinned(), real_pins(report, profiles, threshold)
    wrong = {a: {m for m in mods if not any(m in p.get(a, set()) for p in profiles)} for a, mods in pinned.items()}
    return (
        f"{len(report.changes)} cells changed {report.counts_by_kind()}; pinned a modality of fewer than "
        f"{threshold} added persons on {len(real)} axes: {real}; wrong pins: { {a: m for a, m in wrong.items() if m} }"
    )


def attack_pins(folder: Path, added: dict[str, list[LatePerson]]) -> list[str]:
    """Every pair of downloadable versions, compared; the real pins found, described.
    ``added`` gives, per version, the late persons it was the first to contain."""
    versions = read_versions(folder, YEAR)
    qpv = qpv_quartiers(folder)
    found = []
    for i, old in enumerate(versions):
        for j in range(i + 1, len(versions)):
            new = versions[j]
            profiles = [p.profile(qpv) for v in versions[i + 1 : j + 1] for p in added.get(v.label, [])]
            report = pin_modalities(old, new)
            if real_pins(report, profiles, new.threshold):
                found.append(f"{old.label} → {new.label}: {describe(report, profiles, new.threshold)}")
    return found


def added_in_new_version(folder: Path, persons: list[LatePerson]) -> dict[str, list[LatePerson]]:
    """After a release, which version (if one was made) first holds ``persons``."""
    return {read_versions(folder, YEAR)[-1].label: persons}


def attack_bounds(folder: Path) -> BoundReport:
    return bound_hidden_counts(read_versions(folder, YEAR), read_catalogue(folder / "metadata" / "indicateurs.yml"))


def describe_bounds(report: BoundReport) -> str:
    narrow = report.narrow()
    persons = [b for b in narrow if b.of == "personnes"]
    values = [b for b in narrow if b.of != "personnes"]
    sample = "; ".join(f"v{b.version} {'/'.join(b.key)} {b.of} in [{b.low}, {b.high}] ({b.secret})" for b in values[:6] + persons[:3])
    return (
        f"{len(values)} hidden values and {len(persons)} hidden cells' persons (from their mention) of "
        f"{len(report.bounds)} bounds are narrower than {report.width}: {sample}"
    )


def figures(version: Version) -> dict:
    return {key: (cell.value, cell.hidden) for key, cell in version.cells.items()}


# --- the canary: one late person, fixed profile -----------------------------------------


def test_canary_revision_is_downloadable(canary: Path):
    """The attack needs both versions; the current alias is the newest one."""
    versions = read_versions(canary, YEAR)
    labels = [v.label for v in versions]
    assert labels[:1] == ["1.0.0"], labels
    assert (canary / "telechargements" / f"ccas-opendata-{YEAR}.zip").is_file()


def test_canary_pins_no_modality(canary: Path):
    found = attack_pins(canary, added_in_new_version(canary, [CANARY]))
    assert not found, "the late person is singled out: " + " | ".join(found)


def test_canary_no_hidden_count_bounded_narrower_than_protection(canary: Path):
    report = attack_bounds(canary)
    assert report.bounds, "a 1,500-accompaniment year hides some counts: the model must see them"
    assert not report.narrow(), describe_bounds(report)


def test_canary_protection_width_is_published(canary: Path):
    """The width the attacker checks against is the one the package prints, not a constant."""
    for version in read_versions(canary, YEAR):
        assert version.protection_width >= 1
        assert version.threshold >= 5


def test_one_added_person_changes_no_figure(canary: Path):
    """Only the version's metadata and note may differ: every value and secret state is the same."""
    first = read_zip(canary / "telechargements" / f"ccas-opendata-{YEAR}-v1.0.0.zip")
    current = read_versions(canary, YEAR)[-1]
    before, after = figures(first), figures(current)
    assert set(before) == set(after)
    differing = sorted(k for k in before if before[k] != after[k])
    assert not differing, f"{len(differing)} figures differ between v1.0.0 and v{current.label}, e.g. " + "; ".join(
        f"{'/'.join(k)}: {before[k]} → {after[k]}" for k in differing[:6]
    )
    mentions = {k: (first.cells[k].secret, current.cells[k].secret) for k in before if first.cells[k].secret != current.cells[k].secret}
    assert not mentions, f"{len(mentions)} secret mentions differ, e.g. {list(mentions.items())[:4]}"


def test_one_added_person_changes_no_figure_beside_the_table(canary: Path):
    """The risk report and the package print figures too (records, persons, hidden cells,
    unique combinations): a frozen correction must not show through them."""
    first = read_zip(canary / "telechargements" / f"ccas-opendata-{YEAR}-v1.0.0.zip")
    current = read_versions(canary, YEAR)[-1]
    moved = changed_side_figures(first, current)
    assert not moved, f"{len(moved)} figures beside the table differ between v1.0.0 and v{current.label}: " + "; ".join(
        f"{k}: {a} → {b}" for k, (a, b) in list(moved.items())[:10]
    )


def test_one_added_person_changes_no_figure_on_the_pages(base_folder: Path, canary: Path):
    """Bilan, indicator pages and their CSV, risk page, home page: the numbers a resident reads
    are those of version 1.0.0 (pages listing the versions themselves excepted)."""
    moved = changed_pages(base_folder / "publish", canary / "publish")
    assert not moved, f"{len(moved)} pages show other numbers after one added person: " + "; ".join(
        f"{name}: {before} → {after}" for name, (before, after) in list(moved.items())[:8]
    )


def test_one_added_person_changes_no_figure_in_the_database(base_folder: Path, canary: Path):
    before, before_years = database_figures(base_folder / "publish")
    after, after_years = database_figures(canary / "publish")
    differing = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert not differing, f"{len(differing)} rows of indicateurs differ, e.g. " + "; ".join(
        f"{k}: {before.get(k)} → {after.get(k)}" for k in differing[:5]
    )
    assert before_years == after_years


def test_changelog_counts_no_changed_figure(canary: Path):
    """How many figures a revision changed depends on the late person's profile: the public
    changelog must count none when none changed."""
    counted = [{k: v for k, v in entry.items() if v} for entry in changelog_counts(canary, YEAR)]
    assert not any(counted), f"the changelog counts figures for one added person: {counted}"


# --- the next year: its evolutions rest on the figures shown -------------------------------


def write_next_year(directory: Path, publisher) -> Path:
    year = YEAR + 1
    directory.mkdir(parents=True, exist_ok=True)
    write_table(synthetic_accompagnements(year, BASE_SIZE, publisher), directory / "accompagnements", "csv-utf8")
    write_table(synthetic_ateliers(year, publisher), directory / "ateliers", "csv-utf8")
    write_table(synthetic_formations(year), directory / "formations", "csv-utf8")
    return directory


@pytest.fixture(scope="module")
def next_year(canary: Path, tmp_path_factory, publisher) -> Path:
    """After the canary's correction, the next year is published; then the year is corrected
    again (the canary and one more person), which revises the next year's evolutions."""
    target = tmp_path_factory.mktemp("annee-suivante")
    folder = target / "ccas"
    shutil.copytree(canary, folder, symlinks=True)
    result = release(folder, YEAR + 1, write_next_year(target / "entrees-suivante", publisher))
    assert result.exit_code == 0, result
    result = release(folder, YEAR, write_inputs(target / "entrees", publisher, [CANARY, ONE_MORE]), "--motif", MOTIF)
    assert result.exit_code == 0, result
    return folder


def test_next_year_evolutions_rest_on_figures_shown(next_year: Path):
    """An evolution computed on the true count of a year whose correction was held back
    would give that count away: (next / previous − 1) × 100 brackets the previous year."""
    catalogue = read_catalogue(next_year / "metadata" / "indicateurs.yml")
    leaks = evolution_leaks(read_versions(next_year, YEAR), read_versions(next_year, YEAR + 1), catalogue)
    assert not leaks, f"{len(leaks)} evolutions give a previous-year count away: " + "; ".join(leaks[:6])


def test_next_year_versions_pin_no_modality(next_year: Path):
    """The next year's versions (revised evolutions) single out neither late person."""
    versions = read_versions(next_year, YEAR + 1)
    qpv = qpv_quartiers(next_year)
    profiles = [CANARY.profile(qpv), ONE_MORE.profile(qpv)]
    found = []
    for i, old in enumerate(versions):
        for new in versions[i + 1 :]:
            report = pin_modalities(old, new)
            if real_pins(report, profiles, new.threshold):
                found.append(f"{old.label} → {new.label}: {describe(report, profiles, new.threshold)}")
    assert not found, " | ".join(found)


# --- a correction of 26 persons (25 alike, 1 apart), then one more person -----------------


def alike(count: int, site: str) -> list[LatePerson]:
    """``count`` late persons with one profile: a person of the year at ``site`` whose every
    attribute is known, with two of her visits. Together they are enough to be published."""
    frame = base_records()
    known = frame[
        (frame["Lieu"] == site)
        & (frame[["Genre", "Situation", "Composition familiale", "Quartier", "Canal", "Matériel"]] != "").all(axis=1)
    ]
    template = known.iloc[0]
    visits = tuple(
        Visit(
            r["Date"],
            int(r["Durée"]),
            _codes(r["Thématiques"]),
            r["Autonomie"],
            r["Orientation"],
            r["Satisfaction"],
            r["Type de lieu"],
            r["Intervenant"],
        )
        for _, r in known.iloc[:2].iterrows()
    )
    return [
        LatePerson(
            usager=f"TARDIF-G{i:02d}",
            age=YEAR - int(template["Année de naissance"]),
            genre=template["Genre"],
            situation=template["Situation"],
            composition_familiale=template["Composition familiale"],
            quartier=template["Quartier"],
            canal=template["Canal"],
            materiel=_codes(template["Matériel"]),
            lieu=site,
            visits=visits,
        )
        for i in range(count)
    ]


# The one more person of the second correction: over 70, a man, in work, another site.
ONE_MORE = LatePerson(
    usager="TARDIF-0003",
    age=74,
    genre="masculin",
    situation="en_emploi",
    composition_familiale="couple_sans_enfant",
    quartier="les_coteaux",
    canal="bouche_a_oreille",
    materiel=("ordinateur",),
    lieu="maison_quartier_nord",
    visits=tuple(
        Visit(dt.date(YEAR, 6, day), 20, ("argent_impots",), "partiellement_autonome", "", "5", "lieu_activite", "conseiller_numerique")
        for day in (6, 13)
    ),
)


@pytest.fixture(scope="module")
def two_corrections(base_folder: Path, tmp_path_factory, publisher):
    """v1.0.0, then a correction of 25 alike persons and the canary at the same site (enough
    for part of it to be published, with her records mixed in), then one more person.
    Returns the folder, the persons each version first holds, and the two results."""
    target = tmp_path_factory.mktemp("revision-deux-corrections")
    folder = target / "ccas"
    shutil.copytree(base_folder, folder, symlinks=True)
    group = [*alike(25, "ccas_centre"), dataclasses.replace(CANARY, lieu="ccas_centre")]
    added: dict[str, list[LatePerson]] = {}
    pending: list[LatePerson] = []
    results = []
    for step, late in enumerate(([*group], [*group, ONE_MORE])):
        before = read_versions(folder, YEAR)[-1].label
        results.append(release(folder, YEAR, write_inputs(target / f"entrees-{step}", publisher, late), "--motif", MOTIF))
        pending += [p for p in late if p not in pending and all(p not in v for v in added.values())]
        after = read_versions(folder, YEAR)[-1].label
        if after != before:
            added[after], pending = pending, []
    return folder, added, results


def test_group_correction_is_published(two_corrections):
    """Twenty-six late persons, 25 alike: enough to publish a correction (else nothing to attack)."""
    folder, _, results = two_corrections
    assert results[0].exit_code == 0, results[0]
    assert len(read_versions(folder, YEAR)) >= 2, "a correction of 26 persons made no version"


def test_two_corrections_pin_no_modality_of_few_persons(two_corrections):
    """Between any two versions, no modality of fewer than the threshold of the persons
    added is singled out: not the canary's among the 25 alike, not the one more's."""
    folder, added, _ = two_corrections
    found = attack_pins(folder, added)
    assert not found, "late persons singled out: " + " | ".join(found)


def test_two_corrections_bound_no_count_narrower_than_protection(two_corrections):
    """Over the three versions, allowing frozen figures: no hidden or frozen count bounded
    narrower than the protection width, and the versions agree with additivity."""
    folder, _, _ = two_corrections
    versions = read_versions(folder, YEAR)
    report = bound_hidden_counts(versions, read_catalogue(folder / "metadata" / "indicateurs.yml"), freeze=True)
    assert report.feasible, "the versions contradict additivity even allowing frozen figures"
    assert not report.narrow(), describe_bounds(report)


# --- random late persons (Hypothesis): each example is a release ---------------------------


@lru_cache(maxsize=1)
def base_records() -> pd.DataFrame:
    """The generator's year the base release is made of (the same call as ``write_inputs``)."""
    return synthetic_accompagnements(YEAR, BASE_SIZE, read_publisher(REPO))


def _codes(cell: object) -> tuple[str, ...]:
    return tuple(c for c in str(cell).split("|") if c)


def drawn_late_person(pick: Callable[[int, int], int]) -> LatePerson:
    """A late person who looks like the year's persons: her stable attributes are those of a
    person of the year, her 2 or 3 visits copy visits made at her site. A profile drawn from
    the bare code lists mostly fills a cell published at zero, which a revision refuses.
    ``pick(a, b)`` draws an integer of [a, b]: Hypothesis, or a seeded ``random.Random``."""
    frame = base_records()
    template = frame.iloc[pick(0, len(frame) - 1)]
    at_site = frame[frame["Lieu"] == template["Lieu"]]
    picks = [at_site.iloc[pick(0, len(at_site) - 1)] for _ in range(pick(2, 3))]
    return LatePerson(
        usager="TARDIF-0002",
        age=YEAR - int(template["Année de naissance"]),
        genre=template["Genre"],
        situation=template["Situation"],
        composition_familiale=template["Composition familiale"],
        quartier=template["Quartier"],
        canal=template["Canal"],
        materiel=_codes(template["Matériel"]),
        lieu=template["Lieu"],
        visits=tuple(
            Visit(
                r["Date"],
                int(r["Durée"]),
                _codes(r["Thématiques"]),
                r["Autonomie"],
                r["Orientation"],
                r["Satisfaction"],
                r["Type de lieu"],
                r["Intervenant"],
            )
            for r in picks
        ),
    )


@st.composite
def late_persons(draw: st.DrawFn) -> LatePerson:
    return drawn_late_person(lambda a, b: draw(st.integers(a, b)))


def named_group(people: list[LatePerson]) -> list[LatePerson]:
    return [dataclasses.replace(p, usager=f"TARDIF-L{i:03d}") for i, p in enumerate(people)]


def seeded_group(seed: int) -> list[LatePerson]:
    """A late group of 11 to 40 persons drawn like :func:`late_groups`, from ``random.Random(seed)``:
    the search that reproduced the issue's finding looped over seeds this way."""
    rng = random.Random(seed)
    size = rng.randint(11, 40)
    return named_group([drawn_late_person(rng.randint) for _ in range(size)])


# Each example is a release (about 10 CPU s): no shrinking, a failing person is shown as drawn.
@settings(
    max_examples=4,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(person=late_persons())
def test_random_late_person_pins_nothing_and_bounds_nothing(base_folder: Path, publisher, person: LatePerson):
    with tempfile.TemporaryDirectory(prefix="revision-hasard-") as target:
        folder, result = revise(base_folder, Path(target), publisher, [person])
        if result.exit_code != 0:
            # A refused revision publishes nothing: no version to compare, hence no leak.
            event("revision refused")
            note(result.output[-600:])
            assert len(read_versions(folder, YEAR)) == 1
            return
        found = attack_pins(folder, added_in_new_version(folder, [person]))
        assert not found, f"late person {person} singled out: " + " | ".join(found)
        report = attack_bounds(folder)
        assert not report.narrow(), describe_bounds(report)


@st.composite
def late_groups(draw: st.DrawFn) -> list[LatePerson]:
    """11 to 40 late persons drawn like the year's persons: a realistic correction, whose
    modalities held by fewer than the threshold of them must stay out of sight. The size is
    drawn first, evenly: a list strategy stays near its minimum, and the finding needed a
    site with 11 late persons or more (its total revised, its modalities not)."""
    size = draw(st.integers(11, 40))
    return named_group(draw(st.lists(late_persons(), min_size=size, max_size=size)))


def shares_moving_alone(old: Version, new: Version, catalogue: Catalogue) -> list[str]:
    """Shares that moved while the count they are a share of shows the same value in both
    versions. A frozen count and a count no record changed both show the value online: a
    share that moves for the second and not for the first tells them apart, and the shares
    that stay put beside a revised total name the modalities that hold a few late persons."""
    moved = []
    for key, cell in new.cells.items():
        count_code = catalogue.shares_of.get(key[2])
        before = old.cells.get(key)
        if count_code is None or before is None or cell.hidden or before.hidden or cell.value == before.value:
            continue
        count = (key[0], key[1], count_code, key[3], key[4])
        a, b = old.cells.get(count), new.cells.get(count)
        if a is not None and b is not None and not a.hidden and not b.hidden and a.value == b.value:
            moved.append(f"{'/'.join(key)}: {before.value:g} → {cell.value:g} beside {count_code} = {b.value:g}")
    return moved


# The failing case of the finding, found again by looping over seeded late groups
# (``seeded_group``): seed 0 draws 38 late persons, 14 of them at maison_quartier_nord and 13
# at mediatheque_sud. Each site's total was revised (11 persons or more); at
# maison_quartier_nord, materiel=aucun (1 late person), non_communique (2), ordinateur (5)
# and telephone (4) were frozen, so their shares stayed put, while the share of tablette (no
# late person there) moved with the total: 69 cells changed, and tablette, orientation=administration,
# situation=en_emploi and tranche_age=25_39 were each the only share of their breakdown to move.
# The attacker's pin named the modality that moved (held by 1 to 10 late persons elsewhere);
# what leaked is the complement, the modalities of the site's late persons, each of 1 to 10.
FINDING_SEED = 0


@pytest.fixture(scope="module")
def finding(base_folder: Path, tmp_path_factory, publisher):
    group = seeded_group(FINDING_SEED)
    folder, result = revise(base_folder, tmp_path_factory.mktemp("revision-constat"), publisher, group)
    assert result.exit_code == 0, result
    return folder, group


def test_finding_group_is_the_one_that_leaked(finding):
    """The case is the one the search found: 38 persons, at least 11 of them at two sites."""
    _, group = finding
    by_site = Counter(p.lieu for p in group)
    assert len(group) == 38
    assert by_site["maison_quartier_nord"] == 14 and by_site["mediatheque_sud"] == 13, by_site


def test_finding_moves_no_share_beside_a_count_shown_unchanged(finding):
    folder, _ = finding
    old, new = read_versions(folder, YEAR)[:2]
    moved = shares_moving_alone(old, new, read_catalogue(folder / "metadata" / "indicateurs.yml"))
    assert not moved, f"{len(moved)} shares moved beside their count shown unchanged: " + "; ".join(moved[:6])


def test_finding_revises_the_corrections_of_enough_persons(finding):
    """The fix does not hold the whole correction back: the women's count, 22 late persons,
    moves by exactly their accompaniments (hand count on the group)."""
    folder, group = finding
    old, new = read_versions(folder, YEAR)[:2]
    women = (str(YEAR), "ensemble", "accompagnements", "genre", "feminin")
    late_women = [p for p in group if p.genre == "feminin"]
    before, after = old.cells[women].value, new.cells[women].value
    assert len(late_women) == 22 and before is not None and after is not None
    assert after - before == sum(len(p.visits) for p in late_women)


def test_finding_pins_no_small_modality(finding):
    folder, group = finding
    found = attack_pins(folder, added_in_new_version(folder, group))
    assert not found, " | ".join(found)


def test_finding_bounds_no_count_narrower_than_protection(finding):
    folder, _ = finding
    report = attack_bounds(folder)
    assert report.feasible, "the versions contradict additivity even allowing frozen figures"
    assert not report.narrow(), describe_bounds(report)


# Three groups (a revision and an attack each, ~45 CPU s): with the size drawn evenly over
# 11–40, the seeded search that found the share leak caught it in 3 of its first 8 groups.
@settings(
    max_examples=3,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(group=late_groups())
def test_random_late_group_is_published_and_pins_no_small_modality(base_folder: Path, publisher, group: list[LatePerson]):
    """A correction of 11 to 40 late persons is published (all or part of it), and between the
    two versions no modality of 1 to ``seuil − 1`` of them is singled out nor bounded narrowly,
    and no share moves beside its count shown unchanged."""
    with tempfile.TemporaryDirectory(prefix="revision-groupe-") as target:
        folder, result = revise(base_folder, Path(target), publisher, group)
        note(f"{len(group)} late persons")
        assert result.exit_code == 0, f"a correction of {len(group)} late persons was not published: {result.output[-700:]}"
        found = attack_pins(folder, added_in_new_version(folder, group))
        assert not found, " | ".join(found)
        # Eleven late persons spread over the year may revise nothing (no new version): no pair.
        versions, catalogue = read_versions(folder, YEAR), read_catalogue(folder / "metadata" / "indicateurs.yml")
        moved = [m for old, new in pairwise(versions) for m in shares_moving_alone(old, new, catalogue)]
        assert not moved, f"{len(moved)} shares moved beside their count shown unchanged: " + "; ".join(moved[:6])
        report = attack_bounds(folder)
        assert report.feasible, "the versions contradict additivity even allowing frozen figures"
        assert not report.narrow(), describe_bounds(report)
