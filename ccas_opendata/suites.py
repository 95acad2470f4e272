"""The raw-record suites' per-column expectations, written from ``contract.yml``.

The suites stay JSON files in ``expectations/`` (reviewed in a diff, shown as they are),
but what each contract column asks of a cell is not typed there by hand: a required column
is not empty, a ``code`` column holds a code of its list (the contract's, or the
publisher's ``lieux.csv``…), a ``codes`` column a ``|``-separated run of them, an integer
stays within its ``min``/``max``, a date within the published year. This module writes
those expectations, in the contract's column order, each marked ``meta.contrat``
(``table.colonne.regle``); the expectations without that mark (across columns, written by
hand) are kept as they are, after the last column they name.

``python -m ccas_opendata.suites`` rewrites the files; ``--check`` (run by ``make lint``
and a test) fails when a file is not what the contract gives, and :func:`stale` lets the
validation refuse a suite that no longer follows its contract, so a column added to
``contract.yml`` cannot be read and published without being checked.

The sentences an agent reads when a cell breaks a rule (``meta.message``) come from the
contract too (``controles``): a column's own sentence where it has one, the rule's
general sentence built from the column's title otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .config import EXPECTATIONS_DIR
from .vocabulary import SOURCES, columns, contract, publisher_list

#: The mark of an expectation written from the contract: ``table.colonne.regle``.
MARK = "contrat"

#: The first letters after which French elides « de » (« code d'autonomie »).
_VOWELS = "aeiouyàâäéèêëîïôöùûü"


def suite_name(table: str) -> str:
    """The raw-record suite of an input table (``expectations/<name>.json``)."""
    return f"enregistrements_{table}"


def suite_path(table: str, directory: Path = EXPECTATIONS_DIR) -> Path:
    return directory / f"{suite_name(table)}.json"


def parameter(table: str, column: str, what: str) -> str:
    """The ``$PARAMETER`` a column's expectation reads (``accompagnements_duree_max``):
    filled by ``quality.raw_parameters`` from the contract and the publisher's lists."""
    return f"{table}_{column}_{what}"


def _message(rule: str, column: str, spec: dict[str, Any], **values: Any) -> str:
    """The French sentence of a rule on a column: its own (``controles.colonnes``), else
    the rule's general one (``controles.messages``), filled with the column's title, its
    bounds and its list."""
    checks = contract()["controles"]
    template = checks["colonnes"].get(column, {}).get(rule) or checks["messages"][rule]
    title = spec["titre"]
    lowered = title[0].lower() + title[1:]
    of_title = ("d'" if lowered[0] in _VOWELS else "de ") + lowered
    return str(template).format(titre=title, de_titre=of_title, unite=spec.get("unite", ""), **values)


def _expectation(kind: str, table: str, column: str, rule: str, message: str, **kwargs: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "kwargs": {"column": column, **kwargs},
        "meta": {"message": message, MARK: f"{table}.{column}.{rule}"},
    }


def column_expectations(table: str, column: str) -> list[dict[str, Any]]:
    """What the contract asks of each cell of one column, in the order they are reported."""
    spec = columns(table)[column]
    kind = spec["type"]
    found: list[dict[str, Any]] = []
    if spec.get("required"):
        found.append(_expectation("expect_column_values_to_not_be_null", table, column, "requis", _message("requis", column, spec)))
    if kind == "date":
        bounds = {"min_value": {"$PARAMETER": "debut"}, "max_value": {"$PARAMETER": "fin"}}
        found.append(_expectation("expect_column_values_to_be_between", table, column, "annee", _message("annee", column, spec), **bounds))
    elif kind == "integer" and ("min" in spec or "max" in spec or spec.get("max_annee")):
        low = spec.get("min")
        high: Any = spec.get("max")
        kwargs: dict[str, Any] = {}
        if low is not None:
            kwargs["min_value"] = {"$PARAMETER": parameter(table, column, "min")}
        if spec.get("max_annee"):
            kwargs["max_value"] = {"$PARAMETER": "annee"}
            high = contract()["controles"]["annee_publiee"]
        elif high is not None:
            kwargs["max_value"] = {"$PARAMETER": parameter(table, column, "max")}
        message = _message("bornes", column, spec, min=low, max=high)
        found.append(_expectation("expect_column_values_to_be_between", table, column, "bornes", message, **kwargs))
    elif kind in ("code", "codes"):
        listed = publisher_list(table, column)
        if listed is not None:
            extra = listed.get("en_plus")
            also = f" ou « {extra} »" if extra else ""
            rule = "liste"
            message = _message(rule, column, spec, fichier=listed["fichier"], en_plus=extra or "", ou_en_plus=also)
        else:
            rule = "codes" if kind == "code" else "motif"
            message = _message(rule, column, spec)
        if kind == "code":
            codes = {"value_set": {"$PARAMETER": parameter(table, column, "codes")}}
            found.append(_expectation("expect_column_values_to_be_in_set", table, column, rule, message, **codes))
        else:
            regex = {"regex": {"$PARAMETER": parameter(table, column, "motif")}}
            found.append(_expectation("expect_column_values_to_match_regex", table, column, rule, message, **regex))
    return found


def _named_columns(expectation: dict[str, Any]) -> list[str]:
    kwargs = expectation["kwargs"]
    named = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    return named + list(kwargs.get("column_list", []))


def build_suite(table: str, current: dict[str, Any] | None = None) -> dict[str, Any]:
    """The raw-record suite of ``table``: the per-column expectations the contract gives,
    and the hand-written ones of ``current`` (without :data:`MARK`), each placed after the
    last contract column it names (at the end when it names none)."""
    current = current or {"name": suite_name(table), "meta": {"description": f"Contrôle des lignes de la table « {table} »."}}
    written = [e for e in current.get("expectations", []) if MARK not in e.get("meta", {})]
    order = list(columns(table))
    after: dict[int, list[dict[str, Any]]] = {}
    for expectation in written:
        ranks = [order.index(c) for c in _named_columns(expectation) if c in order]
        after.setdefault(max(ranks) if ranks else len(order), []).append(expectation)
    expectations: list[dict[str, Any]] = []
    for rank, column in enumerate(order):
        expectations += column_expectations(table, column)
        expectations += after.get(rank, [])
    expectations += after.get(len(order), [])
    return {"name": current.get("name", suite_name(table)), "meta": current.get("meta", {}), "expectations": expectations}


def as_text(suite: dict[str, Any]) -> str:
    """A suite as its JSON file holds it (the layout the committed files have)."""
    return json.dumps(suite, ensure_ascii=False, indent=2) + "\n"


def _read(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    with open(path, encoding="utf-8") as f:
        loaded: dict[str, Any] = json.load(f)
    return loaded


def stale(table: str, suite: dict[str, Any]) -> bool:
    """Whether a loaded raw-record suite no longer holds what the contract gives."""
    return build_suite(table, suite)["expectations"] != suite.get("expectations", [])


def write_suites(directory: Path = EXPECTATIONS_DIR, check: bool = False) -> list[Path]:
    """Write each input table's suite from the contract (``check``: write nothing); the
    files that were (or would be) changed."""
    changed = []
    for table in SOURCES:
        path = suite_path(table, directory)
        text = as_text(build_suite(table, _read(path)))
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            changed.append(path)
            if not check:
                path.write_text(text, encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ccas_opendata.suites",
        description="Écrit les attentes par colonne des suites d'enregistrements bruts depuis contract.yml.",
    )
    parser.add_argument("--check", action="store_true", help="N'écrit rien ; échoue si un fichier n'est pas à jour.")
    parser.add_argument("--dossier", type=Path, default=EXPECTATIONS_DIR, help="Dossier des suites (expectations/).")
    options = parser.parse_args(argv)
    changed = write_suites(options.dossier, check=options.check)
    for path in changed:
        verb = "à régénérer" if options.check else "écrit"
        print(f"{path.name} : {verb}", file=sys.stderr if options.check else sys.stdout)
    if options.check and changed:
        print("Les suites ne suivent plus contract.yml : lancez « python -m ccas_opendata.suites ».", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
