"""Her workbook as she keeps it (issue #14): read as it is, every figure a hand count.

The workbook is written by ``agent_workbook.py`` with openpyxl, shaped like the one a
coordinator keeps (title rows, a summary sheet of formulas, one sheet per site, typed
values); the truth it returns is the generator's own record of who came, never
something the tool computed.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import statistics
from collections import Counter
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml

from agent_workbook import CANARY_COMMENT, CANARY_NAME, CANARY_PHONE, CORRESPONDANCES, SITES, WORKBOOK, YEAR, write_workbook
from ccas_opendata.publisher import read_publisher
from ccas_opendata.correspondances import fold, parse_correspondances
from ccas_opendata.ingest import collect_records
from conftest import REPO, invoke, make_folder, release


def read(inputs: Path, correspondances: str = CORRESPONDANCES):
    own, problems = parse_correspondances(yaml.safe_load(correspondances), "correspondances.yml")
    assert problems == []
    return collect_records(inputs, own, read_publisher(REPO), YEAR)


@pytest.fixture(scope="module")
def workbook(tmp_path_factory):
    inputs = tmp_path_factory.mktemp("classeur")
    return inputs, write_workbook(inputs)


# --- one fingerprint ---------------------------------------------------------------------


def test_the_fingerprint_folds_case_accents_spacing_and_dotted_acronyms():
    assert fold("C.C.A.S.") == fold("CCAS") == fold("ccas") == "ccas"
    assert fold("Pôle-emploi") == fold("pole emploi")
    assert fold("DUPONT Marie") == fold("Dupont  marie") == fold(" dupont marie ")
    assert fold("M.") == "m" and fold("Durée (min)") == "duree_min"  # one letter stays one letter


def test_persons_are_counted_on_the_fingerprinted_name(workbook):
    inputs, truth = workbook
    records, problems = read(inputs)
    assert problems == []
    frame = records["accompagnements"].frame
    # The hand count: the generator's own persons, each typed in up to five spellings.
    assert frame["usager"].nunique() == truth.persons
    assert len(frame) == len(truth.visits)


def test_a_key_of_several_columns_joins_each_fingerprinted(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Date", "Lieu", "Durée", "Thématiques", "Nom", "Prénom", "Année de naissance"])
    rows = [
        ("DUPONT", "Marie", 1950),
        ("Dupont", "marie", 1950),
        ("Dupônt", "Marie ", 1950),  # one person
        ("Dupont", "Marie", 1982),  # her daughter
        ("MARTIN", "Noël", 1960),
        ("Martin", "Noel", 1960),
    ]  # one person
    for last, first, born in rows:
        ws.append([dt.date(YEAR, 3, 1), "ccas_centre", 30, "CAF", last, first, born])
    wb.save(tmp_path / "accompagnements.xlsx")
    records, problems = read(tmp_path, 'accompagnements:\n  colonnes: {usager: ["Nom", "Prénom", "Année de naissance"]}\n')
    assert problems == []
    frame = records["accompagnements"].frame
    assert frame["usager"].nunique() == 3
    assert sorted(frame["annee_naissance"].astype(int)) == sorted(r[2] for r in rows)  # the birth year still gives the band


def test_a_dotted_acronym_matches_her_value_and_a_header(tmp_path):
    (tmp_path / "accompagnements.csv").write_text(
        "Date;Lieu;Durée;Thématiques;Orienté par\n"
        "2025-02-03;ccas_centre;30;CAF;C.C.A.S.\n2025-02-04;ccas_centre;30;CAF;ccas\n2025-02-05;ccas_centre;30;CAF;Mairie\n",
        encoding="utf-8",
    )
    records, problems = read(
        tmp_path,
        'accompagnements:\n  colonnes: {canal: "Orienté par"}\n  valeurs:\n    canal: {"CCAS": orientation_interne, "Mairie": partenaire}\n',
    )
    assert problems == []
    assert list(records["accompagnements"].frame["canal"].astype(str)) == ["orientation_interne", "orientation_interne", "partenaire"]


# --- sheets ------------------------------------------------------------------------------


def test_three_site_sheets_are_one_table_with_the_site_from_the_sheet_name(workbook):
    inputs, truth = workbook
    records, _ = read(inputs)
    table = records["accompagnements"]
    assert Counter(table.frame["lieu"].astype(str)) == Counter(v["site"] for v in truth.visits)
    assert [p.file for p in table.parts] == [f"{WORKBOOK} (feuille « {s} »)" for s in SITES]
    # Title row and blank row above the header: the first record is row 4 of its sheet.
    assert all(int(p.frame.index[0]) == 4 for p in table.parts)
    assert sorted(table.frame["duree"].astype(int)) == sorted(v["minutes"] for v in truth.visits)


def test_every_sheet_and_column_is_accounted_for_in_the_summary(workbook):
    inputs, _ = workbook
    records, _ = read(inputs)
    summary = "\n".join(records.warnings)
    assert "« Synthèse » non lue" in summary
    for sheet in SITES:
        assert f"« {sheet} » lue pour « accompagnements »" in summary
    assert "« Ateliers » lue pour « ateliers »" in summary and "« Formations agents » lue pour « formations »" in summary
    assert "colonnes identifiantes écartées avant tout traitement : Téléphone" in summary
    assert "« Médiateur » (H), « Commentaire » (J)" in summary
    assert "« Orienté par » → canal" in summary and "« nom de la feuille » → lieu" in summary


def test_every_sheet_whose_header_matches_is_read_and_the_summary_is_skipped_by_name(workbook):
    inputs, truth = workbook
    every = CORRESPONDANCES.replace('feuilles: ["MDH Centre", "MDH Prainet", "Espace Lauriers"]', 'feuilles: "*"')
    records, problems = read(inputs, every)
    assert problems == []
    assert len(records["accompagnements"].frame) == len(truth.visits)
    assert "« Synthèse » ignorée : son en-tête n'est pas celui de « accompagnements »" in "\n".join(records.warnings)


def test_a_sheet_named_but_absent_is_one_named_question(workbook):
    inputs, _ = workbook
    _, problems = read(inputs, CORRESPONDANCES.replace('"MDH Prainet", "Espace', '"MDH Prainé", "Espace'))
    assert [(p.file, p.column, p.kind) for p in problems] == [("metadata/correspondances.yml", "accompagnements.feuilles", "configuration")]
    assert "« MDH Prainé » introuvable" in problems[0].expected and "« MDH Prainet »" in problems[0].expected


# --- values as typed ---------------------------------------------------------------------


def test_typed_values_are_read_as_the_generator_meant_them(workbook):
    inputs, truth = workbook
    records, _ = read(inputs)
    frame = records["accompagnements"].frame
    assert Counter(c for v in frame["thematiques"].astype(str) for c in v.split("|")) == Counter(
        c for v in truth.visits for c in v["codes"]
    )
    assert Counter(frame["canal"].astype(object).fillna("non_communique")) == Counter(v["canal"] for v in truth.visits)
    assert Counter(frame["satisfaction"].astype("string").fillna("non_communique")) == Counter(v["satisfaction"] for v in truth.visits)
    ateliers = records["ateliers"].frame
    assert list(ateliers["participants"].astype(int)) == [a["participants"] for a in truth.ateliers]  # « 7 pers. » is 7
    assert list(ateliers["lieu"].astype(str)) == [a["site"] for a in truth.ateliers]


@pytest.mark.parametrize(
    "typed,minutes",
    [
        ("1h30", 90),
        ("1 h 30", 90),
        ("1h", 60),
        ("45 min", 45),
        ("45mn", 45),
        ("45'", 45),
        ("0:30", 30),
        ("1:30", 90),
        ("45", 45),
        ("2 h", 120),
        ("45\u00a0min", 45),
    ],
)
def test_a_duration_as_typed_is_minutes(tmp_path, typed, minutes):
    (tmp_path / "accompagnements.csv").write_text(f"date,lieu,duree,thematiques\n2025-02-03,ccas_centre,{typed},CAF\n", encoding="utf-8")
    records, problems = read(tmp_path, "")
    assert problems == []
    assert int(records["accompagnements"].frame["duree"].iloc[0]) == minutes


def test_an_ods_duration_and_a_refused_one_shown_as_typed(tmp_path):
    frame = pd.DataFrame(
        {
            "date": ["2025-02-03", "2025-02-04"],
            "lieu": ["ccas_centre"] * 2,
            "duree": ["1h15", "trois quarts d'heure"],
            "thematiques": ["CAF"] * 2,
        }
    )
    frame.to_excel(tmp_path / "accompagnements.ods", engine="odf", index=False)
    _, problems = read(tmp_path, "")
    assert [(p.column, p.rows, p.values) for p in problems] == [("duree", (3,), ("trois quarts d'heure",))]


@pytest.mark.parametrize("typed", ["06 12 34 56 78", "17 impasse des Lilas", "Dupont", "m.dupont@example.org"])
def test_a_refused_duration_that_could_be_personal_is_not_shown(tmp_path, typed):
    (tmp_path / "accompagnements.csv").write_text(f"date,lieu,duree,thematiques\n2025-02-03,ccas_centre,{typed},CAF\n", encoding="utf-8")
    _, problems = read(tmp_path, "")
    assert [(p.column, p.values) for p in problems] == [("duree", ())]


# --- clear refusals ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,content,says",
    [
        ("accompagnements.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "ce n'est pas un fichier CSV mais une image PNG renommé"),
        ("accompagnements.xlsx", b"PK\x03\x04" + b"\x00" * 40, "ce fichier XLSX est illisible (abîmé, tronqué"),
        ("accompagnements.xlsx", b"Date;Lieu\n2025-01-01;x\n", "ce n'est pas un classeur .xlsx (fichier abîmé ou d'un autre format)"),
    ],
)
def test_a_corrupt_or_mislabelled_file_is_named_not_filed_under_configuration(tmp_path, name, content, says):
    folder = make_folder(tmp_path / "ccas")
    inputs = tmp_path / "entrees"
    inputs.mkdir()
    (inputs / name).write_bytes(content)
    result = release(folder, YEAR, inputs)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "Fichiers illisibles (1)" in result.stderr and f"{name} : " in result.stderr and says in result.stderr
    assert "Configuration (dossier metadata/)" not in result.stderr
    assert not (folder / "publish").exists()


def test_a_missing_input_file_is_not_a_configuration_problem(tmp_path):
    folder = make_folder(tmp_path / "ccas")
    (tmp_path / "vide").mkdir()
    for inputs in (tmp_path / "vide", tmp_path / "absent"):
        result = release(folder, YEAR, inputs)
        assert result.exit_code == 1 and "Traceback" not in result.output
        assert "Fichiers d'entrée absents (1)" in result.stderr and "Configuration" not in result.stderr


def test_wrong_codes_of_her_mapping_list_the_accepted_codes_once(tmp_path):
    text = 'accompagnements:\n  valeurs:\n    thematiques: {"A": caf, "B": impots, "C": ameli, "D": famille_scolarite}\n'
    _, problems = parse_correspondances(yaml.safe_load(text), "correspondances.yml")
    assert len(problems) == 1
    assert problems[0].expected.count("papiers_elections_citoyennete") == 1
    assert "« caf » (pour « A »), « impots » (pour « B »), « ameli » (pour « C »)" in problems[0].expected


# --- one run -----------------------------------------------------------------------------


@pytest.mark.slow
def test_her_workbook_publishes_in_one_run_every_figure_a_hand_count(tmp_path, workbook):
    inputs, truth = workbook
    folder = make_folder(tmp_path / "ccas")
    (folder / "metadata" / "correspondances.yml").write_text(CORRESPONDANCES, encoding="utf-8")
    result = release(folder, YEAR, inputs)
    assert result.exit_code == 0, result
    # The run's summary says what became of every sheet.
    assert "« Synthèse » non lue" in result.stderr and "« Formations agents » lue pour « formations »" in result.stderr
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

    visits = truth.visits
    assert published("accompagnements") == len(visits)
    assert published("usagers") == truth.persons  # persons counted on the fingerprinted name
    for site, n in Counter(v["site"] for v in visits).items():
        assert published("accompagnements", lieu=site) == n
        assert published("usagers", lieu=site) == len({v["person"] for v in visits if v["site"] == site})
    assert published("duree_moyenne") == round(statistics.mean(v["minutes"] for v in visits), 1)
    assert published("duree_mediane") == round(statistics.median(v["minutes"] for v in visits), 1)
    rated = [int(v["satisfaction"]) for v in visits if v["satisfaction"] != "non_communique"]
    assert published("taux_satisfaction") == round(100 * sum(r >= 4 for r in rated) / len(rated), 1)
    assert published("ateliers") == len(truth.ateliers)
    assert published("participants_ateliers") == sum(a["participants"] for a in truth.ateliers)
    assert published("formations_inscrits") == sum(f["inscrits"] for f in truth.formations)
    assert published("formations_presents") == sum(f["presents"] for f in truth.formations)
    themes = Counter(c for v in visits for c in v["codes"])
    shown = [code for code in themes if published("accompagnements", "thematique", code) is not None]
    assert len(shown) >= 4 and all(published("accompagnements", "thematique", c) == themes[c] for c in shown)
    # No name, phone number or comment anywhere: every file of the folder, the database's every cell.
    canaries = [CANARY_NAME[0], CANARY_NAME[1], CANARY_PHONE, CANARY_PHONE.replace(" ", ""), CANARY_COMMENT, "Dupont", "DUPONT", "Lefèvre"]
    for path in folder.rglob("*"):
        if path.is_file() and "metadata" not in path.parts:
            content = path.read_bytes().decode("utf-8", errors="ignore")
            assert not any(c in content for c in canaries), path
    with sqlite3.connect(folder / "publish" / "indicateurs.db") as db:
        for (name,) in db.execute("select name from sqlite_master where type='table'").fetchall():
            dump = repr(db.execute(f'select * from "{name}"').fetchall())
            assert not any(c in dump for c in canaries), name
    assert not any(c in result.output for c in canaries)


# --- see it before it is public ----------------------------------------------------------


@pytest.fixture(scope="module")
def trial_folder(tmp_path_factory):
    folder = make_folder(tmp_path_factory.mktemp("essai") / "ccas")
    (folder / "metadata" / "correspondances.yml").write_text(CORRESPONDANCES, encoding="utf-8")
    return folder


@pytest.mark.slow
def test_a_trial_writes_a_standalone_bilan_next_to_her_files(trial_folder, workbook):
    inputs, truth = workbook
    result = release(trial_folder, YEAR, inputs, "--essai")
    assert result.exit_code == 0, result
    page_path = inputs / f"apercu-ccas-opendata-{YEAR}.html"
    assert str(page_path) in result.stdout
    page = page_path.read_text(encoding="utf-8")
    assert "Aperçu, non publié" in page and f"{len(truth.visits)}" in page
    assert "<script" not in page.lower() and 'rel="stylesheet"' not in page and "<style>" in page
    assert not any(c in page for c in (CANARY_NAME[0], CANARY_NAME[1], CANARY_PHONE, CANARY_COMMENT, "Dupont"))
    assert not (trial_folder / "publish").exists() and not (trial_folder / "datapackages" / str(YEAR)).exists()


@pytest.mark.slow
def test_a_trial_is_served_on_the_port_asked(trial_folder, workbook):
    import os
    import signal
    import subprocess
    import sys
    import time

    import httpx

    from conftest import free_port

    inputs, truth = workbook
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "ccas_opendata.cli",
        "release",
        "--dossier",
        str(trial_folder),
        "--annee",
        str(YEAR),
        "--essai",
        "--servir",
        str(port),
        str(inputs),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    assert process.stderr is not None  # opened with stderr=PIPE
    try:
        deadline, page = time.monotonic() + 120, None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/bilan/{YEAR}", timeout=2, follow_redirects=True)
                if response.status_code == 200:
                    page = response.text
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        assert page is not None, process.stderr.read().decode()[-3000:] if process.poll() is not None else "pas de réponse"
        assert f"{len(truth.visits)}" in page
    finally:
        os.killpg(process.pid, signal.SIGINT)  # Ctrl+C, as she would: the server and its scratch folder go
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert not (trial_folder / "publish").exists()


# --- the proposal ------------------------------------------------------------------------

#: Her answers to the questions the proposal asks for this workbook, and nothing else.
ANSWERS = {
    '"MDH Centre": a_completer': '"MDH Centre": ccas_centre',
    '"MDH Prainet": a_completer': '"MDH Prainet": maison_quartier_nord',
    '"Espace Lauriers": a_completer': '"Espace Lauriers": mediatheque_sud',
    '"CCAS": a_completer': '"CCAS": orientation_interne',
    '"Mairie": a_completer': '"Mairie": partenaire',
    'a_completer: ["Médiateur"]': 'ignorer: ["Médiateur"]',
}


@pytest.mark.slow
def test_the_proposal_answered_where_it_asks_publishes_in_one_run(tmp_path):
    inputs = tmp_path / "entrees"
    truth = write_workbook(inputs)
    folder = make_folder(tmp_path / "ccas")
    result = invoke("correspondances", "--dossier", folder, "--annee", YEAR, inputs)
    assert result.exit_code == 0, result
    path = folder / "metadata" / "correspondances.yml"
    text = path.read_text(encoding="utf-8")
    assert 'feuilles: ["MDH Centre", "MDH Prainet", "Espace Lauriers"]' in text and "lieu: {feuille: true}" in text
    assert 'usager: ["Nom Prénom"]' in text and 'Feuille "Synthèse" non lue' in text
    assert "|" not in text.split("valeurs:", 1)[1].split("#")[0]  # single pieces, never a combination
    # Every line it wrote is accepted as written: its only questions are the « a_completer ».
    _, problems = parse_correspondances(yaml.safe_load(text), "correspondances.yml")
    assert all("a_completer" in p.expected or "à classer" in p.expected or "à compléter" in p.expected for p in problems), problems
    for question, answer in ANSWERS.items():
        assert question in text, question
        text = text.replace(question, answer)
    assert "a_completer" not in text.replace("« a_completer »", "")
    path.write_text(text, encoding="utf-8")
    result = release(folder, YEAR, inputs)
    assert result.exit_code == 0, result
    assert f"{len(truth.visits)} accompagnements, " in result.stdout and f"{truth.persons} personnes distinctes" in result.stdout
    table = pd.read_csv(folder / "datapackages" / str(YEAR) / "indicateurs.csv", dtype=str, keep_default_na=False)
    ateliers = table[
        (table.periode == str(YEAR))
        & (table.lieu == "ensemble")
        & (table.indicateur == "participants_ateliers")
        & (table.dimension == "ensemble")
    ]
    assert float(ateliers.valeur.iloc[0]) == sum(a["participants"] for a in truth.ateliers)


# --- formula cells -----------------------------------------------------------------------


def _workbook_with_formulas(path: Path, cached: dict[str, str]) -> list[int]:
    """date/lieu/duree/thematiques with the durations as formulas; openpyxl stores no
    computed value, so the ones in ``cached`` get theirs written as Excel would."""
    import re
    import shutil
    import zipfile

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Suivi"
    ws.append(["date", "lieu", "duree", "thematiques"])
    for n in range(3):
        ws.append([dt.date(YEAR, 2, 1 + n), "ccas_centre", f"=15*{n + 1}", "CAF"])
    raw = path.with_suffix(".raw.xlsx")
    wb.save(raw)
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                for ref, value in cached.items():
                    text = re.sub(rf'(<c r="{ref}"[^>]*><f>[^<]*</f>)<v ?/>', rf"\g<1><v>{value}</v>", text)
                data = text.encode()
            target.writestr(item, data)
    raw.unlink()
    shutil.copystat(path, path)
    return [2, 3, 4]


def test_a_formula_is_read_from_its_computed_value_and_one_without_is_refused(tmp_path):
    rows = _workbook_with_formulas(tmp_path / "accompagnements.xlsx", {"C2": "15", "C3": "30"})
    records, problems = read(tmp_path, "")
    assert [(p.column, p.rows, p.kind) for p in problems if "formule" in p.expected] == [("duree", (rows[2],), "cellule")]
    _workbook_with_formulas(tmp_path / "accompagnements.xlsx", {"C2": "15", "C3": "30", "C4": "45"})
    records, problems = read(tmp_path, "")
    assert problems == []
    assert list(records["accompagnements"].frame["duree"].astype(int)) == [15, 30, 45]


# --- the correspondances as a workbook ---------------------------------------------------

#: Her answers in the workbook: (sheet, her value or header) → what she picks in the drop-down.
WORKBOOK_ANSWERS = {
    ("En-têtes", "Médiateur"): "ignorer",
    ("lieu", "MDH Centre"): "ccas_centre — CCAS – accueil du centre-ville",
    ("lieu", "MDH Prainet"): "maison_quartier_nord — Maison de quartier des Tilleuls",
    ("lieu", "Espace Lauriers"): "mediatheque_sud — Médiathèque Jean-Moulin",
    ("lieu (ateliers)", "MDH Centre"): "ccas_centre — CCAS – accueil du centre-ville",
    ("lieu (ateliers)", "MDH Prainet"): "maison_quartier_nord — Maison de quartier des Tilleuls",
    ("lieu (ateliers)", "Espace Lauriers"): "mediatheque_sud — Médiathèque Jean-Moulin",
    ("canal", "CCAS"): "orientation_interne — Orienté par le CCAS",
    ("canal", "Mairie"): "partenaire — Par un partenaire",
}


@pytest.mark.slow
def test_the_correspondances_workbook_completed_in_excel_publishes_in_one_run(tmp_path):
    inputs = tmp_path / "entrees"
    truth = write_workbook(inputs)
    folder = make_folder(tmp_path / "ccas")
    assert invoke("correspondances", "--dossier", folder, "--annee", YEAR, inputs).exit_code == 0
    path = folder / "metadata" / "correspondances.xlsx"
    book = openpyxl.load_workbook(path)
    headers = [tuple(r) for r in book["En-têtes"].iter_rows(min_row=2, values_only=True)]
    assert ("accompagnements", WORKBOOK, "MDH Centre | MDH Prainet | Espace Lauriers", "Médiateur", None) in headers
    assert ("accompagnements", WORKBOOK, "MDH Centre | MDH Prainet | Espace Lauriers", "Nom Prénom", "usager") in headers
    assert book["En-têtes"].data_validations.dataValidation and book["canal"].data_validations.dataValidation
    themes = {r[0]: r[1:] for r in book["thematiques"].iter_rows(min_row=4, values_only=True)}
    assert themes["CAF"][1] == themes["CAF"][2] == "famille_scolarite — Famille, scolarité (CAF, EduConnect)"
    assert themes["CAF"][0] == sum("CAF" in v["typed"] for v in truth.visits)
    assert not any("+" in typed or "/" in typed for typed in themes)  # pieces, never combinations
    cells = " ".join(str(c) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True) for c in row if c is not None)
    assert not any(c in cells for c in (CANARY_NAME[0], CANARY_NAME[1], CANARY_PHONE, CANARY_COMMENT, "Dupont", "Sophie", "Karim"))
    # Unanswered: the release names each question by sheet and row, and publishes nothing.
    result = release(folder, YEAR, inputs)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "metadata/correspondances.xlsx, clé « En-têtes, ligne" in result.stderr and "« Médiateur » : choisissez" in result.stderr
    assert "clé « canal, ligne 4 » : « CCAS » : choisissez son code" in result.stderr
    # Each question asked once: the records do not ask again about the values and headers in question.
    assert "9 problèmes dans les données d'entrée" in result.stderr and "Configuration (dossier metadata/) (9)" in result.stderr
    assert not (folder / "publish").exists()
    # She picks in the drop-downs, saves, publishes: one run.
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            key = (sheet.title, row[3].value if sheet.title == "En-têtes" else row[0].value)
            if key in WORKBOOK_ANSWERS:
                row[4 if sheet.title == "En-têtes" else 3].value = WORKBOOK_ANSWERS[key]
    book.save(path)
    result = release(folder, YEAR, inputs)
    assert result.exit_code == 0, result
    assert f"{len(truth.visits)} accompagnements, " in result.stdout and f"{truth.persons} personnes distinctes" in result.stdout


def test_excel_time_and_duration_cells_are_minutes(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["date", "lieu", "duree", "thematiques"])
    cells = [(dt.time(0, 45), "h:mm", 45), (dt.timedelta(hours=1, minutes=30), "[h]:mm", 90), (0.5 / 24, "h:mm", 30)]
    for value, number_format, _ in cells:
        ws.append([dt.date(YEAR, 2, 3), "ccas_centre", value, "CAF"])
        ws.cell(row=ws.max_row, column=3).number_format = number_format
    wb.save(tmp_path / "accompagnements.xlsx")
    records, problems = read(tmp_path, "")
    assert problems == []
    assert list(records["accompagnements"].frame["duree"].astype(int)) == [m for *_, m in cells]


def test_an_ods_workbook_of_site_sheets_is_one_table(tmp_path):
    sites = {"MDH Centre": 3, "MDH Prainet": 2}
    with pd.ExcelWriter(tmp_path / "Permanences.ods", engine="odf") as writer:
        pd.DataFrame({"Synthèse": ["Total", "5"]}).to_excel(writer, sheet_name="Synthèse", index=False)
        for sheet, n in sites.items():
            pd.DataFrame({"Permanences": [f"Suivi {sheet}"]}).to_excel(writer, sheet_name=sheet, index=False, header=False)
            frame = pd.DataFrame(
                {
                    "Date": ["03/02/2025"] * n,
                    "Nom Prénom": ["DUPONT Marie", "Dupont  marie", "Martin Noël"][:n],
                    "Durée": ["1 h 30", "45mn", "0:30"][:n],
                    "Démarche(s)": ["CAF + impôts"] * n,
                }
            )
            frame.to_excel(writer, sheet_name=sheet, index=False, startrow=2)
    text = (
        'accompagnements:\n  fichier: "Permanences.ods"\n  feuilles: "*"\n'
        '  colonnes: {lieu: {feuille: true}, usager: ["Nom Prénom"], thematiques: "Démarche(s)"}\n'
        '  valeurs:\n    lieu: {"MDH Centre": ccas_centre, "MDH Prainet": maison_quartier_nord}\n'
        '    thematiques: {"CAF": famille_scolarite, "impôts": argent_impots}\n'
    )
    records, problems = read(tmp_path, text)
    assert problems == []
    frame = records["accompagnements"].frame
    assert Counter(frame["lieu"].astype(str)) == {"ccas_centre": 3, "maison_quartier_nord": 2}
    assert frame["usager"].nunique() == 2  # « DUPONT Marie » and « Dupont  marie » are one person
    assert sorted(frame["duree"].astype(int)) == [30, 45, 45, 90, 90]
    assert set(frame["thematiques"].astype(str)) == {"famille_scolarite|argent_impots"}
    assert "« Synthèse » ignorée" in "\n".join(records.warnings)


def test_her_own_satisfaction_words_are_asked_and_mapped_like_codes(tmp_path):
    inputs = tmp_path / "entrees"
    inputs.mkdir()
    (inputs / "accompagnements.csv").write_text(
        "date;lieu;duree;thematiques;Satisfaction\n2025-02-03;ccas_centre;30;CAF;Bof\n2025-02-04;ccas_centre;30;CAF;Très satisfait\n"
        "2025-02-05;ccas_centre;30;CAF;4\n2025-02-06;ccas_centre;30;CAF;bof\n",
        encoding="utf-8",
    )
    folder = make_folder(tmp_path / "ccas")
    assert invoke("correspondances", "--dossier", folder, "--annee", YEAR, inputs).exit_code == 0
    text = (folder / "metadata" / "correspondances.yml").read_text(encoding="utf-8")
    assert '"Bof": a_completer   # 2 ligne(s)' in text and "Très satisfait" not in text and "# codes possibles : 1, 2, 3, 4, 5" in text
    records, problems = read(inputs, text.replace('"Bof": a_completer', '"Bof": 3'))
    assert problems == []
    assert list(records["accompagnements"].frame["satisfaction"].astype(int)) == [3, 5, 4, 3]


def test_her_completed_correspondances_workbook_is_never_overwritten(tmp_path, workbook):
    inputs, _ = workbook
    folder = make_folder(tmp_path / "ccas")
    mine = folder / "metadata" / "correspondances.xlsx"
    mine.write_bytes(b"her own workbook")
    assert invoke("correspondances", "--dossier", folder, "--annee", YEAR, inputs).exit_code == 0
    assert mine.read_bytes() == b"her own workbook"
    assert not (folder / "metadata" / "correspondances.yml").exists()
    assert (folder / "metadata" / "correspondances.proposition.yml").exists() and (
        folder / "metadata" / "correspondances.proposition.xlsx"
    ).exists()


def test_an_unanswered_proposal_asks_each_question_once(tmp_path, workbook):
    inputs, _ = workbook
    folder = make_folder(tmp_path / "ccas")
    assert invoke("correspondances", "--dossier", folder, "--annee", YEAR, inputs).exit_code == 0
    (folder / "metadata" / "correspondances.xlsx").unlink()  # the YAML path
    result = release(folder, YEAR, inputs, "--essai")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "4 problèmes dans les données d'entrée" in result.stderr and "Configuration (dossier metadata/) (4)" in result.stderr
    assert "3 valeur(s) à compléter (« Espace Lauriers », « MDH Centre », « MDH Prainet »)" in result.stderr
    assert "Codes inconnus" not in result.stderr and "Contrôles de cohérence" not in result.stderr
