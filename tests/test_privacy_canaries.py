"""No identifier, free text, exact date or pseudonym reaches anything published or printed.

Canary values are planted in every identifying column real exports carry; after a
real release, every file of the publication folder (the SQLite database and the Data
Docs included) and everything the command printed is searched for them, with and
without spaces.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

from ccas_opendata.anonymise import read_anonymised
from ccas_opendata.demo import synthetic_accompagnements, synthetic_ateliers, synthetic_formations, write_table
from conftest import TEST_KEY, invoke, make_folder, release

pytestmark = pytest.mark.slow
YEAR = 2024

CANARIES = {
    "Nom": "Zébulonnet",
    "Prénom": "Cunégondine",
    "Téléphone": "06 98 76 54 32",
    "Courriel": "canari.oiseau@exemple-canari.fr",
    "Adresse": "17 impasse des Canaris",
    "Date de naissance": "1987-03-14",
    "NIR": "2 87 03 75 123 456 78",
    "Numéro allocataire": "CAF-9876543",
    "Commentaire": "Madame très inquiète pour son titre de séjour",
    "Notes": "voir dossier papier armoire B",
    "Précisions démarche": "renouvellement AAH refusé",
    "Observations du conseiller": "habite chez sa sœur rue Canari",
}
USAGER_PREFIX = "CANARI-USAGER-"


def plant(frame, publisher):
    frame = frame.copy()
    for column, value in CANARIES.items():
        frame[column] = value
    frame["Usager"] = [f"{USAGER_PREFIX}{i % 400:04d}" for i in range(len(frame))]
    return frame


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def needles(pseudonyms: tuple[str, ...] = ()) -> list[str]:
    return list(CANARIES.values()) + ["14/03/1987", USAGER_PREFIX, TEST_KEY, *pseudonyms]


def pseudonyms_made(folder: Path) -> tuple[str, ...]:
    """The pseudonyms the release actually made, read from its kept records (not
    rebuilt from the tool's format: a change of format must not blind the search)."""
    records = read_anonymised(folder / ".versions" / str(YEAR) / "1.0.0")["accompagnements"]
    pseudonyms = tuple(records.loc[records["usager_connu"], "personne"].unique())
    assert len(pseudonyms) == 400  # hand count: the planted identifiers are i % 400 over 1,500 rows
    return pseudonyms


def haystacks(folder: Path) -> dict[str, str]:
    """Every file's text, and every member of every zip (the downloads are deflated)."""
    out = {}
    for path in folder.rglob("*"):
        if path.is_file() and "metadata" not in path.relative_to(folder).parts:
            out[str(path.relative_to(folder))] = path.read_bytes().decode("utf-8", errors="ignore")
            if path.suffix == ".npz":  # the private work files: their text columns, decoded
                with np.load(path, allow_pickle=False) as arrays:
                    out[str(path.relative_to(folder))] += "\n".join(str(v) for key in arrays.files for v in arrays[key].tolist())
            if path.suffix == ".zip":
                with zipfile.ZipFile(path) as archive:
                    for name in archive.namelist():
                        out[f"{path.relative_to(folder)}!{name}"] = archive.read(name).decode("utf-8", errors="ignore")
    return out


def assert_clean(texts: dict[str, str], pseudonyms: tuple[str, ...] = ()) -> None:
    for needle in needles(pseudonyms):
        for name, text in texts.items():
            assert needle.lower() not in text.lower(), (needle, name)
            assert squash(needle) not in squash(text), (needle, name)


@pytest.fixture(scope="module")
def canary_release(tmp_path_factory, publisher):
    base = tmp_path_factory.mktemp("canaris")
    inputs = base / "entrees"
    inputs.mkdir()
    write_table(plant(synthetic_accompagnements(YEAR, 1500, publisher, seed=9), publisher), inputs / "accompagnements", "xlsx")
    write_table(synthetic_ateliers(YEAR, publisher, seed=9), inputs / "ateliers", "xlsx")
    formations = synthetic_formations(YEAR, seed=9)
    formations["theme"] = CANARIES["Commentaire"]
    write_table(formations, inputs / "formations", "xlsx")
    folder = make_folder(base / "ccas")
    result = release(folder, YEAR, inputs)
    assert result.exit_code == 0, result
    return folder, result, inputs


def test_canaries_reach_no_published_file(canary_release):
    folder, _, _ = canary_release
    # The kept records of each version are private, like the work area: checked on their own below.
    texts = {name: text for name, text in haystacks(folder).items() if not name.startswith(".versions")}
    assert any(name.endswith("indicateurs.db") for name in texts)
    assert any(name.endswith(".zip!indicateurs.csv") for name in texts), "zip downloads expected"
    assert any("qualite" in name and name.endswith(".html") for name in texts), "Data Docs expected"
    assert_clean(texts, pseudonyms_made(folder))


def test_canaries_reach_nothing_printed(canary_release):
    folder, result, _ = canary_release
    assert_clean({"sortie": result.output}, pseudonyms_made(folder))
    assert "colonnes identifiantes écartées" in result.output


def test_work_area_is_removed(canary_release):
    folder, _, _ = canary_release
    assert not (folder / ".travail").exists()


def test_kept_version_records_are_private_and_pseudonymised(canary_release):
    """The records a revision compares against: owner-only, pseudonyms and months only,
    and nowhere in what is published."""
    folder, _, _ = canary_release
    kept = folder / ".versions" / str(YEAR) / "1.0.0"
    assert (kept / "accompagnements.npz").exists()
    assert {oct(p.stat().st_mode & 0o777) for p in [folder / ".versions", kept.parent, kept]} == {"0o700"}
    assert {oct(p.stat().st_mode & 0o777) for p in kept.iterdir()} == {"0o600"}
    texts = haystacks(kept)
    for needle in list(CANARIES.values()) + [USAGER_PREFIX, "14/03/1987", TEST_KEY]:
        for name, text in texts.items():
            assert squash(needle) not in squash(text), (needle, name)
    person = read_anonymised(kept)["accompagnements"]["personne"].iloc[0]
    published = {k: v for k, v in haystacks(folder).items() if not k.startswith(".versions")}
    assert not [name for name, text in published.items() if person in text]


def test_canaries_in_a_failing_release_are_not_echoed(tmp_path, publisher):
    inputs = tmp_path / "entrees"
    inputs.mkdir()
    frame = plant(synthetic_accompagnements(YEAR, 300, publisher, seed=9), publisher).astype({"Durée": object})
    frame.loc[3, "Quartier"] = CANARIES["Téléphone"]  # an identifier typed in the wrong column
    frame.loc[4, "Durée"] = CANARIES["Adresse"]
    write_table(frame, inputs / "accompagnements", "csv-excel")
    folder = make_folder(tmp_path / "ccas")
    result = release(folder, YEAR, inputs)
    assert result.exit_code == 1
    assert "ligne 5, colonne « quartier »" in result.stderr or "ligne 6, colonne « duree »" in result.stderr
    report = inputs / f"rapport-ccas-opendata-{YEAR}.html"
    assert "<td>5</td><td>quartier</td>" in report.read_text(encoding="utf-8")  # the report next to the input names the row
    assert_clean({"sortie": result.output, "rapport": report.read_text(encoding="utf-8")})
    assert not (folder / ".travail").exists()


def test_the_anonymised_work_area_holds_no_identifier(tmp_path, canary_release):
    """Even the private work area, between stages, has pseudonyms and months only."""
    _, _, inputs = canary_release
    folder = make_folder(tmp_path / "ccas")
    assert invoke("anonymise", "--dossier", folder, "--annee", YEAR, inputs).exit_code == 0
    work = folder / ".travail" / str(YEAR)
    texts = haystacks(work)
    for needle in list(CANARIES.values()) + [USAGER_PREFIX, "14/03/1987", TEST_KEY]:
        for name, text in texts.items():
            assert squash(needle) not in squash(text), (needle, name)
    columns = read_anonymised(work / "anonymise")["accompagnements"].columns
    assert "date" not in columns and "annee_naissance" not in columns
