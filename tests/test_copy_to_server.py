"""The copy to the server ships only what is served: the README's own rsync command,
run for real into a folder standing for the server, on a publication folder where an
agent's private files sit (kept records, a killed run's work area, a key, her exports,
a report)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, copy_folder, invoke

from ccas_opendata.anonymise import SNAPSHOT_SUFFIX
from ccas_opendata.deployment import COPY_RULES, copy_includes

CANARY = "CANARI-PRIVE-7f3a"
needs_rsync = pytest.mark.skipif(shutil.which("rsync") is None, reason="rsync absent : « make rsync » l'installe")


def readme_rsync() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    line = next(l.strip() for l in text.splitlines() if l.strip().startswith("rsync -a"))
    return shlex.split(line)


@pytest.fixture
def agent_folder(published: Path, tmp_path: Path) -> Path:
    folder = copy_folder(published, tmp_path / "poste")
    assert any((folder / ".versions").rglob(f"accompagnements{SNAPSHOT_SUFFIX}"))  # kept pseudonymised records
    work = folder / ".travail" / "2024" / "instantane"
    work.mkdir(parents=True)
    (work / "accompagnements.csv").write_text(f"usager\n{CANARY}\n")
    (folder / "cle.txt").write_text(CANARY)
    (folder / ".env").write_text(f"CCAS_OPENDATA_CLE={CANARY}\n")
    (folder / "exports" / "2024").mkdir(parents=True)
    (folder / "exports" / "2024" / "accompagnements.csv").write_text(f"nom;usager\nMartin;{CANARY}\n")
    (folder / "rapport-ccas-opendata-2024.html").write_text(CANARY)
    return folder


def received(server: Path) -> set[str]:
    return {str(p.relative_to(server)) for p in server.rglob("*") if p.is_file()}


def served(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for top in ("publish", "metadata") for p in (folder / top).rglob("*") if p.is_file()}


@needs_rsync
def test_the_readme_copy_ships_only_what_is_served(agent_folder: Path, tmp_path: Path):
    server = tmp_path / "serveur" / "publication"
    server.mkdir(parents=True)
    # What the earlier README command shipped (.versions/ included): the new one removes it.
    shutil.copytree(agent_folder / ".versions", server / ".versions")
    command = readme_rsync()
    assert command[-1] == "root@serveur:/srv/ccas-opendata/publication/"
    subprocess.run(command[:-1] + [str(server) + "/"], cwd=agent_folder, check=True, capture_output=True)
    assert received(server) == served(agent_folder)
    assert not (server / ".versions").exists() and not (server / ".travail").exists()
    for path in server.rglob("*"):
        if path.is_file():
            assert CANARY.encode() not in path.read_bytes(), path


@needs_rsync
def test_the_include_list_deploiement_writes_is_the_readmes(agent_folder: Path, tmp_path: Path):
    rules = [part.split("=", 1)[1] for part in readme_rsync() if part.startswith("--include=")]
    assert rules == copy_includes() == ["/publish/***", "/metadata/***"]
    organisation = agent_folder / "metadata" / "organisation.yml"
    organisation.write_text(organisation.read_text(encoding="utf-8") + "\nbase_url: https://ccas.example/donnees/\n", encoding="utf-8")
    output = tmp_path / "deploiement"
    assert invoke("deploiement", "--dossier", agent_folder, "--sortie", output).exit_code == 0
    server = tmp_path / "serveur-filtre"
    server.mkdir()
    subprocess.run(
        ["rsync", "-a", "--delete", f"--filter=merge {output / COPY_RULES}", "./", str(server) + "/"],
        cwd=agent_folder,
        check=True,
        capture_output=True,
    )
    assert received(server) == served(agent_folder)


def test_the_readme_no_longer_suggests_an_exclude_list():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert not re.search(r"rsync[^\n]*--exclude \.travail", text)
