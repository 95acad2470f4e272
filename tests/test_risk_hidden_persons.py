"""The persons behind the hidden cells (``risque.json``), counted by hand on a small year."""

from __future__ import annotations

from typing import cast

import pandas as pd

from ccas_opendata.catalogue import Catalogue as RealCatalogue
from ccas_opendata.risk import _persons_in_hidden_cells


class Catalogue:
    """The one thing the count reads of a catalogue: which indicators are additive counts."""

    def additive_codes(self, source: str) -> set[str]:
        return {"accompagnements"}


def test_persons_in_hidden_cells_by_hand():
    records = pd.DataFrame(
        {
            "personne": ["A", "A", "B", "C", "D", "E"],
            "mois": pd.Categorical(["2024-01", "2024-02", "2024-01", "2024-03", "2024-03", "2024-03"]),
            "lieu": pd.Categorical(["nord", "sud", "nord", "sud", "sud", "nord"]),
            "genre": pd.Categorical(["feminin", "feminin", "masculin", "feminin", "masculin", "feminin"]),
            "thematiques": ["logement|email", "logement", "email", "justice", "logement|justice", "sante"],
        }
    )
    hidden = [  # (periode, lieu, dimension, modalite)
        ("2024-03", "ensemble", "ensemble", "ensemble"),  # C, D, E
        ("2024", "nord", "genre", "masculin"),  # B
        ("2024", "sud", "thematique", "justice"),  # C, D (not E: sante; a code, not a substring)
        ("2024", "ensemble", "thematique", "email"),  # A, B
    ]
    table = pd.DataFrame(
        [
            dict(
                zip(["periode", "lieu", "dimension", "modalite"], cell),
                source="accompagnements",
                secret="secondaire",
                indicateur="accompagnements",
            )
            for cell in hidden
        ]
    )
    # Published cells and non-additive indicators are not counted.
    table.loc[len(table)] = dict(
        periode="2024",
        lieu="ensemble",
        dimension="genre",
        modalite="feminin",
        source="accompagnements",
        secret="",
        indicateur="accompagnements",
    )
    table.loc[len(table)] = dict(
        periode="2024",
        lieu="ensemble",
        dimension="genre",
        modalite="feminin",
        source="accompagnements",
        secret="primaire",
        indicateur="duree_moyenne",
    )
    overall, per_dimension = _persons_in_hidden_cells(records, table, cast(RealCatalogue, Catalogue()))  # duck-typed
    assert overall == 5  # A, B, C, D, E
    assert per_dimension == {"ensemble": 3, "genre": 1, "thematique": 4}
