"""The package as installed from its wheel: every data file ships, one version string,
and the Coop export is recognised and released by the installed command."""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import ccas_opendata
from ccas_opendata.demo import DEMO_METADATA_DIR
from conftest import REPO, TEST_KEY, invoke, make_folder

PACKAGE = REPO / "ccas_opendata"


def test_one_version_string_from_the_installed_metadata():
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert f'\nversion = "{ccas_opendata.__version__}"\n' in pyproject
    assert f"## {ccas_opendata.__version__} " in (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    assert invoke("--version").stdout.strip() == f"ccas-opendata, version {ccas_opendata.__version__}"


def test_the_shipped_demo_metadata_is_the_repository_s():
    for source in sorted(DEMO_METADATA_DIR.glob("*.*")):
        assert filecmp.cmp(source, REPO / "metadata" / source.name, shallow=False), source.name


def test_demo_in_an_empty_folder_writes_the_demo_metadata(tmp_path: Path):
    """Only the metadata step is run here (the demo's releases are the slow tests' job):
    an installed tool's ``demo --dossier`` no longer fails on a missing organisation.yml."""
    from ccas_opendata.publisher import read_publisher
    from ccas_opendata.demo import is_demo_publisher, write_demo_metadata

    folder = tmp_path / "vide"
    assert write_demo_metadata(folder)
    assert sorted(p.name for p in (folder / "metadata").iterdir()) == ["indicateurs.yml", "lieux.csv", "organisation.yml", "quartiers.csv"]
    assert is_demo_publisher(read_publisher(folder))
    assert not write_demo_metadata(folder)  # a folder with metadata/ is never overwritten


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out), str(REPO)], check=True, capture_output=True
    )
    (path,) = out.glob("ccas_opendata-*.whl")
    return path


@pytest.mark.slow
def test_the_wheel_carries_every_file_of_the_package(wheel: Path):
    tracked = subprocess.run(["git", "ls-files", "ccas_opendata"], cwd=REPO, check=True, capture_output=True, text=True).stdout.split()
    # A tracked symlink to a folder (``expectations``) ships as the files it holds.
    files = [
        name
        for entry in tracked
        for name in (
            [entry] if (REPO / entry).is_file() else [p.relative_to(REPO).as_posix() for p in (REPO / entry).rglob("*") if p.is_file()]
        )
    ]
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
    missing = [name for name in files if name not in shipped]
    assert not missing
    assert "ccas_opendata/formats/coop-numerique.yml" in shipped


@pytest.mark.slow
def test_the_installed_wheel_releases_the_coop_export(wheel: Path, tmp_path: Path):
    """A fresh venv, the wheel installed with its dependencies (pip's cache), and the
    Coop fixture released by the installed ``ccas-opendata``, run outside the checkout."""
    from coop_export import write_xlsx
    from test_input_sources import COOP_REVIEW, YEAR

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    installed = subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", str(wheel)], capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr[-3000:]
    inputs = tmp_path / "entrees"
    inputs.mkdir()
    expected = write_xlsx(inputs / "coop-numerique_accompagnements_2026-01-15.xlsx", self_export=True, v1=False, beneficiaire_filter=True)
    folder = make_folder(tmp_path / "ccas")
    (folder / "metadata" / "correspondances.yml").write_text(COOP_REVIEW, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")} | {"CCAS_OPENDATA_CLE": TEST_KEY}
    done = subprocess.run(
        [str(venv / "bin" / "ccas-opendata"), "release", "--dossier", str(folder), "--annee", str(YEAR), str(inputs)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"{expected['accompagnements']['rows']} accompagnements, " in done.stdout
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import ccas_opendata; print(ccas_opendata.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert where.startswith(str(venv))  # the wheel's copy ran, not the checkout
    assert (folder / "datapackages" / str(YEAR) / "indicateurs.csv").exists()
