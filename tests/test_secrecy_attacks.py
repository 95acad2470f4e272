"""The seven attacks of issue 7, each as a real release attacked by an independent reader.

Each scenario writes a realistic year of records (a few hundred accompaniments, three sites,
twelve months, a seeded generator) with one weak spot, runs ``ccas-opendata release`` on it,
then hands the published ``indicateurs.csv`` to :mod:`attacker`, which knows only what a reader
knows. The attacker's intervals are first checked against the true counts of the records (a
wrong attacker must fail loudly, not pass or fail a release), then the test asserts that it
finds no narrow interval and no group under the threshold.

The plain unit tests at the end check the attacker itself on hand-made tiny tables.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from attacker import AttackError, Findings, attack, describe
from conftest import REPO, make_folder, release, snapshot
from ccas_opendata.publisher import read_publisher
from ccas_opendata.demo import synthetic_ateliers, synthetic_formations, write_table

YEAR = 2024
E = "ensemble"
SITES = ("ccas_centre", "maison_quartier_nord", "mediatheque_sud")
ADMIN = (
    "social_sante",
    "famille_scolarite",
    "travail_formation",
    "papiers_elections_citoyennete",
    "logement",
    "argent_impots",
    "etrangers_europe",
    "aide_aux_demarches_administratives",
)
DIGITAL = (
    "email",
    "prendre_en_main_du_materiel",
    "navigation_sur_internet",
    "securite_numerique",
    "bureautique",
    "banque_et_achats_en_ligne",
    "sante",
    "diagnostic_numerique",
)
COLUMNS = (
    "date",
    "lieu",
    "duree",
    "thematiques",
    "usager",
    "premier_accompagnement",
    "age",
    "genre",
    "situation",
    "composition_familiale",
    "quartier",
    "autonomie",
    "orientation",
    "canal",
    "materiel",
    "satisfaction",
    "type_lieu",
    "intervenant",
)
PERSON_DIMENSIONS = {
    "tranche_age",
    "genre",
    "situation",
    "composition_familiale",
    "quartier",
    "qpv",
    "premier_accompagnement",
    "materiel",
    "canal",
    "autonomie",
}
MONTH_WEIGHTS = (10, 10, 11, 10, 9, 8, 6, 3, 10, 11, 10, 8)
QPV = {"les_tilleuls", "la_plaine"}  # metadata/quartiers.csv


# -- records ---------------------------------------------------------------------------------
def _choice(rng: random.Random, weighted: dict):
    return rng.choices(list(weighted), weights=list(weighted.values()))[0]


def new_person(rng: random.Random, pid: str, home: str, **profile) -> dict:
    """A person's stable attributes, drawn like a CCAS's public (a majority of women, many
    retired or unemployed, a third in a QPV)."""
    person = {
        "usager": pid,
        "home": home,
        "age": str(rng.randint(18, 90)),
        "genre": _choice(rng, {"feminin": 58, "masculin": 38, "": 4}),
        "situation": _choice(rng, {"retraite": 30, "demandeur_emploi": 25, "inactif": 18, "en_emploi": 15, "": 9}),
        "composition_familiale": _choice(
            rng, {"personne_seule": 40, "famille_monoparentale": 18, "couple_sans_enfant": 14, "couple_avec_enfants_mineurs": 14, "": 10}
        ),
        "quartier": _choice(
            rng, {"centre": 14, "les_tilleuls": 26, "la_plaine": 20, "le_stade": 14, "les_coteaux": 12, "hors_commune": 6, "": 8}
        ),
        "canal": _choice(rng, {"orientation_interne": 35, "partenaire": 25, "bouche_a_oreille": 30, "": 10}),
        "materiel": _choice(rng, {"telephone": 45, "ordinateur|telephone": 25, "aucun": 15, "": 15}),
    }
    person.update(profile)
    return person


def visit(rng: random.Random, person: dict, year: int, lieu: str | None = None, month: int | None = None, **fields) -> dict:
    month = month or rng.choices(range(1, 13), weights=MONTH_WEIGHTS)[0]
    day = rng.randint(1, 28)
    themes = [rng.choice(ADMIN) if rng.random() < 0.8 else rng.choice(DIGITAL)]
    if rng.random() < 0.3:
        themes.append(rng.choice(ADMIN + DIGITAL))
    record = {key: person[key] for key in ("usager", "age", "genre", "situation", "composition_familiale", "quartier", "canal", "materiel")}
    record.update(
        {
            "date": dt.date(year, month, day).isoformat(),
            "lieu": lieu or person["home"],
            "duree": str(min(240, 5 + int(rng.gammavariate(3.0, 12.0)))),
            "thematiques": "|".join(dict.fromkeys(themes)),
            "autonomie": _choice(rng, {"entierement_accompagne": 55, "partiellement_autonome": 30, "autonome": 10, "": 5}),
            "orientation": _choice(rng, {"": 75, "aide_sociale": 10, "operateur_ou_organisme_en_charge": 8, "administration": 7}),
            "satisfaction": _choice(rng, {"5": 45, "4": 28, "3": 8, "2": 3, "": 16}),
            "type_lieu": _choice(rng, {"lieu_activite": 90, "a_distance": 10}),
            "intervenant": _choice(rng, {"conseiller_numerique": 60, "travailleur_social": 25, "agent_accueil": 15}),
        }
    )
    record.update(fields)
    return record


def population(
    rng: random.Random, year: int, n_records: int, sites=SITES, prefix: str = "P", rate: float = 0.9, qpv: float | None = None
) -> list[dict]:
    """About ``n_records`` accompaniments: half the persons come once, a few come often (fewer
    repeat visits as ``rate`` grows); ``qpv``: the share of persons living in a QPV quartier."""
    records: list[dict] = []
    i = 0
    while len(records) < n_records:
        person = new_person(rng, f"{prefix}{i:04d}", rng.choice(sites))
        if qpv is not None:
            person["quartier"] = (
                rng.choice(sorted(QPV)) if rng.random() < qpv else rng.choice(["centre", "le_stade", "les_coteaux", "hors_commune", ""])
            )
        visits = min(8, 1 + int(rng.expovariate(rate)))
        for _ in range(visits):
            moved = rng.random() < 0.1
            records.append(visit(rng, person, year, lieu=rng.choice(sites) if moved else None))
        i += 1
    return records[:n_records]


def finish(records: list[dict]) -> list[dict]:
    """Sort by date and fill ``premier_accompagnement`` (first visit of the year: oui)."""
    records = sorted(records, key=lambda r: (r["date"], r.get("usager", "")))
    seen = set()
    for r in records:
        if "usager" in r:
            r["premier_accompagnement"] = "non" if r["usager"] in seen else "oui"
            seen.add(r["usager"])
    return records


def write_inputs(directory: Path, records: list[dict], year: int = YEAR, with_usager: bool = True, folder: Path = REPO) -> Path:
    """accompagnements.csv (contract columns), plus the demo's ateliers and formations at the
    sites of ``folder``'s metadata."""
    directory.mkdir(parents=True, exist_ok=True)
    columns = [c for c in COLUMNS if with_usager or c not in ("usager", "premier_accompagnement")]
    with open(directory / "accompagnements.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(finish(records))
    publisher = read_publisher(folder)
    write_table(synthetic_ateliers(year, publisher), directory / "ateliers", "csv-comma")
    write_table(synthetic_formations(year), directory / "formations", "csv-comma")
    return directory


# -- the truth of the records (to check the attacker, and for dominance) ------------------------
AGE_BANDS = ((17, "moins_de_18"), (24, "18_24"), (39, "25_39"), (59, "40_59"), (69, "60_69"), (999, "70_plus"))
DUREE_BINS = ((14, "moins_de_15_min"), (29, "15_29_min"), (59, "30_59_min"), (119, "60_119_min"), (999, "120_min_et_plus"))


def record_cells(r: dict) -> list[tuple[str, str]]:
    """The (dimension, modalite) cells a record counts in, for the dimensions whose reading is
    unambiguous in the contract."""
    nc = "non_communique"
    cells = [(E, E)] + [("thematique", t) for t in r["thematiques"].split("|")]
    cells += [("materiel", m) for m in (r["materiel"].split("|") if r["materiel"] else [nc])]
    for dim in (
        "genre",
        "situation",
        "composition_familiale",
        "quartier",
        "canal",
        "autonomie",
        "type_lieu",
        "intervenant",
        "satisfaction",
    ):
        cells.append((dim, r.get(dim) or nc))
    q = r.get("quartier")
    cells.append(("qpv", nc if not q else "oui" if q in QPV else "non"))
    cells.append(("tranche_age", next(b for top, b in AGE_BANDS if int(r["age"]) <= top) if r.get("age") else nc))
    cells.append(("duree_tranche", next(b for top, b in DUREE_BINS if int(r["duree"]) <= top)))
    return cells


def truth(records: list[dict], year: int = YEAR) -> dict[tuple, int]:
    """True accompagnements and usagers of every (indicateur, periode, lieu, dimension, modalite)."""
    counts: dict[tuple, int] = {}
    persons: dict[tuple, set] = {}
    for r in records:
        month = r["date"][:7]
        for lieu in (E, r["lieu"]):
            for dim, mod in record_cells(r):
                key = ("accompagnements", str(year), lieu, dim, mod)
                counts[key] = counts.get(key, 0) + 1
            persons.setdefault(("usagers", str(year), lieu, E, E), set()).add(r.get("usager"))
        counts[("accompagnements", month, E, E, E)] = counts.get(("accompagnements", month, E, E, E), 0) + 1
        persons.setdefault(("usagers", month, E, E, E), set()).add(r.get("usager"))
    counts.update({k: len(v) for k, v in persons.items() if None not in v})
    return counts


def assert_sound(findings: Findings, true: dict[tuple, int], version: int = 0) -> None:
    """Every interval the attacker claims must hold the true value: otherwise the attacker is
    wrong and no conclusion about the release may be drawn."""
    wrong = [
        (describe(key), lo, hi, true[key[1:]])
        for key, (lo, hi) in findings.intervals.items()
        if key[0] == version and key[1:] in true and not lo <= true[key[1:]] <= hi
    ]
    assert not wrong, f"ATTACKER BUG: true values outside its intervals: {wrong[:10]}"


# -- releases ----------------------------------------------------------------------------------
def published_csv(folder: Path, year: int = YEAR) -> Path:
    return folder / "datapackages" / str(year) / "indicateurs.csv"


def rows(folder: Path, year: int = YEAR) -> list[dict]:
    with open(published_csv(folder, year), encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def assert_french_refusal(result, folder: Path, year: int = YEAR) -> None:
    assert result.exit_code != 0
    assert not (folder / "datapackages" / str(year)).exists(), "a refused release published something"
    words = set(re.findall(r"[a-zàâçéèêëîïôûùüÿœ']+", result.output.lower()))
    assert {"erreur", "le", "la", "les", "des", "du", "est", "pas", "aucun"} & words, result.output
    assert len(words & {"le", "la", "les", "des", "du", "de", "est", "pas", "une", "un", "et"}) >= 3, result.output


def release_or_fail(folder: Path, inputs: Path, year: int = YEAR):
    """A release that must succeed; a refusal is checked (nothing published, French) and fails."""
    result = release(folder, year, inputs)
    if result.exit_code != 0:
        assert_french_refusal(result, folder, year)
        pytest.fail(f"the release was refused although this scenario must publish:\n{result.output[-2000:]}")
    return result


def assert_safe(findings: Findings, context: str = "") -> None:
    if findings.narrow or findings.small_groups:
        pytest.fail(f"a reader of the publication learns too much{context}:\n" + findings.report(40), pytrace=False)


def scenario_folder(tmp_path: Path, name: str) -> Path:
    return make_folder(tmp_path / name)


def release_and_attack(tmp_path: Path, records: list[dict]) -> tuple[Path, Findings]:
    """Release the records in a new folder and attack what it published, after checking
    the attacker against the hand count of the same records."""
    folder = scenario_folder(tmp_path, "ccas")
    release_or_fail(folder, write_inputs(tmp_path / "in", records))
    findings = attack([published_csv(folder)], folder / "metadata", integral=True)
    assert_sound(findings, truth(records))
    return folder, findings


# -- the seven attacks -------------------------------------------------------------------------
@pytest.mark.slow
def test_1_rare_multivalued_modality_at_one_site(tmp_path):
    """ensemble − published sites pins a thematique that is rare at one site only."""
    rng = random.Random(71)
    records = population(rng, YEAR, 260)  # no justice in the base population
    for site, n in (("ccas_centre", 3), ("maison_quartier_nord", 40), ("mediatheque_sud", 40)):
        for i in range(n):
            person = new_person(rng, f"J{site[:3]}{i:03d}", site)
            records.append(visit(rng, person, YEAR, thematiques="justice|" + rng.choice(ADMIN)))
    assert_safe(release_and_attack(tmp_path, records)[1])


@pytest.mark.slow
def test_2_part_demarches_pins_hidden_administrative_cells(tmp_path):
    """A site doing almost only digital skills: its few administrative accompaniments, all in
    one thematique, are given away by part_demarches_administratives × its total."""
    rng = random.Random(72)
    records = population(rng, YEAR, 260, sites=SITES[:2])
    for i in range(20):  # 20 persons, 3 visits each, at the third site: digital skills only
        person = new_person(rng, f"N{i:03d}", SITES[2])
        for _ in range(3):
            records.append(visit(rng, person, YEAR, thematiques=rng.choice(DIGITAL)))
    for i in range(4):  # ... but for 4 accompaniments about housing
        records.append(visit(rng, new_person(rng, f"L{i:03d}", SITES[2]), YEAR, thematiques="logement"))
    assert_safe(release_and_attack(tmp_path, records)[1])


@pytest.mark.slow
def test_3_person_shares_publish_small_groups(tmp_path):
    """A site with 12 persons, one living in a QPV and one who came twice: the person shares
    of that site describe groups of one."""
    rng = random.Random(73)
    records = population(rng, YEAR, 280, sites=SITES[:2])
    for i in range(12):
        person = new_person(
            rng, f"S{i:03d}", SITES[2], quartier="les_tilleuls" if i == 0 else rng.choice(["centre", "le_stade", "les_coteaux"])
        )
        for _ in range(2 if i == 1 else 1):
            records.append(visit(rng, person, YEAR))
    assert_safe(release_and_attack(tmp_path, records)[1])


@pytest.mark.slow
def test_4_dominance_one_person_makes_a_site(tmp_path):
    """11 persons at a site, one of whom made 40 of its 50 visits (always about justice, long ones):
    the site's counts and durations would describe that person."""
    rng = random.Random(74)
    records = population(rng, YEAR, 280, sites=SITES[:2])  # no justice in the base population
    site = SITES[2]
    big = new_person(
        rng,
        "DOMINANT",
        site,
        age="34",
        genre="masculin",
        situation="demandeur_emploi",
        quartier="la_plaine",
        composition_familiale="famille_monoparentale",
    )
    for i in range(40):
        records.append(visit(rng, big, YEAR, month=1 + i % 12, thematiques="justice", duree="90"))
    for i in range(10):
        records.append(visit(rng, new_person(rng, f"O{i:03d}", site), YEAR))
    folder, findings = release_and_attack(tmp_path, records)

    # Hand count: the share of every published figure at that site (and of justice anywhere)
    # that is due to the dominant person.
    dominated = []
    for row in rows(folder):
        if row["valeur"] == "" or not (row["lieu"] == site or row["modalite"] == "justice"):
            continue
        inside = [r for r in records if (row["lieu"] in (E, r["lieu"])) and (row["dimension"], row["modalite"]) in record_cells(r)]
        if not inside or row["periode"] != str(YEAR):
            continue
        mine = [r for r in inside if r["usager"] == "DOMINANT"]
        if row["indicateur"] == "accompagnements" and len(mine) > len(inside) / 2:
            dominated.append((row["lieu"], row["indicateur"], row["dimension"], row["modalite"], f"{len(mine)}/{len(inside)}"))
        if row["indicateur"] in ("duree_moyenne", "duree_mediane"):
            minutes = sum(int(r["duree"]) for r in mine) / sum(int(r["duree"]) for r in inside)
            if len(mine) > len(inside) / 2 or minutes > 0.5:
                dominated.append((row["lieu"], row["indicateur"], row["dimension"], row["modalite"], f"{minutes:.0%} of minutes"))
    assert not dominated, f"published figures more than half due to one person: {dominated}"
    assert_safe(findings)


@pytest.mark.slow
def test_5_release_is_deterministic_across_hash_seeds(tmp_path):
    rng = random.Random(75)
    inputs = write_inputs(tmp_path / "in", population(rng, YEAR, 300))
    outputs = []
    for seed in ("0", "1234"):
        folder = scenario_folder(tmp_path, f"ccas-{seed}")
        env = os.environ | {"PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-m", "ccas_opendata.cli", "release", "--dossier", str(folder), "--annee", str(YEAR), str(inputs)],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        outputs.append(published_csv(folder).read_bytes())
    assert outputs[0] == outputs[1], "indicateurs.csv depends on PYTHONHASHSEED"


@pytest.mark.slow
def _first_release(tmp_path: Path, seed: int) -> tuple[random.Random, list[dict], Path, Path, dict]:
    rng = random.Random(seed)
    records = population(rng, YEAR, 300)
    folder = scenario_folder(tmp_path, "ccas")
    release_or_fail(folder, write_inputs(tmp_path / "in1", records))
    first = tmp_path / "v1-indicateurs.csv"
    shutil.copy(published_csv(folder), first)
    return rng, records, folder, first, snapshot(folder)


def test_6_rerelease_with_one_more_person_of_a_rare_profile_is_held_back(tmp_path):
    """One more record whose profile fills cells published at zero: whatever the new
    version hid or showed there, a reader holding both would learn that one such person
    was added. The revision freezes every figure she moves (issue 15): the release
    succeeds, tells the agent the correction is held back, and nothing of the
    publication changes."""
    rng, records, folder, _, before = _first_release(tmp_path, 76)
    newcomer = new_person(
        rng,
        "NOUVEAU",
        SITES[2],
        age="16",
        genre="masculin",
        situation="scolarise",
        composition_familiale="couple_avec_enfants_majeurs",
        quartier="la_plaine",
        canal="partenaire",
        materiel="tablette",
    )
    records.append(
        visit(
            rng,
            newcomer,
            YEAR,
            month=8,
            thematiques="justice|reseaux_sociaux",
            duree="200",
            autonomie="autonome",
            satisfaction="1",
            type_lieu="a_distance",
            intervenant="agent_accueil",
        )
    )
    result = release(folder, YEAR, write_inputs(tmp_path / "in2", records), "--motif", "Ajout d'un accompagnement oublié")
    assert result.exit_code == 0, result
    assert "corrections retenues, rien de public ne change" in result.stdout
    assert snapshot(folder) == before, "a held-back correction changed the publication"


def test_6_rerelease_with_one_more_person_of_a_common_profile_tells_nothing(tmp_path):
    """One more record whose every attribute is already common (a copy of an existing
    visit's profile under a new identifier): the revision is published, and a reader
    holding both versions learns nothing about the added record from the difference."""
    _, records, folder, first, _ = _first_release(tmp_path, 76)
    model = records[len(records) // 2]
    records.append(dict(model, usager="NOUVEAU-COMMUN"))
    result = release(folder, YEAR, write_inputs(tmp_path / "in2", records), "--motif", "Ajout d'un accompagnement oublié")
    assert result.exit_code == 0, result
    findings = attack([first, published_csv(folder)], folder / "metadata", integral=True)
    assert_sound(findings, truth(records), version=1)
    about_versions = [n for n in findings.narrow if n[0].startswith("difference")]
    groups = [g for g in findings.small_groups if "→" in g]
    # The newcomer's profile: any count published in both versions that moved says where
    # the one added record falls (age, site, month, thematique…).
    groups += [
        f"published in both versions, moved by {lo:+g}: {cell}"
        for (_, _, cell), (lo, hi) in findings.differences.items()
        if lo == hi and lo != 0
    ]
    if about_versions or groups:
        pytest.fail(
            "a reader holding both versions learns about the new record:\n"
            + "\n".join([f"  {what}: [{lo:g}, {hi:g}]" for what, lo, hi in about_versions] + [f"  {g}" for g in groups]),
            pytrace=False,
        )


def _declare_without_identifier(folder: Path) -> None:
    path = folder / "metadata" / "organisation.yml"
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^sans_identifiant_personne:.*\n?", "", text)
    path.write_text(text.rstrip("\n") + "\nsans_identifiant_personne: oui\n", encoding="utf-8")


def _records_without_identifier(seed: int) -> list[dict]:
    rng = random.Random(seed)
    records = population(rng, YEAR, 300)
    regular = new_person(
        rng,
        "REGULIER",
        SITES[1],
        age="17",
        genre="masculin",
        situation="scolarise",
        composition_familiale="autre",
        quartier="la_plaine",
        canal="partenaire",
        materiel="tablette",
    )
    records += [visit(rng, regular, YEAR, month=m, thematiques="justice", duree="150") for m in range(1, 13)]
    return records


@pytest.mark.slow
def test_7a_no_identifier_without_declaration_is_refused(tmp_path):
    folder = scenario_folder(tmp_path, "ccas")
    inputs = write_inputs(tmp_path / "in", _records_without_identifier(77), with_usager=False)
    result = release(folder, YEAR, inputs)
    assert result.exit_code != 0, "records without `usager` were published without sans_identifiant_personne: oui"
    assert_french_refusal(result, folder)
    assert "sans_identifiant_personne" in result.output


@pytest.mark.slow
def test_7b_no_identifier_declared(tmp_path):
    folder = scenario_folder(tmp_path, "ccas")
    _declare_without_identifier(folder)
    records = _records_without_identifier(77)
    release_or_fail(folder, write_inputs(tmp_path / "in", records, with_usager=False))
    organisation = yaml.safe_load((folder / "metadata" / "organisation.yml").read_text(encoding="utf-8"))
    seuil = int(organisation.get("seuil_secret", 11))
    floor = int(organisation.get("seuil_secret_sans_identifiant") or organisation.get("seuil_sans_identifiant") or 3 * seuil)
    published = rows(folder)
    described = sorted({r["dimension"] for r in published if r["dimension"] in PERSON_DIMENSIONS})
    assert not described, f"dimensions describing persons published without a person identifier: {described}"
    about_persons = sorted(
        {r["indicateur"] for r in published if r["indicateur"] == "usagers" or r["indicateur"].startswith("part_usagers")}
    )
    assert not about_persons, f"figures about persons published without a person identifier: {about_persons}"
    small = [
        (r["periode"], r["lieu"], r["dimension"], r["modalite"], r["valeur"])
        for r in published
        if r["indicateur"] == "accompagnements" and r["valeur"] and 0 < float(r["valeur"]) < floor
    ]
    assert not small, f"accompagnements published under {floor} without a person identifier: {small[:10]}"

    def claims(node, path=""):
        if isinstance(node, dict):
            return [c for k, v in node.items() for c in claims(v, f"{path}.{k}")]
        if isinstance(node, list):
            return [c for v in node for c in claims(v, path)]
        number = isinstance(node, (int, float)) and not isinstance(node, bool)
        if isinstance(node, str) and re.search(r"\d\s+(personnes|usagers)\s+distinct", node):
            return [f"{path}: {node[:80]}"]
        return [path] if number and re.search(r"personne|usager", path) else []

    report = json.loads((folder / "datapackages" / str(YEAR) / "risque.json").read_text(encoding="utf-8"))
    assert not claims(report), f"risque.json claims numbers of persons: {claims(report)}"
    findings = attack([published_csv(folder)], folder / "metadata", integral=True)
    assert_sound(findings, truth(records))
    assert_safe(findings)


# -- the attacker itself, on hand-made tables ---------------------------------------------------
METADATA = REPO / "metadata"


def tiny(path: Path, cells: dict[tuple, float | str | None], year: int = YEAR) -> Path:
    """An indicateurs.csv from {(periode, lieu, indicateur, dimension, modalite): value}, a value
    None for a cell hidden as « primaire », "s" for « secondaire »."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["annee", "periode", "lieu", "indicateur", "dimension", "modalite", "valeur", "unite", "secret"])
        for (per, lieu, ind, dim, mod), value in cells.items():
            secret = "primaire" if value is None else "secondaire" if value == "s" else ""
            writer.writerow([year, per.replace("Y", str(year)), lieu, ind, dim, mod, "" if secret else value, "nombre", secret])
    return path


def sites_total(total, a, b, c, ind="accompagnements"):
    return {("Y", E, ind, E, E): total, ("Y", SITES[0], ind, E, E): a, ("Y", SITES[1], ind, E, E): b, ("Y", SITES[2], ind, E, E): c}


def test_attacker_recovers_a_cell_from_its_total(tmp_path):
    findings = attack([tiny(tmp_path / "t.csv", sites_total(50, "s", 20, 25))], METADATA)
    assert findings.intervals[(0, "accompagnements", str(YEAR), SITES[0], E, E)] == (5, 5)
    assert findings.narrow and findings.small_groups


def test_attacker_finds_a_hidden_rectangle_with_margins_safe(tmp_path):
    cells = sites_total(200, 55, 55, 90)
    for site, f, m in ((SITES[0], None, None), (SITES[1], None, None), (SITES[2], 40, 50)):
        cells |= {
            ("Y", site, "accompagnements", "genre", "feminin"): f,
            ("Y", site, "accompagnements", "genre", "masculin"): m,
            ("Y", site, "accompagnements", "genre", "non_communique"): 0,
        }
    cells |= {
        ("Y", E, "accompagnements", "genre", "feminin"): 90,
        ("Y", E, "accompagnements", "genre", "masculin"): 110,
        ("Y", E, "accompagnements", "genre", "non_communique"): 0,
    }
    findings = attack([tiny(tmp_path / "t.csv", cells)], METADATA)
    assert findings.intervals[(0, "accompagnements", str(YEAR), SITES[0], "genre", "feminin")] == (1, 49)  # primary: not 0
    assert not findings.narrow and not findings.small_groups, findings.report()


def filler(cells: dict, dim: str = "thematique", mod: str = "email") -> dict:
    """A hidden modality at every lieu, so that the listed modalities can cover each total."""
    return cells | {("Y", lieu, "accompagnements", dim, mod): None for lieu in (E, *SITES)}


def test_attacker_sums_multivalued_modalities_over_sites(tmp_path):
    cells = filler(sites_total(300, 100, 100, 100))
    cells |= {
        ("Y", E, "accompagnements", "thematique", "justice"): 43,
        ("Y", SITES[0], "accompagnements", "thematique", "justice"): None,
        ("Y", SITES[1], "accompagnements", "thematique", "justice"): 20,
        ("Y", SITES[2], "accompagnements", "thematique", "justice"): 20,
    }
    findings = attack([tiny(tmp_path / "t.csv", cells)], METADATA)
    assert findings.intervals[(0, "accompagnements", str(YEAR), SITES[0], "thematique", "justice")] == (3, 3)


def test_attacker_reads_shares_as_rounding_intervals(tmp_path):
    cells = filler(sites_total(400, 130, 130, 140), "genre", "masculin") | {
        ("Y", E, "accompagnements", "genre", "feminin"): None,
        ("Y", E, "part_accompagnements", "genre", "feminin"): 61.3,
    }
    findings = attack([tiny(tmp_path / "t.csv", cells)], METADATA)
    # 245 / 400 = 61.25 %, published 61.3: 400 × [61.25, 61.35] % = [245, 245.4]
    assert findings.intervals[(0, "accompagnements", str(YEAR), E, "genre", "feminin")] == (245, 245)


def test_attacker_uses_part_demarches(tmp_path):
    cells = filler(sites_total(300, 100, 140, 60))
    for theme in ("social_sante", "logement", "famille_scolarite", "travail_formation"):
        cells[("Y", SITES[2], "accompagnements", "thematique", theme)] = None if theme == "logement" else 0
    cells[("Y", SITES[2], "part_demarches_administratives", E, E)] = 6.7  # 4 of 60
    findings = attack([tiny(tmp_path / "t.csv", cells)], METADATA)
    assert findings.intervals[(0, "accompagnements", str(YEAR), SITES[2], "thematique", "logement")] == (4, 4)


def test_attacker_uses_mean_durations(tmp_path):
    cells = sites_total(100, 30, 30, 40) | {("Y", E, "duree_moyenne", E, E): 30.0}
    for band, mean in (("18_24", 10.0), ("70_plus", 50.0)):
        cells |= {("Y", E, "accompagnements", "tranche_age", band): None, ("Y", E, "duree_moyenne", "tranche_age", band): mean}
    findings = attack([tiny(tmp_path / "t.csv", cells)], METADATA)
    lo, hi = findings.intervals[(0, "accompagnements", str(YEAR), E, "tranche_age", "18_24")]
    assert lo <= 50 <= hi and hi - lo <= 2


def test_attacker_finds_small_person_groups_in_shares(tmp_path):
    cells = sites_total(150, 60, 77, 13)
    cells |= {
        ("Y", E, "usagers", E, E): 80,
        ("Y", SITES[0], "usagers", E, E): 30,
        ("Y", SITES[1], "usagers", E, E): 38,
        ("Y", SITES[2], "usagers", E, E): 12,
        ("Y", SITES[2], "part_usagers_plusieurs_visites", E, E): 8.3,
        ("Y", SITES[2], "part_usagers_qpv", E, E): 8.3,
    }
    findings = attack([tiny(tmp_path / "t.csv", cells)], METADATA)
    text = "\n".join(findings.small_groups)
    assert "came several times" in text and "QPV" in text and "2 to 2 visits" in text, text


def test_attacker_compares_versions(tmp_path):
    old = filler(sites_total(300, 100, 100, 100)) | {("Y", SITES[2], "accompagnements", "thematique", "justice"): 0}
    new = filler(sites_total(301, 100, 100, 101)) | {("Y", SITES[2], "accompagnements", "thematique", "justice"): None}
    findings = attack([tiny(tmp_path / "a.csv", old), tiny(tmp_path / "b.csv", new)], METADATA)
    text = "\n".join(findings.small_groups)
    assert "moved by +1" in text and "published zero" in text, text
    assert findings.differences[(0, 1, ("accompagnements", str(YEAR), E, E, E))] == (1, 1)


def test_attacker_bounds_a_difference_when_the_revision_only_adds(tmp_path):
    """Two sites hidden in both versions (each holding a « primaire » cell, so at least 1), the
    total published: site 3 is in [1, 2], then in [1, 3], a difference in [−1, 2]; a reader who
    knows the revision only added records puts the total's +1 on the two sites: [0, 1]."""
    old = filler(sites_total(300, 297, "s", "s"))
    new = filler(sites_total(301, 297, "s", "s"))
    paths = [tiny(tmp_path / "a.csv", old), tiny(tmp_path / "b.csv", new)]
    cell = ("accompagnements", str(YEAR), SITES[2], E, E)
    assert attack(paths, METADATA).differences[(0, 1, cell)] == (-1, 2)
    assert attack(paths, METADATA, additions_only=True).differences[(0, 1, cell)] == (0, 1)


def test_attacker_reads_evolutions_against_the_previous_year(tmp_path):
    old = tiny(tmp_path / "a.csv", sites_total(200, 60, 70, 70), YEAR - 1)
    new = tiny(tmp_path / "b.csv", sites_total(None, None, None, None) | {("Y", E, "evolution_accompagnements", E, E): 5.0})
    findings = attack([old, new], METADATA)
    assert findings.intervals[(1, "accompagnements", str(YEAR), E, E, E)] == (210, 210)


def test_attacker_refuses_inconsistent_tables(tmp_path):
    with pytest.raises(AttackError):
        attack([tiny(tmp_path / "t.csv", sites_total(50, 30, 20, 25))], METADATA)


def test_attacker_bounds_duration_bins_by_the_mean(tmp_path):
    """A site's mean of 20 minutes leaves room for at most 3 accompaniments of 2 hours or more."""
    bins = {"moins_de_15_min": "s", "15_29_min": "s", "30_59_min": 0, "60_119_min": 0, "120_min_et_plus": "s"}
    cells = sites_total(60, 20, 20, 20) | {("Y", SITES[0], "duree_moyenne", E, E): 20.0}
    cells |= {("Y", SITES[0], "accompagnements", "duree_tranche", b): v for b, v in bins.items()}
    findings = attack([tiny(tmp_path / "t.csv", cells)], METADATA)
    assert findings.intervals[(0, "accompagnements", str(YEAR), SITES[0], "duree_tranche", "120_min_et_plus")] == (0, 3)


def test_attacker_reads_the_absence_of_a_multivalued_modality(tmp_path):
    """25 of a site's 30 accompaniments were about health: 5 were not, a group under the threshold."""
    cells = filler(sites_total(300, 30, 130, 140)) | {("Y", SITES[0], "accompagnements", "thematique", "social_sante"): 25}
    findings = attack([tiny(tmp_path / "t.csv", cells)], METADATA)
    assert any("without thematique=social_sante" in g and "5 and 5" in g for g in findings.small_groups), findings.report()
