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

VENTILATIONS = ("annee", "mois", "lieu", "dimensions", "lieu_dimensions")
UNITS = ("nombre", "pourcentage", "minutes")
SOURCES = ("accompagnements", "ateliers", "formations")


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


@dataclass(frozen=True)
class Dimension:
    code: str
    libelle: str
    additive: bool
    sensible: bool = False


@dataclass(frozen=True)
class Catalogue:
    indicators: tuple[Indicator, ...]
    dimensions: dict[str, Dimension]

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

    def as_rows(self) -> list[dict[str, str]]:
        """The ``definitions`` resource of the package."""
        return [
            {"indicateur": i.code, "libelle": i.libelle, "definition": i.definition, "unite": i.unite, "methode": i.methode, "source": i.source}
            for i in self.indicators
        ]


def load_catalogue(path: Path, measures: frozenset[str]) -> Catalogue:
    """Read and check the catalogue. ``measures`` are the measure names the aggregation knows."""
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    dimensions = {
        code: Dimension(code, spec["libelle"], bool(spec["additive"]), bool(spec.get("sensible", False)))
        for code, spec in data["dimensions"].items()
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
            )
        )
    return Catalogue(tuple(indicators), dimensions)
