"""One vocabulary, fed by ``contract.yml`` only: the codes the contract adds to the
publisher's lists, the code of an empty cell, the source tables and the published
table's columns are read through ``ccas_opendata.vocabulary``, and no module of the
package spells them again (the issue counted ``hors_les_murs`` in 8 places)."""

from __future__ import annotations

import ast
from pathlib import Path

import ccas_opendata
from ccas_opendata.vocabulary import (
    NO,
    NOT_GIVEN,
    PUBLISHED_COLUMNS,
    PUBLISHED_KEY,
    SOURCES,
    YES,
    band_codes,
    boolean_columns,
    column_of,
    contract,
    extra_codes,
    flags,
    multi_valued,
    when_empty,
    yes_no_dimensions,
)

PACKAGE = Path(ccas_opendata.__file__).parent


def package_modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_vocabulary_is_the_contract_s():
    """Hand-read from contract.yml: what each name stands for."""
    assert NOT_GIVEN == "non_communique"
    assert SOURCES == ("accompagnements", "ateliers", "formations")
    assert PUBLISHED_COLUMNS == ["annee", "periode", "lieu", "indicateur", "dimension", "modalite", "valeur", "unite", "secret"]
    assert PUBLISHED_KEY == ["periode", "lieu", "indicateur", "dimension", "modalite"]
    assert extra_codes("lieu") == ["hors_les_murs"]
    assert extra_codes("lieu", "accompagnements") == []  # an accompaniment happens at a declared site
    assert extra_codes("lieu", "ateliers") == ["hors_les_murs"]
    assert extra_codes("quartier", "accompagnements") == ["hors_commune"]
    # An age band may be missing (no age given); a duration band may not (« duree » is required).
    assert band_codes("tranche_age") == ["moins_de_18", "18_24", "25_39", "40_59", "60_69", "70_plus", "non_communique"]
    assert band_codes("duree_tranche")[-1] == "120_min_et_plus"
    # Every code the contract adds has its French label, like the codes of its lists.
    for name, entry in contract()["listes_editeur"].items():
        if "en_plus" in entry:
            assert contract()["libelles"][entry["colonne"]][entry["en_plus"]], name


def test_the_derived_breakdowns_are_the_contract_s():
    """Hand-read from contract.yml: the yes/no breakdowns, the single-valued breakdown of
    each multi-valued column, and the code an empty orientation means."""
    assert (YES, NO) == ("oui", "non")
    assert boolean_columns("accompagnements") == ["premier_accompagnement"]
    assert boolean_columns("ateliers") == []
    assert flags() == {"qpv": {"table": "accompagnements", "depuis": "quartier", "drapeau": "qpv"}}
    assert yes_no_dimensions() == ["qpv", "premier_accompagnement"]
    assert multi_valued() == {"thematique": "thematiques", "materiel": "materiel"}
    assert when_empty("accompagnements", "orientation") == "aucune"
    assert when_empty("accompagnements", "canal") is None
    assert column_of("thematique") == ("accompagnements", "thematiques")
    assert column_of("format") == ("ateliers", "format")
    assert column_of("public") == ("formations", "public")
    assert column_of("qpv") is None  # derived: no column of the files gives it


def _spelt(path: Path, base: Path = PACKAGE) -> list[str]:
    """Where a module writes a vocabulary item itself: a special code as a string, or the
    sources, the published columns or their key as a literal list or tuple."""
    special = {NOT_GIVEN, *extra_codes("lieu"), *extra_codes("quartier")}
    sequences = {tuple(SOURCES): "les sources", tuple(PUBLISHED_COLUMNS): "les colonnes publiées", tuple(PUBLISHED_KEY): "la clé publiée"}
    where = path.relative_to(base)
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and node.value in special:
            found.append((node.lineno, f"« {node.value} »"))
        elif isinstance(node, (ast.List, ast.Tuple)) and all(isinstance(e, ast.Constant) for e in node.elts):
            values = tuple(str(e.value) for e in node.elts if isinstance(e, ast.Constant))
            if values in sequences:
                found.append((node.lineno, sequences[values]))
    return [f"{where}:{line} {what}" for line, what in sorted(found)]


def test_no_module_spells_the_vocabulary_again():
    spelt = [where for path in package_modules() for where in _spelt(path)]
    assert spelt == []


def test_the_guard_names_a_module_that_spells_the_vocabulary(tmp_path: Path):
    """The guard above can fail: each way of repeating the contract is named, by line."""
    module = tmp_path / "module.py"
    module.write_text(
        'LIEUX = ["centre", "hors_les_murs"]\n'
        'VIDE = "non_communique"\n'
        'SOURCES = ("accompagnements", "ateliers", "formations")\n'
        'CLE = ["periode", "lieu", "indicateur", "dimension", "modalite"]\n'
        '"""Prose that names « non_communique » is not a repetition."""\n',
        encoding="utf-8",
    )
    assert _spelt(module, tmp_path) == [
        "module.py:1 « hors_les_murs »",
        "module.py:2 « non_communique »",
        "module.py:3 les sources",
        "module.py:4 la clé publiée",
    ]
