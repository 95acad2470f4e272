"""The README's « Référence des commandes », written from the Click commands themselves.

Run by cog between the ``[[[cog`` markers of ``README.md`` (``make cog`` rewrites it,
``make lint`` runs ``cog --check``): a command or an option added to ``ccas_opendata.cli``
without regenerating the README fails the lint, so the reference cannot drift from the tool.
Everything shown comes from the commands: the first line of each docstring (French already),
the required options and arguments, each option's help and default.
"""

from __future__ import annotations

import click

from ccas_opendata.cli import cli

PROGRAM = "ccas-opendata"
# Options every command takes, said once in the README's text rather than on each line.
COMMON = {"--dossier", "--help"}


def _metavar(param: click.Parameter) -> str:
    """The placeholder an agent types a value in, in French (Click's own are English)."""
    if isinstance(param, click.Argument):
        return param.human_readable_name
    if param.metavar:
        return param.metavar
    kind = param.type
    if isinstance(kind, click.Path):
        return "DOSSIER" if not kind.file_okay else "FICHIER"
    if isinstance(kind, click.types.IntParamType):
        return "NOMBRE"
    return "TEXTE"


def _option(option: click.Option) -> str:
    return option.opts[0] if option.is_flag else f"{option.opts[0]} {_metavar(option)}"


def _default(option: click.Option) -> str:
    if not option.show_default or option.is_flag:
        return ""
    shown = option.show_default if isinstance(option.show_default, str) else option.default
    return f" (par défaut : {shown})"


def _options(command: click.Command) -> list[click.Option]:
    return [p for p in command.params if isinstance(p, click.Option) and p.opts[0] not in COMMON]


def synopsis(name: str, command: click.Command) -> str:
    """``ccas-opendata release --annee AAAA ENTREES``: the name, what must be given."""
    required = [_option(p) for p in _options(command) if p.required]
    arguments = [_metavar(p) for p in command.params if isinstance(p, click.Argument)]
    return " ".join([PROGRAM, name, *required, *arguments])


def first_line(command: click.Command) -> str:
    return (command.help or "").strip().splitlines()[0].strip()


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown() -> str:
    """The table of the commands, then each option once with the commands that take it."""
    lines = ["| commande | rôle | options facultatives |", "|---|---|---|"]
    described: dict[tuple[str, str], list[str]] = {}
    for name, command in cli.commands.items():
        optional = [f"`{_option(p)}`" for p in _options(command) if not p.required]
        lines.append(f"| `{synopsis(name, command)}` | {_cell(first_line(command))} | {', '.join(optional) or '—'} |")
        for option in _options(command):
            key = (_option(option), f"{' '.join((option.help or '').split())}{_default(option)}")
            described.setdefault(key, []).append(name)
    lines += ["", "Les options :", ""]
    for (option_text, help_text), names in described.items():
        lines.append(f"- `{option_text}` ({', '.join(names)}) : {help_text}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
