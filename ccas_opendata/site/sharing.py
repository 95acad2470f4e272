"""What a page says about itself to whoever links to it: search engines (schema.org
``Dataset``), social networks and chat apps (Open Graph), feed readers and catalogue
harvesters (Atom and DCAT ``alternate`` links, written in ``layout.html``).

Why from the published packages: the ``Dataset`` of a year is the year's package (its
title, description, version, dates, files), said in the vocabulary Google's dataset
search and data.gouv.fr read, so a page never describes data other than what it links.
"""

from __future__ import annotations

import json

from markupsafe import Markup

from ..publisher import Publisher
from .urls import SiteUrls


def dataset(descriptor: dict, year: int, publisher: Publisher, urls: SiteUrls, page: str) -> dict:
    """schema.org ``Dataset`` of one published year."""
    files = f"/static/paquets/{year}"
    return {
        "@type": "Dataset",
        "@id": urls.absolute(page) + "#jeu-de-donnees",
        "name": descriptor["title"],
        "description": descriptor["description"],
        "url": urls.absolute(page),
        "version": descriptor.get("version", ""),
        "datePublished": descriptor["created"][:10],
        "temporalCoverage": f"{year}-01-01/{year}-12-31",
        # The commune by its INSEE code, as the package says it (the site has no commune name).
        "spatialCoverage": {
            "@type": "Place",
            "identifier": {"@type": "PropertyValue", "propertyID": "code INSEE", "value": publisher.commune},
        },
        "inLanguage": "fr",
        "isAccessibleForFree": True,
        "license": publisher.licence_info["path"],
        "keywords": descriptor.get("keywords", []),
        "creator": {
            "@type": "Organization",
            "name": publisher.nom,
            "email": publisher.contact,
            **({"url": publisher.site_web} if publisher.site_web else {}),
        },
        "distribution": [
            {
                "@type": "DataDownload",
                "encodingFormat": "text/csv",
                "name": "indicateurs.csv",
                "contentUrl": urls.absolute(f"{files}/indicateurs.csv"),
            },
            {
                "@type": "DataDownload",
                "encodingFormat": "application/json",
                "name": "datapackage.json",
                "contentUrl": urls.absolute(f"{files}/datapackage.json"),
            },
            {
                "@type": "DataDownload",
                "encodingFormat": "application/zip",
                "name": f"ccas-opendata-{year}.zip",
                "contentUrl": urls.absolute(f"/telechargements/ccas-opendata-{year}.zip"),
            },
        ],
    }


def json_ld(*datasets: dict) -> Markup:
    """The ``<script type="application/ld+json">`` body: one ``Dataset``, or a ``@graph`` of them."""
    body: dict = (
        {"@context": "https://schema.org", **datasets[0]}
        if len(datasets) == 1
        else {"@context": "https://schema.org", "@graph": list(datasets)}
    )
    # "</" would end the script element early: JSON allows it escaped.
    return Markup(json.dumps(body, ensure_ascii=False, indent=1).replace("</", "<\\/"))
