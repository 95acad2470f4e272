"""``demo`` builds synthetic years: never over a real CCAS's publication."""

from __future__ import annotations

from pathlib import Path

from ccas_opendata.publisher import read_publisher
from ccas_opendata.demo import is_demo_publisher, refuse_real_publication
from conftest import REPO, invoke, make_folder, snapshot


def real_ccas(folder: Path) -> Path:
    """A folder whose metadata is a real CCAS's (not the demo's) and which has published 2024."""
    path = folder / "metadata" / "organisation.yml"
    text = path.read_text(encoding="utf-8")
    text = (
        text.replace("CCAS de Val-d'Orbe (démonstration)", "CCAS de Ville-Réelle")
        .replace('"26120999900017"', '"26000000000019"')
        .replace('"12999"', '"01001"')
    )
    path.write_text(text, encoding="utf-8")
    package = folder / "datapackages" / "2024"
    package.mkdir(parents=True)
    (package / "datapackage.json").write_text('{"name": "ccas-de-ville-reelle-activite-2024"}\n', encoding="utf-8")
    (package / "indicateurs.csv").write_text(
        "annee,periode,lieu,indicateur,dimension,modalite,valeur,unite,secret\n2024,2024,ensemble,accompagnements,ensemble,ensemble,1234,nombre,\n",
        encoding="utf-8",
    )
    return folder


def test_demo_refuses_to_overwrite_a_real_publication(tmp_path: Path):
    folder = real_ccas(make_folder(tmp_path / "ccas"))
    before = snapshot(folder)
    result = invoke("demo", "--dossier", folder, "--sans-serveur")
    assert result.exit_code == 1
    assert "« CCAS de Ville-Réelle », qui a déjà publié 2024" in result.stderr
    assert "remplacerait ces chiffres par des chiffres fictifs" in result.stderr
    assert "ccas-opendata demo --dossier" in result.stderr  # how to run it elsewhere
    assert snapshot(folder) == before
    assert not (folder / ".travail").exists()


def test_the_repository_metadata_is_the_demo_and_may_be_rebuilt():
    publisher = read_publisher(REPO)
    assert is_demo_publisher(publisher)
    refuse_real_publication(publisher, [2023, 2024, 2025])  # the demo's own years: no error


def test_a_real_ccas_that_has_published_nothing_yet_may_try_the_demo(tmp_path: Path):
    folder = real_ccas(make_folder(tmp_path / "ccas"))
    publisher = read_publisher(folder)
    assert not is_demo_publisher(publisher)
    refuse_real_publication(publisher, [])
