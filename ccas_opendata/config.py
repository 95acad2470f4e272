"""The publication folder: the publisher's metadata, the contract, and where things live.

A publication folder holds ``metadata/`` (written by the CCAS), ``datapackages/`` and
``publish/`` (written by releases) and ``.travail/`` (the private work area, never
published, removed after a successful release).
"""

from __future__ import annotations

import csv
import os
import re
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
    rows = _read_csv_rows(path, ["code", "nom", "adresse", "code_postal", "commune", "code_insee", "quartier"])
    if not rows:
        raise ConfigurationError(f"{path.name} : déclarez au moins un lieu d'accueil.")
    lieux = []
    for line, row in enumerate(rows, start=2):
        _check_code(path, line, row["code"])
        if row["code_insee"] and not _INSEE.match(row["code_insee"]):
            raise ConfigurationError(f"{path.name}, ligne {line}, colonne « code_insee » : code INSEE à 5 caractères attendu (ex. 01001, 2A004).")
        lieux.append(Lieu(**{k: row[k] for k in Lieu.__dataclass_fields__}))
    return tuple(lieux)


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


def read_publisher(folder: Path) -> Publisher:
    """Read and check ``metadata/``. Raises ConfigurationError with the file and key at fault."""
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
            raise ConfigurationError(f"{path.name} n'est pas un fichier YAML valide ({e.problem_mark}).") from None
    for key in ("nom", "siret", "commune", "contact"):
        if not str(org.get(key, "")).strip():
            raise ConfigurationError(f"{path.name} : la clé « {key} » est obligatoire.")
    siret = str(org["siret"]).replace(" ", "")
    if not _SIRET.match(siret):
        raise ConfigurationError(f"{path.name} : « siret » doit compter 14 chiffres.")
    commune = str(org["commune"])
    if not _INSEE.match(commune):
        raise ConfigurationError(f"{path.name} : « commune » doit être un code INSEE (5 caractères, ex. 01001 ou 2A004).")
    licence = str(org.get("licence", "etalab-2.0"))
    if licence not in LICENCES:
        raise ConfigurationError(f"{path.name} : « licence » doit valoir {' ou '.join(LICENCES)}.")
    seuil = org.get("seuil_secret", DEFAULT_THRESHOLD)
    if not isinstance(seuil, int) or seuil < MIN_THRESHOLD:
        raise ConfigurationError(
            f"{path.name} : « seuil_secret » doit être un entier d'au moins {MIN_THRESHOLD} "
            f"(la pratique française est {DEFAULT_THRESHOLD} pour les données sur des personnes)."
        )
    largeur = org.get("largeur_protection", seuil)
    if not isinstance(largeur, int) or largeur < 1:
        raise ConfigurationError(f"{path.name} : « largeur_protection » doit être un entier positif.")
    dominance = org.get("dominance_max", 0.5)
    if not isinstance(dominance, (int, float)) or not 0 < dominance <= 0.5:
        raise ConfigurationError(
            f"{path.name} : « dominance_max » doit être une part entre 0 et 0,5 (0,5 : aucun chiffre publié "
            "ne doit plus de la moitié de sa valeur à une seule personne)."
        )
    without_id = str(org.get("sans_identifiant_personne", False)).strip().lower()
    if without_id not in _TRUE | _FALSE:
        raise ConfigurationError(f"{path.name} : « sans_identifiant_personne » vaut oui ou non.")
    seuil_sans_id = org.get("seuil_sans_identifiant", 3 * seuil)
    if not isinstance(seuil_sans_id, int) or seuil_sans_id < 3 * seuil:
        raise ConfigurationError(
            f"{path.name} : « seuil_sans_identifiant » doit être un entier d'au moins 3 × seuil_secret ({3 * seuil}) : "
            "sans identifiant, une personne venue plusieurs fois compte plusieurs fois."
        )
    known = {"nom", "siret", "commune", "contact", "licence", "seuil_secret", "largeur_protection", "site_web",
             "dominance_max", "sans_identifiant_personne", "seuil_sans_identifiant"}
    return Publisher(
        folder=folder,
        nom=str(org["nom"]),
        siret=siret,
        commune=commune,
        contact=str(org["contact"]),
        licence=licence,
        seuil_secret=seuil,
        largeur_protection=largeur,
        site_web=str(org.get("site_web", "")),
        lieux=read_lieux(folder),
        quartiers=read_quartiers(folder),
        extra={k: v for k, v in org.items() if k not in known},
        dominance_max=float(dominance),
        sans_identifiant_personne=without_id in _TRUE,
        seuil_sans_identifiant=seuil_sans_id,
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
        key = key_file.read_bytes().strip()
    else:
        key = os.environ.get(KEY_ENV, "").strip().encode("utf-8")
        if not key:
            raise MissingKeyError("Aucune clé de pseudonymisation : la commande refuse de s'exécuter sans clé.")
    if len(key) < MIN_KEY_LENGTH:
        raise MissingKeyError(f"La clé de pseudonymisation est trop courte (au moins {MIN_KEY_LENGTH} caractères).")
    return key
