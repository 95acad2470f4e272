"""Every command teaches: help with an example, and a line in the README's reference."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from ccas_opendata.cli import cli
from conftest import REPO

COMMANDS = sorted(cli.commands)


def test_the_contract_commands_exist():
    assert set(COMMANDS) >= {"init", "anonymise", "aggregate", "validate", "package", "publish", "release", "serve", "demo"}


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_an_example(command):
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert "Exemple" in result.output
    assert f"ccas-opendata {command}" in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_readme_documents_the_command(command):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"`ccas-opendata {command}" in readme


def test_readme_opens_with_the_two_commands():
    lines = [l for l in (REPO / "README.md").read_text(encoding="utf-8").splitlines() if l.strip()]
    code = [l for l in lines[:12] if l.startswith(("make ", "    make "))]
    assert [c.strip() for c in code[:2]] == ["make demo", "make test"]


def test_ci_runs_make_test():
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_serve_refuses_an_empty_folder(folder):
    result = CliRunner().invoke(cli, ["serve", "--dossier", str(folder)])
    assert result.exit_code == 1
    assert "aucune année n'est encore publiée" in result.stderr
