"""The researchers' API: a real Datasette on 127.0.0.1, queried over HTTP."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def package_rows(published: Path, year: int) -> list[dict[str, str]]:
    with open(published / "datapackages" / str(year) / "indicateurs.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_contract_url_returns_the_published_figures(server, published):
    response = server.get("/indicateurs/indicateurs.json?annee=2024&indicateur=accompagnements&dimension=ensemble&_shape=array")
    assert response.status_code == 200
    api = {(r["periode"], r["lieu"]): r["valeur"] for r in response.json()}
    expected = {
        (r["periode"], r["lieu"]): float(r["valeur"])
        for r in package_rows(published, 2024)
        if r["indicateur"] == "accompagnements" and r["dimension"] == "ensemble" and r["valeur"]
    }
    assert api == expected
    assert ("2024", "ensemble") in api and ("2024-01", "ensemble") in api


def test_every_year_is_in_the_database(server, published):
    for year in (2023, 2024):
        count = server.get(f"/indicateurs/indicateurs.json?annee={year}&_size=0").json()["filtered_table_rows_count"]
        assert count == len(package_rows(published, year))


def test_csv_export_and_cors(server):
    response = server.get(
        "/indicateurs/indicateurs.csv?annee=2024&indicateur=accompagnements&dimension=tranche_age&lieu=ensemble&_size=max",
        headers={"Origin": "http://exemple.org"},
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {r["modalite"] for r in rows} >= {"moins_de_18", "18_24", "70_plus"}


def test_codes_stay_text(server):
    lieux = server.get("/indicateurs/lieux.json?_shape=array").json()
    assert all(isinstance(l["code_insee"], str) and len(l["code_insee"]) == 5 for l in lieux)
    ages = server.get("/indicateurs/indicateurs.json?dimension=tranche_age&modalite=18_24&_shape=array&_size=1").json()
    assert ages[0]["modalite"] == "18_24"
    columns = server.get("/indicateurs.json").json()
    assert columns["database"] == "indicateurs"


def test_database_is_read_only_and_immutable(server):
    refused = server.get("/indicateurs.json", params={"sql": "delete from indicateurs"})
    assert refused.status_code == 400
    databases = server.get("/-/databases.json").json()
    assert databases[0]["is_mutable"] is False
    assert server.get("/-/settings.json").json()["sql_time_limit_ms"] == 1000


def test_sql_time_limit_cuts_a_runaway_query(server):
    runaway = "with recursive n(x) as (select 1 union all select x + 1 from n) select count(*) from n"
    response = server.get("/indicateurs.json", params={"sql": runaway})
    assert response.status_code == 400
    assert "too long" in response.text.lower() or "interrupted" in response.text.lower()


def test_canned_queries_answer_the_common_questions(server, published):
    series = server.get("/indicateurs/serie_annuelle.json?indicateur=accompagnements&_shape=array").json()
    assert [r["annee"] for r in series] == [2023, 2024]
    total_2024 = next(
        float(r["valeur"])
        for r in package_rows(published, 2024)
        if r["indicateur"] == "accompagnements" and r["periode"] == "2024" and r["lieu"] == "ensemble" and r["dimension"] == "ensemble"
    )
    assert series[1]["valeur"] == total_2024
    breakdown = server.get("/indicateurs/ventilation.json?annee=2024&dimension=genre&_shape=array").json()
    assert {r["modalite"] for r in breakdown} == {"feminin", "masculin", "non_communique"}
    metadata = server.get("/-/metadata.json").json()
    query = metadata["databases"]["indicateurs"]["queries"]["serie_annuelle"]
    assert query["title"].startswith("Série annuelle")


def test_metadata_carries_licence_and_column_descriptions(server):
    metadata = server.get("/-/metadata.json").json()
    assert metadata["license"] == "Licence Ouverte / Open Licence version 2.0"
    columns = metadata["databases"]["indicateurs"]["tables"]["indicateurs"]["columns"]
    assert columns["secret"].startswith("Secret statistique")
    assert set(columns) == {"annee", "periode", "lieu", "indicateur", "dimension", "modalite", "valeur", "unite", "secret"}


def test_downloads(server):
    assert server.get("/indicateurs.db").status_code == 200
    package = server.get("/static/paquets/2024/datapackage.json")
    assert package.status_code == 200 and package.json()["name"].endswith("-2024")
    assert server.get("/static/paquets/2023/indicateurs.csv").status_code == 200
    docs = server.get("/static/qualite/2024/index.html")
    assert docs.status_code == 200 and "Résultat du contrôle des tables publiées" in docs.text
    validation = docs.text.split("Résultat du contrôle")[0].rsplit('href="', 1)[1].split('"')[0]
    assert "Succeeded" in server.get("/static/qualite/2024/" + validation).text


def test_citizen_pages_are_cacheable(server):
    response = server.get("/bilan/2024")
    assert response.status_code == 200
    assert "max-age=3600" in response.headers["cache-control"]
    assert server.get("/bilan/1999").status_code == 404


def test_plain_datasette_on_publish_serves_the_same_site(published):
    """The contract allows ``datasette publish/``: pages, immutability and CORS hold there too."""
    from conftest import Server

    plain = Server(published, plain=True)
    try:
        assert plain.get("/bilan/2024").status_code == 200
        response = plain.get("/indicateurs/indicateurs.json?annee=2024&_size=1")
        assert response.headers["access-control-allow-origin"] == "*"
        assert plain.get("/-/databases.json").json()[0]["is_mutable"] is False
    finally:
        plain.stop()


def test_person_counts_are_integers_in_every_csv(server, published):
    """Journalists read ``1563``, not ``1563.0``: in the canned series, in the table export,
    in the breakdown query; shares keep their decimal."""
    expected = {
        int(r["annee"]): r["valeur"]
        for y in (2023, 2024)
        for r in package_rows(published, y)
        if r["indicateur"] == "usagers" and r["lieu"] == "ensemble" and r["dimension"] == "ensemble" and r["periode"] == r["annee"]
    }
    serie = server.get("/indicateurs/serie_annuelle.csv?indicateur=usagers")
    assert serie.status_code == 200
    assert serie.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(serie.text)))
    assert {int(r["annee"]): r["valeur"] for r in rows} == expected
    assert all(r["valeur"].isdigit() for r in rows)
    table = server.get("/indicateurs/indicateurs.csv?annee=2024&indicateur=accompagnements&_size=max")
    assert table.headers["content-type"] == "text/csv; charset=utf-8"
    values = [r["valeur"] for r in csv.DictReader(io.StringIO(table.text)) if r["valeur"]]
    assert values and all(v.isdigit() for v in values)
    shares = server.get("/indicateurs/ventilation.csv?annee=2024&dimension=genre")
    parts = {r["modalite"]: r for r in csv.DictReader(io.StringIO(shares.text))}
    package = {
        r["modalite"]: r["valeur"]
        for r in package_rows(published, 2024)
        if r["indicateur"] == "part_accompagnements" and r["lieu"] == "ensemble" and r["dimension"] == "genre" and r["periode"] == "2024"
    }
    assert all(float(parts[m]["part"]) == float(v) for m, v in package.items() if v)
    assert all(parts[m]["accompagnements"].isdigit() for m in parts if parts[m]["accompagnements"])


@pytest.mark.parametrize(
    "path, missing",
    [
        ("/indicateurs/serie_annuelle.json?_shape=array", "indicateur"),
        ("/indicateurs/serie_annuelle.json?indicateur=&_shape=array", "indicateur"),
        ("/indicateurs/ventilation.csv?annee=2024", "dimension"),
        ("/indicateurs/par_lieu.json", "annee"),
    ],
)
def test_a_missing_parameter_is_an_error_not_an_empty_list(server, path, missing):
    response = server.get(path)
    assert response.status_code == 400
    assert f"Paramètre manquant : {missing}" in response.text
    if ".json" in path:
        assert response.json()["ok"] is False


def test_canned_query_form_still_opens_without_parameters(server):
    assert server.get("/indicateurs/serie_annuelle").status_code == 200
    assert server.get("/indicateurs/secret_par_annee.json?_shape=array").status_code == 200
