"""The publication folder: the publisher's metadata, the contract, and where things live.

A publication folder holds ``metadata/`` (written by the CCAS), ``datapackages/`` and
``publish/`` (written by releases) and ``.travail/`` (the private work area, never
published, removed after a successful release).
"""

from __future__ import annotations

import csv
import math
import os
import re
import stat
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigurationError, MissingKeyError

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULTS_DIR = PACKAGE_DIR / "defaults"
EXPECTATIONS_DIR = PACKAGE_DIR / "expectations"

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
KEY_ENV = "CCAS_OPENDATA_CLE"
MIN_KEY_LENGTH = 32


@cache
def contract() -> dict[str, Any]:
    """The input contract (columns, codes, derived categories), read from ``contract.yml``."""
    with open(PACKAGE_DIR / "contract.yml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def thematiques_demarches() -> frozenset[str]:
    return frozenset(contract()["codes"]["thematiques_demarches"])


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


# --- where things live ----------------------------------------------------------------


def metadata_dir(folder: Path) -> Path:
    return folder / "metadata"


def datapackages_dir(folder: Path) -> Path:
    return folder / "datapackages"


def publish_dir(folder: Path) -> Path:
    return folder / "publish"


WORK_AREA = ".travail"
# Private areas: the work area, and the records of every published version (kept for
# revisions, see ``versions.py``). Owner-only, dot-named, never published.
PRIVATE_AREAS = (WORK_AREA, ".versions")


def work_dir(folder: Path, year: int | None = None) -> Path:
    """The private work area. Dot-named so that nothing serving the folder lists it."""
    base = folder / WORK_AREA
    return base if year is None else base / str(year)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and its missing parents) and return it, with ``.travail`` and every
    folder below it on the way readable by the owner only (0700).

    The work area holds pseudonymised records and person counts: on a shared machine, or
    after a run killed before its clean-up, nobody else may read them. Folders that will
    be published (the staged package, the site, the Data Docs) are created by their stage
    with ordinary modes inside these private ones, so they keep ordinary modes once moved
    into place.
    """
    parts = path.parts
    areas = [n for n, part in enumerate(parts) if part in PRIVATE_AREAS]
    if not areas:
        path.mkdir(parents=True, exist_ok=True)
        return path
    start = areas[0]
    Path(*parts[:start]).mkdir(parents=True, exist_ok=True)
    for depth in range(start + 1, len(parts) + 1):
        directory = Path(*parts[:depth])
        directory.mkdir(mode=0o700, exist_ok=True)
        # mkdir's mode is masked by the umask and ignored for an existing folder
        # (one left by an older version): set it explicitly.
        directory.chmod(0o700)
    return path


def private_file(path: Path) -> Path:
    """Create (or empty) ``path`` readable by its owner only (0600) and return it.

    Writers that open an existing file (``open(path, "w")``, ``DataFrame.to_csv``,
    ``Path.write_text``) keep its mode, so the content written next stays private.
    """
    private_dir(path.parent)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(descriptor)
    path.chmod(0o600)
    return path


def catalogue_path(folder: Path) -> Path:
    """The folder's own indicator catalogue, or the one shipped with the tool."""
    own = metadata_dir(folder) / "indicateurs.yml"
    return own if own.exists() else DEFAULTS_DIR / "indicateurs.yml"


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
    path = metadata_dir(folder) / "lieux.csv"
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
    with open(PACKAGE_DIR / "lieux_mednum.yml", encoding="utf-8") as f:
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
    path = metadata_dir(folder) / "quartiers.csv"
    # A commune may declare no quartier at all: records then say "hors_commune" or nothing.
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
    path = metadata_dir(folder) / "organisation.yml"
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


# --- the pseudonymisation key ---------------------------------------------------------


def default_key_file() -> Path:
    """``$XDG_CONFIG_HOME/ccas-opendata/cle`` (``~/.config/ccas-opendata/cle``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "ccas-opendata" / "cle"


def load_key(folder: Path, key_file: Path | None = None) -> bytes:
    """The HMAC key: ``--cle-fichier``, else ``CCAS_OPENDATA_CLE``, else the default key
    file (``~/.config/ccas-opendata/cle``) when it exists.

    A key file inside the publication folder could be published or committed with it,
    which would let anyone recompute the pseudonyms: refuse it.
    """
    if key_file is None and not os.environ.get(KEY_ENV, "").strip() and default_key_file().exists():
        key_file = default_key_file()
    if key_file is not None:
        key_file = key_file.resolve()
        if key_file.is_relative_to(folder.resolve()):
            raise MissingKeyError(
                "Le fichier de clé est dans le dossier de publication : il pourrait être publié avec lui.",
                advice="Déplacez-le hors du dossier (par exemple dans ~/.config/ccas-opendata/cle).",
            )
        if not key_file.exists():
            raise MissingKeyError(f"Fichier de clé introuvable : {key_file}")
        check_key_file(key_file)
        key = key_file.read_bytes().strip()
    else:
        key = os.environ.get(KEY_ENV, "").strip().encode("utf-8")
        if not key:
            raise MissingKeyError("Aucune clé de pseudonymisation : la commande refuse de s'exécuter sans clé.")
    if len(key) < MIN_KEY_LENGTH:
        raise MissingKeyError(f"La clé de pseudonymisation est trop courte (au moins {MIN_KEY_LENGTH} caractères).")
    if key_entropy_bits(key) < MIN_KEY_BITS:
        raise MissingKeyError(
            "La clé de pseudonymisation est trop prévisible (des caractères répétés, une suite ou un motif) : "
            "quelqu'un qui la devine recalcule les pseudonymes.",
            advice="Tirez-en une au hasard : python3 -c 'import secrets; print(secrets.token_hex(32))' "
            "(attention : les années déjà publiées ne peuvent être révisées qu'avec leur clé d'origine).",
        )
    return key


#: The least a key must carry, as estimated by :func:`key_entropy_bits`. A random
#: 32-character hex key carries 128 bits; « aaaa… » none.
MIN_KEY_BITS = 64


def key_entropy_bits(key: bytes) -> float:
    """A cautious estimate of the key's randomness: the smaller of its symbol entropy
    (which misses repeated patterns: « abab… ») and of the size of its zlib compression
    (which misses skewed symbols). A guessable key makes the pseudonyms reversible by
    anyone who tries the usual candidates on the published figures' source."""
    counts = [key.count(byte) for byte in set(key)]
    symbols = -sum(c * math.log2(c / len(key)) for c in counts)
    compressed = 8 * max(0, len(zlib.compress(key, 9)) - len(zlib.compress(b"", 9)) - 3)
    return min(symbols, compressed)


def check_key_file(path: Path) -> None:
    """Refuse a key file others may read, or replace (its folder writable by others
    without the sticky bit): either way the key leaves the agent's hands."""
    mode = path.stat().st_mode
    if mode & 0o077:
        raise MissingKeyError(
            f"Le fichier de clé {path} est lisible par d'autres comptes que le vôtre (droits {stat.filemode(mode)}).",
            advice=f"Rendez-le privé : chmod 600 {path}",
        )
    folder_mode = path.parent.stat().st_mode
    if folder_mode & 0o002 and not folder_mode & stat.S_ISVTX:
        raise MissingKeyError(
            f"Le dossier du fichier de clé, {path.parent}, est modifiable par tous : n'importe qui pourrait y remplacer la clé.",
            advice=f"Placez la clé dans un dossier à vous (par exemple ~/.config/ccas-opendata/) ou : chmod o-w {path.parent}",
        )
