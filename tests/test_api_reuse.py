"""Reusers' habits: the /api examples run as copied (pandas, with codes kept as text and the
labels joined), the full export is one URL, a spreadsheet-ready CSV per year, and the
citation of a version points at its data."""

from __future__ import annotations

import csv
import html
import io
import re
import zipfile

import pandas as pd
import pytest

pytestmark = pytest.mark.slow

BASE = "http://127.0.0.1:8001"  # the demo's base_url (organisation.yml gives none): the examples carry it


def package_rows(published, year: int) -> list[dict[str, str]]:
    with open(published / "datapackages" / str(year) / "indicateurs.csv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def api_page(server) -> str:
    response = server.get("/api")
    assert response.status_code == 200
    return response.text


def code_blocks(page: str, kind: str) -> list[str]:
    return [html.unescape(b) for b in re.findall(rf'<code class="{kind}">(.*?)</code>', page, flags=re.S)]


def test_examples_carry_the_real_address_without_javascript(api_page):
    assert "ORIGINE" not in api_page
    assert f"{BASE}/indicateurs/indicateurs.csv?annee=2024&amp;indicateur=accompagnements" in api_page
    assert 'data-origine="http://127.0.0.1:8001"' in api_page  # the script swaps it only for another address


def test_the_pandas_example_runs_as_copied_and_keeps_codes_as_text(api_page, server, published):
    [example] = code_blocks(api_page, "python")
    namespace: dict = {}
    exec(example.replace(BASE, server.url).replace("print(", "(lambda *a: None)("), namespace)
    ages = namespace["ages"]
    expected = [
        r
        for r in package_rows(published, 2024)
        if r["indicateur"] == "accompagnements" and r["dimension"] == "tranche_age" and r["lieu"] == "ensemble" and r["periode"] == "2024"
    ]
    assert sorted(ages["modalite"]) == sorted(r["modalite"] for r in expected)  # « 18_24 » stays text
    values = {m: None if pd.isna(v) else v for m, v in zip(ages["modalite"], ages["valeur"], strict=True)}
    assert values == {r["modalite"]: float(r["valeur"]) if r["valeur"] else None for r in expected}
    assert dict(zip(ages["modalite"], ages["libelle"], strict=True))["70_plus"] == "70 ans et plus"
    assert ages["periode"].tolist() == ["2024"] * len(expected) and ages["annee"].tolist() == [2024] * len(expected)


def test_the_full_export_url_gives_every_row(api_page, server, published):
    found = re.search(r'<code class="url">(\S+_stream=on&amp;_size=max)</code>', api_page)
    assert found, api_page[-2000:]
    full = found.group(1)
    response = server.get(html.unescape(full).removeprefix(BASE))
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == len(package_rows(published, 2023)) + len(package_rows(published, 2024)) > 1000
    truncated = server.get("/indicateurs/indicateurs.json?_shape=array").json()
    assert len(truncated) == 100  # what the page warns about


def test_the_join_example_labels_each_code(api_page, server):
    [sql] = code_blocks(api_page, "sql")
    rows = server.get("/indicateurs.json", params={"sql": sql, "_shape": "array"}).json()
    assert [r["libelle"] for r in rows][:2] == ["Moins de 18 ans", "18 à 24 ans"] and rows[-1]["modalite"] == "non_communique"


@pytest.mark.parametrize("year", [2023, 2024])
def test_a_spreadsheet_ready_csv_per_year(server, published, year):
    page = server.get("/telechargements").text
    assert f'/static/excel/ccas-opendata-{year}-excel.csv"' in page
    response = server.get(f"/static/excel/ccas-opendata-{year}-excel.csv")
    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    source = package_rows(published, year)
    assert len(rows) == len(source)
    for mine, theirs in zip(rows, source, strict=True):
        assert mine["valeur"] == theirs["valeur"].replace(".", ",") and mine["modalite"] == theirs["modalite"]
    assert any("," in r["valeur"] for r in rows)  # shares and durations, with a decimal comma
    assert {r["libelle_modalite"] for r in rows if r["dimension"] == "genre"} == {"Femmes", "Hommes", "Non communiqué"}


def test_citation_points_at_the_data_and_the_version(published):
    version = "1.0.0"
    with zipfile.ZipFile(published / "telechargements" / f"ccas-opendata-2024-v{version}.zip") as archive:
        citation = archive.read("CITATION.cff").decode("utf-8")
    assert f'url: "{BASE}/telechargements#annee-2024"' in citation
    assert f'    value: "{BASE}/telechargements/ccas-opendata-2024-v{version}.zip"' in citation
    assert f'version: "{version}"' in citation
    assert "ccas-val-dorbe.example" in citation  # the organisation's site stays, as the author's website
