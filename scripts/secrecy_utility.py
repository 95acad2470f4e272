"""Utility of the secrecy (``make bench-secret``): the share of cells hidden on the demo
years and on a small CCAS, and whether the year, the sites and the months stay published.

Runs the real stages (ingest, anonymise, aggregate, protect) on the deterministic demo
generator; nothing is written outside a temporary folder. To compare with another version
of the code, run it with ``PYTHONPATH`` pointing at that version's tree.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import ccas_opendata
from ccas_opendata.aggregate import MEASURES, aggregate
from ccas_opendata.anonymise import anonymise
from ccas_opendata.catalogue import load_catalogue
from ccas_opendata.config import catalogue_path, read_publisher
from ccas_opendata.demo import DEMO_YEARS, write_demo_year
from ccas_opendata.ingest import read_records
from ccas_opendata.secrecy import protect

REPO = Path(ccas_opendata.__file__).resolve().parent.parent
SMALL_CCAS = {2024: 250}
PUBLISHED = ["annee", "periode", "lieu", "indicateur", "dimension", "modalite", "valeur", "unite", "secret"]


def measure(label: str, sizes: dict[int, int], base: Path) -> None:
    publisher = read_publisher(REPO)
    catalogue = load_catalogue(catalogue_path(REPO), frozenset(MEASURES))
    previous = None
    for year, size in sizes.items():
        inputs = write_demo_year(base / f"{label}-{year}", year, publisher, size=size, form="csv-utf8")
        tables = anonymise(read_records(inputs), publisher, year, b"k" * 32)
        cells = aggregate(tables, publisher, catalogue, year, previous)
        start = time.perf_counter()
        table = protect(cells, catalogue, publisher, year, previous).table
        seconds = time.perf_counter() - start
        hidden = int((table["secret"] != "").sum())
        core = table[(table["indicateur"] == "accompagnements") & (table["dimension"] == "ensemble")]
        print(f"{label} {year} ({size} accompagnements) : {len(table)} cases, {int((table['secret'] == 'primaire').sum())} primaires, "
              f"{int((table['secret'] == 'secondaire').sum())} secondaires, {100 * hidden / len(table):.1f} % masquées ; "
              f"année, lieux et mois publiés : {int((core['secret'] == '').sum())}/{len(core)} ; secret en {seconds:.1f} s")
        previous = table[PUBLISHED]


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        measure("démo", DEMO_YEARS, Path(folder))
        measure("petit CCAS", SMALL_CCAS, Path(folder))
