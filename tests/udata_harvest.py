"""Harvest DCAT catalogues with udata's own harvester, offline, and print what it created.

Run by ``.venv-udata/bin/python`` (udata pins its own dependencies, so it lives in its own
venv: ``make udata``), from ``tests/test_udata_harvest.py``. Nothing of ccas-opendata is
imported here: udata judges the files as data.gouv.fr would.

    udata_harvest.py --schemas schemas.json URL_OR_FILE [URL_OR_FILE ...]

Every catalogue is harvested in turn by the same harvest source (as data.gouv.fr does
year after year), against an in-memory MongoDB (mongomock) holding data.gouv.fr's licences
(``udata_licences.json``). A local file is served on 127.0.0.1 for the harvester, which
only fetches over HTTP. ``--schemas``: a schema catalogue in schema.data.gouv.fr's format,
served as ``SCHEMA_CATALOG_URL`` so that udata recognises a national schema by its URL.
The output is one JSON object: after each harvest, the job's status and errors and every
dataset and dataservice in the database.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import shutil
import tempfile
import threading
from pathlib import Path
from typing import ClassVar

import mongomock

HERE = Path(__file__).resolve().parent


# With their charset, as the site sends them (requests reads text/* without one as Latin-1).
MEDIA_TYPES = {
    ".ttl": "text/turtle; charset=utf-8",
    ".jsonld": "application/ld+json; charset=utf-8",
    ".json": "application/json; charset=utf-8",
}


def serve_directory(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Handler(http.server.SimpleHTTPRequestHandler):
        extensions_map = MEDIA_TYPES  # not a ClassVar: typeshed declares it per instance

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def make_app(schema_catalog_url: str | None):
    from udata import settings
    from udata.app import create_app, standalone

    class Offline(settings.Testing):
        MONGODB_SETTINGS: ClassVar[dict] = {"host": "mongodb://localhost/udata", "mongo_client_class": mongomock.MongoClient}
        HARVESTER_BACKENDS: ClassVar[list[str]] = ["dcat"]
        SCHEMA_CATALOG_URL = schema_catalog_url
        # The catalogue is served on 127.0.0.1: udata refuses private addresses by default.
        URLS_ALLOW_PRIVATE = True
        URLS_ALLOW_LOCAL = True

    return standalone(create_app(settings.Defaults, override=Offline))


def describe_dataset(dataset) -> dict:
    temporal = dataset.temporal_coverage
    spatial = dataset.spatial
    return {
        "id": str(dataset.id),
        "title": dataset.title,
        "remote_id": dataset.harvest.remote_id if dataset.harvest else None,
        "dct_identifier": dataset.harvest.dct_identifier if dataset.harvest else None,
        "uri": dataset.harvest.uri if dataset.harvest else None,
        "archived": bool(dataset.archived),
        "deleted": bool(dataset.deleted),
        "license": dataset.license.id if dataset.license else None,
        "frequency": str(getattr(dataset.frequency, "value", dataset.frequency)) if dataset.frequency else None,
        "temporal": [str(temporal.start), str(temporal.end)] if temporal else None,
        "spatial_geom": spatial.geom["type"] if spatial and spatial.geom else None,
        "tags": list(dataset.tags),
        "resources": [
            {
                "title": r.title,
                "url": r.url,
                "format": r.format,
                "mime": r.mime,
                "filesize": r.filesize,
                "checksum": {"type": r.checksum.type, "value": r.checksum.value} if r.checksum else None,
                "schema": {"name": r.schema.name, "version": r.schema.version, "url": r.schema.url} if r.schema else None,
                "type": r.type,
            }
            for r in dataset.resources
        ],
    }


def describe_dataservice(service) -> dict:
    return {
        "id": str(service.id),
        "title": service.title,
        "base_api_url": service.base_api_url,
        "endpoint_description_url": getattr(service, "machine_documentation_url", None)
        or getattr(service, "endpoint_description_url", None),
        "remote_id": service.harvest.remote_id if service.harvest else None,
        "datasets": sorted(d.harvest.remote_id for d in service.datasets if d.harvest),
        "license": service.license.id if service.license else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--schemas", type=Path, help="schema catalogue (schema.data.gouv.fr's schemas.json format)")
    parser.add_argument("catalogues", nargs="+")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="udata-harvest-"))
    files, base = serve_directory(scratch)
    urls = []
    for n, given in enumerate(args.catalogues):
        if given.startswith(("http://", "https://")):
            urls.append(given)
        else:
            path = Path(given)
            name = f"{n}-{path.name}"
            shutil.copy(path, scratch / name)
            urls.append(f"{base}/{name}")
    schema_url = None
    if args.schemas:
        shutil.copy(args.schemas, scratch / "schemas.json")
        schema_url = f"{base}/schemas.json"

    app = make_app(schema_url)
    report = []
    with app.app_context():
        from udata.core.dataservices.models import Dataservice
        from udata.core.dataset.models import Dataset, License
        from udata.core.organization.models import Organization
        from udata.harvest import actions
        from udata.harvest.models import HarvestSource

        for entry in json.loads((HERE / "udata_licences.json").read_text(encoding="utf-8")):
            License.objects.create(**entry)
        organization = Organization.objects.create(name="Organisation moissonnée", description="Le CCAS qui publie.")
        source = HarvestSource.objects.create(name="ccas-opendata", url=urls[0], backend="dcat", organization=organization)
        for url in urls:
            source.url = url
            source.save()
            actions.run(source)
            source.reload()
            job = source.get_last_job()
            report.append(
                {
                    "url": url,
                    "status": job.status,
                    "errors": [e.message for e in job.errors],
                    "items": [{"remote_id": i.remote_id, "status": i.status, "errors": [e.message for e in i.errors]} for i in job.items],
                    "datasets": [describe_dataset(d) for d in Dataset.objects.order_by("title")],
                    "dataservices": [describe_dataservice(s) for s in Dataservice.objects.order_by("title")],
                }
            )
    files.shutdown()
    shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps(report, ensure_ascii=False, indent=1, default=str))


if __name__ == "__main__":
    main()
