"""The DCAT-AP catalogue of the publication (``/catalogue.ttl``, ``/catalogue.jsonld``).

data.gouv.fr finds publishers' data by harvesting their DCAT catalogues (udata's DCAT
backend). One dataset per published year: each year is a package of its own, with its
version, its temporal coverage and its downloads (the package's files, the API's CSV and
JSON for that year, and the zips listed in ``telechargements/telechargements.json`` when
that manifest exists), so one year can be revised without touching the others. A second
dataset holds the sites in the national "lieux de médiation numérique" format.

What udata does with a catalogue shaped what is written here (read in udata 17.18's
``harvest/backends/dcat.py`` and ``core/dataset/rdf.py``, and checked by running its harvester in
``tests/test_udata_harvest.py``): it skips a dataset without ``dct:title``; it finds the dataset
it harvested last year by ``dct:identifier`` alone (hence identifiers from the SIRET and the
year, never from the organisation's name: a rename would create new datasets and archive the
old ones with their followers); it stores a checksum's ``spdx:checksumValue`` in a text field, so
the value is a plain literal (``xsd:hexBinary``, which the DCAT-AP shapes ask for, becomes
``bytes`` in rdflib and fails udata's validation: the one shape the catalogue does not meet);
it sets a resource's schema from the *distribution's* ``dct:conformsTo`` and recognises a national
schema by its ``schema.json`` URL in the schema.data.gouv.fr catalogue; it harvests a
``dcat:DataService`` into its API catalogue, linked to the datasets it ``dcat:servesDataset``;
it reads spatial coverage only as a geometry (a
WKT or GeoJSON literal on the ``dct:Location``), never as a place name; it discards a
``dct:modified`` in the future; it matches ``dct:license`` against its own licence table
(hence ``LICENCE_IRIS``); it dereferences a ``dct:temporal`` given as an IRI (so
periods are blank nodes). Every IRI an object property points to is typed in the graph,
as the DCAT-AP 3.0.1 range shapes require.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, SKOS, XSD

from .publisher import LICENCE_IRIS, Publisher, mednum_schema
from .downloads import is_alias
from .layout import DESCRIPTOR, DOWNLOADS
from .site.urls import SiteUrls

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
GSP = Namespace("http://www.opengis.net/ont/geosparql#")
EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"
ANNUAL = URIRef(EU + "frequency/ANNUAL")
FRENCH = URIRef(EU + "language/FRA")
THEMES = URIRef(EU + "data-theme")
SOCIETY = URIRef(EU + "data-theme/SOCI")
ATTRIBUTION = URIRef("http://purl.org/adms/licencetype/Attribution")
STABLE = URIRef(EU + "planned-availability/STABLE")
DCATAP = Namespace("http://data.europa.eu/r5r/")
DCAT3 = Namespace(str(DCAT))  # rdflib's DCAT namespace predates dcat:version

# (file in the package, title, EU file type, IANA media type)
PACKAGE_FILES = (
    ("datapackage.json", "Paquet de données (Frictionless) : description et schémas", "JSON", "application/json"),
    ("indicateurs.csv", "Indicateurs d'activité (CSV)", "CSV", "text/csv"),
    ("definitions.csv", "Définitions des indicateurs (CSV)", "CSV", "text/csv"),
    ("lieux.csv", "Lieux d'accueil (CSV)", "CSV", "text/csv"),
    ("modalites.csv", "Libellés des modalités (CSV) : le libellé français de chaque code", "CSV", "text/csv"),
    ("risque.json", "Rapport de risque de ré-identification (JSON)", "JSON", "application/json"),
)
LIEUX_MEDNUM = "/lieux-mediation-numerique.csv"


@dataclass(frozen=True)
class Download:
    """One downloadable file of a dataset."""

    path: str  # on the site, from its root: /static/paquets/2024/indicateurs.csv
    title: str
    file_type: str  # EU file-type code: CSV, JSON, ZIP
    media_type: str
    byte_size: int | None = None
    sha256: str | None = None
    issued: str | None = None  # YYYY-MM-DD
    conforms_to: str | None = None  # the schema.json URL of a national schema the file follows


def year_downloads(year: int, package: Path, manifest: Iterable[dict]) -> list[Download]:
    """Every file of a year a reuser can fetch: package files, API exports, zips."""
    downloads = [
        Download(f"/static/paquets/{year}/{name}", title, file_type, media_type, (package / name).stat().st_size)
        for name, title, file_type, media_type in PACKAGE_FILES
        if (package / name).exists()  # a year packaged before modalites.csv existed
    ]
    downloads += [
        Download(
            f"/indicateurs/indicateurs.csv?annee={year}&_stream=on&_size=max",
            f"Indicateurs {year} depuis l'API (CSV complet)",
            "CSV",
            "text/csv",
        ),
        Download(
            f"/indicateurs/indicateurs.json?annee={year}&_shape=array&_size=max",
            f"Indicateurs {year} depuis l'API (JSON, 5 000 lignes par page)",
            "JSON",
            "application/json",
        ),
    ]
    for entry in manifest:
        if int(entry["annee"]) == year:
            downloads.append(
                Download(
                    f"/{DOWNLOADS}/{entry['fichier']}",
                    zip_title(entry),
                    "ZIP",
                    "application/zip",
                    int(entry["octets"]),
                    entry["sha256"],
                    entry.get("date"),
                )
            )
    return downloads


def zip_title(entry: dict) -> str:
    """Distinct titles for a version's zip and the current alias: the portal lists both."""
    if is_alias(entry["fichier"]):
        return f"Archive {entry['annee']}, dernière version (actuellement {entry['version']}) : paquet, README et citation"
    return f"Archive {entry['annee']}, version {entry['version']} (figée) : paquet, README et citation"


def dataset_identifier(siret: str, year: int | None = None) -> str:
    """``26120999900017-activite-2024``, ``26120999900017-lieux-mediation-numerique``: udata finds
    last year's dataset by this identifier, so it rests on the SIRET, which a rename keeps."""
    return f"{siret}-activite-{year}" if year is not None else f"{siret}-lieux-mediation-numerique"


def _not_after(timestamp: str, now: dt.datetime) -> Literal:
    """A ``dct:modified`` that is never in the future (udata drops those)."""
    moment = dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    return Literal(min(moment, now).strftime("%Y-%m-%dT%H:%M:%SZ"), datatype=XSD.dateTime)


class CatalogueBuilder:
    """Builds the graph; one method per kind of node, each typing what it references."""

    def __init__(self, publisher: Publisher, urls: SiteUrls, now: dt.datetime):
        self.publisher, self.urls, self.now = publisher, urls, now
        self.graph = Graph()
        for prefix, namespace in (
            ("dcat", DCAT),
            ("dct", DCTERMS),
            ("foaf", FOAF),
            ("vcard", VCARD),
            ("adms", ADMS),
            ("spdx", SPDX),
            ("skos", SKOS),
            ("gsp", GSP),
            ("dcatap", DCATAP),
        ):
            self.graph.bind(prefix, namespace)
        self._typed: set[tuple[URIRef, URIRef]] = set()
        self._blank_nodes = 0

    def blank(self, name: str) -> BNode:
        """A blank node with a stable id, so that the same publication gives the same file."""
        self._blank_nodes += 1
        return BNode(f"{name}{self._blank_nodes}")

    def typed(self, iri: str | URIRef, kind: URIRef, label: str | None = None) -> URIRef:
        node = URIRef(iri)
        if (node, kind) not in self._typed:
            self.graph.add((node, RDF.type, kind))
            if label:
                self.graph.add((node, SKOS.prefLabel, Literal(label, lang="fr")))
            self._typed.add((node, kind))
        return node

    def page(self, path: str) -> URIRef:
        return self.typed(self.urls.absolute(path), FOAF.Document)

    def publisher_node(self) -> BNode:
        agent = BNode("organisme")
        if (agent, RDF.type, FOAF.Agent) not in self.graph:
            self.graph.add((agent, RDF.type, FOAF.Agent))
            self.graph.add((agent, RDF.type, FOAF.Organization))
            self.graph.add((agent, FOAF.name, Literal(self.publisher.nom, lang="fr")))
            self.graph.add((agent, DCTERMS.identifier, Literal(self.publisher.siret)))
            self.graph.add((agent, FOAF.mbox, URIRef("mailto:" + self.publisher.contact)))
        return agent

    def contact_node(self) -> BNode:
        contact = BNode("contact")
        if (contact, RDF.type, VCARD.Organization) not in self.graph:
            self.graph.add((contact, RDF.type, VCARD.Kind))
            self.graph.add((contact, RDF.type, VCARD.Organization))
            self.graph.add((contact, VCARD.fn, Literal(self.publisher.nom, lang="fr")))
            self.graph.add((contact, VCARD.hasEmail, URIRef("mailto:" + self.publisher.contact)))
        return contact

    def licence(self) -> URIRef:
        licence = self.typed(LICENCE_IRIS[self.publisher.licence], DCTERMS.LicenseDocument, self.publisher.licence_info["title"])
        self.graph.set((licence, DCTERMS.type, self.typed(ATTRIBUTION, SKOS.Concept, "attribution")))
        return licence

    def spatial(self, coordinates: list[tuple[float, float]]) -> BNode:
        """The commune: its INSEE code, and a bounding box udata can read (the ``emprise``
        from organisation.yml, else the rectangle around the sites' coordinates)."""
        location = BNode("commune")
        if (location, RDF.type, DCTERMS.Location) in self.graph:
            return location
        self.graph.add((location, RDF.type, DCTERMS.Location))
        self.graph.add((location, DCTERMS.identifier, Literal(self.publisher.commune)))
        self.graph.add((location, SKOS.prefLabel, Literal(f"Commune {self.publisher.commune} (code INSEE)", lang="fr")))
        box = self.publisher.emprise
        if box is None and coordinates:
            margin = 0.01
            longitudes, latitudes = [c[0] for c in coordinates], [c[1] for c in coordinates]
            box = (min(longitudes) - margin, min(latitudes) - margin, max(longitudes) + margin, max(latitudes) + margin)
        if box is not None:
            west, south, east, north = box
            polygon = f"POLYGON(({west} {south}, {east} {south}, {east} {north}, {west} {north}, {west} {south}))"
            self.graph.add((location, DCAT.bbox, Literal(polygon, datatype=GSP.wktLiteral)))
        return location

    def period(self, start: str, end: str) -> BNode:
        node = self.blank("periode")
        self.graph.add((node, RDF.type, DCTERMS.PeriodOfTime))
        self.graph.add((node, DCAT.startDate, Literal(start, datatype=XSD.date)))
        self.graph.add((node, DCAT.endDate, Literal(end, datatype=XSD.date)))
        return node

    def distribution(self, download: Download, modified: Literal) -> BNode:
        node = self.blank("distribution")
        url = URIRef(self.urls.absolute(download.path))
        self.graph.add((node, RDF.type, DCAT.Distribution))
        self.graph.add((node, DCTERMS.title, Literal(download.title, lang="fr")))
        self.graph.add((node, DCTERMS.description, Literal(download.title, lang="fr")))
        self.graph.add((node, DCAT.accessURL, url))
        self.graph.add((node, DCAT.downloadURL, url))
        self.graph.add((node, DCTERMS.license, self.licence()))
        self.graph.add((node, DCTERMS.format, self.typed(EU + "file-type/" + download.file_type, DCTERMS.MediaTypeOrExtent)))
        self.graph.add((node, DCAT.mediaType, self.typed(IANA + download.media_type, DCTERMS.MediaType)))
        self.graph.add((node, DCTERMS.modified, modified))
        self.graph.add((node, DCATAP.availability, self.typed(STABLE, SKOS.Concept, "stable")))
        if download.issued:
            self.graph.add((node, DCTERMS.issued, Literal(download.issued, datatype=XSD.date)))
        if download.conforms_to:
            self.graph.add((node, DCTERMS.conformsTo, self.typed(download.conforms_to, DCTERMS.Standard)))
        if download.byte_size is not None:
            self.graph.add((node, DCAT.byteSize, Literal(download.byte_size, datatype=XSD.nonNegativeInteger)))
        if download.sha256:
            checksum = self.blank("somme")
            self.graph.add((checksum, RDF.type, SPDX.Checksum))
            self.graph.add((checksum, SPDX.algorithm, self.typed(SPDX.checksumAlgorithm_sha256, SPDX.ChecksumAlgorithm)))
            self.graph.add((checksum, SPDX.checksumValue, Literal(download.sha256)))  # plain: see the module's docstring
            self.graph.add((node, SPDX.checksum, checksum))
        return node

    def data_service(self, datasets: list[URIRef], modified: Literal) -> URIRef:
        """The Datasette API, for data.gouv.fr's API catalogue: its endpoint, the page that
        documents it, and the yearly datasets whose figures it serves."""
        node = self.typed(self.urls.absolute("/indicateurs"), DCAT.DataService)
        g = self.graph
        g.add((node, DCTERMS.identifier, Literal(f"{self.publisher.siret}-api")))
        g.add((node, DCTERMS.title, Literal(f"{self.publisher.nom} — API des indicateurs des permanences numériques", lang="fr")))
        g.add(
            (
                node,
                DCTERMS.description,
                Literal(
                    "API en lecture seule, sans clé, de toutes les années publiées (Datasette) : JSON, CSV et requêtes SQL sur les tables "
                    "indicateurs, definitions, lieux, modalites, annees et versions. Exemples sur la page « API ».",
                    lang="fr",
                ),
            )
        )
        g.add((node, DCAT.endpointURL, URIRef(self.urls.absolute("/indicateurs"))))
        g.add((node, DCAT.endpointDescription, self.page("/api")))
        g.add((node, DCAT.landingPage, self.page("/api")))
        g.add((node, DCTERMS.publisher, self.publisher_node()))
        g.add((node, DCAT.contactPoint, self.contact_node()))
        g.add((node, DCTERMS.license, self.licence()))
        g.add((node, DCTERMS.accessRights, self.typed(EU + "access-right/PUBLIC", DCTERMS.RightsStatement, "public")))
        g.add((node, DCTERMS.modified, modified))
        for keyword in ("API", "médiation numérique", "inclusion numérique"):
            g.add((node, DCAT.keyword, Literal(keyword, lang="fr")))
        for dataset in datasets:
            g.add((node, DCAT.servesDataset, dataset))
        return node

    def dataset(
        self,
        iri: str,
        identifier: str,
        title: str,
        description: str,
        keywords: Iterable[str],
        landing: str,
        modified: Literal,
        downloads: Iterable[Download],
        coordinates: list[tuple[float, float]],
        period: tuple[str, str] | None = None,
        version: str | None = None,
        conforms_to: str | None = None,
    ) -> URIRef:
        node = self.typed(iri, DCAT.Dataset)
        g = self.graph
        g.add((node, DCTERMS.identifier, Literal(identifier)))
        g.add((node, DCTERMS.title, Literal(title, lang="fr")))
        g.add((node, DCTERMS.description, Literal(description, lang="fr")))
        g.add((node, DCTERMS.publisher, self.publisher_node()))
        g.add((node, DCAT.contactPoint, self.contact_node()))
        g.add((node, DCTERMS.accrualPeriodicity, self.typed(ANNUAL, DCTERMS.Frequency, "annuelle")))
        g.add((node, DCTERMS.language, self.typed(FRENCH, DCTERMS.LinguisticSystem, "français")))
        g.add((node, DCAT.theme, self.typed(SOCIETY, SKOS.Concept, "Population et société")))
        g.add((node, DCTERMS.spatial, self.spatial(coordinates)))
        g.add((node, DCAT.landingPage, self.page(landing)))
        g.add((node, DCTERMS.modified, modified))
        g.add((node, DCTERMS.accessRights, self.typed(EU + "access-right/PUBLIC", DCTERMS.RightsStatement, "public")))
        for keyword in keywords:
            g.add((node, DCAT.keyword, Literal(keyword, lang="fr")))
        if period:
            g.add((node, DCTERMS.temporal, self.period(*period)))
        if version:
            g.add((node, DCAT3["version"], Literal(version)))
        if conforms_to:
            g.add((node, DCTERMS.conformsTo, self.typed(conforms_to, DCTERMS.Standard)))
        for download in downloads:
            g.add((node, DCAT.distribution, self.distribution(download, modified)))
        return node


def build_catalogue(packages: list[Path], publisher: Publisher, manifest: list[dict], now: dt.datetime | None = None) -> Graph:
    """The catalogue's graph: one dataset per year, one for the sites' national file."""
    now = now or dt.datetime.now(dt.UTC).replace(microsecond=0)
    urls = SiteUrls(publisher.base_url)
    builder = CatalogueBuilder(publisher, urls, now)
    coordinates = [
        (float(dict(l.mediation)["longitude"]), float(dict(l.mediation)["latitude"]))
        for l in publisher.lieux
        if {"latitude", "longitude"} <= dict(l.mediation).keys()
    ]
    catalogue = builder.typed(urls.absolute("/catalogue.ttl"), DCAT.Catalog)
    g = builder.graph
    g.add((catalogue, DCTERMS.title, Literal(f"{publisher.nom} — données ouvertes des permanences numériques", lang="fr")))
    g.add(
        (
            catalogue,
            DCTERMS.description,
            Literal(
                f"Les jeux de données ouverts de {publisher.nom} : l'activité annuelle de ses permanences numériques "
                "(accompagnements, ateliers, formations), anonymisée, et ses lieux d'accueil.",
                lang="fr",
            ),
        )
    )
    g.add((catalogue, DCTERMS.publisher, builder.publisher_node()))
    g.add((catalogue, FOAF.homepage, builder.page("/")))
    g.add((catalogue, DCTERMS.language, builder.typed(FRENCH, DCTERMS.LinguisticSystem, "français")))
    g.add((catalogue, DCTERMS.license, builder.licence()))
    g.add((catalogue, DCAT.themeTaxonomy, builder.typed(THEMES, SKOS.ConceptScheme, "Thèmes des données (UE)")))
    g.add((THEMES, DCTERMS.title, Literal("Data theme", lang="en")))
    g.add((SOCIETY, SKOS.inScheme, THEMES))
    g.add((catalogue, DCTERMS.spatial, builder.spatial(coordinates)))
    latest_modified = None
    served: list[URIRef] = []
    for package in packages:
        descriptor = json.loads((package / DESCRIPTOR).read_text(encoding="utf-8"))
        year = int(package.name)
        modified = _not_after(descriptor["created"], now)
        if latest_modified is None:
            g.add((catalogue, DCTERMS.issued, modified))
        latest_modified = modified
        coverage = descriptor["temporalCoverage"]
        dataset = builder.dataset(
            urls.absolute(f"/bilan/{year}#donnees"),
            dataset_identifier(publisher.siret, year),
            descriptor["title"],
            descriptor["description"],
            descriptor["keywords"],
            f"/bilan/{year}",
            modified,
            year_downloads(year, package, manifest),
            coordinates,
            (coverage["start"], coverage["end"]),
            descriptor.get("version"),
        )
        g.add((catalogue, DCAT.dataset, dataset))
        served.append(dataset)
    if latest_modified is not None:
        g.add((catalogue, DCTERMS.modified, latest_modified))
        lieux = builder.dataset(
            urls.absolute("/api#lieux-mediation-numerique"),
            dataset_identifier(publisher.siret),
            f"{publisher.nom} — lieux de médiation numérique",
            f"Les lieux d'accueil des permanences numériques de {publisher.nom}, au format national "
            "« lieux de médiation numérique » (schema.data.gouv.fr).",
            ["médiation numérique", "inclusion numérique", "lieux"],
            "/api",
            latest_modified,
            [
                Download(
                    LIEUX_MEDNUM,
                    "Lieux de médiation numérique (CSV, schéma national)",
                    "CSV",
                    "text/csv",
                    conforms_to=mednum_schema()["schema_json"],
                )
            ],
            coordinates,
            conforms_to=mednum_schema()["schema_json"],
        )
        g.add((catalogue, DCAT.dataset, lieux))
        g.add((catalogue, DCAT.service, builder.data_service(served, latest_modified)))
    return g


def write_catalogue(directory: Path, packages: list[Path], publisher: Publisher, manifest: list[dict]) -> list[Path]:
    """``catalogue.ttl`` and ``catalogue.jsonld`` into ``directory`` (the site's pages);
    ``manifest``: the downloads being published (``downloads.read_manifest``)."""
    graph = build_catalogue(packages, publisher, manifest)
    written = []
    for name, text in (("catalogue.ttl", graph.serialize(format="turtle")), ("catalogue.jsonld", _stable_json_ld(graph))):
        path = directory / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _stable_json_ld(graph: Graph) -> str:
    """The graph as JSON-LD, its nodes and values in a fixed order. rdflib writes them in
    the order of its hash-seeded sets, so two runs of the same release gave the same graph
    in different bytes (the published files are meant to be byte-identical run to run).
    The order of a JSON-LD array without ``@list`` carries no meaning (none is written)."""
    nodes = json.loads(graph.serialize(format="json-ld"))
    for node in nodes:
        for values in node.values():
            if isinstance(values, list):
                values.sort(key=lambda value: json.dumps(value, sort_keys=True, ensure_ascii=False))
    nodes.sort(key=lambda node: node.get("@id", ""))
    return json.dumps(nodes, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
