"""``/lieux-mediation-numerique.csv``: the sites in the national format, valid for
``frictionless validate`` against the official schema (schema.data.gouv.fr)."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest

from ccas_opendata.publisher import read_publisher
from ccas_opendata.lieux_mednum import write_lieux_mednum
from conftest import REPO, SHARED_EXTERNAL, needs_shared_external

SCHEMA = SHARED_EXTERNAL / "lieux-mediation-numerique" / "schema.json"
pytestmark = needs_shared_external


def frictionless_validate(path: Path) -> subprocess.CompletedProcess:
    """The ``frictionless`` command itself, as a reuser or the national map would run it."""
    return subprocess.run(
        [sys.executable, "-m", "frictionless", "validate", "--trusted", "--schema", str(SCHEMA), path.name],
        cwd=path.parent,
        capture_output=True,
        text=True,
    )


@pytest.mark.slow
def test_served_file_is_valid_against_the_national_schema(server, tmp_path, published):
    response = server.get("/lieux-mediation-numerique.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    path = tmp_path / "lieux-mediation-numerique.csv"
    path.write_bytes(response.content)
    result = frictionless_validate(path)
    assert result.returncode == 0, result.stdout[-3000:]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    # Hand count from metadata/lieux.csv: three sites, the CCAS's SIRET as "pivot".
    assert [r["id"] for r in rows] == ["ccas_centre", "maison_quartier_nord", "mediatheque_sud"]
    assert {r["pivot"] for r in rows} == {"26120999900017"}
    assert rows[0]["horaires"] == "Mo-Fr 09:00-12:00,14:00-17:00"
    assert (rows[2]["latitude"], rows[2]["longitude"]) == ("44.3459", "2.3521")
    assert rows[1]["telephone"] == ""  # optional, left empty when the CCAS says nothing
    assert {r["date_maj"] for r in rows} == {"2026-01-01"}  # the release date (SOURCE_DATE_EPOCH of the tests)


def folder_with_lieux(tmp_path: Path, lieux_csv: str) -> Path:
    """A publication folder with the demo's organisation and quartiers, and these sites."""
    folder = tmp_path / "ccas"
    (folder / "metadata").mkdir(parents=True)
    for name in ("organisation.yml", "quartiers.csv"):
        (folder / "metadata" / name).write_text((REPO / "metadata" / name).read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "metadata" / "lieux.csv").write_text(lieux_csv, encoding="utf-8")
    return folder


def test_sites_without_optional_columns_are_valid_too(tmp_path):
    """A CCAS that keeps the seven columns of the template still publishes a valid file."""
    folder = folder_with_lieux(
        tmp_path,
        "code,nom,adresse,code_postal,commune,code_insee,quartier\n"
        "accueil,Accueil du CCAS,1 place de la Mairie,20000,Ajaccio,2A004,centre\n",
    )
    path = write_lieux_mednum(tmp_path / "lieux-mediation-numerique.csv", read_publisher(folder), "2025-03-01")
    result = frictionless_validate(path)
    assert result.returncode == 0, result.stdout[-3000:]
    row = next(csv.DictReader(path.open(encoding="utf-8")))
    assert (row["code_insee"], row["courriels"], row["date_maj"]) == ("2A004", "donnees-ouvertes@ccas-val-dorbe.example", "2025-03-01")


def test_a_bad_coordinate_is_refused_with_its_line(tmp_path):
    from ccas_opendata.errors import ConfigurationError

    folder = folder_with_lieux(
        tmp_path, "code,nom,adresse,code_postal,commune,code_insee,quartier,latitude\naccueil,Accueil,1 place,12990,Val,12999,centre,nord\n"
    )
    with pytest.raises(ConfigurationError, match="ligne 2, colonne « latitude »"):
        read_publisher(folder)
