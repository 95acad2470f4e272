"""The agent's own files: her messy spreadsheet with a correspondances file, the Coop export as
downloaded, an ODS with a title row; every mistake named in the first run, on her true rows.

Expected figures are hand counts kept by the generators below (what each row was meant to be),
never the ingest's own reading of the labels.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import shutil
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
import yaml

from ccas_opendata.publisher import read_publisher
from ccas_opendata.correspondances import parse_correspondances
from ccas_opendata.errors import ConfigurationError
from ccas_opendata.ingest import collect_records
from conftest import REPO, invoke, make_folder, release
from coop_export import write_xlsx

YEAR = 2025
SITE_NAMES = {"ccas_centre": "CCAS – accueil du centre-ville", "mediatheque_sud": "Médiathèque Jean-Moulin"}
GENRE_SPELLINGS = {"masculin": ["Homme", "H", "homme"], "feminin": ["Femme", "F", "Mme"]}
DEMARCHES = {"CAF": "famille_scolarite", "Impôts": "argent_impots", "Titre de séjour": "etrangers_europe", "Carte Vitale": "social_sante"}
MESSY_HEADER = ["Date du RDV", "Structure", "Durée (min)", "N° dossier", "Âge", "Sexe", "Démarche 1", "Démarche 2", "Nom", "Commentaire"]


def messy_year(rows: int = 320, persons: int = 64, seed: int = 4):
    """Her spreadsheet as she keeps it, and what each line means (the hand count)."""
    rng = random.Random(seed)
    people = [(f"D-{1000 + i}", rng.choice(["masculin", "feminin"]), rng.randint(19, 88)) for i in range(persons)]
    lines, truth = [], []
    for i in range(rows):
        dossier, genre, age = people[i % persons]
        site = rng.choice(["ccas_centre", "mediatheque_sud", "mairie_annexe"])
        demarches = rng.sample(list(DEMARCHES), rng.choice([1, 1, 2]))
        day = dt.datetime(YEAR, 1, 1) + dt.timedelta(days=rng.randrange(365))
        lines.append(
            [
                day,
                SITE_NAMES.get(site, "Mairie annexe"),
                rng.choice([15, 20, 30, 45]),
                dossier,
                age,
                rng.choice(GENRE_SPELLINGS[genre]),
                demarches[0],
                demarches[1] if len(demarches) > 1 else None,
                f"CANARI-NOM-{dossier}",
                "CANARI-COMMENTAIRE rappeler la CAF",
            ]
        )
        truth.append(
            {
                "lieu": "maison_quartier_nord" if site == "mairie_annexe" else site,
                "genre": genre,
                "usager": dossier,
                "thematiques": sorted(DEMARCHES[d] for d in demarches),
            }
        )
    return lines, truth


def write_messy_xlsx(path: Path, lines: list[list], title: bool = False, blank_every: int = 50) -> dict[int, int]:
    """Write the workbook (real Excel dates, blank lines); return record index → its row in the sheet."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Suivi 2025"
    if title:
        sheet.append(["Suivi des permanences numériques 2025"])
    sheet.append(MESSY_HEADER)
    rows = {}
    for i, line in enumerate(lines):
        if i and i % blank_every == 0:
            sheet.append([])
        sheet.append(line)
        rows[i] = sheet.max_row
    for row in sheet.iter_rows(min_col=1, max_col=1, min_row=2):
        for cell in row:
            if isinstance(cell.value, dt.datetime):
                cell.number_format = "dd/mm/yyyy"
    workbook.save(path)
    return rows


REVIEWED = """
accompagnements:
  fichier: "suivi-*.xlsx"
  feuille: "Suivi 2025"
  colonnes:
    date: "Date du RDV"
    lieu: "Structure"
    duree: "Durée (min)"
    usager: "N° dossier"
    age: "Âge"
    genre: "Sexe"
    thematiques: ["Démarche 1", "Démarche 2"]
  valeurs:
    lieu: {"Mairie annexe": maison_quartier_nord}
"""


@pytest.fixture
def messy_inputs(tmp_path):
    lines, truth = messy_year()
    inputs = tmp_path / "entrees"
    inputs.mkdir()
    rows = write_messy_xlsx(inputs / "suivi-2025.xlsx", lines)
    return inputs, lines, truth, rows


def test_a_first_run_names_every_unmapped_header_with_a_suggestion(tmp_path, messy_inputs):
    inputs, *_ = messy_inputs
    (inputs / "suivi-2025.xlsx").rename(inputs / "accompagnements.xlsx")
    publisher = read_publisher(REPO)
    _, problems = collect_records(inputs, None, publisher, YEAR)
    text = "\n".join(p.describe() for p in problems)
    for header, column in [
        ("Sexe", "genre"),
        ("Date du RDV", "date"),
        ("Durée (min)", "duree"),
        ("N° dossier", "usager"),
        ("Structure", "lieu"),
        ("Démarche 1", "thematiques"),
        ("Démarche 2", "thematiques"),
    ]:
        assert f"« {header} »" in text and f"ressemble à « {column} »" in text, header
    assert "colonne obligatoire absente" in text  # date, lieu, duree, thematiques are not there under their names
    assert "CANARI" not in text and "D-10" not in text


def test_the_proposal_maps_her_headers_and_codes_and_copies_no_personal_value(tmp_path, messy_inputs):
    inputs, *_ = messy_inputs
    folder = make_folder(tmp_path / "ccas")
    result = invoke("correspondances", "--dossier", folder, "--annee", YEAR, inputs)
    assert result.exit_code == 0, result
    text = (folder / "metadata" / "correspondances.yml").read_text(encoding="utf-8")
    proposal = yaml.safe_load(text)["accompagnements"]
    assert proposal["colonnes"] == {
        "date": "Date du RDV",
        "lieu": "Structure",
        "duree": "Durée (min)",
        "usager": "N° dossier",  # « Âge » is « age » already
        "genre": "Sexe",
        "thematiques": ["Démarche 1", "Démarche 2"],
    }
    # One line per fingerprint: « Homme » and « homme » are one value, written once.
    assert {k.lower(): v for k, v in proposal["valeurs"]["genre"].items()} == {
        "homme": "masculin",
        "h": "masculin",
        "femme": "feminin",
        "f": "feminin",
        "mme": "feminin",
    }
    assert len(proposal["valeurs"]["genre"]) == 5
    assert proposal["valeurs"]["thematiques"] == DEMARCHES
    assert proposal["valeurs"]["lieu"]["Mairie annexe"] == "a_completer"
    assert proposal["valeurs"]["lieu"]["Médiathèque Jean-Moulin"] == "mediatheque_sud"
    assert "Nom" in text and "Commentaire" in text  # listed as dropped, by header only
    for personal in ("CANARI", "D-1000", "2025-", "/2025"):
        assert personal not in text, personal
    assert "1 point(s) « a_completer »" in result.stdout
    # Until she decides, the file is refused with the key named.
    _, problems = parse_correspondances(yaml.safe_load(text), "correspondances.yml")
    assert [p.column for p in problems] == ["accompagnements.valeurs.lieu"]


@pytest.mark.slow
def test_her_spreadsheet_publishes_in_one_run_after_one_review(tmp_path, messy_inputs):
    inputs, _lines, truth, _ = messy_inputs
    folder = make_folder(tmp_path / "ccas")
    assert invoke("correspondances", "--dossier", folder, "--annee", YEAR, inputs).exit_code == 0
    proposal = folder / "metadata" / "correspondances.yml"
    proposal.write_text(
        proposal.read_text(encoding="utf-8").replace('"Mairie annexe": a_completer', '"Mairie annexe": maison_quartier_nord'),
        encoding="utf-8",
    )
    result = release(folder, YEAR, inputs)
    assert result.exit_code == 0, result
    table = pd.read_csv(folder / "datapackages" / str(YEAR) / "indicateurs.csv", dtype=str, keep_default_na=False)

    def published(indicateur, dimension="ensemble", modalite="ensemble", lieu="ensemble"):
        row = table[
            (table.periode == str(YEAR))
            & (table.lieu == lieu)
            & (table.indicateur == indicateur)
            & (table.dimension == dimension)
            & (table.modalite == modalite)
        ]
        assert len(row) == 1, (indicateur, dimension, modalite, lieu)
        return None if row.secret.iloc[0] else float(row.valeur.iloc[0])

    assert published("accompagnements") == len(truth)
    assert published("usagers") == len({t["usager"] for t in truth})
    for genre, n in Counter(t["genre"] for t in truth).items():
        assert published("accompagnements", "genre", genre) == n
    for site, n in Counter(t["lieu"] for t in truth).items():
        assert published("accompagnements", lieu=site) == n
    themes = Counter(code for t in truth for code in t["thematiques"])
    for code, n in themes.items():
        assert published("accompagnements", "thematique", code) in (n, None)
    assert sum(published("accompagnements", "thematique", c) is not None for c in themes) >= 3
    assert "CANARI" not in "".join(p.read_text(errors="ignore") for p in (folder / "datapackages").rglob("*.csv"))


def test_an_ods_with_a_title_row_is_read_on_its_true_rows(tmp_path):
    lines, _ = messy_year(rows=30, persons=10)
    lines[12][2] = "une heure"  # a duration typed as text
    xlsx = tmp_path / "tmp.xlsx"
    rows = write_messy_xlsx(xlsx, lines, title=True, blank_every=5)
    inputs = tmp_path / "entrees"
    inputs.mkdir()
    pd.read_excel(xlsx, header=None, dtype=object).to_excel(inputs / "suivi-2025.ods", engine="odf", header=False, index=False)
    own, problems = parse_correspondances(
        yaml.safe_load(REVIEWED.replace("suivi-*.xlsx", "suivi-*.ods").replace('feuille: "Suivi 2025"', "")), "c.yml"
    )
    assert problems == []
    _records, problems = collect_records(inputs, own, read_publisher(REPO), YEAR)
    assert [(p.column, p.rows) for p in problems] == [("duree", (rows[12],))]
    assert rows[12] == 17  # title row, header, 12 records before it and 2 blank lines: the row she sees


@pytest.mark.slow
def test_five_mistakes_in_one_file_are_all_named_in_one_run_on_their_true_rows(tmp_path, messy_inputs):
    inputs, lines, _, rows = messy_inputs
    lines = [list(line) for line in lines]
    lines[60][0] = "31/02/2025"  # an impossible date (text)
    lines[61][2] = 900  # a duration above 480 minutes
    lines[62][5] = "Zèbre"  # a genre that is no genre
    lines[63][1] = "Gare routière"  # a site that is not declared
    lines[64][6] = lines[64][7] = None  # no démarche at all
    write_messy_xlsx(inputs / "suivi-2025.xlsx", lines)
    folder = make_folder(tmp_path / "ccas")
    (folder / "metadata" / "correspondances.yml").write_text(REVIEWED, encoding="utf-8")
    result = release(folder, YEAR, inputs)
    assert result.exit_code == 1
    message = result.stderr
    assert f"ligne {rows[60]}, colonne « date » (« Date du RDV » dans votre fichier) : date attendue" in message
    assert (
        f"ligne {rows[61]}, colonne « duree » (« Durée (min) » dans votre fichier) : la durée doit être comprise entre 1 et 480 minutes."
        in message
    )
    assert (
        f"ligne {rows[62]}, colonne « genre » (« Sexe » dans votre fichier) : valeur non reconnue. Valeurs non reconnues : « Zèbre »"
        in message
    )
    assert 'Déclarez-les une fois dans metadata/correspondances.yml : « accompagnements: valeurs: genre: {"Zèbre": code} »' in message
    assert (
        f"ligne {rows[63]}, colonne « lieu » (« Structure » dans votre fichier) : valeur non reconnue. Valeurs non reconnues : « Gare routière »"
        in message
    )
    assert (
        f"ligne {rows[64]}, colonne « thematiques » (« Démarche 1 + Démarche 2 » dans votre fichier) : valeur obligatoire manquante"
        in message
    )
    assert "expect_column" not in message  # no validation jargon for her
    assert rows[60] == 63  # one blank line above (every 50 records): her row, not the record's rank
    report = inputs / f"rapport-ccas-opendata-{YEAR}.html"
    assert report.exists() and "Zèbre" in report.read_text(encoding="utf-8")
    assert "Corrigez ces lignes" in message
    assert not (folder / "datapackages" / str(YEAR)).exists()


@pytest.mark.slow
def test_a_label_mapped_by_her_and_its_code_publish_the_same_bytes(tmp_path):
    lines, truth = messy_year(rows=200, persons=40, seed=8)
    outputs = []
    for variant in ("codes", "libelles"):
        inputs = tmp_path / variant / "entrees"
        inputs.mkdir(parents=True)
        frame = pd.DataFrame(
            {
                "date": [line[0].strftime("%Y-%m-%d") for line in lines],
                "lieu": [t["lieu"] for t in truth],
                "duree": [line[2] for line in lines],
                "usager": [line[3] for line in lines],
                "genre": [t["genre"] for t in truth],
                "thematiques": ["|".join(t["thematiques"]) for t in truth],
            }
        )
        folder = make_folder(tmp_path / variant / "ccas")
        if variant == "libelles":
            frame["genre"] = frame["genre"].map({"masculin": "Monsieur X", "feminin": "Madame Y"})
            frame["lieu"] = frame["lieu"].map({"ccas_centre": "Accueil", "mediatheque_sud": "Biblio", "maison_quartier_nord": "Annexe"})
            (folder / "metadata" / "correspondances.yml").write_text(
                'accompagnements:\n  valeurs:\n    genre: {"Monsieur X": masculin, "Madame Y": feminin}\n'
                "    lieu: {Accueil: ccas_centre, Biblio: mediatheque_sud, Annexe: maison_quartier_nord}\n",
                encoding="utf-8",
            )
        frame.to_csv(inputs / "accompagnements.csv", index=False, sep=";")
        result = release(folder, YEAR, inputs)
        assert result.exit_code == 0, result
        outputs.append((folder / "datapackages" / str(YEAR) / "indicateurs.csv").read_bytes())
    assert outputs[0] == outputs[1]


# --- the Coop export ------------------------------------------------------------------------

COOP_REVIEW = """
accompagnements:
  valeurs:
    lieu: {"": maison_quartier_nord, "CCAS de Fauxville - Espace numérique": ccas_centre}
"""


@pytest.fixture
def coop_inputs(tmp_path):
    inputs = tmp_path / "entrees"
    inputs.mkdir()
    expected = write_xlsx(inputs / "coop-numerique_accompagnements_2026-01-15.xlsx", self_export=True, v1=False, beneficiaire_filter=True)
    return inputs, expected


def test_the_coop_export_is_read_as_the_hand_count_says(coop_inputs):
    inputs, expected = coop_inputs
    own, problems = parse_correspondances(yaml.safe_load(COOP_REVIEW), "c.yml")
    assert problems == []
    records, problems = collect_records(inputs, own, read_publisher(REPO), YEAR)
    assert problems == []
    frame = records["accompagnements"].frame
    want = expected["accompagnements"]
    assert len(frame) == want["rows"] and records["accompagnements"].outside_year == want["set_aside_outside_year"]
    for column in ("genre", "tranche_age", "situation", "type_lieu"):
        assert dict(Counter(frame[column].astype(str))) == want[column], column
    for column in ("autonomie", "orientation"):
        assert dict(Counter(frame[column].astype(object).fillna(""))) == want[column], column
    for column, key in (("thematiques", "thematiques"), ("materiel", "materiel")):
        counted = Counter(code for value in frame[column].dropna() for code in str(value).split("|"))
        assert dict(counted) == want[key], column
    sites = Counter(frame["lieu"].astype(str))
    assert sites == {
        "ccas_centre": want["lieu"]["ccas_centre"],
        "mediatheque_sud": want["lieu"]["mediatheque"],
        "maison_quartier_nord": sum(n for k, n in want["lieu"].items() if k.startswith("UNRESOLVED")),
    }
    named = frame["usager"].dropna()
    assert named.nunique() == want["distinct_named_persons"] and frame["usager"].isna().sum() == want["rows_without_usager"]
    ateliers = records["ateliers"].frame.sort_values("date")
    assert [(str(d.date()), lieu, int(p)) for d, lieu, p in zip(ateliers["date"], ateliers["lieu"], ateliers["participants"])] == [
        (a["date"], {"mediatheque": "mediatheque_sud"}.get(a["lieu"], a["lieu"]), a["participants"]) for a in expected["ateliers"]
    ]
    assert not any("CANARI" in str(v) for v in frame.drop(columns=["usager"]).astype(str).to_numpy().ravel())


@pytest.mark.slow
def test_the_coop_export_publishes_without_a_name_or_note_getting_through(tmp_path, coop_inputs):
    inputs, expected = coop_inputs
    folder = make_folder(tmp_path / "ccas")
    (folder / "metadata" / "correspondances.yml").write_text(COOP_REVIEW, encoding="utf-8")
    result = release(folder, YEAR, inputs)
    assert result.exit_code == 0, result
    assert f"{expected['accompagnements']['rows']} accompagnements, " in result.stdout
    persons = expected["accompagnements"]["distinct_named_persons"] + expected["accompagnements"]["rows_without_usager"]
    assert f"{persons} personnes distinctes" in result.stdout
    assert "2 ligne(s) datée(s) hors de l'année mises de côté" in result.stdout
    canaries = set(re.findall(r"CANARI-[A-Z0-9-]+", json.dumps(expected, ensure_ascii=False))) | {"CANARI"}
    for path in folder.rglob("*"):
        if path.is_file() and "metadata" not in path.parts:
            content = path.read_bytes().decode("utf-8", errors="ignore")
            assert not any(c in content for c in canaries), path
    assert not any(c in result.output for c in canaries)


def test_unfilled_init_placeholders_are_refused_all_at_once(tmp_path):
    folder = tmp_path / "ccas"
    assert invoke("init", folder).exit_code == 0
    with pytest.raises(ConfigurationError) as refused:
        read_publisher(folder)
    for key in ("nom", "siret", "commune", "contact"):
        assert f"remplacez la valeur d'exemple de « {key} »" in str(refused.value)


@pytest.mark.slow
def test_a_trial_run_shows_what_would_be_published_and_publishes_nothing(tmp_path, coop_inputs):
    inputs, _expected = coop_inputs
    folder = make_folder(tmp_path / "ccas")
    (folder / "metadata" / "correspondances.yml").write_text(COOP_REVIEW, encoding="utf-8")
    result = release(folder, YEAR, inputs, "--essai")
    assert result.exit_code == 0, result
    assert f"Essai pour {YEAR} : rien n'a été publié" in result.stdout
    assert re.search(r"accompagnements\s+\d+ publiés\s+\d+ masqués", result.stdout)
    assert "Mettre en ligne" in result.stdout
    assert not (folder / "datapackages" / str(YEAR)).exists() and not (folder / "publish").exists()
    assert not (folder / ".travail").exists()
    assert invoke("release", "--dossier", folder, "--annee", YEAR, "--servir", "8999", inputs).exit_code == 2


@pytest.mark.slow
def test_the_template_of_init_lists_the_labels_and_publishes_when_filled(tmp_path, publisher):
    from openpyxl import load_workbook

    folder = tmp_path / "ccas"
    assert invoke("init", folder).exit_code == 0
    template = folder / "modele-accompagnements.xlsx"
    workbook = load_workbook(template)
    assert workbook.sheetnames == ["accompagnements", "ateliers", "formations", "codes"]
    sheet = workbook["accompagnements"]
    headers = [c.value for c in sheet[1] if c.value]
    assert headers[:4] == ["Date", "Lieu", "Durée", "Thématiques"] and "Genre" in headers
    genre = headers.index("Genre") + 1
    validation = next(v for v in sheet.data_validations.dataValidation if str(v.sqref).startswith(f"{chr(64 + genre)}2"))
    codes = workbook["codes"]
    listed = [
        codes[cell][2].value
        for cell in range(int(validation.formula1.split("$C$")[1].split(":")[0]), int(validation.formula1.split("$C$")[2]) + 1)
    ]
    assert listed == ["Femmes", "Hommes", "Non communiqué"]
    # Filled with labels from the lists (and a workshop on its sheet), it publishes as is.
    shutil.rmtree(folder / "metadata")
    make_folder(folder)
    lines, truth = messy_year(rows=150, persons=30, seed=2)
    labels = {"masculin": "Hommes", "feminin": "Femmes"}
    for line, t in zip(lines, truth):
        sheet.append([line[0], t["lieu"], line[2], " | ".join(t["thematiques"]), line[3], None, line[4], labels[t["genre"]]])
    workbook["ateliers"].append([dt.datetime(YEAR, 3, 4), "hors_les_murs", "Messagerie électronique", 12])
    inputs = tmp_path / "entrees"
    inputs.mkdir()
    workbook.save(inputs / "accompagnements.xlsx")
    result = release(folder, YEAR, inputs)
    assert result.exit_code == 0, result
    assert f"{len(truth)} accompagnements" in result.stdout


def test_durations_typed_as_times_are_minutes_and_text_is_explained(tmp_path):
    lines, _ = messy_year(rows=20, persons=5)
    lines[3][2] = dt.time(0, 45)  # 0:45 in a time-formatted cell
    lines[4][2] = "une heure"  # words are no duration: refused, shown as typed
    lines[5][3] = None  # no file number on this row
    inputs = tmp_path / "entrees"
    inputs.mkdir()
    rows = write_messy_xlsx(inputs / "suivi-2025.xlsx", lines)
    own, _ = parse_correspondances(yaml.safe_load(REVIEWED), "c.yml")
    records, problems = collect_records(inputs, own, read_publisher(REPO), YEAR)
    assert [(p.column, p.rows, p.expected, p.values) for p in problems] == [
        ("duree", (rows[4],), "durée en minutes attendue (ex. 45, 45 min, 1h30, 1 h 30, 0:45).", ("une heure",)),
    ]
    lines[4][2] = "1h"
    write_messy_xlsx(inputs / "suivi-2025.xlsx", lines)
    records, problems = collect_records(inputs, own, read_publisher(REPO), YEAR)
    assert problems == []
    table = records["accompagnements"]
    assert int(table.frame.loc[rows[3], "duree"]) == 45
    assert int(table.frame.loc[rows[4], "duree"]) == 60
    warnings = "\n".join(records.warnings)
    assert "1 ligne(s) sans identifiant de personne (usager) : chacune est comptée comme une personne différente" in warnings
    assert "« Sexe » → genre" in warnings and "« Démarche 1 + Démarche 2 » → thematiques" in warnings


def test_headers_that_start_like_a_usual_one_get_a_suggestion(tmp_path):
    inputs = tmp_path / "entrees"
    inputs.mkdir()
    (inputs / "accompagnements.csv").write_text("Jour;Permanence;Temps passé;Dossier n°;Motif de la venue\n", encoding="utf-8")
    _, problems = collect_records(inputs, None, read_publisher(REPO), YEAR)
    text = "\n".join(p.describe() for p in problems)
    assert "« Dossier n° » (colonne D) ressemble à « usager »" in text
    assert "« Motif de la venue » (colonne E) ressemble à « thematiques »" in text
    assert "« Jour » (colonne A) ressemble à « date »" in text


@pytest.mark.slow
def test_a_trial_on_a_published_year_shows_the_revision_and_changes_no_byte(tmp_path, messy_inputs):
    inputs, lines, truth, _ = messy_inputs
    folder = make_folder(tmp_path / "ccas")
    (folder / "metadata" / "correspondances.yml").write_text(REVIEWED, encoding="utf-8")
    assert release(folder, YEAR, inputs).exit_code == 0
    before = {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    late = [list(line) for line in lines[:40]]  # forty late records of known persons
    write_messy_xlsx(inputs / "suivi-2025.xlsx", lines + late)
    result = release(folder, YEAR, inputs, "--essai")
    assert result.exit_code == 0, result
    assert f"Essai pour {YEAR} : rien n'a été publié" in result.stdout
    # The forty late records are spread over the months, each month with fewer than
    # seuil_secret persons among them: every month, and so the year, keeps the value online
    # (issue 15's freeze), and the trial says so.
    assert f"{len(truth)} accompagnements" in result.stdout
    assert "gardent la valeur de la version en ligne" in result.stdout
    assert re.search(rf"Révision : {YEAR} passe en version 1\.1\.0 \(\d+ chiffres modifiés", result.stdout)
    after = {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert after == before
