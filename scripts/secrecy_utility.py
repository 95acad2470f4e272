"""Utility of the secrecy (``make bench-secret``): what a year publishes, by volume and
number of sites, and what a revision of late persons changes.

Runs the real stages (ingest, anonymise, aggregate, protect, the revision's delta table)
on the deterministic demo generator; nothing is written outside a temporary folder. To
compare with another version of the code, run it with ``PYTHONPATH`` pointing at that
version's tree. Prints Markdown tables (the README quotes them) and the CPU seconds of
each protection (the machine may be shared: wall time says little).

Columns: cells of the table, share of them hidden, share of the non-zero count cells
(``accompagnements``, ``usagers``… of every breakdown) published, and the headline list:
year total, persons, each site, each quarter (itself, or its three months), genre, three age
bands (moins de 25, 25–59, 60 et plus: themselves, or their finer bands), the five most
frequent procedures, the satisfaction rate. Each year is published at the granularity the
release chooses for it (:mod:`ccas_opendata.granularity`), as a real release would.
"""

from __future__ import annotations

import csv
import random
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

import ccas_opendata
from ccas_opendata.aggregate import MEASURES, aggregate
from ccas_opendata.anonymise import anonymise
from ccas_opendata.catalogue import Catalogue, load_catalogue
from ccas_opendata.layout import Layout
from ccas_opendata.publisher import Publisher, read_publisher
from ccas_opendata.demo import write_demo_year
from ccas_opendata.ingest import read_records
from ccas_opendata.secrecy import figures_changed, protect
from ccas_opendata.vocabulary import PUBLISHED_KEY

REPO = Path(ccas_opendata.__file__).resolve().parent.parent
YEAR = 2024
SIZES = [150, 300, 600, 1500, 4000]
SITES = [1, 3, 5]
AIM = (250, 3)  # the aim: 80 % of the non-zero count cells and the whole headline list
LATE = [1, 5, 11, 30, 60]


def age_bands() -> dict[str, list[str]]:
    """The headline's three age bands (moins de 25, 25–59, 60 et plus), each with the finer
    bands it merges: the catalogue's coarser level of ``tranche_age``."""
    import yaml

    catalogue = yaml.safe_load((REPO / "metadata" / "indicateurs.yml").read_text(encoding="utf-8"))
    (level,) = catalogue["granularite"]["dimensions"]["tranche_age"]
    return {str(code): [str(m) for m in group["modalites"]] for code, group in level["groupes"].items()}


def cpu() -> float:
    return time.process_time()


def folder_with_sites(base: Path, sites: int) -> Path:
    """A copy of the demo metadata with ``sites`` sites (the demo's first ones, then copies)."""
    import shutil

    folder = base / f"ccas-{sites}"
    if folder.exists():
        return folder
    shutil.copytree(REPO / "metadata", folder / "metadata")
    path = folder / "metadata" / "lieux.csv"
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    header = list(rows[0])
    chosen = [dict(rows[n % len(rows)], code=rows[n % len(rows)]["code"] if n < len(rows) else f"lieu_{n + 1}") for n in range(sites)]
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, header)
        writer.writeheader()
        writer.writerows(chosen)
    return folder


def year_tables(folder: Path, publisher: Publisher, size: int, base: Path) -> dict[str, pd.DataFrame]:
    inputs = write_demo_year(base / f"entrees-{folder.name}-{size}", YEAR, publisher, size=size, form="csv-utf8")
    return anonymise(read_records(inputs), publisher, YEAR, b"k" * 32)


def headline(table: pd.DataFrame, publisher: Publisher) -> tuple[int, int]:
    """(published, asked) for the issue's headline list."""

    def shown(
        indicator: str, periode: str = str(YEAR), lieu: str = "ensemble", dimension: str = "ensemble", modalite: str = "ensemble"
    ) -> bool:
        row = table[
            (table["indicateur"] == indicator)
            & (table["periode"] == periode)
            & (table["lieu"] == lieu)
            & (table["dimension"] == dimension)
            & (table["modalite"] == modalite)
        ]
        return len(row) == 1 and row["secret"].iloc[0] == ""

    asked = [shown("accompagnements"), shown("usagers")]
    asked += [shown("accompagnements", lieu=site) for site in publisher.lieu_codes]
    # A quarter is published as itself (``AAAA-T1`` where the year is published by quarter)
    # or as its three months; an age band as itself or as its finer bands.
    asked += [
        shown("accompagnements", periode=f"{YEAR}-T{q + 1}")
        or all(shown("accompagnements", periode=f"{YEAR}-{m:02d}") for m in range(q * 3 + 1, q * 3 + 4))
        for q in range(4)
    ]
    asked += [shown("accompagnements", dimension="genre", modalite=g) for g in ("feminin", "masculin")]
    asked += [
        shown("accompagnements", dimension="tranche_age", modalite=coarse)
        or all(shown("accompagnements", dimension="tranche_age", modalite=b) for b in bands)
        for coarse, bands in age_bands().items()
    ]
    themes = table[
        (table["indicateur"] == "accompagnements")
        & (table["periode"] == str(YEAR))
        & (table["lieu"] == "ensemble")
        & (table["dimension"] == "thematique")
    ]
    top = themes.assign(v=themes["valeur"].fillna(0)).sort_values(["v", "modalite"], ascending=[False, True])["modalite"].head(5)
    asked += [shown("accompagnements", dimension="thematique", modalite=m) for m in top]
    asked += [shown("taux_satisfaction")]
    return sum(asked), len(asked)


def describe(table: pd.DataFrame, catalogue: Catalogue, publisher: Publisher) -> str:
    counts = table[table["indicateur"].isin(catalogue.count_codes())]
    true_nonzero = counts[(counts["secret"] != "") | (counts["valeur"] > 0)]
    published = int((true_nonzero["secret"] == "").sum())
    got, asked = headline(table, publisher)
    return (
        f"{len(table)} | {100 * (table['secret'] != '').mean():.0f} % | {100 * published / max(len(true_nonzero), 1):.0f} % | {got}/{asked}"
    )


def volumes(base: Path) -> None:
    print("| accompagnements | lieux | cases | masquées | cases non nulles publiées | liste phare publiée | secret (s CPU) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for sites in SITES:
        folder = folder_with_sites(base, sites)
        publisher, catalogue = read_publisher(folder), load_catalogue(Layout(folder).catalogue, frozenset(MEASURES))
        for size in sorted(SIZES + ([AIM[0]] if sites == AIM[1] else [])):
            tables = year_tables(folder, publisher, size, base)
            cells = aggregate(tables, publisher, catalogue, YEAR, None)
            start = cpu()
            table = protect(cells, catalogue, publisher, YEAR).table
            print(f"| {size} | {sites} | {describe(table, catalogue, publisher)} | {cpu() - start:.1f} |", flush=True)


def with_late_persons(tables: dict[str, pd.DataFrame], late: int, seed: int) -> dict[str, pd.DataFrame]:
    """``late`` new persons, each with 1 to 3 accompaniments copied from random records
    (their profile), in random months and sites."""
    rng = random.Random(seed)
    records = tables["accompagnements"]
    sites, months = sorted(records["lieu"].unique()), sorted(records["mois"].unique())
    rows = []
    for n in range(late):
        profile = records.iloc[rng.randrange(len(records))]
        for _ in range(rng.randint(1, 3)):
            rows.append(dict(profile, personne=f"retard-{seed}-{n}", mois=rng.choice(months), lieu=rng.choice(sites)))
    added = pd.DataFrame(rows, columns=records.columns)
    added.index = range(int(records.index.max()) + 1, int(records.index.max()) + 1 + len(added))
    return dict(tables, accompagnements=pd.concat([records, added.astype(records.dtypes.to_dict())]))


def revisions(base: Path, size: int = 1500) -> None:
    from ccas_opendata.granularity import of_table  # here: --volumes also runs on older trees
    from ccas_opendata.versions import delta_table, persons_of, revision_of

    folder = folder_with_sites(base, 3)
    publisher, catalogue = read_publisher(folder), load_catalogue(Layout(folder).catalogue, frozenset(MEASURES))
    tables = year_tables(folder, publisher, size, base)
    online = protect(aggregate(tables, publisher, catalogue, YEAR, None), catalogue, publisher, YEAR).table
    print(f"\nRévisions d'une année de {size} accompagnements (3 lieux), {len(online)} cases :\n")
    print("| personnes en retard | chiffres corrigés | chiffres gelés | chiffres nouvellement masqués | secret (s CPU) |")
    print("|---:|---:|---:|---:|---:|")
    for late in LATE:
        new = with_late_persons(tables, late, seed=late)
        start = cpu()
        granularity = of_table(online, catalogue, YEAR)  # a revision keeps the version online's
        delta = delta_table(tables, new, publisher, catalogue, YEAR, granularity)
        revision = revision_of(online, persons_of(delta, catalogue), publisher.seuil_secret, delta)
        cells = aggregate(new, publisher, catalogue, YEAR, None, granularity=granularity)
        protected = protect(cells, catalogue, publisher, YEAR, None, True, revision)
        table = protected.table
        old = online.set_index(PUBLISHED_KEY)["secret"]
        now = table.set_index(PUBLISHED_KEY)["secret"]
        newly_hidden = int(((old.reindex(now.index).fillna("") == "") & (now != "")).sum())
        print(
            f"| {late} | {figures_changed(online, table)} | {protected.totals()['gel']} | {newly_hidden} | {cpu() - start:.1f} |",
            flush=True,
        )


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as folder:
        if "--revisions" not in sys.argv:
            volumes(Path(folder))
        if "--volumes" not in sys.argv:
            revisions(Path(folder))
