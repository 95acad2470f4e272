"""Bad input gets a clear error naming file, row and column, exits non-zero, and the
earlier publication stays byte-for-byte intact. No error echoes a faulty value, except the
wrong values of a *code* column (not personal data, and what the agent needs to fix them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ccas_opendata.demo import synthetic_accompagnements, synthetic_ateliers, synthetic_formations, write_table
from conftest import release, snapshot

pytestmark = pytest.mark.slow

YEAR = 2025
ROW = 7  # the line number in the file, header = 1


def write_year(directory: Path, publisher, change) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    accompagnements = synthetic_accompagnements(YEAR, 600, publisher, seed=5).astype({"Durée": object})
    change(accompagnements)
    write_table(accompagnements, directory / "accompagnements", "csv-utf8")
    write_table(synthetic_ateliers(YEAR, publisher, seed=5), directory / "ateliers", "csv-utf8")
    write_table(synthetic_formations(YEAR, seed=5), directory / "formations", "csv-utf8")
    return directory


def set_cell(column: str, value):
    def change(frame):
        frame.loc[ROW - 2, column] = value

    return change


CASES = {
    "date illisible": (set_cell("Date", "31/02/2025x"), "date", "date attendue au format AAAA-MM-JJ ou JJ/MM/AAAA"),
    "durée négative": (set_cell("Durée", -15), "duree", "la durée doit être comprise entre 1 et 480 minutes"),
    "code inconnu": (
        set_cell("Situation", "canari_situation_inconnue"),
        "situation",
        "valeur non reconnue. Valeurs non reconnues : « canari_situation_inconnue »",
    ),
    "lieu non déclaré": (
        set_cell("Lieu", "canari_lieu_inconnu"),
        "lieu",
        "Accepté : un code ou un nom de lieu déclaré dans metadata/lieux.csv",
    ),
    "date hors de l'année": (set_cell("Date", "2024-12-31"), "date", "la date doit tomber dans l'année publiée"),
    "thématique inconnue": (set_cell("Thématiques", "email|canari_theme"), "thematiques", "Valeurs non reconnues : « canari_theme »"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_cell_names_file_row_and_column_and_changes_nothing(case, published_copy: Path, tmp_path: Path, publisher):
    change, column, expected = CASES[case]
    inputs = write_year(tmp_path / "entrees", publisher, change)
    before = snapshot(published_copy)
    result = release(published_copy, YEAR, inputs)
    assert result.exit_code == 1
    message = result.stderr
    assert "accompagnements.csv" in message
    assert f"ligne {ROW}" in message or f"lignes {ROW}" in message
    assert f"colonne « {column} »" in message
    assert expected in message
    if column not in ("situation", "lieu", "thematiques"):  # code columns show their wrong values
        assert "canari" not in result.output and "31/02/2025x" not in result.output
    assert "Rien n'a été publié" in message or "la publication précédente est intacte" in message
    assert snapshot(published_copy) == before
    assert not (published_copy / "datapackages" / str(YEAR)).exists()
    assert not (published_copy / ".travail" / str(YEAR)).exists()


def test_missing_required_column(published_copy: Path, tmp_path: Path, publisher):
    inputs = write_year(tmp_path / "entrees", publisher, lambda frame: frame.drop(columns=["Durée"], inplace=True))
    before = snapshot(published_copy)
    result = release(published_copy, YEAR, inputs)
    assert result.exit_code == 1
    assert "accompagnements.csv, ligne 1, colonne « duree » : colonne obligatoire absente" in result.stderr
    assert snapshot(published_copy) == before


def test_missing_accompagnements_file(published_copy: Path, tmp_path: Path):
    (tmp_path / "vide").mkdir()
    before = snapshot(published_copy)
    result = release(published_copy, YEAR, tmp_path / "vide")
    assert result.exit_code == 1
    assert "accompagnements.csv" in result.stderr and "introuvable" in result.stderr
    assert snapshot(published_copy) == before


def test_several_problems_are_reported_together(published_copy: Path, tmp_path: Path, publisher):
    def change(frame):
        frame.loc[3, "Durée"] = 900
        frame.loc[10, "Durée"] = 0
        frame.loc[4, "Genre"] = "canari_genre"

    result = release(published_copy, YEAR, write_year(tmp_path / "entrees", publisher, change))
    assert result.exit_code == 1
    assert "lignes 5, 12, colonne « duree »" in result.stderr
    assert "ligne 6, colonne « genre »" in result.stderr


def test_presents_above_inscrits_in_formations(published_copy: Path, tmp_path: Path, publisher):
    inputs = write_year(tmp_path / "entrees", publisher, lambda frame: None)
    formations = synthetic_formations(YEAR, seed=5)
    formations.loc[2, "presents"] = formations.loc[2, "inscrits"] + 3
    write_table(formations, inputs / "formations", "csv-utf8")
    result = release(published_copy, YEAR, inputs)
    assert result.exit_code == 1
    assert "formations.csv, ligne 4, colonne « inscrits, presents » : les présents ne peuvent pas dépasser les inscrits" in result.stderr


def test_a_failed_swap_is_rolled_back(published_copy: Path, tmp_path: Path):
    """The swap is a series of renames; if the second fails (here: its backup place is taken,
    a real ENOTEMPTY from the file system), the first is undone."""
    from ccas_opendata.release import swap_in

    before = snapshot(published_copy)
    new_package = tmp_path / "nouveau" / "2024"
    new_package.mkdir(parents=True)
    (new_package / "indicateurs.csv").write_text("autre contenu\n")
    new_site = tmp_path / "site"
    new_site.mkdir()
    backup = tmp_path / "ancien"
    (backup / "1").mkdir(parents=True)  # where publish/ would go
    (backup / "1" / "occupe").write_text("x")
    with pytest.raises(OSError):
        swap_in(published_copy, [(published_copy / "datapackages" / "2024", new_package), (published_copy / "publish", new_site)], backup)
    assert snapshot(published_copy) == before
    assert (new_package / "indicateurs.csv").exists()  # the new package is back where it was
