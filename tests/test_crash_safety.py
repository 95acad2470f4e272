"""A publication no crash can break: a real release killed (SIGKILL) at every step of
its switch into place, for a first publication, a second year and a revision.

After a kill before the switch's journal is written, the folder is the old publication
byte for byte; after a kill at any later step, the next command finishes the switch
and the folder is byte for byte what an uninterrupted run gives (changelog, versions,
kept records, Data Docs of every year, zips). The kill is the test hook of
``ccas_opendata/swap.py`` (the process sends itself SIGKILL after N actions).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import copy_folder, invoke, make_folder
from test_revisions import MOTIF, corrected_inputs

from ccas_opendata.swap import STOP_ENV, journal_path, recover

pytestmark = pytest.mark.slow
KILLED = -9


def tree(folder: Path) -> dict[str, str]:
    """sha256 of every file of the folder outside the work area (private records included)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.relative_to(folder).parts[0] != ".travail"
    }


def stage(folder: Path, year: int, inputs: Path, motif: tuple[str, ...] = ()) -> Path:
    """Every stage before « publish », as an agent would run them one by one."""
    for command in (("anonymise", inputs), ("aggregate",), ("validate",), ("package", *motif)):
        result = invoke(command[0], "--dossier", folder, "--annee", year, *command[1:])
        assert result.exit_code == 0, result
    return folder


def run(folder: Path, code: str, stop: int | None) -> subprocess.CompletedProcess:
    # A fixed hash seed: the JSON-LD catalogue's order follows it, and runs are compared byte for byte.
    env = {k: v for k, v in os.environ.items() if k != STOP_ENV} | {"PYTHONHASHSEED": "0"}
    if stop is not None:
        env[STOP_ENV] = str(stop)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)


def publish(folder: Path, year: int, stop: int | None) -> subprocess.CompletedProcess:
    return run(folder, f"from ccas_opendata.cli import cli; cli(['publish', '--dossier', {str(folder)!r}, '--annee', '{year}'])", stop)


def replay(folder: Path, stop: int | None) -> subprocess.CompletedProcess:
    return run(folder, f"from ccas_opendata.swap import recover; recover(__import__('pathlib').Path({str(folder)!r}))", stop)


class Scenario:
    def __init__(self, base: Path, source: Path | None, year: int, inputs: Path, motif: tuple[str, ...] = ()):
        self.base, self.year = base, year
        folder = copy_folder(source, base / "prepare") if source else make_folder(base / "prepare" / "ccas")
        self.staged = stage(folder, year, inputs, motif)
        self.before = tree(self.staged)
        self.reference = copy_folder(self.staged, base / "reference")
        result = publish(self.reference, year, None)
        assert result.returncode == 0, result.stderr
        # Killed right after the journal: every later step is reached from here.
        self.committed = copy_folder(self.staged, base / "engagee")
        assert publish(self.committed, year, 1).returncode == KILLED
        assert journal_path(self.committed).exists()
        # The state the committed switch ends in (the site built by that run).
        finished = self.copy(self.committed, "finie")
        assert replay(finished, None).returncode == 0
        self.after = tree(finished)
        assert self.after == tree(self.reference)  # the same as an uninterrupted run

    def copy(self, source: Path, name: str) -> Path:
        return copy_folder(source, self.base / name)


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory, published: Path, small_inputs) -> dict[str, Scenario]:
    base = tmp_path_factory.mktemp("coupures")
    revised_inputs = corrected_inputs(small_inputs[2023], base / "entrees-2023-corrigees")
    first_only = make_folder(base / "seule-2023" / "ccas")
    assert invoke("release", "--dossier", first_only, "--annee", 2023, small_inputs[2023]).exit_code == 0
    made = {
        "premiere": Scenario(base / "premiere", None, 2023, small_inputs[2023]),
        "deuxieme": Scenario(base / "deuxieme", first_only, 2024, small_inputs[2024]),
        "revision": Scenario(base / "revision", published, 2023, revised_inputs, ("--motif", MOTIF)),
    }
    return made


def changelog(folder: Path) -> list[tuple[int, str, str]]:
    entries = json.loads((folder / "changements.json").read_text(encoding="utf-8"))["changements"]
    return sorted((e["annee"], e["version"], e["nature"]) for e in entries)


def test_the_uninterrupted_switches_publish_what_a_hand_count_expects(scenarios):
    first, second, revision = (scenarios[k].reference for k in ("premiere", "deuxieme", "revision"))
    assert changelog(first) == [(2023, "1.0.0", "publication")]
    assert changelog(second) == [(2023, "1.0.0", "publication"), (2024, "1.0.0", "publication")]
    assert changelog(revision) == [
        (2023, "1.0.0", "publication"),
        (2023, "1.1.0", "revision"),
        (2024, "1.0.0", "publication"),
        (2024, "1.1.0", "revision"),
    ]
    for folder, years in ((first, [2023]), (second, [2023, 2024]), (revision, [2023, 2024])):
        for year in years:
            assert (folder / "publish" / "static" / "qualite" / str(year) / "index.html").exists(), (folder, year)
    assert sorted(p.name for p in (revision / ".versions" / "2023").iterdir()) == ["1.0.0", "1.1.0"]
    assert sorted(p.name for p in (revision / ".versions" / "2024").iterdir()) == ["1.0.0", "1.1.0"]
    assert (revision / "telechargements" / "ccas-opendata-2023-v1.0.0.zip").exists()
    assert (revision / "telechargements" / "ccas-opendata-2023-v1.1.0.zip").exists()


@pytest.mark.parametrize("name", ["premiere", "deuxieme", "revision"])
def test_a_kill_before_the_journal_leaves_the_old_publication_byte_for_byte(scenarios, name):
    scenario = scenarios[name]
    folder = scenario.copy(scenario.staged, "avant")
    assert publish(folder, scenario.year, 0).returncode == KILLED
    assert not journal_path(folder).exists()
    assert tree(folder) == scenario.before


@pytest.mark.parametrize("name", ["premiere", "deuxieme", "revision"])
def test_a_kill_at_every_step_of_the_switch_ends_in_the_new_publication(scenarios, name):
    """From the journal on, each action (a rename, the journal's removal) is killed in
    turn, then the next command (a fresh process) finishes the switch."""
    scenario = scenarios[name]
    expected = {"premiere": 6, "deuxieme": 9, "revision": 13}  # renames + the journal's removal
    steps = 0
    while True:
        folder = scenario.copy(scenario.committed, f"etape-{steps}")
        killed = replay(folder, steps + 1)
        if killed.returncode == 0:
            break
        assert killed.returncode == KILLED, killed.stderr
        finished = replay(folder, None)
        assert finished.returncode == 0, finished.stderr
        assert not journal_path(folder).exists()
        assert tree(folder) == scenario.after, f"coupure après l'action {steps + 2}"
        # The person counts go with the switch; killed after its very last action (the
        # journal removed), they wait for the next release's clean-up.
        if steps + 1 < expected[name]:
            assert not (folder / ".travail" / str(scenario.year)).exists()
        shutil.rmtree(folder)
        steps += 1
    assert steps == expected[name]


@pytest.mark.parametrize("stop", range(2, 8))
def test_a_real_first_publication_killed_at_every_step_ends_in_the_new_publication(scenarios, stop):
    """The publish command itself killed after each of its actions (journal, five renames,
    the journal's removal), then the next command: the uninterrupted run's files."""
    scenario = scenarios["premiere"]
    folder = scenario.copy(scenario.staged, f"reelle-{stop}")
    assert publish(folder, 2023, stop).returncode == KILLED
    assert replay(folder, None).returncode == 0
    assert tree(folder) == scenario.after


def test_a_kill_inside_the_real_release_is_finished_by_the_next_release(scenarios, small_inputs):
    """The whole chain as an agent lives it: her first publication killed in the middle
    of its switch (publish/ moved in, the changelog not yet), then next year's release:
    both years online, both in the changelog, with their records kept."""
    scenario = scenarios["premiere"]
    folder = scenario.copy(scenario.staged, "reelle")
    assert publish(folder, 2023, 3).returncode == KILLED
    assert journal_path(folder).exists()
    result = invoke("release", "--dossier", folder, "--annee", 2024, small_inputs[2024])
    assert result.exit_code == 0, result
    assert changelog(folder) == [(2023, "1.0.0", "publication"), (2024, "1.0.0", "publication")]
    assert (folder / ".versions" / "2023" / "1.0.0").is_dir() and (folder / ".versions" / "2024" / "1.0.0").is_dir()
    assert (folder / "publish" / "static" / "qualite" / "2023" / "index.html").exists()
    assert not (folder / ".travail").exists()


def test_recover_without_a_journal_changes_nothing(scenarios):
    folder = scenarios["premiere"].reference
    before = tree(folder)
    assert recover(folder) is False
    assert tree(folder) == before


def test_serve_finishes_a_switch_a_killed_release_left(scenarios):
    """The agent's next command may be « serve »: it finishes the switch before serving."""
    from conftest import Server

    scenario = scenarios["deuxieme"]
    folder = scenario.copy(scenario.committed, "servie")
    server = Server(folder)
    try:
        assert server.get("/bilan/2024").status_code == 200
    finally:
        server.stop()
    assert not journal_path(folder).exists()
    assert tree(folder) == scenario.after
