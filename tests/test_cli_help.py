"""Every command teaches: help with an example, and a line in the README's reference."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner
from cogapp import Cog

from ccas_opendata.cli import cli
from conftest import REPO
from test_lint_scope import lint_recipe, makefile_variable

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


def cog_check(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``cog --check README.md`` with the Makefile's flags, as ``make lint`` runs it."""
    status = Cog().main(["cog", *makefile_variable("COG"), "--check", str(REPO / "README.md")])
    said = capsys.readouterr()
    return status, said.out + said.err


def test_make_lint_checks_the_readme_reference_and_make_cog_writes_it():
    assert "$(BIN)/cog $(COG) --check README.md" in lint_recipe()
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "\ncog: install\n\t$(BIN)/cog $(COG) -r README.md\n" in text


def test_the_readme_reference_is_the_one_the_commands_give(capsys):
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    reference = readme[readme.index("## Référence des commandes") :]
    reference = reference[: reference.index("\n## ")]
    assert reference.count("[[[cog") == 1 and reference.count("[[[end]]]") == 1  # the block is in this section
    for name, command in cli.commands.items():  # each row: the name, the docstring's first line
        first = (command.help or "").strip().splitlines()[0]
        assert f"| `ccas-opendata {name}" in reference and first in reference, name
    assert cog_check(capsys) == (0, f"Checking {REPO / 'README.md'}\n")


def test_a_command_added_without_regenerating_fails_the_check(capsys):
    @click.command("essai-doc")
    @click.option("--niveau", type=int, help="Une option que le README ne connaît pas.")
    def added(niveau: int) -> None:
        """Une commande ajoutée sans réécrire le README."""

    cli.add_command(added)
    try:
        status, said = cog_check(capsys)
    finally:
        del cli.commands["essai-doc"]
    assert status == 5 and "README.md  (changed)" in said and "Check failed" in said
    assert cog_check(capsys) == (0, f"Checking {REPO / 'README.md'}\n")  # the command gone, the README is current again
