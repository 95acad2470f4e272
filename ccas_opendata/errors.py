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

    def __init__(self, message: str, advice: str | None = None, messages: list[str] | None = None):
        super().__init__(message, advice)
        #: Each problem on its own (for a report that groups every problem of a run).
        self.messages = messages if messages is not None else [message]


class MissingKeyError(CcasError):
    """No pseudonymisation key was given."""

    advice = (
        "Créez une clé une fois pour toutes, hors du dossier de publication, par exemple : "
        "mkdir -p ~/.config/ccas-opendata && python3 -c 'import secrets; print(secrets.token_hex(32))' "
        "> ~/.config/ccas-opendata/cle && chmod 600 ~/.config/ccas-opendata/cle "
        "(ou définissez CCAS_OPENDATA_CLE, ou passez --cle-fichier). Gardez-la : elle ne doit jamais être publiée."
    )


#: Rows kept per problem: the console shows ten, the report every one of these.
ROWS_KEPT = 1000

#: Kinds of problems, in the order a report shows them (and the agent fixes them).
PROBLEM_KINDS = {
    "absent": "Fichiers d'entrée absents",
    "fichier": "Fichiers illisibles",
    "configuration": "Configuration (dossier metadata/)",
    "en-tete": "En-têtes des fichiers",
    "cellule": "Cellules illisibles",
    "code": "Codes inconnus",
    "controle": "Contrôles de cohérence",
}


@dataclass(frozen=True)
class Problem:
    """One defect of the input, located precisely. ``row`` is the line number in the
    file as a spreadsheet shows it (the header is line 1 unless rows sit above it).

    ``values`` holds the wrong values of a *code* column only: codes are not personal
    data, and seeing « Homme » next to the accepted codes is what lets the agent fix it.
    Values of every other column (names, dates, identifiers) are never carried.
    """

    file: str
    column: str
    expected: str
    rows: tuple[int, ...] = field(default_factory=tuple)
    count: int = 0
    kind: str = "cellule"
    values: tuple[str, ...] = ()
    #: What is accepted, or where to look it up.
    accepted: str = ""
    #: The header in her file when it is not the contract's name (« Temps passé » for ``duree``).
    header: str = ""

    def describe(self, max_rows: int = 10) -> str:
        where = f"{self.file}"
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:max_rows])
            more = self.count - min(len(self.rows), max_rows)
            plural = "s" if self.count > 1 else ""
            where += f", ligne{plural} {shown}" + (f" (et {more} autres)" if more > 0 else "")
        if self.column:
            where += f", colonne « {self.column} »" if self.kind != "configuration" else f", clé « {self.column} »"
            if self.header:
                where += f" (« {self.header} » dans votre fichier)"
        text = f"{where} : {self.expected}"
        if self.values:
            text += " Valeurs non reconnues : " + ", ".join(f"« {v} »" for v in self.values) + "."
        if self.accepted:
            text += f" Accepté : {self.accepted}"
        return text


ROW_ADVICE = "Corrigez ces lignes dans le fichier d'origine (ou videz la cellule si l'information n'est pas connue) puis relancez."
UNTOUCHED = "Rien n'a été publié ; la publication précédente est intacte."


class InvalidInput(CcasError):
    """The input records break the contract. Carries every problem found (configuration,
    headers, cells, codes, cross-checks), so the agent fixes everything in one go."""

    def __init__(self, problems: list[Problem], advice: str | None = None, report: str | None = None):
        self.problems = sorted(problems, key=lambda p: list(PROBLEM_KINDS).index(p.kind) if p.kind in PROBLEM_KINDS else 99)
        lines: list[str] = []
        shown = 0
        for kind, title in PROBLEM_KINDS.items():
            group = [p for p in self.problems if p.kind == kind]
            if not group:
                continue
            lines.append(f"{title} ({len(group)}) :")
            for p in group[: max(0, 30 - shown)]:
                lines.append("  - " + p.describe())
            shown += len(group)
        if shown > 30:
            lines.append(f"… et {shown - 30} autres problèmes (voir le rapport).")
        if advice is None:
            steps = []
            if any(p.kind in ("fichier", "absent") for p in self.problems):
                steps.append("Remplacez ou réenregistrez les fichiers d'entrée indiqués.")
            if any(p.kind == "configuration" for p in self.problems):
                steps.append("Corrigez les fichiers du dossier metadata/ indiqués.")
            if any(p.kind == "en-tete" for p in self.problems):
                steps.append("Complétez metadata/correspondances.yml (la commande « ccas-opendata correspondances » en propose un).")
            if any(p.rows for p in self.problems):
                steps.append(ROW_ADVICE)
            if any(p.kind == "code" for p in self.problems):
                steps.append("Des libellés à vous ? Déclarez-les une fois dans metadata/correspondances.yml (« valeurs »).")
            advice = " ".join(steps + [UNTOUCHED])
        if report:
            advice = f"Rapport détaillé : {report}\n" + advice
        count = len(self.problems)
        super().__init__(f"{count} problème{'s' if count > 1 else ''} dans les données d'entrée :\n" + "\n".join(lines), advice)


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


class ConcurrentRunError(CcasError):
    """Another command is already working in the publication folder."""

    advice = (
        "Attendez qu'elle se termine (ou arrêtez-la), puis relancez la commande. Deux publications à la fois "
        "dans un même dossier se marcheraient dessus ; rien n'a été modifié par celle-ci."
    )


class WorldError(CcasError):
    """The machine failed the run (disk full, file unreadable): nothing the data caused."""


def world_error(failure: BaseException) -> CcasError | None:
    """The French error for a failure of the machine the run cannot fix (disk full, no
    permission), or None for one that is a bug and must keep its traceback. The path
    is named (never the content of a file)."""
    import errno
    import sqlite3

    where = f" ({failure.filename})" if isinstance(failure, OSError) and failure.filename else ""
    if (isinstance(failure, OSError) and failure.errno in (errno.ENOSPC, errno.EDQUOT)) or (
        isinstance(failure, sqlite3.Error) and "disk is full" in str(failure)
    ):
        return WorldError(
            f"Le disque est plein{where} : la commande s'est arrêtée avant la fin.",
            advice="Libérez de la place sur le disque (ou choisissez un dossier sur un autre disque), puis relancez. " + UNTOUCHED,
        )
    if isinstance(failure, OSError) and failure.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return WorldError(
            f"Accès refusé{where} : ce fichier ou ce dossier ne peut pas être lu ou écrit.",
            advice="Vérifiez les droits du dossier (ou qu'il n'est pas en lecture seule), puis relancez.",
        )
    if isinstance(failure, OSError) and failure.errno == errno.EIO:
        return WorldError(
            f"Erreur de lecture ou d'écriture du disque{where}.", advice="Vérifiez le disque (ou la clé USB) puis relancez. " + UNTOUCHED
        )
    return None
