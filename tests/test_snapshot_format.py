"""The private snapshot (``.npz``, categorical codes) reads back exactly what a CSV
snapshot gave, and a CSV snapshot kept by an earlier version of the tool is still read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ccas_opendata.anonymise import WORK_FILES, read_anonymised, write_anonymised


def tables() -> dict[str, pd.DataFrame]:
    """Frames shaped like ``anonymise``'s: categories, plain text with a missing value,
    integers, a nullable integer, a flag; rows indexed by their input line."""
    accompagnements = pd.DataFrame(
        {
            "mois": pd.Categorical(["2024-01", "2024-02", "2024-01"]),
            "lieu": ["ccas_centre", "mediatheque_sud", "ccas_centre"],
            "duree": [30, 45, 120],
            "thematiques": ["logement|email", None, "logement"],
            "personne": ["a" * 32, "b" * 32, "r7"],
            "usager_connu": [True, True, False],
            "satisfaction": pd.Categorical(["5", "non_communique", "4"]),
        },
        index=pd.Index([2, 3, 7]),
    )
    ateliers = pd.DataFrame(
        {
            "mois": ["2024-03", "2024-04"],
            "lieu": ["hors_les_murs", "ccas_centre"],
            "thematiques": ["email", ""],
            "participants": [8, 12],
            "duree": pd.array([90, pd.NA], dtype="Int64"),
            "niveau": ["debutant", "non_communique"],
            "format": ["atelier", "atelier"],
        },
        index=pd.Index([2, 3]),
    )
    return {"accompagnements": accompagnements, "ateliers": ateliers}


def test_npz_snapshot_reads_back_what_a_csv_snapshot_gave(tmp_path: Path):
    written = tables()
    as_csv = tmp_path / "csv"
    as_csv.mkdir()
    for name, frame in written.items():  # the format of the snapshots kept until now
        frame.to_csv(as_csv / WORK_FILES[name], index_label="ligne")
    write_anonymised(written, tmp_path / "npz")
    assert sorted(p.name for p in (tmp_path / "npz").iterdir()) == ["accompagnements.npz", "ateliers.npz"]
    from_csv, from_npz = read_anonymised(as_csv), read_anonymised(tmp_path / "npz")
    for name in written:
        pd.testing.assert_frame_equal(from_npz[name], from_csv[name], check_exact=True)
    # Hand check of what the reader sees: text for codes, "" for a missing value, numbers kept.
    accompagnements = from_npz["accompagnements"]
    assert accompagnements["thematiques"].tolist() == ["logement|email", "", "logement"]
    assert accompagnements["duree"].tolist() == [30, 45, 120] and accompagnements.index.tolist() == [2, 3, 7]
    assert accompagnements["usager_connu"].tolist() == [True, True, False]
    assert from_npz["ateliers"]["duree"].isna().tolist() == [False, True]


def test_the_npz_snapshot_is_read_without_pickle(tmp_path: Path):
    write_anonymised(tables(), tmp_path)
    with np.load(tmp_path / "accompagnements.npz", allow_pickle=False) as arrays:
        assert all(arrays[key].dtype != object for key in arrays.files)
