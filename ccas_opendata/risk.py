"""The re-identification risk report published with each year (``risque.json``).

It says, in figures and in plain French, what a reader could learn about a person:
how many records and persons the year rests on, the threshold, what was hidden and
why, how small the smallest group of persons sharing the same quasi-identifiers was
before aggregation, the audit's result, and where the publication stands against
the three criteria of the G29 (Article 29 Working Party) opinion 05/2014 on
anonymisation techniques.
"""

from __future__ import annotations

import re

import pandas as pd

from .aggregate import ENSEMBLE, MULTI_VALUED
from .catalogue import Catalogue
from .config import Publisher
from .secrecy import PRIMARY, SECONDARY, Protected

QUASI_IDENTIFIERS = ["mois", "lieu", "tranche_age", "quartier", "composition_familiale", "situation"]


def _persons_in_hidden_cells(records: pd.DataFrame, table: pd.DataFrame, catalogue: Catalogue) -> tuple[int, dict[str, int]]:
    """Distinct persons who belong to at least one hidden accompaniment cell: overall,
    and per dimension (the overall figure grows with the number of breakdowns)."""
    hidden = table[(table["source"] == "accompagnements") & (table["secret"] != "")
                   & table["indicateur"].isin(catalogue.additive_codes("accompagnements"))]
    touched = pd.Series(False, index=records.index)
    by_dimension: dict[str, pd.Series] = {}
    for row in hidden[["periode", "lieu", "dimension", "modalite"]].drop_duplicates().itertuples(index=False):
        mask = pd.Series(True, index=records.index)
        if len(str(row.periode)) == 7:
            mask &= records["mois"] == row.periode
        if row.lieu != ENSEMBLE:
            mask &= records["lieu"] == row.lieu
        if row.dimension in MULTI_VALUED:
            mask &= records[MULTI_VALUED[row.dimension]].str.contains(rf"(?:^|\|){re.escape(row.modalite)}(?:\||$)", regex=True)
        elif row.dimension != ENSEMBLE:
            mask &= records[row.dimension].astype(str) == row.modalite
        touched |= mask
        by_dimension[row.dimension] = by_dimension.get(row.dimension, pd.Series(False, index=records.index)) | mask
    per_dimension = {d: int(records.loc[m, "personne"].nunique()) for d, m in sorted(by_dimension.items())}
    return int(records.loc[touched, "personne"].nunique()), per_dimension


def _share_or_none(count: int, total: int, threshold: int) -> float | None:
    """A count of persons is itself a figure: below the threshold it is not given, nor
    the share it would be recomputed from (``None`` in the JSON, « moins de … » on the page)."""
    if total == 0 or (0 < count < threshold):
        return None
    return round(100 * count / total, 1)


def risk_report(records: pd.DataFrame, protected: Protected, publisher: Publisher, catalogue: Catalogue, year: int) -> dict:
    """The report as a JSON-ready dict; every figure in it is an aggregate, and counts of
    persons under the threshold are withheld like any other figure."""
    table = protected.table
    has_usager = bool(records["usager_connu"].any())
    persons = int(records["personne"].nunique())
    n_cells = int(len(table))
    primary = int((table["secret"] == PRIMARY).sum())
    secondary = int((table["secret"] == SECONDARY).sum())
    in_hidden, per_dimension = _persons_in_hidden_cells(records, table, catalogue)
    groups = records.groupby(QUASI_IDENTIFIERS, observed=True)["personne"].nunique()
    unique_combinations = int((groups == 1).sum())
    smallest = int(groups.min()) if len(groups) else 0
    audit = protected.audit
    report = {
        "annee": year,
        "organisme": publisher.nom,
        "enregistrements": int(len(records)) if len(records) >= publisher.seuil_secret else None,
        "personnes_distinctes": persons if persons >= publisher.seuil_secret else None,
        "identifiant_usager": has_usager,
        "remarque_identifiant": (
            "Les enregistrements portent un identifiant de personne (pseudonymisé par HMAC-SHA256 avec une clé "
            "secrète, jamais publié) : le secret porte sur les personnes distinctes."
            if has_usager else
            "Les enregistrements ne portent pas d'identifiant de personne : chaque accompagnement est compté "
            "comme une personne distincte, ce qui surestime le nombre de personnes derrière chaque case ; "
            "une personne venue souvent peut rendre une case plus grande qu'elle n'est."
        ),
        "seuil_secret": publisher.seuil_secret,
        "largeur_protection": publisher.largeur_protection,
        "cases_publiees": n_cells - primary - secondary,
        "cases_total": n_cells,
        "cases_secret_primaire": primary,
        "cases_secret_secondaire": secondary,
        "part_cases_masquees": round(100 * (primary + secondary) / n_cells, 1) if n_cells else 0.0,
        "personnes_dans_cases_masquees": in_hidden if not 0 < in_hidden < publisher.seuil_secret else None,
        "part_personnes_dans_cases_masquees": _share_or_none(in_hidden, persons, publisher.seuil_secret),
        "part_personnes_dans_cases_masquees_par_dimension": {
            d: _share_or_none(n, persons, publisher.seuil_secret) for d, n in per_dimension.items()
        },
        "ventilations_sensibles_masquees": [
            {"periode": p, "lieu": l, "dimension": d} for p, l, d in protected.homogeneous
        ],
        "quasi_identifiants": QUASI_IDENTIFIERS,
        "plus_petit_groupe_quasi_identifiants": smallest,
        "combinaisons_uniques_avant_agregation": unique_combinations,
        "combinaisons_avant_agregation": int(len(groups)),
        "audit": audit.as_dict(),
        "criteres_g29": {
            "individualisation": (
                "Non : seuls des agrégats sont publiés, chacun sur au moins "
                f"{publisher.seuil_secret} personnes distinctes ; aucune ligne ne décrit une personne. Avant agrégation, "
                f"{unique_combinations} combinaisons de mois, lieu, âge, quartier, famille et situation ne concernaient "
                "qu'une personne : aucune de ces combinaisons n'est publiée."
            ),
            "correlation": (
                "Non : ni identifiant, ni pseudonyme, ni date exacte, ni année de naissance ne sont publiés ; "
                "les catégories sont figées d'une année à l'autre et une nouvelle année ne modifie jamais les cases "
                "publiées des années précédentes ; une évolution n'est publiée que si les deux années le sont."
            ),
            "inference": (
                "Limitée : une case masquée ne peut être recalculée à partir des totaux, mois, lieux, parts, taux "
                f"et évolutions publiés (audit par programmation linéaire, intervalle d'au moins {publisher.largeur_protection} "
                "unités) ; une ventilation sensible (situation, autonomie, orientation) où tout le groupe tombe dans "
                "une seule catégorie n'est pas publiée."
            ),
        },
    }
    return report
