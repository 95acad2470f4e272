"""The satisfaction rate counts the answers its catalogue ``lien`` names, the same ones the
secrecy audit reads: a hand count on a small frame, and two rates that disagree refused."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from ccas_opendata.aggregate import GroupStats, rated_answers
from ccas_opendata.catalogue import Catalogue, load_catalogue
from ccas_opendata.aggregate import MEASURES
from ccas_opendata.errors import ConfigurationError
from ccas_opendata.layout import Layout
from conftest import REPO


def catalogue_with(numerators: list[list[str]]) -> Catalogue:
    """The demo catalogue, its satisfaction rates counting ``numerators`` (one per rate)."""
    catalogue = load_catalogue(Layout(REPO).catalogue, frozenset(MEASURES))
    rate = next(i for i in catalogue.indicators if i.mesure == "taux_satisfaction")
    others = tuple(i for i in catalogue.indicators if i.mesure != "taux_satisfaction")
    rates = tuple(
        dataclasses.replace(rate, code=f"taux_{n}", lien=dict(rate.lien, numerateur=numerator)) for n, numerator in enumerate(numerators)
    )
    return dataclasses.replace(catalogue, indicators=others + rates)


def test_the_favourable_answers_are_the_catalogue_s():
    frame = pd.DataFrame(
        {
            "personne": ["a", "b", "c", "d", "e", "f"],
            "thematiques": ["logement"] * 6,
            "satisfaction": ["5", "4", "5", "1", "non_communique", "3"],
        }
    )
    stats = GroupStats("accompagnements", frame, rated=rated_answers(catalogue_with([["5"]])))
    # By hand: five answers from 1 to 5, two of them « 5 ».
    assert int(stats.frame["sat_rep"].sum()) == 5
    assert int(stats.frame["sat_fav"].sum()) == 2
    assert rated_answers(catalogue_with([["4", "5"]])) == ("satisfaction", ["4", "5"], ["1", "2", "3", "4", "5"])


def test_two_satisfaction_rates_that_count_differently_are_refused():
    with pytest.raises(ConfigurationError, match="ne comptent pas les mêmes réponses"):
        rated_answers(catalogue_with([["5"], ["4", "5"]]))
    assert rated_answers(catalogue_with([])) is None
