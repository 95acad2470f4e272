"""A year's life: correcting 2023 after 2024 is out, end to end on real components.

One module-scoped revision (2023 corrected with 30 late accompaniments of 30 new persons,
all in June at the ccas_centre) is checked against hand counts: versions, changelog, feed,
zips, database, pages, and a real Datasette serving the old version's zip unchanged.
"""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from conftest import Server, copy_folder, release

pytestmark = pytest.mark.slow

LATE = 30  # late accompaniments, one new person each: at least seuil_secret persons changed
MOTIF = "Trente accompagnements de juin saisis en retard"
ATOM = "{http://www.w3.org/2005/Atom}"


def tree_digest(folder: Path) -> dict[str, str]:
    """sha256 of every file of the publication folder, private areas included."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def year_total(rows: list[dict[str, str]], year: int) -> dict[str, str]:
    return next(
        r
        for r in rows
        if r["indicateur"] == "accompagnements" and r["periode"] == str(year) and r["lieu"] == "ensemble" and r["dimension"] == "ensemble"
    )


def corrected_inputs(source: Path, target: Path, late: int = LATE) -> Path:
    """The 2023 exports plus ``late`` accompaniments of new persons (copies of existing
    lines with a new identifier, dated in June at the ccas_centre)."""
    shutil.copytree(source, target)
    path = target / "accompagnements.csv"
    with open(path, encoding="cp1252", newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    header = rows[0]
    new = []
    for n, row in enumerate(rows[1 : late + 1]):
        row = list(row)
        row[header.index("Usager")] = f"RETARD-{n:03d}"
        row[header.index("Date")] = "15/06/2023"
        row[header.index("Lieu")] = "ccas_centre"
        new.append(row)
    with open(path, "a", encoding="cp1252", newline="") as f:
        csv.writer(f, delimiter=";", lineterminator="\r\n").writerows(new)
    return target


@pytest.fixture(scope="module")
def revised(tmp_path_factory, published: Path, small_inputs):
    """The published folder (2023 and 2024), then 2023 corrected; with what was online before."""
    base = tmp_path_factory.mktemp("revision")
    folder = copy_folder(published, base)
    before = {
        "2023": read_rows(folder / "datapackages" / "2023" / "indicateurs.csv"),
        "2024": read_rows(folder / "datapackages" / "2024" / "indicateurs.csv"),
        "zip": (folder / "telechargements" / "ccas-opendata-2023-v1.0.0.zip").read_bytes(),
    }
    inputs = corrected_inputs(small_inputs[2023], base / "entrees-2023")
    result = release(folder, 2023, inputs, "--motif", MOTIF)
    assert result.exit_code == 0, result
    return folder, before, result


def test_correcting_2023_raises_both_versions(revised):
    folder, _, result = revised
    versions = {
        y: json.loads((folder / "datapackages" / y / "datapackage.json").read_text(encoding="utf-8"))["version"] for y in ("2023", "2024")
    }
    assert versions == {"2023": "1.1.0", "2024": "1.1.0"}
    assert "Année 2023 révisée." in result.stdout
    assert "2023 passe en version 1.1.0" in result.stdout and "2024 passe en version 1.1.0" in result.stdout
    assert "chiffre(s) changent" in result.stderr  # the difference is shown before publishing


def test_the_corrected_figures_are_the_hand_counts(revised, small_inputs):
    folder, before, _ = revised
    with open(small_inputs[2023] / "accompagnements.csv", encoding="cp1252") as f:
        lines = sum(1 for _ in f) - 1
    total_2023 = year_total(read_rows(folder / "datapackages" / "2023" / "indicateurs.csv"), 2023)
    assert int(year_total(before["2023"], 2023)["valeur"]) == lines
    assert total_2023["secret"] == "" and int(total_2023["valeur"]) == lines + LATE  # 30 persons changed it: published
    june = next(
        r
        for r in read_rows(folder / "datapackages" / "2023" / "indicateurs.csv")
        if r["indicateur"] == "accompagnements" and r["periode"] == "2023-06" and r["lieu"] == "ensemble" and r["dimension"] == "ensemble"
    )
    june_before = next(
        r
        for r in before["2023"]
        if r["indicateur"] == "accompagnements" and r["periode"] == "2023-06" and r["lieu"] == "ensemble" and r["dimension"] == "ensemble"
    )
    if june["valeur"] and june_before["valeur"]:
        assert int(june["valeur"]) == int(june_before["valeur"]) + LATE
    # 2024's own figures do not change; its evolution is read against the corrected 2023.
    rows_2024 = read_rows(folder / "datapackages" / "2024" / "indicateurs.csv")
    total_2024 = float(year_total(rows_2024, 2024)["valeur"])
    assert year_total(rows_2024, 2024) == year_total(before["2024"], 2024)
    evolution = next(
        r for r in rows_2024 if r["indicateur"] == "evolution_accompagnements" and r["dimension"] == "ensemble" and r["lieu"] == "ensemble"
    )
    assert float(evolution["valeur"]) == pytest.approx((total_2024 / (lines + LATE) - 1) * 100, abs=0.05)
    old_evolution = next(
        r
        for r in before["2024"]
        if r["indicateur"] == "evolution_accompagnements" and r["dimension"] == "ensemble" and r["lieu"] == "ensemble"
    )
    assert float(old_evolution["valeur"]) == pytest.approx((total_2024 / lines - 1) * 100, abs=0.05)
    changed_2024 = {(r["periode"], r["lieu"], r["indicateur"], r["dimension"], r["modalite"]) for r in rows_2024} ^ {
        (r["periode"], r["lieu"], r["indicateur"], r["dimension"], r["modalite"]) for r in before["2024"]
    }
    others = [r for r in rows_2024 if not r["indicateur"].startswith("evolution_")]
    assert others == [r for r in before["2024"] if not r["indicateur"].startswith("evolution_")]
    assert all(k[2].startswith("evolution_") for k in changed_2024)


def test_changelog_is_kept_as_data_and_served_as_page_and_feed(revised):
    folder, _, _ = revised
    entries = json.loads((folder / "changements.json").read_text(encoding="utf-8"))["changements"]
    assert [(e["annee"], e["version"], e["nature"]) for e in entries] == [
        (2023, "1.0.0", "publication"),
        (2023, "1.1.0", "revision"),
        (2024, "1.0.0", "publication"),
        (2024, "1.1.0", "revision"),
    ]
    revision_2023, revision_2024 = entries[1], entries[3]
    assert revision_2023["motif"] == MOTIF and revision_2023["date"] == "2026-01-01"
    assert MOTIF in revision_2024["motif"] and "2023" in revision_2024["motif"]
    before_after = {y: read_rows(folder / "datapackages" / y / "indicateurs.csv") for y in ("2023", "2024")}
    assert revision_2023["chiffres_modifies"] > 0 and revision_2024["chiffres_modifies"] >= 1
    assert revision_2024["masques"] == 0 and len(before_after["2024"]) > 0
    page = (folder / "publish" / "pages" / "changements.html").read_text(encoding="utf-8")
    assert MOTIF in page and "1.1.0" in page
    feed = ET.parse(folder / "publish" / "pages" / "changements.atom").getroot()
    assert feed.tag == ATOM + "feed"
    for required in ("id", "title", "updated", "author"):
        assert feed.find(ATOM + required) is not None, required
    feed_entries = feed.findall(ATOM + "entry")
    assert len(feed_entries) == 4
    summaries = [e.findtext(ATOM + "summary") or "" for e in feed_entries]
    assert any(MOTIF in s and f"{revision_2023['chiffres_modifies']} chiffre(s) modifié(s)" in s for s in summaries)
    assert len({e.findtext(ATOM + "id") for e in feed_entries}) == 4


def test_zips_per_version_and_manifest(revised):
    folder, before, _ = revised
    downloads = folder / "telechargements"
    names = sorted(p.name for p in downloads.glob("*.zip"))
    assert names == [
        "ccas-opendata-2023-v1.0.0.zip",
        "ccas-opendata-2023-v1.1.0.zip",
        "ccas-opendata-2023.zip",
        "ccas-opendata-2024-v1.0.0.zip",
        "ccas-opendata-2024-v1.1.0.zip",
        "ccas-opendata-2024.zip",
    ]
    assert (downloads / "ccas-opendata-2023-v1.0.0.zip").read_bytes() == before["zip"]  # a version never changes
    assert (downloads / "ccas-opendata-2023.zip").read_bytes() == (downloads / "ccas-opendata-2023-v1.1.0.zip").read_bytes()
    with zipfile.ZipFile(downloads / "ccas-opendata-2023-v1.0.0.zip") as archive:
        old_csv = archive.read("indicateurs.csv").decode("utf-8")
    assert int(year_total(list(csv.DictReader(old_csv.splitlines())), 2023)["valeur"]) == int(year_total(before["2023"], 2023)["valeur"])
    with zipfile.ZipFile(downloads / "ccas-opendata-2023-v1.1.0.zip") as archive:
        assert sorted(archive.namelist()) == [
            "CITATION.cff",
            "README.md",
            "datapackage.json",
            "definitions.csv",
            "indicateurs.csv",
            "lieux.csv",
            "modalites.csv",
            "risque.json",
        ]
        readme = archive.read("README.md").decode("utf-8")
        citation = archive.read("CITATION.cff").decode("utf-8")
        assert archive.read("indicateurs.csv") == (folder / "datapackages" / "2023" / "indicateurs.csv").read_bytes()
    for words in ("Licence Ouverte", "Citer ces données", "Secret statistique", "1.1.0", MOTIF, "personnes distinctes"):
        assert words in readme, words
    assert "cff-version: 1.2.0" in citation and 'version: "1.1.0"' in citation and "type: dataset" in citation
    manifest = json.loads((downloads / "telechargements.json").read_text(encoding="utf-8"))["fichiers"]
    assert {tuple(sorted(f)) for f in manifest} == {("annee", "courant", "date", "fichier", "octets", "sha256", "url", "version")}
    by_name = {f["fichier"]: f for f in manifest}
    assert sorted(by_name) == names
    for name, entry in by_name.items():
        data = (downloads / name).read_bytes()
        assert entry["octets"] == len(data) and entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["url"] == f"/telechargements/{name}"
    assert by_name["ccas-opendata-2023.zip"]["version"] == "1.1.0" and by_name["ccas-opendata-2023.zip"]["courant"] is True
    assert by_name["ccas-opendata-2023-v1.0.0.zip"]["courant"] is False and by_name["ccas-opendata-2023-v1.1.0.zip"]["courant"] is True


def test_each_zip_validates_with_frictionless(revised, tmp_path):
    folder, _, _ = revised
    for name in ("ccas-opendata-2023-v1.0.0.zip", "ccas-opendata-2024-v1.1.0.zip"):
        target = tmp_path / name
        with zipfile.ZipFile(folder / "telechargements" / name) as archive:
            archive.extractall(target)
        done = subprocess.run(
            [str(Path(sys.executable).parent / "frictionless"), "validate", str(target / "datapackage.json")],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout[-3000:]


def test_the_database_traces_each_row_to_its_version(revised):
    folder, _, _ = revised
    import sqlite3

    with sqlite3.connect(folder / "publish" / "indicateurs.db") as conn:
        years = conn.execute("select annee, version from annees order by annee").fetchall()
        versions = conn.execute("select annee, version, nature, courante, fichier from versions order by annee, version").fetchall()
    conn.close()
    assert years == [(2023, "1.1.0"), (2024, "1.1.0")]
    assert versions == [
        (2023, "1.0.0", "publication", 0, "ccas-opendata-2023-v1.0.0.zip"),
        (2023, "1.1.0", "revision", 1, "ccas-opendata-2023-v1.1.0.zip"),
        (2024, "1.0.0", "publication", 0, "ccas-opendata-2024-v1.0.0.zip"),
        (2024, "1.1.0", "revision", 1, "ccas-opendata-2024-v1.1.0.zip"),
    ]


def test_old_version_is_served_unchanged_by_a_real_datasette(revised):
    folder, before, _ = revised
    server = Server(folder)
    try:
        old = server.get("/telechargements/ccas-opendata-2023-v1.0.0.zip")
        assert old.status_code == 200 and old.headers["content-type"] == "application/zip"
        assert old.content == before["zip"]
        assert "immutable" in old.headers["cache-control"]
        current = server.get("/telechargements/ccas-opendata-2023.zip")
        assert current.content == (folder / "telechargements" / "ccas-opendata-2023-v1.1.0.zip").read_bytes()
        page = server.get("/telechargements")
        assert page.status_code == 200
        for entry in json.loads(server.get("/telechargements/telechargements.json").text)["fichiers"]:
            assert entry["sha256"] in page.text and entry["fichier"] in page.text
        feed = server.get("/changements.atom")
        assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/atom+xml")
        assert MOTIF in server.get("/changements").text
        api = server.get("/api").text
        assert "stabilité" in api.lower() and "/indicateurs/versions" in api
        assert server.get("/telechargements/ccas-opendata-2023-v9.9.9.zip").status_code == 404
        assert server.get("/indicateurs/versions.json?_shape=array").json()[1]["motif"] == MOTIF
    finally:
        server.stop()


def test_a_failed_revision_leaves_every_byte_as_it_was(revised, tmp_path, small_inputs):
    folder, _, _ = revised
    before = tree_digest(folder)
    # A bad file: a date outside the year.
    bad = corrected_inputs(small_inputs[2023], tmp_path / "mauvais", late=1)
    text = (bad / "accompagnements.csv").read_text(encoding="cp1252").replace("15/06/2023", "15/06/2031")
    (bad / "accompagnements.csv").write_text(text, encoding="cp1252")
    result = release(folder, 2023, bad, "--motif", "Essai d'un fichier erroné")
    assert result.exit_code != 0 and "Erreur" in result.stderr
    assert tree_digest(folder) == before
    # A revision that changes figures without its motif.
    more = corrected_inputs(small_inputs[2023], tmp_path / "sans-motif", late=2 * LATE)  # 30 more persons than 1.1.0
    result = release(folder, 2023, more)
    assert result.exit_code != 0 and "--motif" in result.stderr
    assert tree_digest(folder) == before


def test_motif_is_refused_for_a_first_publication(folder, small_inputs):
    result = release(folder, 2023, small_inputs[2023], "--motif", "Première fois")
    assert result.exit_code != 0 and "n'est pas encore publiée" in result.stderr
    assert not (folder / "datapackages").exists()


def public_files(folder: Path) -> dict[str, str]:
    """sha256 of everything a reader can get: packages, site, database, zips, changelog."""
    digests = {}
    for sub in ("datapackages", "publish", "telechargements"):
        for path in sorted((folder / sub).rglob("*")):
            if path.is_file():
                digests[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    digests["changements.json"] = hashlib.sha256((folder / "changements.json").read_bytes()).hexdigest()
    return digests


def one_late_person(source: Path, target: Path) -> Path:
    """The canary: one new person with two accompaniments (June 15 and 16, ccas_centre)."""
    inputs = corrected_inputs(source, target, late=1)
    path = inputs / "accompagnements.csv"
    lines = path.read_text(encoding="cp1252").splitlines(keepends=True)
    path.write_text("".join(lines + [lines[-1].replace("15/06/2023", "16/06/2023")]), encoding="cp1252")  # her second visit
    return inputs


def test_one_added_person_changes_no_public_byte(tmp_path, published: Path, small_inputs):
    """The canary: a revision adding two accompaniments of one new person. Every figure she
    moves is frozen: no package, page, database row, zip or changelog line changes, no new
    version is made, and the agent is told why; her records wait in the private snapshot of
    the version online for later corrections."""
    folder = copy_folder(published, tmp_path)
    before = public_files(folder)
    result = release(folder, 2023, one_late_person(small_inputs[2023], tmp_path / "entrees"), "--motif", "Deux accompagnements oubliés")
    assert result.exit_code == 0, result
    assert public_files(folder) == before
    assert sorted(p.name for p in (folder / ".versions" / "2023").iterdir()) == ["1.0.0"]
    assert "corrections retenues, rien de public ne change" in result.stdout
    assert "gardent la valeur de la version en ligne" in result.stdout
    assert "Aucun chiffre ne change" in result.stdout


def test_thirty_late_persons_move_no_figure_by_fewer_than_the_threshold(revised, tmp_path):
    """A reader holding 1.0.0 and 1.1.0 of 2023 compares values and secret flags, cell by
    cell. Each late person has one accompaniment, so every count a figure moves by is a
    number of changed persons: none moves by 1 to 10, and no figure changes its secret
    state (a cell turning secret is what gave a late person's profile away). The
    independent attacker of tests/attacker.py assumes each version adds up, which a
    revision with frozen cells does not (a total may exceed the sum of its frozen
    parts): branch i15atk writes the attacker of the new format."""
    folder, before, _ = revised
    key = ("periode", "lieu", "indicateur", "dimension", "modalite")
    old = {tuple(r[k] for k in key): r for r in before["2023"]}
    new = {tuple(r[k] for k in key): r for r in read_rows(folder / "datapackages" / "2023" / "indicateurs.csv")}
    assert set(old) == set(new)
    counts = {"accompagnements", "usagers"}
    moved = [
        (k, float(new[k]["valeur"]) - float(old[k]["valeur"]))
        for k in new
        if k[2] in counts and new[k]["secret"] == old[k]["secret"] == "" and new[k]["valeur"] != old[k]["valeur"]
    ]
    assert moved and all(abs(d) >= 11 for _, d in moved), [m for m in moved if abs(m[1]) < 11][:10]
    assert [k for k in new if (new[k]["secret"] == "") != (old[k]["secret"] == "")] == []


def test_a_modality_of_few_late_persons_is_frozen_and_one_of_many_revised(revised, small_inputs):
    """Hand count on the 30 late rows (copies of the first 30 lines with new persons): a
    quartier holding 1 to 10 of them keeps its 1.0.0 value and state in 1.1.0; the total
    moves by exactly 30."""
    folder, before, _ = revised
    with open(small_inputs[2023] / "accompagnements.csv", encoding="cp1252", newline="") as f:
        late = list(csv.DictReader(f, delimiter=";"))[:LATE]
    per_quartier: dict[str, int] = {}
    for row in late:
        per_quartier[row["Quartier"]] = per_quartier.get(row["Quartier"], 0) + 1
    few = sorted(q for q, n in per_quartier.items() if q and 0 < n < 11)
    assert few  # the demo's 30 first lines spread over quartiers

    def quartier(rows: list[dict[str, str]], code: str) -> tuple[str, str]:
        found = next(
            r
            for r in rows
            if r["indicateur"] == "accompagnements"
            and r["periode"] == "2023"
            and r["lieu"] == "ensemble"
            and r["dimension"] == "quartier"
            and r["modalite"] == code
        )
        return found["valeur"], found["secret"]

    after = read_rows(folder / "datapackages" / "2023" / "indicateurs.csv")
    for code in few:
        assert quartier(after, code) == quartier(before["2023"], code), code
    assert int(year_total(after, 2023)["valeur"]) == int(year_total(before["2023"], 2023)["valeur"]) + LATE


def test_a_second_revision_models_the_frozen_figures_of_the_first(revised, tmp_path, small_inputs):
    """1.1.0 shows frozen figures (its private gel.json lists them); 30 more late persons
    make 1.2.0, audited against 1.1.0 with those figures as unknowns, and checked against
    1.0.0 (still downloadable) too: no count moves by 1 to 10 against either version."""
    folder = copy_folder(revised[0], tmp_path)
    frozen = folder / ".versions" / "2023" / "1.1.0" / "gel.json"
    assert json.loads(frozen.read_text(encoding="utf-8")) and oct(frozen.stat().st_mode & 0o777) == "0o600"
    versions = []
    with zipfile.ZipFile(folder / "telechargements" / "ccas-opendata-2023-v1.0.0.zip") as archive:
        versions.append(
            list(
                csv.DictReader(
                    archive.read(next(n for n in archive.namelist() if n.endswith("indicateurs.csv"))).decode("utf-8").splitlines()
                )
            )
        )
    versions.append(read_rows(folder / "datapackages" / "2023" / "indicateurs.csv"))
    result = release(folder, 2023, corrected_inputs(small_inputs[2023], tmp_path / "entrees", late=2 * LATE), "--motif", "Trente de plus")
    assert result.exit_code == 0, result
    assert "2023 passe en version 1.2.0" in result.stdout
    key = ("periode", "lieu", "indicateur", "dimension", "modalite")
    new = {tuple(r[k] for k in key): r for r in read_rows(folder / "datapackages" / "2023" / "indicateurs.csv")}
    for rows in versions:
        old = {tuple(r[k] for k in key): r for r in rows}
        moved = [
            (k, float(new[k]["valeur"]) - float(old[k]["valeur"]))
            for k in new
            if k[2] in ("accompagnements", "usagers")
            and new[k]["secret"] == old[k]["secret"] == ""
            and new[k]["valeur"] != old[k]["valeur"]
        ]
        assert all(abs(d) >= 11 for _, d in moved), [m for m in moved if abs(m[1]) < 11][:10]
        assert [k for k in new if (new[k]["secret"] == "") != (old[k]["secret"] == "")] == []
    assert int(year_total(list(new.values()), 2023)["valeur"]) == int(year_total(versions[0], 2023)["valeur"]) + 2 * LATE


def test_late_persons_spread_over_the_year_keep_the_months_adding_up(tmp_path, published: Path, small_inputs):
    """Fifteen late persons, one a month in turn: each month changed by one or two persons
    is frozen, so the year's total is frozen with it (the quality check « les mois publiés
    font le total de l'année » holds in every version) and no figure moves by 1 to 10."""
    folder = copy_folder(published, tmp_path)
    inputs = corrected_inputs(small_inputs[2023], tmp_path / "entrees", late=15)
    path = inputs / "accompagnements.csv"
    lines = path.read_text(encoding="cp1252").splitlines(keepends=True)
    head, late = lines[:-15], lines[-15:]
    late = [line.replace("15/06/2023", f"15/{n % 12 + 1:02d}/2023") for n, line in enumerate(late)]
    path.write_text("".join(head + late), encoding="cp1252")
    before = read_rows(folder / "datapackages" / "2023" / "indicateurs.csv")
    result = release(folder, 2023, inputs, "--motif", "Quinze accompagnements de l'année saisis en retard")
    assert result.exit_code == 0, result
    after = read_rows(folder / "datapackages" / "2023" / "indicateurs.csv")
    months = [
        r
        for r in after
        if r["indicateur"] == "accompagnements" and len(r["periode"]) == 7 and r["lieu"] == "ensemble" and r["dimension"] == "ensemble"
    ]
    if all(r["secret"] == "" for r in months):
        assert sum(int(r["valeur"]) for r in months) == int(year_total(after, 2023)["valeur"])
    assert year_total(after, 2023) == year_total(before, 2023)  # frozen with its months


def test_no_public_file_names_the_rule_that_hid_a_figure(revised):
    """One public symbol: packages, site pages, database, zips (every member), changelog and
    risk reports say « secret » and never which rule (primaire / secondaire) hid a figure."""
    import re
    import sqlite3

    folder, _, _ = revised
    pattern = re.compile(rb"primaire|secondaire", re.IGNORECASE)
    offending = []
    for sub in ("datapackages", "publish", "telechargements"):
        for path in sorted((folder / sub).rglob("*")):
            if not path.is_file():
                continue
            if path.suffix == ".zip":
                with zipfile.ZipFile(path) as archive:
                    offending += [f"{path.name}:{n}" for n in archive.namelist() if pattern.search(archive.read(n))]
            elif path.suffix != ".db" and pattern.search(path.read_bytes()):
                offending.append(str(path.relative_to(folder)))
    assert not offending, offending
    with sqlite3.connect(folder / "publish" / "indicateurs.db") as db:
        assert {r[0] for r in db.execute("select distinct secret from indicateurs")} == {"", "secret"}
    rows = read_rows(folder / "datapackages" / "2023" / "indicateurs.csv")
    assert {r["secret"] for r in rows} == {"", "secret"}
    assert all(r["valeur"] == "" for r in rows if r["secret"])


def test_the_revision_note_says_small_corrections_wait(revised):
    folder, _, _ = revised
    entry = [e for e in json.loads((folder / "changements.json").read_text(encoding="utf-8"))["changements"] if e["annee"] == 2023][-1]
    assert entry["version"] == "1.1.0" and "au moins 11 personnes" in entry["note"]
    assert "au moins 11 personnes" in (folder / "publish" / "pages" / "changements.html").read_text(encoding="utf-8")


def test_zips_are_byte_reproducible(revised, tmp_path, publisher):
    """The same package and history give the same zip, byte for byte (fixed entry order,
    timestamps from the package's date, modes)."""
    from ccas_opendata.downloads import write_zip

    folder, _, _ = revised
    history = [e for e in json.loads((folder / "changements.json").read_text(encoding="utf-8"))["changements"] if e["annee"] == 2024]
    again = tmp_path / "again.zip"
    write_zip(again, folder / "datapackages" / "2024", publisher, history)
    assert again.read_bytes() == (folder / "telechargements" / "ccas-opendata-2024-v1.1.0.zip").read_bytes()
    with zipfile.ZipFile(again) as archive:
        assert {info.date_time for info in archive.infolist()} == {(2026, 1, 1, 0, 0, 0)}  # SOURCE_DATE_EPOCH of the tests


def test_kept_records_follow_the_key_and_legacy_years(tmp_path, published: Path, small_inputs, monkeypatch):
    """A year published before versions were kept gets its records on an unchanged re-release;
    a revision under another key is refused (every pseudonym would differ, every person look
    changed), leaving every byte as it was."""
    folder = copy_folder(published, tmp_path)
    shutil.rmtree(folder / ".versions" / "2023")
    result = release(folder, 2023, small_inputs[2023])
    assert result.exit_code == 0, result
    kept = folder / ".versions" / "2023" / "1.0.0"
    assert (kept / "accompagnements.npz").exists() and oct(kept.stat().st_mode & 0o777) == "0o700"
    before = tree_digest(folder)
    monkeypatch.setenv("CCAS_OPENDATA_CLE", "une-autre-cle-" + "8" * 40)
    inputs = corrected_inputs(small_inputs[2023], tmp_path / "entrees")
    refused = release(folder, 2023, inputs, "--motif", "Corrections")
    assert refused.exit_code != 0 and "pas celle qui a servi à publier 2023" in refused.stderr
    assert tree_digest(folder) == before
