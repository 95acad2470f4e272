"""The publisher: the CCAS's own metadata (``organisation.yml``, ``lieux.csv``,
``quartiers.csv``), read and checked once into a :class:`Publisher` every stage uses."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigurationError
from .layout import Layout
from .vocabulary import contract

MEDNUM_FILE = Path(__file__).resolve().parent / "lieux_mednum.yml"

LICENCES = {
    "etalab-2.0": {
        "name": "etalab-2.0",
        "title": "Licence Ouverte / Open Licence version 2.0",
        "path": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
    },
    "ODbL-1.0": {
        "name": "ODbL-1.0",
        "title": "Open Data Commons Open Database License 1.0",
        "path": "https://opendatacommons.org/licenses/odbl/1-0/",
    },
}
# The licence IRIs of the DCAT catalogue: the ``url`` of data.gouv.fr's own licence table
# (udata's "lov2" and "odc-odbl"), which its harvester matches exactly. Kept apart from
# LICENCES, whose entries are copied as they are into every package descriptor.
LICENCE_IRIS = {
    "etalab-2.0": "https://www.etalab.gouv.fr/licence-ouverte-open-licence",
    "ODbL-1.0": "http://opendatacommons.org/licenses/odbl/summary/",
}

# Where the site answers when organisation.yml gives no ``base_url``: ``ccas-opendata serve``.
LOCAL_BASE_URL = "http://127.0.0.1:8001/"

# The article of the organisation's name, and what "de" + article gives in French.
ARTICLES = {"le": "du ", "la": "de la ", "l'": "de l'", "les": "des ", "aucun": "de "}
# Feminine heads of an organisation's name: "la Ville de …", "la Mairie de …".
FEMININE_HEADS = ("ville", "mairie", "commune", "métropole", "metropole", "communauté", "communaute", "maison")
VOWELS = "aeiouyhàâäéèêëîïôöùûü"

# What the accessibility statement may say (RGAA): without a full audit, "non conforme".
ACCESSIBILITY_STATES = ("non conforme", "partiellement conforme", "totalement conforme")

MIN_THRESHOLD = 5
DEFAULT_THRESHOLD = 11


@dataclass(frozen=True)
class Lieu:
    code: str
    nom: str
    adresse: str
    code_postal: str
    commune: str
    code_insee: str
    quartier: str
    # Optional columns of the national "lieux de médiation numérique" schema the CCAS
    # filled in (horaires, services, latitude…), as (column, value) pairs.
    mediation: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Quartier:
    code: str
    nom: str
    qpv: bool
    code_qpv: str


@dataclass(frozen=True)
class Publisher:
    """Everything the stages need to know about the CCAS publishing."""

    folder: Path
    nom: str
    siret: str
    commune: str
    contact: str
    licence: str
    seuil_secret: int
    largeur_protection: int
    site_web: str
    lieux: tuple[Lieu, ...]
    quartiers: tuple[Quartier, ...]
    extra: dict[str, Any] = field(default_factory=dict)
    # No published accompaniment count or duration figure may be more than this share
    # due to one person (a frequent visitor would otherwise be the figure).
    dominance_max: float = 0.5
    # Records without a person identifier: declared explicitly, then a higher threshold
    # on accompaniments stands in for the persons the tool cannot count.
    sans_identifiant_personne: bool = False
    seuil_sans_identifiant: int = 3 * DEFAULT_THRESHOLD
    # "le", "la", "l'", "les" or "aucun": declared, or inferred by ``infer_article``.
    article: str = "le"
    # The address the site is served at, ending with "/"; may carry a sub-path
    # (https://www.ville.fr/ccas/donnees/). Every link, citation and catalogue URL uses it.
    base_url: str = LOCAL_BASE_URL
    # The commune's bounding box (west, south, east, north, in degrees WGS 84), for the
    # spatial coverage the DCAT catalogue gives data.gouv.fr, which reads only geometries.
    emprise: tuple[float, float, float, float] | None = None

    @property
    def of_name(self) -> str:
        """The name as it follows "de" in French: « du CCAS de Rennes », « de la Ville de Brest »."""
        return ARTICLES[self.article] + self.nom

    @property
    def lieu_codes(self) -> list[str]:
        return [lieu.code for lieu in self.lieux]

    @property
    def quartier_codes(self) -> list[str]:
        return [q.code for q in self.quartiers]

    @property
    def qpv_codes(self) -> frozenset[str]:
        return frozenset(q.code for q in self.quartiers if q.qpv)

    @property
    def licence_info(self) -> dict[str, str]:
        return LICENCES[self.licence]


# --- reading the metadata -------------------------------------------------------------

_SIRET = re.compile(r"^\d{14}$")
_INSEE = re.compile(r"^(\d{5}|2[AB]\d{3})$")
_CODE = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_BASE_URL = re.compile(r"^https?://[^/?#\s]+(/[^?#\s]*)?$")
LIEU_COLUMNS = ["code", "nom", "adresse", "code_postal", "commune", "code_insee", "quartier"]
_TRUE = {"oui", "true", "1", "vrai", "o", "yes"}
_FALSE = {"non", "false", "0", "faux", "n", "no", ""}


def _read_csv_rows(path: Path, columns: list[str]) -> list[dict[str, str]]:
    """Rows of a metadata CSV (UTF-8, ',' or ';'), after checking its header."""
    if not path.exists():
        raise ConfigurationError(f"Fichier de configuration introuvable : {path}")
    with open(path, encoding="utf-8-sig", newline="") as f:
        sample = f.readline()
        f.seek(0)
        delimiter = ";" if sample.count(";") > sample.count(",") else ","
        reader = csv.DictReader(f, delimiter=delimiter)
        header = [(name or "").strip() for name in reader.fieldnames or []]
        missing = [c for c in columns if c not in header]
        if missing:
            raise ConfigurationError(
                f"{path.name} : colonne(s) manquante(s) {', '.join(missing)} ; colonnes attendues : {', '.join(columns)}."
            )
        return [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]


def _check_code(path: Path, line: int, value: str) -> str:
    if not _CODE.match(value):
        raise ConfigurationError(
            f"{path.name}, ligne {line}, colonne « code » : un code en minuscules, chiffres et "
            "« _ » est attendu (par exemple « centre_social_nord »)."
        )
    return value


def read_lieux(folder: Path) -> tuple[Lieu, ...]:
    path = Layout(folder).metadata / contract()["listes_editeur"]["lieux"]["fichier"]
    rows = _read_csv_rows(path, LIEU_COLUMNS)
    optional = mediation_columns()
    if not rows:
        raise ConfigurationError(f"{path.name} : déclarez au moins un lieu d'accueil.")
    lieux = []
    for line, row in enumerate(rows, start=2):
        _check_code(path, line, row["code"])
        if row["code_insee"] and not _INSEE.match(row["code_insee"]):
            raise ConfigurationError(
                f"{path.name}, ligne {line}, colonne « code_insee » : code INSEE à 5 caractères attendu (ex. 01001, 2A004)."
            )
        for column in ("latitude", "longitude"):
            if row.get(column):
                try:
                    float(row[column].replace(",", "."))
                except ValueError:
                    raise ConfigurationError(
                        f"{path.name}, ligne {line}, colonne « {column} » : un nombre décimal est attendu (ex. 45.7640)."
                    ) from None
        mediation = tuple(
            (column, row[column].replace(",", ".") if column in ("latitude", "longitude") else row[column])
            for column in optional
            if row.get(column)
        )
        lieux.append(Lieu(**{k: row[k] for k in LIEU_COLUMNS}, mediation=mediation))
    return tuple(lieux)


@cache
def mediation_columns() -> tuple[str, ...]:
    """The optional columns of ``lieux.csv``: the national schema's columns that the
    tool cannot fill itself (``lieux_mednum.yml``, entries without ``depuis``)."""
    return tuple(c["nom"] for c in mednum_schema()["colonnes"] if "depuis" not in c)


@cache
def mednum_schema() -> dict[str, Any]:
    """The national "lieux de médiation numérique" columns and where each comes from."""
    with open(MEDNUM_FILE, encoding="utf-8") as f:
        return yaml.safe_load(f)


def read_emprise(path: Path, value: Any) -> tuple[float, float, float, float] | None:
    """``emprise: [ouest, sud, est, nord]`` (degrees), or None when not given."""
    if value in (None, "", []):
        return None
    try:
        west, south, east, north = (float(v) for v in value)
    except (TypeError, ValueError):
        west = south = east = north = float("nan")
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise ConfigurationError(
            f"{path.name} : « emprise » doit donner quatre nombres [ouest, sud, est, nord] en degrés, "
            "par exemple [4.77, 45.70, 4.90, 45.81] (le rectangle qui contient la commune)."
        )
    return (west, south, east, north)


def read_base_url(path: Path, value: Any) -> str:
    """``base_url`` as an absolute http(s) address ending with "/" (the default: ``serve``'s)."""
    text = str(value or "").strip()
    if not text:
        return LOCAL_BASE_URL
    if not _BASE_URL.match(text):
        raise ConfigurationError(
            f"{path.name} : « base_url » doit être l'adresse complète du site, par exemple "
            "https://www.ma-commune.fr/ccas/donnees/ (sans ? ni #)."
        )
    return text if text.endswith("/") else text + "/"


def read_quartiers(folder: Path) -> tuple[Quartier, ...]:
    path = Layout(folder).metadata / contract()["listes_editeur"]["quartiers"]["fichier"]
    # A commune may declare no quartier at all: records then say the contract's code for
    # outside the commune (``listes_editeur``), or nothing.
    rows = _read_csv_rows(path, ["code", "nom", "qpv"])
    quartiers = []
    for line, row in enumerate(rows, start=2):
        _check_code(path, line, row["code"])
        qpv = row["qpv"].lower()
        if qpv not in _TRUE | _FALSE:
            raise ConfigurationError(f"{path.name}, ligne {line}, colonne « qpv » : oui ou non attendu.")
        quartiers.append(Quartier(row["code"], row["nom"], qpv in _TRUE, row.get("code_qpv", "")))
    return tuple(quartiers)


_PLACEHOLDER = re.compile(r"<[^<>]*>")


def infer_article(nom: str) -> str:
    """The article a name takes when ``organisation.yml`` declares none: « l' » before a
    vowel or an h, « la » for a feminine head (Ville, Mairie, Commune, Métropole,
    Communauté, Maison), otherwise « le » (CCAS, CIAS, Centre communal…). The rule is
    repeated in the comments of the default ``organisation.yml``."""
    words = nom.strip().split()
    head = words[0].lower() if words else ""
    if head[:1] in VOWELS:
        return "l'"
    return "la" if head in FEMININE_HEADS else "le"


_EMAIL = re.compile(r"^[^@\s<>\"'(),;:]+@[^@\s<>\"'(),;:]+\.[A-Za-z]{2,}$")
# A value that starts like an address with a scheme (javascript:, data:, file:, mailto:…).
_SCHEME = re.compile(r"^\s*[A-Za-z][A-Za-z0-9+.-]*:(?![\s\d])")


def _strings(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """Every text in ``organisation.yml``, with its key path (« accessibilite → contact »)."""
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{key} → {k}" if key else str(k))
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key)


def read_publisher(folder: Path) -> Publisher:
    """Read and check ``metadata/``. Raises one ConfigurationError naming every file and key
    at fault (not the first only: the agent fixes them all in one go)."""
    path = Layout(folder).metadata / "organisation.yml"
    if not path.exists():
        raise ConfigurationError(
            f"{folder} n'est pas un dossier de publication : {path} est introuvable.",
            advice="Créez-en un avec « ccas-opendata init DOSSIER » ou passez --dossier.",
        )
    with open(path, encoding="utf-8") as f:
        try:
            org = yaml.safe_load(f) or {}
        except yaml.YAMLError as e:
            raise ConfigurationError(f"{path.name} n'est pas un fichier YAML valide ({getattr(e, 'problem_mark', '')}).") from None
    problems: list[str] = []

    def fail(message: str) -> None:
        problems.append(f"{path.name} : {message}")

    for key, value in org.items():
        if isinstance(value, str) and _PLACEHOLDER.search(value):
            fail(f"remplacez la valeur d'exemple de « {key} » ({value}) par la vôtre.")
    for key in ("nom", "siret", "commune", "contact"):
        if not str(org.get(key, "")).strip():
            fail(f"la clé « {key} » est obligatoire.")
    siret = str(org.get("siret", "")).replace(" ", "")
    if siret and not _PLACEHOLDER.search(siret) and not _SIRET.match(siret):
        fail("« siret » doit compter 14 chiffres.")
    commune = str(org.get("commune", ""))
    if commune and not _PLACEHOLDER.search(commune) and not _INSEE.match(commune):
        fail("« commune » doit être un code INSEE (5 caractères, ex. 01001 ou 2A004).")
    licence = str(org.get("licence", "etalab-2.0"))
    if licence not in LICENCES:
        fail(f"« licence » doit valoir {' ou '.join(LICENCES)}.")
    seuil = org.get("seuil_secret", DEFAULT_THRESHOLD)
    if not isinstance(seuil, int) or seuil < MIN_THRESHOLD:
        fail(
            f"« seuil_secret » doit être un entier d'au moins {MIN_THRESHOLD} "
            f"(la pratique française est {DEFAULT_THRESHOLD} pour les données sur des personnes)."
        )
        seuil = DEFAULT_THRESHOLD
    largeur = org.get("largeur_protection", seuil)
    if not isinstance(largeur, int) or largeur < 1:
        fail("« largeur_protection » doit être un entier positif.")
    dominance = org.get("dominance_max", 0.5)
    if not isinstance(dominance, (int, float)) or not 0 < dominance <= 0.5:
        fail(
            "« dominance_max » doit être une part entre 0 et 0,5 (0,5 : aucun chiffre publié "
            "ne doit plus de la moitié de sa valeur à une seule personne)."
        )
    without_id = str(org.get("sans_identifiant_personne", False)).strip().lower()
    if without_id not in _TRUE | _FALSE:
        fail("« sans_identifiant_personne » vaut oui ou non.")
    seuil_sans_id = org.get("seuil_sans_identifiant", 3 * seuil)
    if not isinstance(seuil_sans_id, int) or seuil_sans_id < 3 * seuil:
        fail(
            f"« seuil_sans_identifiant » doit être un entier d'au moins 3 × seuil_secret ({3 * seuil}) : "
            "sans identifiant, une personne venue plusieurs fois compte plusieurs fois."
        )
    article = str(org.get("article") or infer_article(str(org.get("nom", "")))).strip().lower().replace("’", "'")
    if article not in ARTICLES:
        fail("« article » vaut le, la, l', les ou aucun (par exemple « le » pour « du CCAS de … »).")
    accessibility = org.get("accessibilite") or {}
    if not isinstance(accessibility, dict) or str(accessibility.get("etat", ACCESSIBILITY_STATES[0])) not in ACCESSIBILITY_STATES:
        fail(f"« accessibilite » → « etat » vaut {', '.join(ACCESSIBILITY_STATES)}.")
    lieux: tuple[Lieu, ...] = ()
    quartiers: tuple[Quartier, ...] = ()
    for reader in (read_lieux, read_quartiers):
        try:
            found = reader(folder)
        except ConfigurationError as e:
            problems.extend(e.messages)
            continue
        if reader is read_lieux:
            lieux = found  # type: ignore[assignment]
        else:
            quartiers = found  # type: ignore[assignment]
    contact = str(org.get("contact", "")).strip()
    if contact and not _PLACEHOLDER.search(contact) and not _EMAIL.match(contact):
        fail(
            "« contact » doit être une adresse électronique, par exemple donnees-ouvertes@ma-commune.fr "
            "(celle d'un service, sans nom ni chevrons)."
        )
    site_web = str(org.get("site_web") or "").strip()
    if site_web and not _PLACEHOLDER.search(site_web) and not _BASE_URL.match(site_web):
        fail("« site_web » doit être une adresse http:// ou https:// complète, par exemple https://www.ma-commune.fr/ccas.")
    for key, value in _strings(org):
        if _SCHEME.match(value) and not _BASE_URL.match(value.strip()):
            fail(
                f"« {key} » : seules les adresses http:// ou https:// sont acceptées (elles deviennent des liens sur chaque page du site)."
            )
    base_url, emprise = LOCAL_BASE_URL, None
    try:
        base_url = read_base_url(path, org.get("base_url"))
        emprise = read_emprise(path, org.get("emprise"))
    except ConfigurationError as e:
        problems.extend(e.messages)
    if problems:
        raise ConfigurationError("Configuration à corriger :\n  - " + "\n  - ".join(problems), messages=problems)
    known = {
        "nom",
        "siret",
        "commune",
        "contact",
        "licence",
        "seuil_secret",
        "largeur_protection",
        "site_web",
        "dominance_max",
        "sans_identifiant_personne",
        "seuil_sans_identifiant",
        "article",
        "base_url",
        "emprise",
    }
    return Publisher(
        folder=folder,
        nom=str(org["nom"]),
        siret=siret,
        commune=commune,
        contact=str(org["contact"]),
        licence=licence,
        seuil_secret=seuil,
        largeur_protection=largeur,
        site_web=site_web,
        lieux=lieux,
        quartiers=quartiers,
        extra={k: v for k, v in org.items() if k not in known},
        dominance_max=float(dominance),
        sans_identifiant_personne=without_id in _TRUE,
        seuil_sans_identifiant=seuil_sans_id,
        article=article,
        base_url=base_url,
        emprise=emprise,
    )
