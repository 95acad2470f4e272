"""Revisions freeze small changes: random late persons (Hypothesis), in memory.

A year of the demo generator is protected once; Hypothesis then adds 1 to 10 late persons
(each a random record's profile, 1 to 3 accompaniments in random months and sites) and
protects the corrected year as a revision of it, with the real delta table. Fewer persons
than the threshold changed every cell they touch, so the new table must show exactly the
figures and the secret flags of the version online: nothing a reader holding both can
subtract. The end-to-end canary (one person, every public byte) is in test_revisions.py.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccas_opendata.aggregate import aggregate
from ccas_opendata.granularity import of_table
from ccas_opendata.secrecy import protect
from ccas_opendata.versions import delta_table, persons_of, revision_of
from conftest import demo_year_tables

pytestmark = pytest.mark.slow
YEAR = 2024
SIZE = 600


@pytest.fixture(scope="module")
def online(tmp_path_factory):
    publisher, catalogue, tables = demo_year_tables(tmp_path_factory.mktemp("entrees"), YEAR, SIZE)
    table = protect(aggregate(tables, publisher, catalogue, YEAR, None), catalogue, publisher, YEAR).table
    return publisher, catalogue, tables, table


late_person = st.tuples(st.integers(0, SIZE - 1), st.lists(st.tuples(st.integers(1, 12), st.integers(0, 2)), min_size=1, max_size=3))


@settings(
    max_examples=4, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(persons=st.lists(late_person, min_size=1, max_size=10))
def test_fewer_late_persons_than_the_threshold_change_no_figure(online, persons):
    publisher, catalogue, tables, table = online
    records = tables["accompagnements"]
    sites = sorted(records["lieu"].unique())
    rows = []
    for n, (profile, visits) in enumerate(persons):
        for month, site in visits:
            rows.append(dict(records.iloc[profile], personne=f"retard-{n}", mois=f"{YEAR}-{month:02d}", lieu=sites[site % len(sites)]))
    added = pd.DataFrame(rows, columns=records.columns).astype(records.dtypes.to_dict())
    added.index = range(int(records.index.max()) + 1, int(records.index.max()) + 1 + len(added))
    corrected = dict(tables, accompagnements=pd.concat([records, added]))

    granularity = of_table(table, catalogue, YEAR)  # a revision publishes the cells of the version online
    delta = delta_table(tables, corrected, publisher, catalogue, YEAR, granularity)
    assert delta is not None and int(delta["personnes"].max()) == len(persons)  # the hand count of changed persons
    revision = revision_of(table, persons_of(delta, catalogue), publisher.seuil_secret, delta)
    revised = protect(
        aggregate(corrected, publisher, catalogue, YEAR, None, granularity=granularity), catalogue, publisher, YEAR, None, True, revision
    )

    columns = ["periode", "lieu", "indicateur", "dimension", "modalite", "valeur", "secret"]
    before = table[columns].sort_values(columns[:5]).reset_index(drop=True)
    after = revised.table[columns].sort_values(columns[:5]).reset_index(drop=True)
    pd.testing.assert_frame_equal(before, after)
    assert revised.totals()["gel"] > 0  # her figures were held back, not hidden
    assert revised.audit.ok


def test_a_few_removed_persons_keep_a_published_figure_and_pass_the_quality_check(online, tmp_path):
    """A correction removing 3 of the 11 to 14 persons of a published cell: the figure
    would fall under the threshold, but 3 changed persons cannot be published, so it keeps
    its value, and the release's quality suite (real Great Expectations) passes on the table."""
    from ccas_opendata import quality

    publisher, catalogue, tables, table = online
    records = tables["accompagnements"]
    cells = aggregate(tables, publisher, catalogue, YEAR, None)
    small = cells[
        (cells["indicateur"] == "accompagnements")
        & (cells["lieu"] == "ensemble")
        & (cells["periode"] == str(YEAR))
        & cells["dimension"].isin(["genre", "situation", "canal", "composition_familiale"])
        & cells["personnes"].between(11, 14)
    ]
    small = small.drop(columns="secret").merge(
        table[["periode", "lieu", "indicateur", "dimension", "modalite", "secret"]],
        on=["periode", "lieu", "indicateur", "dimension", "modalite"],
    )
    target = small[small["secret"] == ""].sort_values(["dimension", "modalite"]).iloc[0]
    persons = sorted(records.loc[records[target["dimension"]] == target["modalite"], "personne"].unique())[:3]
    corrected = dict(tables, accompagnements=records[~records["personne"].isin(persons)])

    granularity = of_table(table, catalogue, YEAR)  # a revision publishes the cells of the version online
    delta = delta_table(tables, corrected, publisher, catalogue, YEAR, granularity)
    revision = revision_of(table, persons_of(delta, catalogue), publisher.seuil_secret, delta)
    revised = protect(
        aggregate(corrected, publisher, catalogue, YEAR, None, granularity=granularity), catalogue, publisher, YEAR, None, True, revision
    )
    row = revised.table[
        (revised.table["indicateur"] == "accompagnements")
        & (revised.table["periode"] == str(YEAR))
        & (revised.table["lieu"] == "ensemble")
        & (revised.table["dimension"] == target["dimension"])
        & (revised.table["modalite"] == target["modalite"])
    ].iloc[0]
    assert row["secret"] == "" and row["valeur"] == target["valeur"]  # the value online, 3 persons held back
    quality.validate_published(revised.table, publisher, catalogue, YEAR, tmp_path / "qualite")
