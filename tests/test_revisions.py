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
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def year_total(rows: list[dict[str, str]], year: int) -> dict[str, str]:
    return next(r for r in rows if r["indicateur"] == "accompagnements" and r["periode"] == str(year)
                and r["lieu"] == "ensemble" and r["dimension"] == "ensemble")


def corrected_inputs(source: Path, target: Path, late: int = LATE) -> Path:
    """The 2023 exports plus ``late`` accompaniments of new persons (copies of existing
    lines with a new identifier, dated in June at the ccas_centre)."""
    shutil.copytree(source, target)
    path = target / "accompagnements.csv"
    with open(path, encoding="cp1252", newline="") as f:
        rows = list(csv.reader(f, delimiter=";"))
    header = rows[0]
    new = []
    for n, row in enumerate(rows[1:late + 1]):
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
    versions = {y: json.loads((folder / "datapackages" / y / "datapackage.json").read_text(encoding="utf-8"))["version"] for y in ("2023", "2024")}
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
    june = next(r for r in read_rows(folder / "datapackages" / "2023" / "indicateurs.csv")
                if r["indicateur"] == "accompagnements" and r["periode"] == "2023-06" and r["lieu"] == "ensemble" and r["dimension"] == "ensemble")
    june_before = next(r for r in before["2023"] if r["indicateur"] == "accompagnements" and r["periode"] == "2023-06"
                       and r["lieu"] == "ensemble" and r["dimension"] == "ensemble")
    if june["valeur"] and june_before["valeur"]:
        assert int(june["valeur"]) == int(june_before["valeur"]) + LATE
    # 2024's own figures do not change; its evolution is read against the corrected 2023.
    rows_2024 = read_rows(folder / "datapackages" / "2024" / "indicateurs.csv")
    total_2024 = float(year_total(rows_2024, 2024)["valeur"])
    assert year_total(rows_2024, 2024) == year_total(before["2024"], 2024)
    evolution = next(r for r in rows_2024 if r["indicateur"] == "evolution_accompagnements" and r["dimension"] == "ensemble" and r["lieu"] == "ensemble")
    assert float(evolution["valeur"]) == pytest.approx((total_2024 / (lines + LATE) - 1) * 100, abs=0.05)
    old_evolution = next(r for r in before["2024"] if r["indicateur"] == "evolution_accompagnements" and r["dimension"] == "ensemble" and r["lieu"] == "ensemble")
    assert float(old_evolution["valeur"]) == pytest.approx((total_2024 / lines - 1) * 100, abs=0.05)
    changed_2024 = {(r["periode"], r["lieu"], r["indicateur"], r["dimension"], r["modalite"]) for r in rows_2024} ^ \
        {(r["periode"], r["lieu"], r["indicateur"], r["dimension"], r["modalite"]) for r in before["2024"]}
    others = [r for r in rows_2024 if not r["indicateur"].startswith("evolution_")]
    assert others == [r for r in before["2024"] if not r["indicateur"].startswith("evolution_")]
    assert all(k[2].startswith("evolution_") for k in changed_2024)


def test_changelog_is_kept_as_data_and_served_as_page_and_feed(revised):
    folder, _, _ = revised
    entries = json.loads((folder / "changements.json").read_text(encoding="utf-8"))["changements"]
    assert [(e["annee"], e["version"], e["nature"]) for e in entries] == [
        (2023, "1.0.0", "publication"), (2023, "1.1.0", "revision"), (2024, "1.0.0", "publication"), (2024, "1.1.0", "revision")]
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
    summaries = [e.find(ATOM + "summary").text for e in feed_entries]
    assert any(MOTIF in s and f"{revision_2023['chiffres_modifies']} chiffre(s) modifié(s)" in s for s in summaries)
    assert len({e.find(ATOM + "id").text for e in feed_entries}) == 4


def test_zips_per_version_and_manifest(revised):
    folder, before, _ = revised
    downloads = folder / "telechargements"
    names = sorted(p.name for p in downloads.glob("*.zip"))
    assert names == ["ccas-opendata-2023-v1.0.0.zip", "ccas-opendata-2023-v1.1.0.zip", "ccas-opendata-2023.zip",
                     "ccas-opendata-2024-v1.0.0.zip", "ccas-opendata-2024-v1.1.0.zip", "ccas-opendata-2024.zip"]
    assert (downloads / "ccas-opendata-2023-v1.0.0.zip").read_bytes() == before["zip"]  # a version never changes
    assert (downloads / "ccas-opendata-2023.zip").read_bytes() == (downloads / "ccas-opendata-2023-v1.1.0.zip").read_bytes()
    with zipfile.ZipFile(downloads / "ccas-opendata-2023-v1.0.0.zip") as archive:
        old_csv = archive.read("indicateurs.csv").decode("utf-8")
    assert int(year_total(list(csv.DictReader(old_csv.splitlines())), 2023)["valeur"]) == int(year_total(before["2023"], 2023)["valeur"])
    with zipfile.ZipFile(downloads / "ccas-opendata-2023-v1.1.0.zip") as archive:
        assert sorted(archive.namelist()) == ["CITATION.cff", "README.md", "datapackage.json", "definitions.csv", "indicateurs.csv", "lieux.csv", "modalites.csv", "risque.json"]
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
        done = subprocess.run([str(Path(sys.executable).parent / "frictionless"), "validate", str(target / "datapackage.json")],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stdout[-3000:]


def test_the_database_traces_each_row_to_its_version(revised):
    folder, _, _ = revised
    import sqlite3
    with sqlite3.connect(folder / "publish" / "indicateurs.db") as conn:
        years = conn.execute("select annee, version from annees order by annee").fetchall()
        versions = conn.execute("select annee, version, nature, courante, fichier from versions order by annee, version").fetchall()
    conn.close()
    assert years == [(2023, "1.1.0"), (2024, "1.1.0")]
    assert versions == [(2023, "1.0.0", "publication", 0, "ccas-opendata-2023-v1.0.0.zip"), (2023, "1.1.0", "revision", 1, "ccas-opendata-2023-v1.1.0.zip"),
                        (2024, "1.0.0", "publication", 0, "ccas-opendata-2024-v1.0.0.zip"), (2024, "1.1.0", "revision", 1, "ccas-opendata-2024-v1.1.0.zip")]


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
    more = corrected_inputs(small_inputs[2023], tmp_path / "sans-motif", late=LATE + 5)
    result = release(folder, 2023, more)
    assert result.exit_code != 0 and "--motif" in result.stderr
    assert tree_digest(folder) == before


def test_motif_is_refused_for_a_first_publication(folder, small_inputs):
    result = release(folder, 2023, small_inputs[2023], "--motif", "Première fois")
    assert result.exit_code != 0 and "n'est pas encore publiée" in result.stderr
    assert not (folder / "datapackages").exists()


def test_one_late_person_is_not_revealed_to_a_reader_holding_both_versions(tmp_path, published: Path, small_inputs):
    """The canary: a revision adding two accompaniments of one new person. The independent
    attacker, holding both versions of 2023, must neither pin a hidden cell or a difference
    nor see a published count move (which would give the newcomer's profile away)."""
    from attacker import attack

    folder = copy_folder(published, tmp_path)
    inputs = corrected_inputs(small_inputs[2023], tmp_path / "entrees", late=1)
    path = inputs / "accompagnements.csv"
    lines = path.read_text(encoding="cp1252").splitlines(keepends=True)
    path.write_text("".join(lines + [lines[-1].replace("15/06/2023", "16/06/2023")]), encoding="cp1252")  # her second visit
    first = tmp_path / "v1.0.0.csv"
    shutil.copy(folder / "datapackages" / "2023" / "indicateurs.csv", first)
    result = release(folder, 2023, inputs, "--motif", "Deux accompagnements oubliés")
    assert result.exit_code == 0, result
    findings = attack([first, folder / "datapackages" / "2023" / "indicateurs.csv"], folder / "metadata", integral=True, additions_only=True)
    moved = [(cell, lo) for (_, _, cell), (lo, hi) in findings.differences.items() if lo == hi and lo != 0]
    assert not findings.narrow and not findings.small_groups and not moved, (findings.report(20), moved[:10])
    assert json.loads((folder / "changements.json").read_text(encoding="utf-8"))["changements"][1]["masques"] > 0


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
