"""The derived columns the anonymisation writes, each from its rule in ``contract.yml``
(``derivees``, ``indicatrices``, ``oui_non``, ``si_vide``), checked against values worked
out by hand."""

from __future__ import annotations

import pandas as pd

from ccas_opendata.anonymise import _yes_no, banded, flagged_codes, plain_code_columns
from ccas_opendata.publisher import read_publisher
from conftest import REPO

YEAR = 2024


def test_an_age_band_comes_from_the_birth_year_first_then_the_age_then_the_band_given():
    frame = pd.DataFrame(
        {
            # 2024 - 2000 = 24; 2024 - 1950 = 74 (the year wins over the age typed beside it).
            "annee_naissance": pd.array([2000, 1950, None, None, None, 2007], dtype="Int64"),
            "age": pd.array([None, 20, 30, None, None, None], dtype="Int64"),
            "tranche_age": [None, None, "60_69", "60_69", None, None],
        }
    )
    assert banded(frame, "tranche_age", YEAR).tolist() == ["18_24", "70_plus", "25_39", "60_69", "non_communique", "moins_de_18"]


def test_a_duration_band_is_its_minutes_banded():
    frame = pd.DataFrame({"duree": pd.array([1, 14, 15, 59, 60, 120, 480], dtype="Int64")})
    assert banded(frame, "duree_tranche", YEAR).tolist() == [
        "moins_de_15_min",
        "moins_de_15_min",
        "15_29_min",
        "30_59_min",
        "60_119_min",
        "120_min_et_plus",
        "120_min_et_plus",
    ]


def test_yes_no_codes_and_the_qpv_flag_are_the_contract_s_and_the_publisher_s():
    assert _yes_no(pd.Series(pd.array([True, False, None], dtype="boolean"))).tolist() == ["oui", "non", "non_communique"]
    # metadata/quartiers.csv, read by hand: Les Tilleuls and La Plaine are priority neighbourhoods.
    publisher = read_publisher(REPO)
    assert flagged_codes(publisher, "accompagnements", "quartier", "qpv") == {"les_tilleuls", "la_plaine"}


def test_a_column_whose_empty_cell_has_a_code_is_not_carried_as_a_plain_one():
    assert "orientation" not in plain_code_columns("accompagnements")
    assert "canal" in plain_code_columns("accompagnements")
