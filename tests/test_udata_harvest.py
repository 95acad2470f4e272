"""data.gouv.fr's own harvester (udata 17.18, ``DcatBackend`` → ``dataset_from_rdf``) run on
the served catalogue, offline: an in-memory MongoDB (mongomock), data.gouv.fr's licences,
and the schema catalogue's entry for the national « lieux » schema. udata lives in its own venv
(``make udata``) and runs as a subprocess (``tests/udata_harvest.py``); nothing here reads
the code that writes the catalogue."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from ccas_opendata.publisher import read_publisher
from ccas_opendata.dcat import build_catalogue
from ccas_opendata.downloads import read_manifest
from conftest import REPO, Server, invoke, make_folder

pytestmark = pytest.mark.slow

UDATA_PYTHON = REPO / ".venv-udata" / "bin" / "python"
HARVEST = Path(__file__).with_name("udata_harvest.py")
SCHEMAS = Path(__file__).with_name("udata_schemas.json")
needs_udata = pytest.mark.skipif(not UDATA_PYTHON.exists(), reason="udata absent : lancez « make udata » (make test le fait)")
SIRET = "26120999900017"  # metadata/organisation.yml of the demo CCAS
YEARS = (2023, 2024, 2025)  # the demo's years
RENAMED = "CCAS de Val-d'Orbe-la-Neuve"


def harvest(*catalogues: str | Path) -> list[dict]:
    """udata's harvester on each catalogue in turn, with one harvest source: what it holds after each."""
    done = subprocess.run(
        [str(UDATA_PYTHON), str(HARVEST), "--schemas", str(SCHEMAS), *map(str, catalogues)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """The demo CCAS as ``ccas-opendata demo`` builds it: three years and the lieux (about 11 CPU s)."""
    folder = make_folder(tmp_path_factory.mktemp("demo") / "ccas")
    result = invoke("demo", "--sans-serveur", "--dossier", folder)
    assert result.exit_code == 0, result
    return folder


@pytest.fixture(scope="module")
def server(demo):
    """``ccas-opendata serve`` on the demo, on 127.0.0.1."""
    running = Server(demo)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def turtle_then_renamed(server, demo, tmp_path_factory) -> list[dict]:
    """The served Turtle, then the catalogue of the same publication once the organisation is renamed."""
    publisher = dataclasses.replace(read_publisher(demo), nom=RENAMED)
    packages = sorted((demo / "datapackages").glob("20[0-9][0-9]"))
    renamed = tmp_path_factory.mktemp("renomme") / "catalogue.ttl"
    renamed.write_text(
        build_catalogue(packages, publisher, read_manifest(demo / "telechargements")).serialize(format="turtle"), encoding="utf-8"
    )
    return harvest(server.url + "/catalogue.ttl", renamed)


@pytest.fixture(scope="module")
def jsonld(server) -> dict:
    return harvest(server.url + "/catalogue.jsonld")[0]


def by_identifier(run: dict) -> dict[str, dict]:
    return {d["dct_identifier"]: d for d in run["datasets"]}


def check_every_dataset(run: dict, server) -> None:
    assert run["status"] == "done" and run["errors"] == []
    assert [i for i in run["items"] if i["status"] != "done"] == []
    datasets = by_identifier(run)
    assert sorted(datasets) == sorted([f"{SIRET}-activite-{y}" for y in YEARS] + [f"{SIRET}-lieux-mediation-numerique"])
    assert len(run["datasets"]) == 4 and len(run["items"]) == 4 + 1  # and the API
    manifest = {f["fichier"]: f for f in server.get("/telechargements/telechargements.json").json()["fichiers"]}
    for year in YEARS:
        dataset = datasets[f"{SIRET}-activite-{year}"]
        assert dataset["license"] == "lov2"
        assert dataset["frequency"] == "annual"
        assert dataset["temporal"] == [f"{year}-01-01", f"{year}-12-31"]
        assert dataset["spatial_geom"] == "MultiPolygon"
        # Six package files, the API's CSV and JSON, the version's zip and the current alias.
        assert len(dataset["resources"]) == 10
        zips = {r["url"].rsplit("/", 1)[-1]: r for r in dataset["resources"] if r["url"].endswith(".zip")}
        assert sorted(zips) == sorted(name for name in manifest if name.startswith(f"ccas-opendata-{year}"))
        assert len({r["title"] for r in zips.values()}) == 2  # two entries the portal can tell apart
        for name, resource in zips.items():
            served = server.get(f"/telechargements/{name}").content
            assert resource["checksum"] == {"type": "sha256", "value": hashlib.sha256(served).hexdigest()}, name
            assert resource["filesize"] == len(served)
    lieux = datasets[f"{SIRET}-lieux-mediation-numerique"]
    assert lieux["license"] == "lov2" and lieux["spatial_geom"] == "MultiPolygon"
    [resource] = lieux["resources"]
    assert resource["url"].endswith("/lieux-mediation-numerique.csv")
    assert resource["schema"] == {"name": "LaMednum/standard-mediation-num", "version": "1.0.1", "url": None}


@needs_udata
def test_udata_creates_the_demos_4_datasets_from_turtle(turtle_then_renamed, server):
    check_every_dataset(turtle_then_renamed[0], server)


@needs_udata
def test_udata_creates_the_demos_4_datasets_from_jsonld(jsonld, server):
    check_every_dataset(jsonld, server)


@needs_udata
def test_the_api_is_harvested_as_a_dataservice_serving_every_year(turtle_then_renamed):
    [service] = turtle_then_renamed[0]["dataservices"]
    assert service["base_api_url"] == "http://127.0.0.1:8001/indicateurs"  # the demo's base_url
    assert service["endpoint_description_url"] == "http://127.0.0.1:8001/api"
    assert service["datasets"] == [f"{SIRET}-activite-{y}" for y in YEARS]
    assert service["remote_id"] == f"{SIRET}-api"


@needs_udata
def test_a_renamed_organisation_updates_the_same_datasets(turtle_then_renamed):
    first, second = turtle_then_renamed
    check = [i for i in second["items"] if i["status"] != "done"]
    assert second["status"] == "done" and check == []
    before, after = by_identifier(first), by_identifier(second)
    assert sorted(after) == sorted(before)  # no new dataset
    assert {k: d["id"] for k, d in after.items()} == {k: d["id"] for k, d in before.items()}  # the same ones, updated
    assert [d for d in second["datasets"] if d["archived"] or d["deleted"]] == []
    assert after[f"{SIRET}-lieux-mediation-numerique"]["title"].startswith(RENAMED)
    assert [s["id"] for s in second["dataservices"]] == [s["id"] for s in first["dataservices"]]
    assert second["dataservices"][0]["title"].startswith(RENAMED)
