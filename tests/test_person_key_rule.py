"""A year published under the legacy person-key rule is revised without the leak.

Before issue #14, a person's pseudonym was the keyed HMAC of her ``usager`` cell,
``strip()``-ed: « DUPONT Marie » and « Dupont Marie » were two persons. Now the key goes
through one fingerprint first, and they are one. A year published before the change
keeps records whose pseudonyms follow the old rule; compared with pseudonyms of the new
rule, every person would look removed and added again, no correction would be frozen,
and one late person's cells would be published: her profile.

How the legacy publication is built here: a real release of names typed in varying case,
then the kept records' pseudonyms are rewritten with the legacy HMAC of the same cells
(computed below from the rule as it was, not by the project's code) and the rule marker
is removed, as a snapshot kept before the marker existed has none. Its published figures
are those of the real release.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import TEST_KEY, copy_folder, invoke, make_folder, release

pytestmark = pytest.mark.slow

YEAR = 2023
CANARY = re.compile(rb"canari", re.IGNORECASE)  # every raw name typed in the inputs carries it
LEGACY_VERSION = ".versions/2023/1.0.0"


def letters(number: str) -> str:
    return "".join(chr(ord("A") + int(d)) for d in number if d.isdigit())


def read_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="cp1252", newline="") as f:
        return list(csv.reader(f, delimiter=";"))


def write_csv(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", encoding="cp1252", newline="") as f:
        csv.writer(f, delimiter=";", lineterminator="\r\n").writerows(rows)


def named_inputs(source: Path, target: Path) -> Path:
    """The demo year with each file number replaced by a name, typed « CANARIxyz Marie »
    on a person's odd visits and « Canarixyz Marie » on her even ones."""
    shutil.copytree(source, target)
    rows = read_csv(target / "accompagnements.csv")
    column = rows[0].index("Usager")
    seen: dict[str, int] = {}
    for row in rows[1:]:
        surname = "CANARI" + letters(row[column])
        visit = seen[row[column]] = seen.get(row[column], 0) + 1
        row[column] = f"{surname if visit % 2 else surname.capitalize()} Marie"
    write_csv(target / "accompagnements.csv", rows)
    return target


def with_late_persons(source: Path, target: Path, persons: int, visits: int = 1, tag: str = "L") -> Path:
    """``source`` plus ``persons`` new persons, each with ``visits`` accompaniments in June
    at the ccas_centre (copies of existing lines under a new name)."""
    shutil.copytree(source, target)
    path = target / "accompagnements.csv"
    rows = read_csv(path)
    header = rows[0]
    for n in range(persons):
        for day in range(visits):
            row = list(rows[1 + n])
            row[header.index("Usager")] = f"CANARI{tag}{letters(str(n))}Z Paulette"
            row[header.index("Date")] = f"{15 + day}/06/2023"
            row[header.index("Lieu")] = "ccas_centre"
            rows.append(row)
    write_csv(path, rows)
    return target


def legacy_pseudonym(cell: str) -> str:
    """The rule as it was before the fingerprint: HMAC-SHA256 of the stripped cell, 32 hex."""
    return hmac.digest(TEST_KEY.encode("utf-8"), cell.strip().encode("utf-8"), "sha256").hex()[:32]


def check_legacy_pseudonyms(kept: Path, inputs: Path) -> int:
    """The kept records' pseudonyms are the legacy ones of the same cells, computed here from
    the rule as it was (the records' row numbers are the file's line numbers). Returns the
    distinct legacy persons."""
    rows = read_csv(inputs / "accompagnements.csv")
    column = rows[0].index("Usager")
    by_line = {line: row[column] for line, row in enumerate(rows[1:], start=2)}
    with np.load(kept / "accompagnements.npz", allow_pickle=False) as stored:
        arrays = {name: stored[name] for name in stored.files}
    assert sorted(arrays["_ligne"].tolist()) == sorted(by_line)  # every record is a line of the file
    position = arrays["_colonnes"].tolist().index("personne")
    stored_pseudonyms = arrays[f"{position}.textes"][arrays[f"{position}.codes"]].tolist()
    expected = [legacy_pseudonym(by_line[int(line)]) for line in arrays["_ligne"]]
    assert stored_pseudonyms == expected
    return len(set(expected))


def kept_persons(kept: Path) -> int:
    with np.load(kept / "accompagnements.npz", allow_pickle=False) as stored:
        position = stored["_colonnes"].tolist().index("personne")
        return len(set(stored[f"{position}.codes"].tolist()))


def public_files(folder: Path) -> dict[str, str]:
    """sha256 of everything a reader can get: packages, site, database, zips, changelog."""
    digests = {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for sub in ("datapackages", "publish", "telechargements")
        for p in sorted((folder / sub).rglob("*"))
        if p.is_file()
    }
    digests["changements.json"] = hashlib.sha256((folder / "changements.json").read_bytes()).hexdigest()
    return digests


def files_naming_a_person(folder: Path) -> list[str]:
    """Every file of the publication folder (private areas included) holding a raw name,
    in any case (the fingerprint « canarixyz_marie » included)."""
    return [str(p.relative_to(folder)) for p in sorted(folder.rglob("*")) if p.is_file() and CANARY.search(p.read_bytes())]


def persons_published(folder: Path) -> int:
    """The year's distinct persons as published (``usagers``, whole CCAS)."""
    return int(next(f[5] for f in figures(folder) if f[:5] == (str(YEAR), "ensemble", "usagers", "ensemble", "ensemble")))


def figures(folder: Path) -> list[tuple[str, ...]]:
    """The published figures: key, value and secret columns of indicateurs.csv."""
    text = (folder / "datapackages" / str(YEAR) / "indicateurs.csv").read_text(encoding="utf-8")
    return [
        (r["periode"], r["lieu"], r["indicateur"], r["dimension"], r["modalite"], r["valeur"], r["secret"])
        for r in csv.DictReader(io.StringIO(text))
    ]


def version_of(folder: Path) -> str:
    return json.loads((folder / "datapackages" / str(YEAR) / "datapackage.json").read_text(encoding="utf-8"))["version"]


@pytest.fixture(scope="module")
def legacy(tmp_path_factory, small_inputs):
    """2023 published, its kept records in the legacy rule (no marker)."""
    base = tmp_path_factory.mktemp("regle")
    inputs = named_inputs(small_inputs[YEAR], base / "entrees")
    folder = make_folder(base / "ccas")
    # A year as the code before the fingerprint published it: figures and kept records both
    # made under the legacy rule. The release takes a year's rule from its kept versions, so a
    # stand-in kept version without rule marker makes the first publication legacy; it is
    # removed afterwards, and so is the marker, as an old kept version has none.
    stand_in = folder / ".versions" / str(YEAR) / "0.0.0"
    stand_in.mkdir(parents=True)
    (stand_in / "cle.empreinte").write_text("remplacant\n", encoding="ascii")
    result = release(folder, YEAR, inputs)
    assert result.exit_code == 0, result
    shutil.rmtree(stand_in)
    kept = folder / LEGACY_VERSION
    assert (kept / "regle-personne").read_text(encoding="ascii").strip() == "1"
    (kept / "regle-personne").unlink()
    legacy_persons = check_legacy_pseudonyms(kept, inputs)
    rows = read_csv(inputs / "accompagnements.csv")
    fold_persons = len({" ".join(r[rows[0].index("Usager")].lower().split()) for r in rows[1:]})  # by hand: case only differs
    demo_persons = len(
        {
            r[read_csv(small_inputs[YEAR] / "accompagnements.csv")[0].index("Usager")]
            for r in read_csv(small_inputs[YEAR] / "accompagnements.csv")[1:]
        }
    )
    # The two rules really differ: the case variants are two persons under the legacy one.
    assert legacy_persons > fold_persons == demo_persons
    assert persons_published(folder) == legacy_persons  # the figures count persons the legacy way
    assert files_naming_a_person(folder) == [] and files_naming_a_person(inputs)  # (the grep finds them where they are)
    return folder, inputs


def test_one_late_person_changes_no_public_byte_stage_by_stage(legacy, tmp_path):
    """The canary, command by command (the legacy pseudonyms cross from « anonymise » to
    « aggregate » in the private work area): no public byte changes, and no raw name is
    anywhere in the folder between the commands or after."""
    source, inputs = legacy
    folder = copy_folder(source, tmp_path)
    before, figures_before = public_files(folder), figures(folder)
    late = with_late_persons(inputs, tmp_path / "entrees", persons=1, visits=2)
    motif = ("--motif", "Deux accompagnements oubliés")
    steps = [
        ("anonymise", "--dossier", folder, "--annee", YEAR, late),
        ("aggregate", "--dossier", folder, "--annee", YEAR),
        ("validate", "--dossier", folder, "--annee", YEAR),
        ("package", "--dossier", folder, "--annee", YEAR, *motif),
        ("publish", "--dossier", folder, "--annee", YEAR, *motif),
    ]
    for step in steps:
        result = invoke(*step)
        assert result.exit_code == 0, (step[0], result)
        assert files_naming_a_person(folder) == [], step[0]
        if step[0] == "anonymise":
            # The work area's records carry the year's legacy rule, for aggregate run on its own.
            assert (folder / ".travail" / str(YEAR) / "anonymise" / "regle-personne").read_text(encoding="ascii").strip() == "1"
    assert figures(folder) == figures_before
    assert public_files(folder) == before
    assert version_of(folder) == "1.0.0"
    assert sorted(p.name for p in (folder / ".versions" / str(YEAR)).iterdir()) == ["1.0.0"]


def test_without_the_rule_the_same_person_would_be_published(legacy, tmp_path):
    """The control: the same kept records taken for new-rule ones (the marker says 2).
    Every person then looks changed, and her cells are revised: the leak the rule closes."""
    source, inputs = legacy
    folder = copy_folder(source, tmp_path)
    (folder / LEGACY_VERSION / "regle-personne").write_text("2\n", encoding="ascii")
    figures_before = figures(folder)
    result = release(
        folder, YEAR, with_late_persons(inputs, tmp_path / "entrees", persons=1, visits=2), "--motif", "Deux accompagnements oubliés"
    )
    assert result.exit_code == 0, result
    assert version_of(folder) == "1.1.0" and figures(folder) != figures_before


@pytest.fixture(scope="module")
def revised(legacy, tmp_path_factory):
    """2023 corrected with 30 late persons (one accompaniment each): revised to 1.1.0."""
    source, inputs = legacy
    base = tmp_path_factory.mktemp("revision")
    folder = copy_folder(source, base)
    before = figures(folder)
    late = with_late_persons(inputs, base / "entrees", persons=30, tag="R")
    result = release(folder, YEAR, late, "--motif", "Trente accompagnements saisis en retard")
    assert result.exit_code == 0, result
    return folder, late, before


def test_a_correction_of_thirty_persons_is_revised(revised):
    folder, late, before = revised
    lines = len(read_csv(late / "accompagnements.csv")) - 1
    total = next(f for f in figures(folder) if f[:5] == (str(YEAR), "ensemble", "accompagnements", "ensemble", "ensemble"))
    old_total = next(f for f in before if f[:5] == total[:5])
    assert version_of(folder) == "1.1.0"
    assert (int(old_total[5]), int(total[5]), total[6]) == (lines - 30, lines, "")
    kept = folder / ".versions" / str(YEAR)
    assert sorted(p.name for p in kept.iterdir()) == ["1.0.0", "1.1.0"]
    # The year keeps the rule of its first publication: the new version is kept in the legacy rule too.
    assert (kept / "1.1.0" / "regle-personne").read_text(encoding="ascii").strip() == "1"
    assert not (kept / "1.0.0" / "regle-personne").exists()  # the legacy one left as it was
    assert files_naming_a_person(folder) == []


def test_the_next_revision_compares_with_the_legacy_and_the_new_versions(revised, tmp_path):
    """After the revision, one more late person: compared with 1.1.0 (online) and 1.0.0
    (still downloadable), both in the year's legacy rule, nothing public changes."""
    source, late, _ = revised
    folder = copy_folder(source, tmp_path)
    assert (folder / "telechargements" / "ccas-opendata-2023-v1.0.0.zip").exists()
    before, figures_before = public_files(folder), figures(folder)
    result = release(folder, YEAR, with_late_persons(late, tmp_path / "entrees", persons=1, visits=2, tag="N"), "--motif", "Un oubli")
    assert result.exit_code == 0, result
    assert "et avec ceux de la version 1.0.0" in result.output  # the legacy version was compared too
    assert figures(folder) == figures_before and public_files(folder) == before
    assert files_naming_a_person(folder) == []


def test_records_of_two_rules_are_never_compared(tmp_path):
    """A year keeps the rule of its first publication (``year_rule``); records kept under
    another rule are refused with French advice rather than compared (every person would
    look changed, and nothing would be frozen)."""
    import pandas as pd

    from ccas_opendata.anonymise import LEGACY_RULE, PERSON_KEY_RULE
    from ccas_opendata.errors import CcasError
    from ccas_opendata.versions import person_rule, same_rule, write_snapshot

    records = {"accompagnements": pd.DataFrame({"personne": ["a", "b"], "usager_connu": [True, True], "duree": [30, 45]})}
    legacy, new = tmp_path / "1.0.0", tmp_path / "1.1.0"
    write_snapshot(legacy, records, "empreinte")
    write_snapshot(new, records, "empreinte")
    (legacy / "regle-personne").unlink()
    assert (person_rule(legacy), person_rule(new)) == (LEGACY_RULE, PERSON_KEY_RULE)
    same_rule(new, PERSON_KEY_RULE, YEAR)
    same_rule(legacy, LEGACY_RULE, YEAR)
    with pytest.raises(CcasError) as error:
        same_rule(legacy, PERSON_KEY_RULE, YEAR)
    assert "1.0.0" in str(error.value) and "reste telle quelle" in error.value.advice
