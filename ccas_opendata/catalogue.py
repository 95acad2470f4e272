"""The indicator catalogue (``metadata/indicateurs.yml``): what is published, and how.

The catalogue is data. Each indicator names a generic measure (``nombre``, ``part``,
``moyenne_duree``…) implemented once in :mod:`aggregate`, a source table and its
breakdowns; adding an indicator is adding an entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigurationError
from .vocabulary import SOURCES

VENTILATIONS = ("annee", "mois", "lieu", "dimensions", "lieu_dimensions")
AGGREGATIONS = ("somme", "personnes")
LINK_TYPES = ("part", "ratio", "taux", "evolution", "mediane", "aucun")
UNITS = ("nombre", "pourcentage", "minutes")


@dataclass(frozen=True)
class Indicator:
    code: str
    libelle: str
    definition: str
    unite: str
    methode: str
    source: str
    mesure: str
    ventilations: tuple[str, ...]
    dimensions: tuple[str, ...] = ()
    additif: bool = False
    lien: dict[str, Any] = field(default_factory=dict)
    agregation: str = ""  # set for counts: how cells combine across sites, months and modalities

    @property
    def is_count(self) -> bool:
        return bool(self.agregation)


@dataclass(frozen=True)
class Dimension:
    code: str
    libelle: str
    additive: bool
    sensible: bool = False
    personne: bool = False  # describes the person rather than the accompaniment


@dataclass(frozen=True)
class Latent:
    """A count never published that published figures let a reader bound (the number
    of administrative accompaniments behind a share, the minutes behind a mean…)."""

    code: str
    libelle: str
    source: str
    agregation: str
    au_moins_un_de: dict[str, Any] = field(default_factory=dict)
    par_enregistrement: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Relation:
    """``Σ left <= Σ right`` between counts of the same cell."""

    left: tuple[str, ...]
    right: tuple[str, ...]


@dataclass(frozen=True)
class Catalogue:
    indicators: tuple[Indicator, ...]
    dimensions: dict[str, Dimension]
    latents: dict[str, Latent] = field(default_factory=dict)
    relations: tuple[Relation, ...] = ()
    #: The levels each breakdown may be published at, finest first (read by :mod:`granularity`).
    granularite: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __getitem__(self, code: str) -> Indicator:
        for indicator in self.indicators:
            if indicator.code == code:
                return indicator
        raise KeyError(code)

    @property
    def codes(self) -> list[str]:
        return [i.code for i in self.indicators]

    def additive_codes(self, source: str | None = None) -> list[str]:
        return [i.code for i in self.indicators if i.additif and (source is None or i.source == source)]

    def count_codes(self, source: str | None = None) -> list[str]:
        """Published counts, additive or not (``usagers``)."""
        return [i.code for i in self.indicators if i.is_count and (source is None or i.source == source)]

    def aggregation_of(self, family: str) -> str:
        """How a count family (published or latent) combines: ``somme`` or ``personnes``."""
        if family in self.latents:
            return self.latents[family].agregation
        return self[family].agregation

    def source_of(self, family: str) -> str:
        return self.latents[family].source if family in self.latents else self[family].source

    def as_rows(self) -> list[dict[str, str]]:
        """The ``definitions`` resource of the package."""
        return [
            {
                "indicateur": i.code,
                "libelle": i.libelle,
                "definition": i.definition,
                "unite": i.unite,
                "methode": i.methode,
                "source": i.source,
            }
            for i in self.indicators
        ]


def load_catalogue(path: Path, measures: frozenset[str]) -> Catalogue:
    """Read and check the catalogue. ``measures`` are the measure names the aggregation knows."""
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    dimensions = {
        code: Dimension(code, spec["libelle"], bool(spec["additive"]), bool(spec.get("sensible", False)), bool(spec.get("personne", False)))
        for code, spec in data["dimensions"].items()
    }
    latents = {
        code: Latent(
            code, spec["libelle"], spec["source"], spec["agregation"], spec.get("au_moins_un_de", {}), spec.get("par_enregistrement", {})
        )
        for code, spec in (data.get("latents") or {}).items()
    }
    indicators = []
    seen = set()
    for entry in data["indicateurs"]:
        where = f"{path.name}, indicateur « {entry.get('code', '?')} »"
        missing = [k for k in ("code", "libelle", "definition", "unite", "methode", "source", "mesure", "ventilations") if k not in entry]
        if missing:
            raise ConfigurationError(f"{where} : clé(s) manquante(s) {', '.join(missing)}.")
        if entry["code"] in seen:
            raise ConfigurationError(f"{where} : code en double.")
        seen.add(entry["code"])
        if entry["unite"] not in UNITS:
            raise ConfigurationError(f"{where} : unité {entry['unite']!r} inconnue ({', '.join(UNITS)}).")
        if entry["source"] not in SOURCES:
            raise ConfigurationError(f"{where} : source inconnue ({', '.join(SOURCES)}).")
        if entry["mesure"] not in measures:
            raise ConfigurationError(f"{where} : mesure {entry['mesure']!r} inconnue ({', '.join(sorted(measures))}).")
        bad = [v for v in entry["ventilations"] if v not in VENTILATIONS]
        if bad:
            raise ConfigurationError(f"{where} : ventilation(s) inconnue(s) {', '.join(bad)}.")
        unknown_dims = [d for d in entry.get("dimensions", []) if d not in dimensions]
        if unknown_dims:
            raise ConfigurationError(f"{where} : dimension(s) inconnue(s) {', '.join(unknown_dims)}.")
        indicators.append(
            Indicator(
                code=entry["code"],
                libelle=entry["libelle"].strip(),
                definition=" ".join(entry["definition"].split()),
                unite=entry["unite"],
                methode=" ".join(entry["methode"].split()),
                source=entry["source"],
                mesure=entry["mesure"],
                ventilations=tuple(entry["ventilations"]),
                dimensions=tuple(entry.get("dimensions", [])),
                additif=bool(entry.get("additif", False)),
                lien=entry.get("lien", {}),
                agregation=entry.get("agregation", ""),
            )
        )
    relations = tuple(_parse_relation(text) for text in data.get("relations") or [])
    catalogue = Catalogue(tuple(indicators), dimensions, latents, relations, data.get("granularite") or {})
    _check_reader_model(catalogue, path)
    return catalogue


def _parse_relation(text: str) -> Relation:
    left, _, right = str(text).partition("<=")
    return Relation(tuple(t.strip() for t in left.split("+")), tuple(t.strip() for t in right.split("+")))


def _check_reader_model(catalogue: Catalogue, path: Path) -> None:
    """Every figure must say how a reader can relate it to counts: a figure the secrecy
    audit cannot model would be a figure it silently trusts."""
    families = set(catalogue.count_codes()) | set(catalogue.latents)
    for indicator in catalogue.indicators:
        where = f"{path.name}, indicateur « {indicator.code} »"
        if indicator.is_count:
            if indicator.agregation not in AGGREGATIONS:
                raise ConfigurationError(f"{where} : agrégation {indicator.agregation!r} inconnue ({', '.join(AGGREGATIONS)}).")
            continue
        link = indicator.lien
        if not link:
            raise ConfigurationError(
                f"{where} : ni « agregation » (un effectif) ni « lien » (comment il se déduit d'effectifs) : "
                "l'audit du secret ne saurait pas ce qu'un lecteur peut en tirer."
            )
        if link.get("type") not in LINK_TYPES:
            raise ConfigurationError(f"{where} : lien de type {link.get('type')!r} inconnu ({', '.join(LINK_TYPES)}).")
        if link["type"] == "aucun" and not str(link.get("raison", "")).strip():
            raise ConfigurationError(f"{where} : un lien « aucun » doit dire pourquoi (clé « raison »).")
        named = [link[k] for k in ("de", "numerateur", "denominateur") if isinstance(link.get(k), str)]
        unknown = [n for n in named if n not in families]
        if unknown:
            raise ConfigurationError(f"{where} : le lien nomme {', '.join(unknown)}, ni effectif publié ni effectif latent.")
    for latent in catalogue.latents.values():
        if latent.agregation not in AGGREGATIONS:
            raise ConfigurationError(f"{path.name}, latent « {latent.code} » : agrégation {latent.agregation!r} inconnue.")
    for relation in catalogue.relations:
        unknown = [t for t in relation.left + relation.right if t not in families]
        if unknown:
            raise ConfigurationError(f"{path.name}, relations : {', '.join(unknown)} n'est ni un effectif ni un effectif latent.")
