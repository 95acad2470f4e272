"""The re-identification risk report published with each year (``risque.json``).

It says, in figures and in plain French, what a reader could learn about a person:
how many records and persons the year rests on, the threshold, what was hidden and
why, how small the smallest group of persons sharing the same quasi-identifiers was
before aggregation, the audit's result, and where the publication stands against
the three criteria of the G29 (Article 29 Working Party) opinion 05/2014 on
anonymisation techniques.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .aggregate import ENSEMBLE, KEY, MULTI_VALUED
from .catalogue import Catalogue
from .granularity import PERIOD_COLUMN, year_rows
from .secrecy import PRIMARY, Protected

if TYPE_CHECKING:
    from .context import Context

QUASI_IDENTIFIERS = ["mois", "lieu", "tranche_age", "quartier", "composition_familiale", "situation"]


def _persons_in_hidden_cells(records: pd.DataFrame, table: pd.DataFrame, catalogue: Catalogue) -> tuple[int, dict[str, int]]:
    """Distinct persons who belong to at least one hidden accompaniment cell: overall,
    and per dimension (the overall figure grows with the number of breakdowns).

    Linear in the records: the hidden cells are taken by shape (month or year, one site
    or all, dimension), and each shape's cells are joined once to the records' keys of
    that shape, instead of one pass over the records per hidden cell."""
    hidden = table[
        (table["source"] == "accompagnements")
        & (table["secret"] != "")
        & table["indicateur"].isin(catalogue.additive_codes("accompagnements"))
    ]
    cells = hidden[KEY].drop_duplicates().astype(str)
    rows = np.arange(len(records))
    touched = np.zeros(len(records), dtype=bool)
    by_dimension: dict[str, np.ndarray] = {}
    sub_period, by_site = ~year_rows(cells["periode"]), cells["lieu"] != ENSEMBLE
    for (is_sub_period, is_site, dimension), shape in cells.groupby([sub_period, by_site, cells["dimension"]], sort=True):
        keys = ["modalite"] + (["periode"] if is_sub_period else []) + (["lieu"] if is_site else [])
        if dimension in MULTI_VALUED:
            # One row per (record, code), the codes split once per distinct combination.
            combination, combinations = pd.factorize(records[MULTI_VALUED[dimension]].astype(str))
            split = pd.DataFrame(
                [(i, code) for i, value in enumerate(combinations) for code in str(value).split("|")], columns=["_c", "modalite"]
            )
            candidates = pd.DataFrame({"_r": rows, "_c": combination}).merge(split, on="_c", how="inner")
        else:
            modality = records[dimension].astype(str).to_numpy() if dimension != ENSEMBLE else np.full(len(records), ENSEMBLE, dtype=object)
            candidates = pd.DataFrame({"_r": rows, "modalite": modality})
        if is_sub_period:  # by month, or by the coarser period of the year's granularity
            periods = records[PERIOD_COLUMN] if PERIOD_COLUMN in records else records["mois"]
            candidates["periode"] = periods.astype(str).to_numpy()[candidates["_r"].to_numpy()]
        if is_site:
            candidates["lieu"] = records["lieu"].astype(str).to_numpy()[candidates["_r"].to_numpy()]
        matched = candidates.merge(shape[keys].drop_duplicates(), on=keys, how="inner")["_r"].to_numpy()
        mask = np.zeros(len(records), dtype=bool)
        mask[matched] = True
        touched |= mask
        by_dimension[dimension] = by_dimension.get(dimension, np.zeros(len(records), dtype=bool)) | mask
    per_dimension = {d: int(records.loc[m, "personne"].nunique()) for d, m in sorted(by_dimension.items())}
    return int(records.loc[touched, "personne"].nunique()), per_dimension


def _share_or_none(count: int, total: int, threshold: int) -> float | None:
    """A count of persons is itself a figure: below the threshold it is not given, nor
    the share it would be recomputed from (``None`` in the JSON, « moins de … » on the page)."""
    if total == 0 or (0 < count < threshold):
        return None
    return round(100 * count / total, 1)


def risk_report(ctx: Context, records: pd.DataFrame, protected: Protected) -> dict:
    """The report as a JSON-ready dict; every figure in it is an aggregate, and counts of
    persons under the threshold are withheld like any other figure."""
    publisher, year = ctx.publisher, ctx.year
    table = protected.table
    has_usager = bool(records["usager_connu"].any())
    persons = int(records["personne"].nunique())
    n_cells = len(table)
    # Totals per rule only (the table says « secret », never which rule): a figure a
    # revision shows frozen as hidden counts with the secondary ones.
    hidden = int((table["secret"].fillna("") != "").sum())
    primary = int(((protected.reasons == PRIMARY) & (table["secret"].fillna("") != "")).sum()) if len(protected.reasons) else 0
    secondary = hidden - primary
    in_hidden, per_dimension = _persons_in_hidden_cells(records, table, ctx.catalogue)
    groups = records.groupby(QUASI_IDENTIFIERS, observed=True)["personne"].nunique()
    unique_combinations = int((groups == 1).sum())
    smallest = int(groups.min()) if len(groups) else 0
    audit = protected.audit
    report = {
        "annee": year,
        "organisme": publisher.nom,
        "enregistrements": len(records) if len(records) >= publisher.seuil_secret else None,
        # Without a person identifier the tool cannot count persons: it claims no number of them.
        "personnes_distinctes": persons if has_usager and persons >= publisher.seuil_secret else None,
        "identifiant_usager": has_usager,
        "remarque_identifiant": (
            "Les enregistrements portent un identifiant de personne (pseudonymisé par HMAC-SHA256 avec une clé "
            "secrète, jamais publié) : le secret porte sur les personnes distinctes."
            if has_usager
            else "Les enregistrements ne portent pas d'identifiant de personne (déclaré par le CCAS) : l'outil ne peut pas "
            "compter les personnes. Seuls des chiffres sur les accompagnements sont publiés, chacun sur au moins "
            f"{publisher.seuil_sans_identifiant} accompagnements, et aucune ventilation qui décrit les personnes (âge, "
            "genre, situation, quartier…)."
        ),
        "seuil_secret": publisher.seuil_secret,
        "largeur_protection": publisher.largeur_protection,
        "cases_publiees": n_cells - primary - secondary,
        "cases_total": n_cells,
        # Totals per rule (never which cells): under the threshold or dominated, and
        # hidden so that no other hidden figure can be recomputed.
        "cases_masquees_seuil": primary,
        "cases_masquees_protection": secondary,
        "part_cases_masquees": round(100 * (primary + secondary) / n_cells, 1) if n_cells else 0.0,
        "personnes_dans_cases_masquees": in_hidden if has_usager and not 0 < in_hidden < publisher.seuil_secret else None,
        "part_personnes_dans_cases_masquees": _share_or_none(in_hidden, persons, publisher.seuil_secret) if has_usager else None,
        "part_personnes_dans_cases_masquees_par_dimension": {
            d: _share_or_none(n, persons, publisher.seuil_secret) for d, n in per_dimension.items()
        }
        if has_usager
        else {},
        # How many, never which: naming the breakdowns would tell that a group falls
        # entirely in one category, the very fact hiding them protects.
        "nombre_ventilations_sensibles_masquees": len(protected.homogeneous),
        "quasi_identifiants": QUASI_IDENTIFIERS,
        # A group's size is a count of persons: under the threshold it is withheld
        # (``None``, « moins de N » on the page), like any other figure.
        "plus_petit_groupe_quasi_identifiants": smallest if smallest >= publisher.seuil_secret else None,
        "combinaisons_uniques_avant_agregation": unique_combinations,
        "combinaisons_avant_agregation": len(groups),
        "audit": audit.as_dict(),
        "criteres_g29": {
            "individualisation": (
                "Non : seuls des agrégats sont publiés, chacun sur au moins "
                + (
                    f"{publisher.seuil_secret} personnes distinctes"
                    if has_usager
                    else f"{publisher.seuil_sans_identifiant} accompagnements"
                )
                + ", et aucun dû pour plus de "
                f"{publisher.dominance_max * 100:.0f} % à une seule personne ; aucune ligne ne décrit une personne. Avant agrégation, "
                f"{unique_combinations} combinaisons de mois, lieu, âge, quartier, famille et situation ne concernaient "
                "qu'une personne : aucune de ces combinaisons n'est publiée."
            ),
            "correlation": (
                "Non : ni identifiant, ni pseudonyme, ni date exacte, ni année de naissance ne sont publiés ; "
                "les catégories sont figées d'une année à l'autre et une nouvelle année ne modifie jamais les cases "
                "publiées des années précédentes ; une évolution n'est publiée que si les deux années le sont."
            ),
            "inference": (
                "Limitée : une case masquée ne peut être encadrée, à partir de tous les chiffres publiés (totaux, mois, "
                "lieux, modalités, parts, taux, moyennes, évolutions, et les mentions « secret » elles-mêmes), dans "
                f"moins de {publisher.largeur_protection} valeurs possibles (audit par programmation linéaire) ; le numérateur "
                "et le complément d'une part de personnes comptent chacun au moins le seuil ; une année publiée n'est "
                "republiée que si aucun de ses chiffres ne change ; une ventilation sensible (situation, autonomie, orientation) où tout le groupe tombe dans "
                "une seule catégorie n'est pas publiée."
            ),
        },
    }
    return report


#: Figures of the report counted on the records themselves, not on the published table.
RECORD_FIGURES = (
    "enregistrements",
    "personnes_distinctes",
    "personnes_dans_cases_masquees",
    "part_personnes_dans_cases_masquees",
    "part_personnes_dans_cases_masquees_par_dimension",
    "plus_petit_groupe_quasi_identifiants",
    "combinaisons_uniques_avant_agregation",
    "combinaisons_avant_agregation",
)


def revision_risk_report(report: dict, online: dict, table: pd.DataFrame) -> dict:
    """The report of a revision: the figures counted on the records are those of the
    version online (one late record would otherwise show as 1 501 records against 1 500,
    the very change the freeze holds back); the figures of the published table are this
    version's, and the audit counts the hidden cells a reader sees."""
    frozen = dict(report)
    for name in RECORD_FIGURES:
        if name in online:
            frozen[name] = online[name]
    if "criteres_g29" in online:
        frozen["criteres_g29"] = dict(report["criteres_g29"], individualisation=online["criteres_g29"]["individualisation"])
    frozen["audit"] = dict(report["audit"], cases_masquees_auditees=int((table["secret"].fillna("") != "").sum()))
    return frozen
