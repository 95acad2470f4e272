"""``make lint`` holds the whole tree: every Python file of the checkout, with no hand list.

A hand list of checked modules let ``cli.py`` stay outside ruff for 23 commits with a
``NameError`` in it (#19). These tests read the Makefile and the checkout, so a new folder of
Python files, or a lint recipe that drops one of its three tools, fails here, before CI.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO

TOOLS = ("ruff check", "ruff format --check", "mypy")


def makefile_variable(name: str) -> list[str]:
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    found = re.search(rf"^{name}\s*:?=\s*(.+)$", text, re.M)
    assert found, f"the Makefile defines no {name}"
    return found.group(1).split()


def lint_recipe() -> list[str]:
    """The command lines of the Makefile's ``lint`` target."""
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    found = re.search(r"^lint:.*\n((?:\t.*\n)+)", text, re.M)
    assert found, "the Makefile has no lint target"
    return [line.strip() for line in found.group(1).splitlines()]


def tracked_python_files() -> list[Path]:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout: the tracked files cannot be listed")
    listed = subprocess.run(["git", "ls-files", "-z", "--", "*.py"], cwd=REPO, capture_output=True, check=True).stdout
    return [Path(name) for name in listed.decode("utf-8").split("\0") if name]


def test_every_tool_of_the_lint_target_runs_on_the_whole_linted_tree():
    recipe = lint_recipe()
    for tool in TOOLS:
        runs = [line for line in recipe if f"/{tool} " in line]
        assert runs == [f"$(BIN)/{tool} $(LINTED)"], (tool, recipe)
    assert "CHECKED" not in (REPO / "Makefile").read_text(encoding="utf-8")  # the hand list is gone


def test_every_tracked_python_file_is_under_a_linted_folder():
    linted = [Path(p) for p in makefile_variable("LINTED")]
    assert linted == [Path("ccas_opendata"), Path("tests"), Path("scripts")]
    files = tracked_python_files()
    assert Path("ccas_opendata/cli.py") in files and Path("tests/attacker.py") in files  # the listing sees the tree
    outside = [f for f in files if not any(f.is_relative_to(folder) for folder in linted)]
    assert outside == []


def test_make_test_runs_lint_first():
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    found = re.search(r"^test:(.*)$", text, re.M)
    assert found and "lint" in found.group(1).split()
