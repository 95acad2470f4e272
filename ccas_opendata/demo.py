"""A deterministic generator of synthetic activity records for the demo CCAS.

The shape follows what CCAS bilans show: a few thousand accompaniments a year over a
few sites, fewer in August, mostly CAF/CPAM/France Travail procedures, a majority of
women, many retired or unemployed people, a third coming back several times. It also
writes the identifier columns real exports carry (fictional values), so the demo shows
them being dropped. The same (year, size, seed) always gives the same files.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .publisher import Publisher
from .vocabulary import extra_codes
from .errors import ConfigurationError

DEMO_YEARS = {2023: 3400, 2024: 3900, 2025: 4300}
# The fictional CCAS of the repository's metadata/ (« Val-d'Orbe »): no real CCAS has
# this SIRET nor this commune code, so together they tell a demo folder from a real one.
DEMO_SIRET = "26120999900017"
DEMO_COMMUNE = "12999"
# One form per demo year, so that the demo exercises the contract's input forms.
DEMO_FORMS = {2023: "xlsx", 2024: "csv-excel", 2025: "csv-utf8"}

MONTH_WEIGHTS = np.array([10, 10, 11, 10, 9, 8, 6, 3, 10, 11, 10, 8], dtype=float)
THEMATIQUE_WEIGHTS = {
    "social_sante": 18,
    "famille_scolarite": 16,
    "travail_formation": 14,
    "papiers_elections_citoyennete": 12,
    "logement": 8,
    "argent_impots": 9,
    "etrangers_europe": 6,
    "transports_mobilite": 2,
    "justice": 1,
    "aide_aux_demarches_administratives": 5,
    "email": 6,
    "prendre_en_main_du_materiel": 5,
    "navigation_sur_internet": 4,
    "securite_numerique": 2,
    "banque_et_achats_en_ligne": 2,
    "bureautique": 1,
    "diagnostic_numerique": 2,
    "gere_ses_contenus_numeriques": 1,
    "reseaux_sociaux": 1,
    "sante": 2,
}


def _pick(rng: np.random.Generator, values: Sequence, weights: Sequence[float], size: int) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(np.asarray(values, dtype=object), size=size, p=p / p.sum())


def _dates(rng: np.random.Generator, year: int, size: int) -> np.ndarray:
    months = _pick(rng, list(range(1, 13)), list(MONTH_WEIGHTS), size).astype(int)
    start = np.array([dt.date(year, m, 1).toordinal() for m in range(1, 13)])
    length = np.array([(dt.date(year + (m == 12), m % 12 + 1, 1) - dt.date(year, m, 1)).days for m in range(1, 13)])
    days = start[months - 1] + (rng.random(size) * length[months - 1]).astype(int)
    return np.array([dt.date.fromordinal(int(d)) for d in np.unique(days)], dtype=object)[np.searchsorted(np.unique(days), days)]


def synthetic_accompagnements(year: int, size: int, publisher: Publisher, seed: int = 0) -> pd.DataFrame:
    """``size`` accompaniments of a fictional year, as a CCAS export would hold them."""
    rng = np.random.default_rng([seed, year])
    # Visits per person: about half come once, a few come back often (mean ≈ 2.2).
    visits = rng.geometric(0.45, size)
    person = rng.permutation(np.repeat(np.arange(size), visits)[:size])
    n_persons = int(person.max()) + 1
    # Persons: stable attributes drawn once, then visits drawn with a skewed frequency.
    birth = rng.integers(1935, 2009, n_persons)
    genre = _pick(rng, ["feminin", "masculin", ""], [58, 38, 4], n_persons)
    situation = _pick(rng, ["retraite", "demandeur_emploi", "inactif", "en_emploi", "scolarise", ""], [30, 25, 18, 15, 3, 9], n_persons)
    famille = _pick(
        rng,
        [
            "personne_seule",
            "famille_monoparentale",
            "couple_avec_enfants_mineurs",
            "couple_sans_enfant",
            "couple_avec_enfants_majeurs",
            "autre",
            "",
        ],
        [38, 17, 14, 12, 5, 4, 10],
        n_persons,
    )
    quartiers = publisher.quartier_codes + extra_codes("quartier", "accompagnements") + [""]
    quartier = _pick(
        rng, quartiers, [14, 26, 20, 12, 10, 6, 12][: len(quartiers)] if len(quartiers) == 7 else [1] * len(quartiers), n_persons
    )
    home_site = rng.integers(0, len(publisher.lieux), n_persons)
    canal = _pick(
        rng, ["orientation_interne", "partenaire", "bouche_a_oreille", "communication", "autre", ""], [30, 25, 25, 8, 4, 8], n_persons
    )
    equip = _pick(
        rng, ["telephone", "ordinateur|telephone", "aucun", "telephone|tablette", "ordinateur", ""], [40, 22, 12, 8, 6, 12], n_persons
    )

    lieu_codes = np.array(publisher.lieu_codes, dtype=object)
    moves = rng.random(size) < 0.15
    site = np.where(moves, rng.integers(0, len(lieu_codes), size), home_site[person])

    themes, weights = list(THEMATIQUE_WEIGHTS), list(THEMATIQUE_WEIGHTS.values())
    first = _pick(rng, themes, weights, size)
    second = _pick(rng, themes, weights, size)
    has_second = (rng.random(size) < 0.3) & (first != second)
    thematiques = np.where(has_second, first + "|" + second, first)

    duree = np.clip(rng.gamma(3.0, 12.0, size).astype(int) + 5, 5, 240)
    sat = _pick(rng, ["5", "4", "3", "2", "1", ""], [45, 28, 8, 3, 1, 15], size)
    autonomie = _pick(rng, ["entierement_accompagne", "partiellement_autonome", "autonome", ""], [55, 30, 10, 5], size)
    orientation = _pick(
        rng,
        [
            "",
            "aide_sociale",
            "operateur_ou_organisme_en_charge",
            "administration",
            "mediation_numerique",
            "insertion_professionnelle",
            "autre",
        ],
        [70, 9, 8, 5, 4, 3, 1],
        size,
    )
    dates = _dates(rng, year, size)
    order = np.argsort(dates, kind="stable")
    seen_before = pd.Series(person[order]).duplicated().to_numpy()
    premier = np.empty(size, dtype=object)
    premier[order] = np.where(seen_before, "non", "oui")

    file_numbers = np.array([f"D{year % 100:02d}-{i:06d}" for i in range(n_persons)], dtype=object)
    frame = pd.DataFrame(
        {
            "Date": dates,
            "Lieu": lieu_codes[site],
            "Usager": file_numbers[person],
            "Nom": np.array([f"NOMFICTIF{i}" for i in range(n_persons)], dtype=object)[person],
            "Téléphone": np.array([f"06 00 00 {i // 100 % 100:02d} {i % 100:02d}" for i in range(n_persons)], dtype=object)[person],
            "Durée": duree,
            "Thématiques": thematiques,
            "Premier accompagnement": premier,
            "Année de naissance": birth[person],
            "Genre": genre[person],
            "Situation": situation[person],
            "Composition familiale": famille[person],
            "Quartier": quartier[person],
            "Autonomie": autonomie,
            "Orientation": orientation,
            "Canal": canal[person],
            "Matériel": equip[person],
            "Satisfaction": sat,
            "Type de lieu": _pick(rng, ["lieu_activite", "a_distance", "domicile"], [88, 9, 3], size),
            "Intervenant": _pick(rng, ["conseiller_numerique", "travailleur_social", "agent_accueil", "benevole"], [55, 20, 15, 10], size),
            "Commentaire": np.where(rng.random(size) < 0.1, "texte libre fictif", ""),
        }
    )
    return frame.iloc[order].reset_index(drop=True)


def synthetic_ateliers(year: int, publisher: Publisher, seed: int = 0, size: int = 96) -> pd.DataFrame:
    rng = np.random.default_rng([seed, year, 1])
    lieux = publisher.lieu_codes + extra_codes("lieu", "ateliers")
    themes = [
        "email",
        "navigation_sur_internet",
        "securite_numerique",
        "prendre_en_main_du_materiel",
        "social_sante",
        "banque_et_achats_en_ligne",
        "culture_numerique",
    ]
    return (
        pd.DataFrame(
            {
                "date": _dates(rng, year, size),
                "lieu": _pick(rng, lieux, [3, 3, 3, 1][: len(lieux)] if len(lieux) == 4 else [1] * len(lieux), size),
                "thematiques": _pick(rng, themes, [1] * len(themes), size),
                "participants": rng.integers(3, 14, size),
                "duree": _pick(rng, [90, 120, 180], [4, 5, 1], size),
                "niveau": _pick(rng, ["debutant", "intermediaire", "avance"], [6, 3, 1], size),
                "format": _pick(rng, ["atelier", "evenement", "aller_vers"], [8, 1, 1], size),
            }
        )
        .sort_values("date", kind="stable")
        .reset_index(drop=True)
    )


def synthetic_formations(year: int, seed: int = 0, size: int = 10) -> pd.DataFrame:
    rng = np.random.default_rng([seed, year, 2])
    inscrits = rng.integers(8, 20, size)
    return (
        pd.DataFrame(
            {
                "date": _dates(rng, year, size),
                "theme": _pick(rng, ["Accueil des publics", "Démarches CAF", "Sécurité numérique"], [1, 1, 1], size),
                "inscrits": inscrits,
                "presents": inscrits - rng.integers(0, 4, size),
                "public": _pick(rng, ["professionnels", "benevoles", "mixte"], [5, 3, 2], size),
            }
        )
        .sort_values("date", kind="stable")
        .reset_index(drop=True)
    )


def write_table(frame: pd.DataFrame, path_without_suffix: Path, form: str) -> Path:
    """Write a table in one of the contract's input forms, as office software would."""
    frame = frame.copy()
    if form in ("csv-excel", "csv-utf8", "csv-comma"):
        frame = frame.map(lambda v: v.strftime("%d/%m/%Y") if isinstance(v, dt.date) else v) if form == "csv-excel" else frame
        path = path_without_suffix.with_suffix(".csv")
        if form == "csv-excel":  # Excel "CSV (séparateur : point-virgule)": Windows-1252, ';'
            frame.to_csv(path, sep=";", index=False, encoding="cp1252", lineterminator="\r\n")
        elif form == "csv-utf8":  # Excel "CSV UTF-8": BOM, ';'
            frame.to_csv(path, sep=";", index=False, encoding="utf-8-sig")
        else:  # LibreOffice default: UTF-8, ','
            frame.to_csv(path, sep=",", index=False, encoding="utf-8")
        return path
    if form in ("xlsx", "ods"):
        path = path_without_suffix.with_suffix("." + form)
        for column in frame.columns:
            if frame[column].map(lambda v: isinstance(v, dt.date)).any():
                frame[column] = pd.to_datetime(frame[column])
        frame.to_excel(path, index=False, engine="openpyxl" if form == "xlsx" else "odf")
        return path
    raise ValueError(f"unknown form {form!r}")


def write_demo_year(
    directory: Path, year: int, publisher: Publisher, size: int | None = None, form: str | None = None, seed: int = 0
) -> Path:
    """Write the three input files of a demo year into ``directory`` and return it."""
    directory.mkdir(parents=True, exist_ok=True)
    form = form or DEMO_FORMS.get(year, "csv-excel")
    size = size or DEMO_YEARS.get(year, 4000)
    write_table(synthetic_accompagnements(year, size, publisher, seed), directory / "accompagnements", form)
    write_table(synthetic_ateliers(year, publisher, seed), directory / "ateliers", form)
    write_table(synthetic_formations(year, seed), directory / "formations", form)
    return directory


# The demo CCAS's metadata, shipped with the package (a copy of the repository's
# ``metadata/``, kept identical by tests/test_packaging.py): an installed tool can run
# the demo in any empty folder.
DEMO_METADATA_DIR = Path(__file__).parent / "demonstration"


def write_demo_metadata(folder: Path) -> bool:
    """Give a folder without ``metadata/`` the demo CCAS's; True when written. A folder
    that has one (a real CCAS's, or a demo already) is left as it is."""
    from .layout import DEFAULTS_DIR, Layout

    target = Layout(folder).metadata
    if target.exists():
        return False
    target.mkdir(parents=True)
    for source in sorted(DEMO_METADATA_DIR.iterdir()):
        if source.suffix in (".yml", ".csv"):
            shutil.copyfile(source, target / source.name)
    shutil.copyfile(DEFAULTS_DIR / "indicateurs.yml", target / "indicateurs.yml")
    return True


def is_demo_publisher(publisher: Publisher) -> bool:
    return publisher.siret == DEMO_SIRET and publisher.commune == DEMO_COMMUNE


def refuse_real_publication(publisher: Publisher, published_years: list[int]) -> None:
    """The demo rebuilds its years from synthetic records: in the folder of a real CCAS
    that has published, it would replace real figures with invented ones."""
    if is_demo_publisher(publisher) or not published_years:
        return
    raise ConfigurationError(
        f"{publisher.folder} est le dossier de publication de « {publisher.nom} », qui a déjà publié "
        f"{', '.join(map(str, published_years))} : la démonstration remplacerait ces chiffres par des chiffres "
        "fictifs. Rien n'a été modifié.",
        advice=(
            "Lancez la démonstration dans un autre dossier, avec les métadonnées du CCAS fictif (le dossier "
            "metadata/ du dépôt ccas-opendata) : mkdir ~/ccas-demo && cp -r CHEMIN_DU_DEPOT/metadata ~/ccas-demo/ "
            "&& ccas-opendata demo --dossier ~/ccas-demo"
        ),
    )
