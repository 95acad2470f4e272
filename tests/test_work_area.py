"""The private work area between stages: owner-only, cleaned at the start of each run,
and nothing packaged or published that ``validate`` did not pass byte for byte."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ccas_opendata.layout import private_dir, private_file
from conftest import CliResult, copy_folder, invoke, make_folder, release, snapshot

YEAR = 2023


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def stage(name: str, folder: Path, *extra) -> CliResult:
    return invoke(name, "--dossier", folder, "--annee", YEAR, *extra)


@pytest.fixture(scope="module")
def aggregated(tmp_path_factory, small_inputs) -> Path:
    """A folder where ``anonymise`` and ``aggregate`` have run for YEAR. Tests copy it."""
    folder = make_folder(tmp_path_factory.mktemp("etapes") / "ccas")
    assert stage("anonymise", folder, small_inputs[YEAR]).exit_code == 0
    assert stage("aggregate", folder).exit_code == 0
    return folder


@pytest.fixture
def staged(tmp_path: Path, aggregated: Path) -> Path:
    return copy_folder(aggregated, tmp_path)


def internal(folder: Path) -> Path:
    return folder / ".travail" / str(YEAR) / "indicateurs_internes.csv"


def edit_first_value(path: Path, value: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    row = lines[1].split(",")
    row[header.index("valeur")] = value
    path.write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n", encoding="utf-8")


# --- defect: package and publish ran after a failed validate -------------------------------


@pytest.mark.slow
def test_package_and_publish_refuse_after_a_failed_validate(staged: Path):
    edit_first_value(internal(staged), "-5")
    assert stage("validate", staged).exit_code == 1
    for command in ("package", "publish"):
        result = stage(command, staged)
        assert result.exit_code == 1, (command, result)
        assert "lancez d'abord « ccas-opendata validate --annee 2023 »" in result.stderr, command
    assert not (staged / "datapackages").exists() and not (staged / "publish").exists()


@pytest.mark.slow
def test_a_work_file_edited_after_validate_is_neither_packaged_nor_published(staged: Path):
    assert stage("validate", staged).exit_code == 0
    original = internal(staged).read_bytes()
    # An edit the expectation suite would accept: only the validation record catches it.
    edit_first_value(internal(staged), "999")
    for command in ("package", "publish"):
        result = stage(command, staged)
        assert result.exit_code == 1, (command, result)
        assert "a changé depuis sa validation" in result.stderr
        assert "« ccas-opendata validate --annee 2023 »" in result.stderr
    internal(staged).write_bytes(original)
    assert stage("package", staged).exit_code == 0
    # The staged package itself, edited between package and publish.
    staged_csv = staged / ".travail" / str(YEAR) / "paquet" / str(YEAR) / "indicateurs.csv"
    with open(staged_csv, "ab") as f:
        f.write(b"2023,2023,ensemble,accompagnements,genre,inventee,3,nombre,\n")
    result = stage("publish", staged)
    assert result.exit_code == 1, result
    assert "« ccas-opendata package --annee 2023 »" in result.stderr
    assert not (staged / "datapackages").exists()
    assert stage("package", staged).exit_code == 0
    assert stage("publish", staged).exit_code == 0, "the untouched chain still publishes"


# --- defect: the work area kept the internal table, readable by all -----------------------


@pytest.mark.slow
def test_the_work_area_is_private_to_its_owner(aggregated: Path):
    work = aggregated / ".travail"
    for directory in (work, work / str(YEAR), work / str(YEAR) / "anonymise"):
        assert mode(directory) == 0o700, directory
    for path in [internal(aggregated), work / str(YEAR) / "risque.json", *(work / str(YEAR) / "anonymise").iterdir()]:
        assert mode(path) == 0o600, path


@pytest.mark.slow
def test_anonymise_clears_what_a_killed_run_left(tmp_path: Path, small_inputs):
    folder = make_folder(tmp_path / "ccas")
    leftover = folder / ".travail" / str(YEAR)
    (leftover / "paquet" / str(YEAR)).mkdir(parents=True, mode=0o755)
    (leftover / "indicateurs_internes.csv").write_text("personnes d'une autre exécution\n", encoding="utf-8")
    (leftover / "validation.sha256").write_text("0" * 64 + "\n", encoding="ascii")
    assert stage("anonymise", folder, small_inputs[YEAR]).exit_code == 0
    assert sorted(p.name for p in leftover.iterdir()) == ["anonymise"]
    assert mode(leftover) == 0o700


@pytest.mark.slow
def test_aggregate_clears_what_the_later_stages_left(staged: Path):
    work = staged / ".travail" / str(YEAR)
    (work / "paquet" / str(YEAR)).mkdir(parents=True)
    (work / "validation.sha256").write_text("0" * 64 + "\n", encoding="ascii")
    (work / "qualite").mkdir()
    assert stage("aggregate", staged).exit_code == 0
    assert sorted(p.name for p in work.iterdir()) == ["anonymise", "indicateurs_internes.csv", "instantane", "risque.json"]


@pytest.mark.slow
def test_a_refused_release_still_clears_the_years_work_area(published_copy: Path, small_inputs):
    leftover = published_copy / ".travail" / "2023"
    leftover.mkdir(parents=True)
    (leftover / "indicateurs_internes.csv").write_text("personnes d'une exécution interrompue\n", encoding="utf-8")
    before = snapshot(published_copy)
    result = release(published_copy, 2023, published_copy / "pas-de-fichiers")
    assert result.exit_code == 1
    assert not leftover.exists()
    assert snapshot(published_copy) == before


def test_private_dir_and_file_are_owner_only_whatever_the_umask(tmp_path: Path):
    previous = os.umask(0o002)
    try:
        # A folder left by an older version, readable by all, is tightened too.
        (tmp_path / ".travail").mkdir(mode=0o755)
        os.chmod(tmp_path / ".travail", 0o755)
        directory = private_dir(tmp_path / ".travail" / "2024" / "anonymise")
        path = private_file(directory / "accompagnements.csv")
        path.write_text("ligne\n", encoding="utf-8")
    finally:
        os.umask(previous)
    assert [mode(tmp_path / p) for p in (".travail", ".travail/2024", ".travail/2024/anonymise")] == [0o700] * 3
    assert mode(path) == 0o600 and path.read_text(encoding="utf-8") == "ligne\n"
