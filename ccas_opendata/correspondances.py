"""How a CCAS's own file maps onto the input contract: ``metadata/correspondances.yml``
(or the same rules as a workbook, ``correspondances.xlsx``: see :mod:`mapping_workbook`).

A CCAS rarely has the contract's headers and codes. It describes its file once (which
file, which sheet, which header feeds which contract column, which of its values mean
which code) and keeps exporting as it always has. National exports (La Coop de la
médiation numérique) are described the same way by files shipped in ``formats/``, so
that one reader serves both.

Everything here is checked when it is read, with French errors that name the key at
fault: a typo in a mapping must not silently drop a column.
"""

from __future__ import annotations

import fnmatch
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from .config import PACKAGE_DIR
from .layout import Layout
from .vocabulary import NOT_GIVEN, contract, derived
from .errors import Problem

FILE_NAME = "correspondances.yml"
#: What the proposal writes where the agent has to decide; refused until she has.
TO_COMPLETE = "a_completer"
FORMATS_DIR = PACKAGE_DIR / "formats"
# Articles dropped from headers: "Année de naissance" is "annee_naissance".
ARTICLES = frozenset({"de", "du", "des", "d", "la", "le", "les", "l"})
TABLE_KEYS = frozenset(
    {
        "fichier",
        "feuille",
        "feuilles",
        "colonnes",
        "valeurs",
        "ignorer",
        "filtre",
        "regroupement",
        "dates",
        "sans_identifiant",
        "lieu_vide",
    }
)


#: A dotted acronym (« C.C.A.S. », « R.S.A ») is one word: its dots are not separators.
_DOTTED_ACRONYM = re.compile(r"(?<![^\W\d_])(?:[^\W\d_]\.){2,}(?:[^\W\d_](?![^\W\d_]))?")


_WORD_SEPARATORS = re.compile(r"[^a-z0-9]+")


def fold(text: object) -> str:
    """The one fingerprint every match uses (headers, typed values, the person key before
    its keyed HMAC): ``"Durée (min)"`` → ``"duree_min"``, ``"C.C.A.S."`` → ``"ccas"``,
    ``"DUPONT  Marie"`` → ``"dupont_marie"``. Case, accents, spacing and punctuation are
    folded, so that two spellings of one thing are one thing."""
    text = str(text)
    if "." in text:
        text = _DOTTED_ACRONYM.sub(lambda m: m.group(0).replace(".", ""), text)
    if not text.isascii():
        # Punctuation outside ASCII (’ « » …) separates words, as ASCII punctuation does.
        spaced = "".join(" " if unicodedata.category(ch)[0] in "PSZ" else ch for ch in text)
        text = unicodedata.normalize("NFKD", spaced).encode("ascii", "ignore").decode("ascii")
    # Every person key goes through here (a year can hold 300,000 of them): one C-level split.
    return "_".join(_WORD_SEPARATORS.split(text.lower())).strip("_")


def normalise_header(name: object) -> str:
    """``"Année de naissance"`` → ``"annee_naissance"``: :func:`fold`, French articles dropped,
    so headers typed by hand match the contract."""
    return "_".join(w for w in fold(name).split("_") if w and w not in ARTICLES)


@dataclass(frozen=True)
class TableMapping:
    """The rules feeding one contract table from one source file."""

    table: str
    #: Glob of the file in the input folder; None: ``<table>.*``.
    fichier: str | None = None
    #: Sheet of a workbook (name or 1-based position); None: the first.
    feuille: str | int | None = None
    #: Contract column → the source headers feeding it (normalised), in order.
    colonnes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: Contract column → {folded value as typed: code}.
    valeurs: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Normalised headers the CCAS chose to leave out (never read).
    ignorer: frozenset[str] = frozenset()
    #: Keep only rows whose ``colonne`` (a source header) folds to one of ``valeurs``.
    filtre: dict[str, Any] | None = None
    #: One source row per participant: group rows by ``par`` (source headers) and count them into ``compte``.
    regroupement: dict[str, Any] | None = None
    #: ``annee``: rows dated outside the published year are set aside (counted), not refused.
    dates: str | None = None
    #: Values of ``usager`` that are no person (« Bénéficiaire anonyme »), folded.
    sans_identifiant: frozenset[str] = frozenset()
    #: The site of a row without one: a code, or ``lieu_unique`` (the CCAS's only site).
    lieu_vide: str | None = None
    #: Several sheets feeding this table (``feuilles``): their names, or ``("*",)`` for every
    #: sheet whose header matches. Empty: the one sheet of ``feuille``.
    feuilles: tuple[str, ...] = ()
    #: ``lieu: {feuille: true}``: the site of each row is the name of its sheet.
    lieu_feuille: bool = False
    #: Questions she has not answered yet (``a_completer``): her headers (normalised) and, by
    #: column, her values (folded). Each is asked once, by the correspondances; the records
    #: do not ask it again (the run stops on the question anyway).
    pending_headers: frozenset[str] = frozenset()
    pending_values: dict[str, frozenset[str]] = field(default_factory=dict)

    def header_to_column(self) -> dict[str, str]:
        return {h: column for column, headers in self.colonnes.items() for h in headers}

    def matches_file(self, path: Path) -> bool:
        if self.fichier is None:
            return normalise_header(path.stem) == self.table
        return fnmatch.fnmatch(path.name.lower(), self.fichier.lower())


@dataclass(frozen=True)
class Correspondances:
    """Every table's mapping, and where it was read from (for error messages)."""

    tables: dict[str, TableMapping]
    source: str
    #: Headers that recognise a national export (folded), when this is a shipped format.
    recognised_by: frozenset[str] = frozenset()
    label: str = ""

    def for_table(self, table: str) -> TableMapping:
        return self.tables.get(table) or TableMapping(table)


def _strings(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, (str, int)) for v in value):
        return [str(v) for v in value]
    return None


def parse_correspondances(data: Any, source: str, asked: bool = False) -> tuple[Correspondances, list[Problem]]:
    """Check the YAML structure against the contract; every problem is returned, named by key.
    ``asked``: the unanswered « a_completer » were already each named by the caller (the
    correspondances workbook names them by sheet and row), so they are not asked again."""
    problems: list[Problem] = []

    def bad(key: str, expected: str) -> None:
        problems.append(Problem(source, key, expected, kind="configuration"))

    tables: dict[str, TableMapping] = {}
    if data is None:
        return Correspondances({}, source), []
    if not isinstance(data, dict):
        bad("", "le fichier doit associer un nom de table (accompagnements, ateliers, formations) à ses règles.")
        return Correspondances({}, source), problems
    contract_tables = contract()["tables"]
    for table, rules in data.items():
        if table in ("format", "reconnaissance", "libelle"):
            continue
        if table not in contract_tables:
            bad(str(table), f"table inconnue ; tables du contrat : {', '.join(contract_tables)}.")
            continue
        if not isinstance(rules, dict):
            bad(str(table), "attend des clés « fichier », « feuille », « colonnes », « valeurs », « ignorer ».")
            continue
        if rules.get(TO_COMPLETE) and not asked:
            bad(
                f"{table}.{TO_COMPLETE}", "en-têtes à classer : déplacez chacun sous « colonnes » (colonne du contrat) ou sous « ignorer »."
            )
        for key in rules:
            if key == TO_COMPLETE:
                continue
            if key not in TABLE_KEYS:
                bad(f"{table}.{key}", f"clé inconnue ; clés possibles : {', '.join(sorted(TABLE_KEYS))}.")
        spec = contract_tables[table]["columns"]
        colonnes: dict[str, tuple[str, ...]] = {}
        lieu_feuille = False
        pending: dict[str, set[str]] = {}
        for column, headers in (rules.get("colonnes") or {}).items():
            if column == "lieu" and isinstance(headers, dict):
                lieu_feuille = headers == {"feuille": True}
                if not lieu_feuille:
                    bad(
                        f"{table}.colonnes.lieu",
                        "attend l'en-tête de la colonne du lieu, ou « {feuille: true} » quand le lieu est le nom de la feuille.",
                    )
                continue
            if column not in spec:
                bad(f"{table}.colonnes.{column}", f"« {column} » n'est pas une colonne du contrat ; colonnes : {', '.join(spec)}.")
                continue
            names = _strings(headers)
            if names is None:
                bad(f"{table}.colonnes.{column}", "attend l'en-tête du fichier entre guillemets, ou une liste d'en-têtes.")
                continue
            if len(names) > 1 and spec[column]["type"] not in ("codes", "pseudonymous"):
                bad(f"{table}.colonnes.{column}", f"plusieurs colonnes ne peuvent alimenter « {column} » (une seule valeur par ligne).")
                continue
            colonnes[column] = tuple(normalise_header(n) for n in names)
        valeurs: dict[str, dict[str, str]] = {}
        for column, mapping in (rules.get("valeurs") or {}).items():
            if column not in spec or not (spec[column]["type"] in ("code", "codes") or labelled_integer(column)):
                coded = [c for c, s in spec.items() if s["type"] in ("code", "codes") or labelled_integer(c)]
                bad(f"{table}.valeurs.{column}", f"seules les colonnes à codes ont des valeurs ({', '.join(coded)}).")
                continue
            if not isinstance(mapping, dict):
                bad(f"{table}.valeurs.{column}", "attend des paires « valeur du fichier: code ».")
                continue
            accepted = accepted_codes(table, column)
            if labelled_integer(column):
                accepted = [str(n) for n in range(spec[column].get("min", 0), spec[column].get("max", 0) + 1)]
            folded: dict[str, str] = {}
            to_complete: list[str] = []
            wrong: list[str] = []
            for typed, code in mapping.items():
                code_text = "" if code is None else str(code)
                if code_text == TO_COMPLETE:
                    to_complete.append(f"« {typed} »")
                    pending.setdefault(column, set()).add(fold(typed))
                    continue
                # ``lieu`` and ``quartier`` codes are the publisher's: checked against its metadata later.
                if accepted is not None and code_text not in accepted and code_text != "":
                    wrong.append(f"« {code_text} » (pour « {typed} »)")
                    continue
                folded[fold(typed)] = code_text
            # One problem per column, the accepted codes listed once (not once per value).
            if to_complete and not asked:
                bad(
                    f"{table}.valeurs.{column}",
                    f"{len(to_complete)} valeur(s) à compléter ({', '.join(to_complete)}) : remplacez « {TO_COMPLETE} » par un code.",
                )
            if wrong:
                bad(f"{table}.valeurs.{column}", f"{', '.join(wrong)} : pas un code de « {column} » ; codes : {', '.join(accepted or [])}.")
            valeurs[column] = folded
        ignorer = _strings(rules.get("ignorer") or []) if rules.get("ignorer") else []
        if ignorer is None:
            bad(f"{table}.ignorer", "attend une liste d'en-têtes.")
            ignorer = []
        feuille = rules.get("feuille")
        if feuille is not None and not isinstance(feuille, (str, int)):
            bad(f"{table}.feuille", "attend le nom de la feuille (ou son numéro, 1 pour la première).")
            feuille = None
        feuilles = rules.get("feuilles")
        sheets: tuple[str, ...] = ()
        if feuilles == "*":
            sheets = ("*",)
        elif feuilles is not None:
            names = _strings(feuilles)
            if names is None:
                bad(
                    f"{table}.feuilles",
                    'attend la liste des feuilles (ex. ["Centre", "Nord"]), ou "*" pour toutes celles dont l\'en-tête correspond.',
                )
            else:
                sheets = tuple(names)
        fichier = rules.get("fichier")
        if fichier is not None and not isinstance(fichier, str):
            bad(f"{table}.fichier", "attend un nom de fichier, avec * pour une partie variable (ex. « suivi-*.xlsx »).")
            fichier = None
        tables[table] = TableMapping(
            table=table,
            fichier=fichier,
            feuille=feuille,
            colonnes=colonnes,
            valeurs=valeurs,
            ignorer=frozenset(normalise_header(h) for h in ignorer),
            filtre=rules.get("filtre"),
            regroupement=rules.get("regroupement"),
            dates=rules.get("dates"),
            sans_identifiant=frozenset(fold(v) for v in _strings(rules.get("sans_identifiant") or []) or []),
            lieu_vide=rules.get("lieu_vide"),
            feuilles=sheets,
            lieu_feuille=lieu_feuille,
            pending_headers=frozenset(normalise_header(h) for h in _strings(rules.get(TO_COMPLETE) or []) or []),
            pending_values={column: frozenset(folded) for column, folded in pending.items()},
        )
    recognised = frozenset(normalise_header(h) for h in (data.get("reconnaissance") or []))
    return Correspondances(tables, source, recognised, str(data.get("libelle", ""))), problems


WORKBOOK_FILE_NAME = "correspondances.xlsx"


def read_correspondances(folder: Path | None) -> tuple[Correspondances | None, list[Problem]]:
    """The publication folder's ``metadata/correspondances.yml`` or ``correspondances.xlsx``
    (the same rules as a workbook), if any. When both are there, the one saved last is
    read: ``correspondances`` writes both, she completes one."""
    if folder is None:
        return None, []
    path = Layout(folder).metadata / FILE_NAME
    workbook = Layout(folder).metadata / WORKBOOK_FILE_NAME
    if workbook.exists() and (not path.exists() or workbook.stat().st_mtime > path.stat().st_mtime):
        from .mapping_workbook import read_mapping_workbook

        source = f"metadata/{WORKBOOK_FILE_NAME}"
        try:
            data, empty = read_mapping_workbook(workbook, source)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
            return None, [
                Problem(
                    source, "", f"classeur illisible ({type(e).__name__}) : enregistrez-le à nouveau au format .xlsx.", kind="configuration"
                )
            ]
        mapping, problems = parse_correspondances(data, source, asked=True)
        return mapping, empty + problems
    if not path.exists():
        return None, []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (ligne {mark.line + 1})" if mark is not None else ""
        return None, [
            Problem(
                f"metadata/{FILE_NAME}",
                "",
                f"fichier YAML illisible{where} : vérifiez l'indentation et les guillemets.",
                kind="configuration",
            )
        ]
    return parse_correspondances(data, f"metadata/{FILE_NAME}")


def labelled_integer(column: str) -> bool:
    """An integer column agents may type as words (satisfaction): mapped like codes."""
    return column in contract().get("orthographes", {}) and any(
        spec["columns"].get(column, {}).get("type") == "integer" for spec in contract()["tables"].values()
    )


@cache
def national_formats() -> tuple[Correspondances, ...]:
    """The exports recognised without any file (``formats/*.yml``), checked like a CCAS's own."""
    formats = []
    for path in sorted(FORMATS_DIR.glob("*.yml")):
        mapping, problems = parse_correspondances(yaml.safe_load(path.read_text(encoding="utf-8")), path.name)
        if problems:  # a shipped format that does not check is a bug of the tool, not of the CCAS
            raise RuntimeError("; ".join(p.describe() for p in problems))
        formats.append(mapping)
    return tuple(formats)


# --- the contract's codes, labels and spellings --------------------------------------------


def _value_lists(table: str, column: str) -> list[str] | None:
    """Names of the contract's code lists a column takes its values from (None: the publisher's)."""
    references = contract()["tables"][table]["columns"][column].get("values")
    references = references if isinstance(references, list) else [references]
    names = [str(r).lstrip("$") for r in references]
    return names if all(n in contract()["codes"] or n in DERIVED_BANDS for n in names) else None


#: Derived categories whose codes a file may carry directly (national exports give age bands).
DERIVED_BANDS = {spec["tranches"] for spec in derived().values()}


def codes_of(name: str) -> list[str]:
    """A code list of the contract, or the codes of a derived band (plus « non communiqué »)."""
    if name in DERIVED_BANDS:
        return [band["code"] for band in contract()[name]] + [NOT_GIVEN]
    return list(contract()["codes"][name])


def accepted_codes(table: str, column: str) -> list[str] | None:
    """The contract's codes for a column, None for the publisher's lists (lieux, quartiers)."""
    names = _value_lists(table, column)
    if names is None:
        return None
    return [code for name in names for code in codes_of(name)]


def contract_label(column: str, code: str) -> str | None:
    """The French label of a code of a contract column, as the site shows it."""
    if code == NOT_GIVEN:
        return str(contract()["libelle_non_communique"])
    label = contract()["libelles"].get(column, {}).get(code)
    return None if label is None else str(label)


def value_lookup(table: str, column: str, publisher_values: dict[str, str] | None = None) -> dict[str, str]:
    """Folded spelling → code: the codes themselves, their French labels (as the site shows
    them), common spellings from the contract, and for the publisher's lists (``lieu``,
    ``quartier``) its codes and names. Codes win over labels, labels over spellings."""
    lookup: dict[str, str] = {}
    codes = accepted_codes(table, column)
    if codes is None:
        codes = list(publisher_values or {})
    for typed, code in contract().get("orthographes", {}).get(column, {}).items():
        lookup[fold(typed)] = code
    for code, name in (publisher_values or {}).items():
        lookup[fold(name)] = code
    for code in list(codes) + list(publisher_values or {}):
        label = contract_label(column, code)
        if label is not None:
            lookup[fold(label)] = code
    for code in codes:
        # « Demandeur d'emploi » folds to demandeur_emploi once its articles are dropped.
        lookup[normalise_header(code)] = code
        lookup[fold(code)] = code
    return lookup


@cache  # the contract is read once and never changes while the tool runs
def header_suggestions() -> dict[str, str]:
    """Normalised header often seen in CCAS files → the contract column it most likely is."""
    out: dict[str, str] = {}
    for column, headers in contract().get("en_tetes", {}).items():
        for header in headers:
            out[normalise_header(header)] = column
    return out
