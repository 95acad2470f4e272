"""The persons behind a multi-valued cell's complement, counted by hand.

A reader gets a thematique's complement by subtracting its cell from its total: the persons
behind that complement are those with at least one record of the group without the code.
Three persons on two sites, their codes chosen so that each case occurs once (every record
with the code, some, none); the count is checked per site and for the whole CCAS, with the
site and code columns as categories (what the anonymised records hold) and as plain text.
"""

from __future__ import annotations

import pandas as pd
import pytest

from ccas_opendata.aggregate import ENSEMBLE, GroupStats, Grouping
from ccas_opendata.vocabulary import contract

X, Y = contract()["codes"]["thematiques_demarches"][:2]

# person, site, thematiques of each record
RECORDS = [
    ("p1", "A", X),
    ("p1", "A", f"{X}|{Y}"),
    ("p2", "A", Y),
    ("p3", "B", X),
]


def stats(as_categories: bool) -> GroupStats:
    frame = pd.DataFrame(RECORDS, columns=["personne", "lieu", "thematiques"])
    frame["duree"] = 30
    frame["satisfaction"] = "4"
    if as_categories:
        frame = frame.astype({"lieu": "category", "thematiques": "category"})
    return GroupStats("accompagnements", frame)


@pytest.mark.parametrize("as_categories", [True, False])
def test_complement_persons_by_site_and_for_the_whole_ccas(as_categories):
    by_site = pd.MultiIndex.from_product([["A", "B"], [X, Y]], names=["lieu", "thematique"])
    got = stats(as_categories).complement_persons(Grouping("lieu_dimensions", "thematique"), by_site)
    # A: p1 has a record without Y, p2 one without X; B: p3 has every record with X, none with Y.
    assert got.astype(int).to_dict() == {("A", X): 1, ("A", Y): 1, ("B", X): 0, ("B", Y): 1}

    whole = pd.Index([X, Y], name="thematique")
    got = stats(as_categories).complement_persons(Grouping("dimensions", "thematique"), whole)
    # Without X: p2 only (p1 and p3 carry it on every record); without Y: p1 and p3.
    assert got.astype(int).to_dict() == {X: 1, Y: 2}
    assert ENSEMBLE not in got.index
