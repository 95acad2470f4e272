"""The metadata files against their JSON Schemas (``ccas_opendata/schemas/``, draft 2020-12).

owid/etl validates each ``meta.yml`` against a JSON Schema; here ``contract.yml`` and the
catalogue get the same: every shipped copy (package defaults, the repository's ``metadata/``,
the demo's and ``init``'s copies) is valid, and a broken copy — a misspelt key, a wrong type,
an unknown measure — is refused with a message that names where. The schema's lists of
measures, units, sources… are compared with the code's registries, so a measure added to
``aggregate.MEASURES`` without the schema (or the reverse) fails here.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from ccas_opendata import catalogue
from ccas_opendata.aggregate import MEASURES
from ccas_opendata.config import PACKAGE_DIR
from ccas_opendata.layout import DEFAULTS_DIR
from ccas_opendata.demo import write_demo_metadata
from ccas_opendata.errors import ConfigurationError
from ccas_opendata.scaffold import create_publication_folder
from conftest import REPO

SCHEMAS = PACKAGE_DIR / "schemas"


@cache
def schema(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text(encoding="utf-8"))


def read(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def problems(name: str, data: Any) -> list[str]:
    """What the schema refuses, each as « where : what » (the JSON path of the value)."""
    validator = Draft202012Validator(schema(name))
    return sorted(f"{error.json_path} : {error.message}" for error in validator.iter_errors(data))


def shipped_catalogue() -> dict[str, Any]:
    return read(DEFAULTS_DIR / "indicateurs.yml")


def position(data: dict[str, Any], code: str) -> int:
    return next(i for i, entry in enumerate(data["indicateurs"]) if entry["code"] == code)


# --- the schemas themselves -------------------------------------------------------------


@pytest.mark.parametrize("name", ["contract", "indicateurs"])
def test_each_schema_is_a_valid_draft_2020_12_schema(name: str):
    assert schema(name)["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema(name))


def test_the_schema_s_lists_are_the_code_s_registries():
    """Read from the code, not repeated by hand: a measure added to the aggregation (or a
    unit, source, breakdown, aggregation, link type to the loader) must reach the schema."""
    defs = schema("indicateurs")["$defs"]
    assert sorted(defs["mesure"]["enum"]) == sorted(MEASURES)
    assert defs["unite"]["enum"] == list(catalogue.UNITS)
    assert defs["source"]["enum"] == list(catalogue.SOURCES)
    assert defs["ventilation"]["enum"] == list(catalogue.VENTILATIONS)
    assert defs["agregation"]["enum"] == list(catalogue.AGGREGATIONS)
    assert defs["lien"]["properties"]["type"]["enum"] == list(catalogue.LINK_TYPES)


# --- every shipped copy is valid ----------------------------------------------------------


def test_the_shipped_contract_is_valid():
    assert problems("contract", read(PACKAGE_DIR / "contract.yml")) == []


@pytest.mark.parametrize("path", [DEFAULTS_DIR / "indicateurs.yml", REPO / "metadata" / "indicateurs.yml"], ids=["defaults", "metadata"])
def test_the_shipped_catalogues_are_valid(path: Path):
    data = read(path)
    assert len(data["indicateurs"]) == 16  # the file read is the catalogue, not an empty one
    assert problems("indicateurs", data) == []


def test_the_demo_s_and_init_s_copies_are_valid(tmp_path: Path):
    assert write_demo_metadata(tmp_path / "demo")
    create_publication_folder(tmp_path / "init")
    for folder in ("demo", "init"):
        assert problems("indicateurs", read(tmp_path / folder / "metadata" / "indicateurs.yml")) == [], folder


# --- broken copies are refused, naming where ----------------------------------------------


def test_a_misspelt_catalogue_key_is_refused_naming_the_indicator():
    data = shipped_catalogue()
    where = position(data, "duree_moyenne")
    data["indicateurs"][where]["ventilation"] = data["indicateurs"][where].pop("ventilations")
    found = problems("indicateurs", data)
    assert f"$.indicateurs[{where}] : Additional properties are not allowed ('ventilation' was unexpected)" in found
    assert f"$.indicateurs[{where}] : 'ventilations' is a required property" in found
    assert len(found) == 2


def test_a_misspelt_contract_key_is_refused_naming_the_column():
    data = read(PACKAGE_DIR / "contract.yml")
    column = data["tables"]["accompagnements"]["columns"]["duree"]
    column["tite"] = column.pop("titre")
    found = problems("contract", data)
    assert "$.tables.accompagnements.columns.duree : Additional properties are not allowed ('tite' was unexpected)" in found
    assert "$.tables.accompagnements.columns.duree : 'titre' is a required property" in found


def test_a_misspelt_top_level_contract_key_is_refused():
    data = read(PACKAGE_DIR / "contract.yml")
    data["tranche_age"] = data.pop("tranches_age")
    found = problems("contract", data)
    assert "$ : Additional properties are not allowed ('tranche_age' was unexpected)" in found
    assert "$ : 'tranches_age' is a required property" in found


def test_a_misspelt_check_rule_or_a_second_upper_bound_is_refused():
    """The sentences of the generated suites (``controles``) name known rules only, and a
    column bounded by the published year has no other maximum."""
    data = read(PACKAGE_DIR / "contract.yml")
    data["controles"]["colonnes"]["age"]["bornse"] = data["controles"]["colonnes"]["age"].pop("bornes")
    data["tables"]["accompagnements"]["columns"]["annee_naissance"]["max"] = 2100
    data["indicatrices"]["qpv"].pop("drapeau")
    found = problems("contract", data)
    assert "$.controles.colonnes.age : Additional properties are not allowed ('bornse' was unexpected)" in found
    assert [f for f in found if f.startswith("$.tables.accompagnements.columns.annee_naissance : ")] == [
        "$.tables.accompagnements.columns.annee_naissance : {'titre': 'Année de naissance', 'type': 'integer', 'min': 1900, "
        "'max_annee': True, 'max': 2100} should not be valid under {'required': ['max']}"
    ]
    assert "$.indicatrices.qpv : 'drapeau' is a required property" in found


def test_wrong_types_are_refused_naming_the_value():
    data = shipped_catalogue()
    data["dimensions"]["genre"]["additive"] = "oui"
    assert problems("indicateurs", data) == ["$.dimensions.genre.additive : 'oui' is not of type 'boolean'"]
    contract = read(PACKAGE_DIR / "contract.yml")
    contract["archive_max_mo"] = "200"
    contract["tables"]["accompagnements"]["columns"]["duree"]["max"] = 480.5
    assert problems("contract", contract) == [
        "$.archive_max_mo : '200' is not of type 'integer'",
        "$.tables.accompagnements.columns.duree.max : 480.5 is not of type 'integer'",
    ]


def test_an_unknown_measure_is_refused_naming_the_indicator():
    data = shipped_catalogue()
    where = position(data, "usagers")
    data["indicateurs"][where]["mesure"] = "moyenne_age"
    (found,) = problems("indicateurs", data)
    assert found.startswith(f"$.indicateurs[{where}].mesure : 'moyenne_age' is not one of ")


def test_a_figure_that_is_neither_a_count_nor_linked_is_refused():
    """The secrecy audit needs every figure to be a count (agregation) or linked to counts (lien)."""
    data = shipped_catalogue()
    where = position(data, "duree_moyenne")
    del data["indicateurs"][where]["lien"]
    found = problems("indicateurs", data)
    assert found and all(p.startswith(f"$.indicateurs[{where}] : ") for p in found)


def test_a_link_with_a_key_of_another_type_is_refused():
    data = shipped_catalogue()
    where = position(data, "part_accompagnements")
    data["indicateurs"][where]["lien"]["denominateur"] = "usagers"  # a ratio's key on a share
    found = problems("indicateurs", data)
    assert f"$.indicateurs[{where}].lien : Additional properties are not allowed ('denominateur' was unexpected)" in found


def test_a_breakdown_by_dimension_without_dimensions_is_refused():
    """« dimensions » among the breakdowns and no dimension listed: the loader would publish nothing."""
    data = shipped_catalogue()
    where = position(data, "duree_moyenne")
    del data["indicateurs"][where]["dimensions"]
    assert problems("indicateurs", data) == [f"$.indicateurs[{where}] : 'dimensions' is a required property"]
    data["indicateurs"][where]["dimensions"] = []
    assert problems("indicateurs", data) == [f"$.indicateurs[{where}].dimensions : [] should be non-empty"]


def test_a_code_column_without_its_values_is_refused():
    data = read(PACKAGE_DIR / "contract.yml")
    del data["tables"]["accompagnements"]["columns"]["genre"]["values"]
    assert problems("contract", data) == ["$.tables.accompagnements.columns.genre : 'values' is a required property"]


# --- the schema and the loader agree ---------------------------------------------------------


def load(tmp_path: Path, data: dict[str, Any]) -> catalogue.Catalogue:
    path = tmp_path / "indicateurs.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return catalogue.load_catalogue(path, frozenset(MEASURES))


@pytest.mark.parametrize("key", schema("indicateurs")["$defs"]["indicateur"]["required"])
def test_a_key_the_schema_requires_is_one_the_loader_requires(tmp_path: Path, key: str):
    data = shipped_catalogue()
    assert len(load(tmp_path, data).indicators) == 16  # the intact copy loads
    broken = copy.deepcopy(data)
    del broken["indicateurs"][position(broken, "ateliers")][key]
    assert problems("indicateurs", broken)
    with pytest.raises(ConfigurationError, match=r"clé\(s\) manquante\(s\)"):
        load(tmp_path, broken)


def test_the_loader_refuses_the_unknown_measure_the_schema_refuses(tmp_path: Path):
    data = shipped_catalogue()
    data["indicateurs"][position(data, "usagers")]["mesure"] = "moyenne_age"
    with pytest.raises(ConfigurationError, match="mesure 'moyenne_age' inconnue"):
        load(tmp_path, data)
