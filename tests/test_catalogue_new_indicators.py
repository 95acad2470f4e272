"""« Adding an indicator is one entry »: one new indicator per measure, added to a copy of
the catalogue, released over two years, each published value checked against a count
made by hand from the records written (plain Python, not the tool's aggregation)."""

from __future__ import annotations

import copy
import csv
import math
import random
import statistics
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from ccas_opendata.aggregate import MEASURES
from ccas_opendata.publisher import read_publisher
from ccas_opendata.vocabulary import contract
from ccas_opendata.demo import synthetic_ateliers, synthetic_formations
from conftest import REPO, make_folder
from test_secrecy_attacks import QPV, SITES, finish, population, release_or_fail, write_inputs

pytestmark = pytest.mark.slow
YEARS = (2023, 2024)
FAVOURABLE = ["5"]


def new_catalogue(folder: Path) -> list[str]:
    """For every measure, a copy of its first indicator under a new code, on the year only
    (a share: per site, where it is defined); the evolution compares ``usagers``."""
    path = folder / "metadata" / "indicateurs.yml"
    catalogue = yaml.safe_load(path.read_text(encoding="utf-8"))
    added = []
    for measure in MEASURES:
        model = next(i for i in catalogue["indicateurs"] if i["mesure"] == measure)
        entry = copy.deepcopy(model)
        entry.pop("dimensions", None)
        entry.update(code=f"essai_{measure}", libelle=f"Essai {measure}", ventilations=["lieu"] if measure == "part" else ["annee"])
        if measure == "evolution":
            entry.update(code="evolution_usagers", libelle="Évolution des usagers", lien={"type": "evolution", "de": "usagers"})
        catalogue["indicateurs"].append(entry)
        added.append(entry["code"])
    # The rate counts what its ``lien`` says: « très satisfait » only, here (4 or 5 by default).
    for indicator in catalogue["indicateurs"]:
        if indicator["mesure"] == "taux_satisfaction":
            indicator["lien"]["numerateur"] = FAVOURABLE
    path.write_text(yaml.safe_dump(catalogue, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return added


def half_up(value: Fraction) -> float:
    return math.floor(value * 10 + Fraction(1, 2)) / 10


def hand_counts(records: dict[int, list[dict]], year: int) -> dict[tuple[str, str], float]:
    """(indicator, lieu) → the figure, counted from the records as written."""
    rows = records[year]
    persons = Counter(r["usager"] for r in rows)
    previous_persons = len({r["usager"] for r in records[year - 1]})
    durations = [int(r["duree"]) for r in rows]
    demarches = set(contract()["codes"]["thematiques_demarches"])
    quartier = {r["usager"]: r["quartier"] for r in rows}  # a person's quartier is the same on each visit
    known = [p for p, q in quartier.items() if q]
    answered = [r["satisfaction"] for r in rows if r["satisfaction"]]
    publisher = read_publisher(REPO)
    ateliers, formations = synthetic_ateliers(year, publisher), synthetic_formations(year)
    want = {
        ("essai_nombre", "ensemble"): len(rows),
        ("essai_personnes", "ensemble"): len(persons),
        ("essai_part_personnes_plusieurs_visites", "ensemble"): half_up(Fraction(100 * sum(n > 1 for n in persons.values()), len(persons))),
        ("essai_moyenne_duree", "ensemble"): half_up(Fraction(sum(durations), len(durations))),
        ("essai_mediane_duree", "ensemble"): half_up(Fraction(statistics.median(durations))),
        ("essai_part_demarches", "ensemble"): half_up(
            Fraction(100 * sum(bool(set(r["thematiques"].split("|")) & demarches) for r in rows), len(rows))
        ),
        ("essai_part_personnes_qpv", "ensemble"): half_up(Fraction(100 * sum(quartier[p] in QPV for p in known), len(known))),
        ("essai_taux_satisfaction", "ensemble"): half_up(Fraction(100 * sum(s in FAVOURABLE for s in answered), len(answered))),
        ("evolution_usagers", "ensemble"): half_up(Fraction(100 * len(persons), previous_persons) - 100),
        ("essai_somme_participants", "ensemble"): int(ateliers["participants"].sum()),
        ("essai_moyenne_participants", "ensemble"): half_up(Fraction(int(ateliers["participants"].sum()), len(ateliers))),
        ("essai_somme_inscrits", "ensemble"): int(formations["inscrits"].sum()),
        ("essai_somme_presents", "ensemble"): int(formations["presents"].sum()),
        ("essai_taux_presence", "ensemble"): half_up(Fraction(100 * int(formations["presents"].sum()), int(formations["inscrits"].sum()))),
    }
    for site in SITES:
        want[("essai_part", site)] = half_up(Fraction(100 * sum(r["lieu"] == site for r in rows), len(rows)))
    return want


def test_one_new_indicator_per_measure_publishes_its_hand_count(tmp_path: Path):
    folder = make_folder(tmp_path / "ccas")
    added = new_catalogue(folder)
    rng = random.Random(2019)
    records = {}
    for year in YEARS:
        records[year] = finish(population(rng, year, 2000, prefix="P"))  # the same persons come back
        # Durations in every band, each band far above the threshold: a hidden band would
        # hide the median with it (its interval would give the band away).
        for i, record in enumerate(records[year]):
            record["duree"] = str((10, 20, 45, 90, 150, 35, 25, 50)[(i * 7 + year) % 8])
        release_or_fail(folder, write_inputs(tmp_path / f"in{year}", records[year], year=year), year)
    with open(folder / "datapackages" / "2024" / "indicateurs.csv", encoding="utf-8", newline="") as handle:
        published = {
            (r["indicateur"], r["lieu"]): r for r in csv.DictReader(handle) if r["periode"] == "2024" and r["dimension"] == "ensemble"
        }
    want = hand_counts(records, 2024)
    assert {code for code, _ in want} == set(added)  # every new indicator is checked
    wrong = {
        key: (published[key]["valeur"], published[key]["secret"], value)
        for key, value in want.items()
        if published[key]["secret"] != "" or float(published[key]["valeur"]) != value
    }
    assert not wrong  # (published value, secret flag, hand count) of every figure that differs
    # The bug this guards against: the evolution of persons divided record counts (118.7 % for 0.6 %).
    assert float(published[("evolution_usagers", "ensemble")]["valeur"]) < 50
