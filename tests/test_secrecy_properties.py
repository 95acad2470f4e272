"""Property tests of the secrecy: a random small CCAS, released, then attacked.

Hypothesis draws the shape of a year (2 to 4 sites, 150 to 400 accompaniments, how often
persons come back, how many live in a QPV) and a seed for the records themselves; the year is
released with the real command and its ``indicateurs.csv`` handed to the independent
:mod:`attacker`, which must find no narrow interval and no group under the threshold. A small
CCAS is where the threshold bites hardest: many cells are small, so the protection has to be
right, not lucky. Examples are derandomised (the same ones on every run) and few, to stay
within a few minutes.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from attacker import attack
from conftest import make_folder
from test_secrecy_attacks import YEAR, assert_safe, assert_sound, population, published_csv, release_or_fail, truth, write_inputs

FOURTH_SITE = {
    "code": "espace_ouest",
    "nom": "Espace numérique de l'Ouest",
    "adresse": "1 rue des Coteaux",
    "code_postal": "12990",
    "commune": "Val-d'Orbe",
    "code_insee": "12999",
    "quartier": "les_coteaux",
}


def with_sites(folder: Path, n: int) -> tuple[str, ...]:
    """Keep (or extend to) ``n`` sites in the folder's metadata/lieux.csv."""
    path = folder / "metadata" / "lieux.csv"
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        fields, sites = reader.fieldnames, list(reader)
    assert fields, path  # the folder's lieux.csv has its header row
    sites = (sites + [FOURTH_SITE])[:n]
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(sites)
    return tuple(site["code"] for site in sites)


@pytest.mark.slow
# No shrinking: each example is a full release; the failing example is printed as drawn.
@settings(
    max_examples=5,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    n_sites=st.integers(2, 4),
    n_records=st.integers(150, 400),
    rate=st.floats(0.4, 2.0),
    qpv=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_a_random_small_ccas_resists_the_attacker(tmp_path_factory, n_sites, n_records, rate, qpv, seed):
    base = tmp_path_factory.mktemp("ccas-aleatoire")
    folder = make_folder(base / "ccas")
    sites = with_sites(folder, n_sites)
    records = population(random.Random(seed), YEAR, n_records, sites=sites, rate=rate, qpv=qpv)
    release_or_fail(folder, write_inputs(base / "entrees", records, folder=folder))
    findings = attack([published_csv(folder)], folder / "metadata", integral=True)
    assert_sound(findings, truth(records))
    assert_safe(findings, f" (n_sites={n_sites}, n_records={n_records}, rate={rate}, qpv={qpv}, seed={seed})")
