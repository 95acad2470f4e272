"""Domain errors raised by the stages.

The stages never import Click: they raise these, and ``cli.py`` turns them into a
French message that tells the CCAS agent what to do next. Messages name files, rows
and columns, never the content of a cell (a misplaced column can hold a name or a
phone number, and error messages end up in logs and e-mails).
"""

from __future__ import annotations

from dataclasses import dataclass, field


class CcasError(Exception):
    """Base class of every error a user can fix by changing input or configuration."""

    #: What the agent should do next, appended to the message by the CLI.
    advice: str = ""

    def __init__(self, message: str, advice: str | None = None):
        super().__init__(message)
        if advice is not None:
            self.advice = advice


class ConfigurationError(CcasError):
    """The publication folder's metadata is missing or wrong."""

    advice = "Corrigez le fichier de configuration indiqué puis relancez la commande."


class MissingKeyError(CcasError):
    """No pseudonymisation key was given."""

    advice = (
        "Créez une clé une fois pour toutes, hors du dossier de publication, par exemple : "
        "mkdir -p ~/.config/ccas-opendata && python3 -c 'import secrets; print(secrets.token_hex(32))' "
        "> ~/.config/ccas-opendata/cle && chmod 600 ~/.config/ccas-opendata/cle "
        "(ou définissez CCAS_OPENDATA_CLE, ou passez --cle-fichier). Gardez-la : elle ne doit jamais être publiée."
    )


@dataclass(frozen=True)
class Problem:
    """One defect of the input, located precisely. ``row`` is the line number in the
    file as a spreadsheet shows it (the header is line 1)."""

    file: str
    column: str
    expected: str
    rows: tuple[int, ...] = field(default_factory=tuple)
    count: int = 0

    def describe(self, max_rows: int = 10) -> str:
        where = f"{self.file}"
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:max_rows])
            more = self.count - min(len(self.rows), max_rows)
            plural = "s" if self.count > 1 else ""
            where += f", ligne{plural} {shown}" + (f" (et {more} autres)" if more > 0 else "")
        if self.column:
            where += f", colonne « {self.column} »"
        return f"{where} : {self.expected}"


class InvalidInput(CcasError):
    """The input records break the contract. Carries every problem found, so the
    agent can fix the file in one go instead of one error per run."""

    advice = (
        "Corrigez ces lignes dans le fichier d'origine (ou videz la cellule si l'information "
        "n'est pas connue) puis relancez. Rien n'a été publié ; la publication précédente est intacte."
    )

    def __init__(self, problems: list[Problem], advice: str | None = None):
        self.problems = problems
        lines = [p.describe() for p in problems[:20]]
        if len(problems) > 20:
            lines.append(f"… et {len(problems) - 20} autres problèmes.")
        super().__init__("Les données d'entrée ne respectent pas le format attendu :\n  - " + "\n  - ".join(lines), advice)


class ValidationFailed(CcasError):
    """A Great Expectations suite failed on the tables about to be published."""

    advice = (
        "Rien n'a été publié ; la publication précédente est intacte. "
        "Si les données d'entrée sont correctes, signalez ce message à l'équipe technique."
    )


class SecrecyError(CcasError):
    """The statistical secrecy could not be guaranteed: the release must not go out."""

    advice = (
        "Rien n'a été publié. Le secret statistique n'a pas pu être garanti pour cette année : "
        "signalez ce message à l'équipe technique (il ne contient aucune donnée personnelle)."
    )


class PackageError(CcasError):
    """The Frictionless Data Package does not validate."""

    advice = "Rien n'a été publié ; signalez ce message à l'équipe technique."


class StageOrderError(CcasError):
    """A stage was run before the one it reads from."""
