"""Every input form of the contract publishes the same figures, byte for byte."""

from __future__ import annotations


import pandas as pd
import pytest

from ccas_opendata.demo import synthetic_accompagnements, synthetic_ateliers, synthetic_formations, write_table
from ccas_opendata.correspondances import parse_correspondances
from ccas_opendata.errors import InvalidInput
from ccas_opendata.ingest import normalise_header, read_records
from conftest import make_folder, release

FORMS = ["csv-excel", "csv-utf8", "csv-comma", "xlsx", "ods"]
YEAR = 2024
SIZE = 1000


@pytest.fixture(scope="module")
def reference_year(publisher):
    return (
        synthetic_accompagnements(YEAR, SIZE, publisher, seed=3),
        synthetic_ateliers(YEAR, publisher, seed=3),
        synthetic_formations(YEAR, seed=3),
    )


@pytest.fixture(scope="module")
def published_by_form(tmp_path_factory, reference_year) -> dict[str, bytes]:
    out = {}
    for form in FORMS:
        base = tmp_path_factory.mktemp(form)
        inputs = base / "entrees"
        inputs.mkdir()
        for name, frame in zip(("accompagnements", "ateliers", "formations"), reference_year):
            write_table(frame, inputs / name, form)
        folder = make_folder(base / "ccas")
        result = release(folder, YEAR, inputs)
        assert result.exit_code == 0, (form, result)
        out[form] = (folder / "datapackages" / str(YEAR) / "indicateurs.csv").read_bytes()
    return out


@pytest.mark.slow
@pytest.mark.parametrize("form", FORMS[1:])
def test_same_indicateurs_csv_whatever_the_form(published_by_form, form):
    assert published_by_form[form] == published_by_form["csv-excel"]


def test_excel_csv_is_really_windows_1252_with_semicolons(tmp_path, reference_year):
    path = write_table(reference_year[0].head(50), tmp_path / "accompagnements", "csv-excel")
    raw = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert raw.decode("cp1252").splitlines()[0].count(";") > 10
    assert "/" in raw.decode("cp1252").splitlines()[1].split(";")[0]  # JJ/MM/AAAA dates


def test_headers_are_matched_without_case_accents_or_articles():
    assert normalise_header("Durée") == "duree"
    assert normalise_header("  THÉMATIQUES ") == "thematiques"
    assert normalise_header("Année de naissance") == "annee_naissance"
    assert normalise_header("Date de naissance") == "date_naissance"
    assert normalise_header("N° de sécurité sociale") == "n_securite_sociale"
    assert normalise_header("Composition familiale") == "composition_familiale"


def test_booleans_dates_and_multi_values_in_their_usual_spellings(tmp_path):
    inputs = tmp_path / "entrees"
    inputs.mkdir()
    (inputs / "accompagnements.csv").write_text(
        "Date;Lieu;Durée;Thématiques;Premier accompagnement;Matériel\n"
        "05/03/2024;ccas_centre;30;social_sante | email;Oui;telephone|ordinateur\n"
        "2024-03-06;ccas_centre;45;logement;non;\n"
        "7/3/2024;ccas_centre;20;argent_impots;1;aucun\n"
        "2024-03-08;ccas_centre;20;justice;FAUX;\n",
        encoding="utf-8",
    )
    table = read_records(inputs)["accompagnements"].frame
    assert list(table["date"].dt.strftime("%Y-%m-%d")) == ["2024-03-05", "2024-03-06", "2024-03-07", "2024-03-08"]
    assert list(table["thematiques"]) == ["social_sante|email", "logement", "argent_impots", "justice"]
    assert list(table["premier_accompagnement"]) == [True, False, True, False]
    assert table["materiel"].iloc[0] == "telephone|ordinateur" and pd.isna(table["materiel"].iloc[1])
    assert list(table.index) == [2, 3, 4, 5]  # spreadsheet row numbers


def test_an_unknown_column_stops_the_run_until_it_is_mapped_or_ignored(tmp_path):
    """Never silently dropped: the agent says what the column is, or that it stays out."""
    inputs = tmp_path / "entrees"
    inputs.mkdir()
    (inputs / "accompagnements.csv").write_text(
        "date,lieu,duree,thematiques,Nom,Prénom,Courriel,NIR,Commentaire,Couleur préférée\n"
        "2024-01-02,ccas_centre,10,email,Dupont,Jeanne,j@example.org,2850775123456,rappeler,bleu\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidInput) as refused:
        read_records(inputs)
    assert [p.kind for p in refused.value.problems] == ["en-tete"]
    assert "colonne J" in str(refused.value)

    own, problems = parse_correspondances({"accompagnements": {"ignorer": ["Couleur préférée"]}}, "correspondances.yml")
    assert problems == []
    records = read_records(inputs, own)
    table = records["accompagnements"]
    assert list(table.frame.columns) == ["date", "lieu", "duree", "thematiques"]
    assert table.dropped_identifiers == ["Commentaire", "Courriel", "NIR", "Nom", "Prénom"]
    assert table.dropped_unknown == [10]
    assert any("à votre demande" in w and "« Couleur préférée » (J)" in w for w in records.warnings)  # her own words


def test_an_unknown_header_is_named_by_position_never_by_its_text(tmp_path):
    """A header typed by hand can be a person's name or phone number: the error says
    where the columns are, never their header (unless it resembles a contract column)."""
    inputs = tmp_path / "entrees"
    inputs.mkdir()
    header = ["date", "lieu", "duree", "thematiques"] + [f"x{i}" for i in range(22)] + ["Jeanne Martin", "06 12 34 56 78"]
    (inputs / "accompagnements.csv").write_text(
        ";".join(header) + "\n" + ";".join(["2024-01-02", "ccas_centre", "10", "email"] + [""] * 24) + "\n", encoding="utf-8"
    )
    with pytest.raises(InvalidInput) as refused:
        read_records(inputs)
    message = str(refused.value)
    assert len(refused.value.problems) == 24
    assert "colonne E " in message and "colonne AB " in message
    for echoed in ("jeanne", "martin", "06 12", "0612", "x0", "x21"):
        assert echoed not in message.lower(), echoed


def test_labels_typed_instead_of_codes_are_folded_to_the_codes(tmp_path):
    inputs = tmp_path / "entrees"
    inputs.mkdir()
    (inputs / "accompagnements.csv").write_text(
        "date;lieu;duree;thematiques;situation;composition_familiale;genre;canal\n"
        "2024-01-02;CCAS Centre;10;Prendre en main du matériel | Social Santé;Demandeur d'emploi;Famille monoparentale;Féminin;Bouche-à-oreille\n"
        ";;;;;;;\n"
        "2024-01-03;ccas_centre;15;email;Retraité;Personne seule;masculin;\n"
        ";;;;;;;\n",
        encoding="utf-8",
    )
    frame = read_records(inputs)["accompagnements"].frame
    assert list(frame.index) == [2, 4]  # blank lines are not records; row numbers kept
    first = frame.loc[2]
    assert first["lieu"] == "ccas_centre"
    assert first["thematiques"] == "prendre_en_main_du_materiel|social_sante"
    assert (first["situation"], first["composition_familiale"], first["genre"], first["canal"]) == (
        "demandeur_emploi",
        "famille_monoparentale",
        "feminin",
        "bouche_a_oreille",
    )
    assert frame.loc[4, "situation"] == "retraite"
