#!/usr/bin/env python3
"""Write a realistic FAKE "La Coop de la médiation numérique" accompagnements export (XLSX).

Usage:
    python make_coop_export.py OUT.xlsx [--coordinateur] [--v1] [--with-beneficiaire-filter]

Layout reproduced from inclusion-numerique/coop-mediation-numerique,
apps/web/src/features/activites/use-cases/list/export/buildAccompagnementsWorksheet.ts
(see layout.md next to this script): sheet "Activités", metadata rows, filters block, separator
row, then an Excel table with one row per accompagnement (a workshop = one row per participant),
multi-values joined with "\n", Date as a real date cell formatted dd/mm/yyyy, durations in minutes.

Default = self-export of a médiateur (columns "Bénéficiaire" and "Notes supplémentaires", no
médiateur columns), no V1 data: 29 columns, header on row 22.
--coordinateur : coordinateur export (médiateur name/role columns, no Bénéficiaire/Notes).
--v1           : adds "Source de la donnée" before "ID CRA".
--with-beneficiaire-filter : adds the optional "Bénéficiaires" filter row (names!) -> header row 23.

Every name / note / free-text cell holds an obvious canary string starting with "CANARI-", so a
test can assert none of them reaches any output. The expected contents of the contract tables are
written to OUT.expected.json (computed from the codes the rows were generated from, not by
parsing the labels back).

Needs only openpyxl. Deterministic (fixed seed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.table import Table, TableStyleInfo

YEAR = 2025
SEED = 20251231
NS = uuid.UUID("6f1c9a52-1f0e-4c55-9d1e-2b7a1c0e0001")

# ---------------------------------------------------------------- Coop labels (quoted from the repo)
# code (our contract) -> Coop label as written in the export
THEMATIQUES = {
    "diagnostic_numerique": "Diagnostic numérique",
    "prendre_en_main_du_materiel": "Prendre en main du matériel",
    "maintenance_de_materiel": "Maintenance de matériel",
    "gere_ses_contenus_numeriques": "Gérer ses contenus numériques",
    "navigation_sur_internet": "Navigation sur internet",
    "email": "E-mail",
    "bureautique": "Bureautique",
    "reseaux_sociaux": "Réseaux sociaux communication",
    "sante": "Santé",
    "banque_et_achats_en_ligne": "Banque et achats en ligne",
    "entrepreneuriat": "Accompagner un professionnel",
    "insertion_professionnelle": "Insertion professionnelle",
    "securite_numerique": "Prévention en sécurité numérique",
    "parentalite": "Parentalité",
    "scolarite_et_numerique": "Scolarité et numérique",
    "creer_avec_le_numerique": "Créer avec le numérique",
    "culture_numerique": "Culture numérique",
    "intelligence_artificielle": "Intelligence artificielle (IA)",
    "aide_aux_demarches_administratives": "Aide aux démarches administratives",
    "papiers_elections_citoyennete": "Papiers - Élections - Citoyenneté",
    "famille_scolarite": "Famille - Scolarité",
    "social_sante": "Social - Santé",
    "travail_formation": "Travail - Formation - Entreprise",
    "logement": "Logement",
    "transports_mobilite": "Transports - Mobilité",
    "argent_impots": "Argent - Impôts",
    "justice": "Justice",
    "etrangers_europe": "Étrangers - Europe",
    "loisirs_sports_culture": "Loisirs - Sports - Culture",
    "associations": "Associations",
}
# contract: first group = démarches administratives (incl. aide_aux_demarches_administratives)
ADMIN = {
    "papiers_elections_citoyennete",
    "famille_scolarite",
    "social_sante",
    "travail_formation",
    "logement",
    "transports_mobilite",
    "argent_impots",
    "justice",
    "etrangers_europe",
    "loisirs_sports_culture",
    "associations",
    "aide_aux_demarches_administratives",
}
# Coop only allows administrative thematiques together with "Aide aux démarches administratives"
COOP_ADMIN_SUB = sorted(ADMIN - {"aide_aux_demarches_administratives"})
DIGITAL = [c for c in THEMATIQUES if c not in ADMIN]

MATERIEL = {"ordinateur": "Ordinateur", "telephone": "Téléphone", "tablette": "Tablette", "autre": "Autre", "aucun": "Pas de matériel"}
TYPE_LIEU = {"lieu_activite": "Lieu d’activité", "domicile": "À domicile", "a_distance": "À distance", "autre": "Autre lieu"}
GENRE = {"masculin": "Masculin", "feminin": "Féminin", "non_communique": "Non communiqué"}
# Coop tranche label -> our tranche code
TRANCHE = [
    ("Moins de 12 ans", "moins_de_18"),
    ("12 - 17 ans", "moins_de_18"),
    ("18 - 24 ans", "18_24"),
    ("25 - 39 ans", "25_39"),
    ("40 - 59 ans", "40_59"),
    ("60 - 69 ans", "60_69"),
    ("70 ans et plus", "70_plus"),
    ("Non communiqué", "non_communique"),
]
# Coop statut label -> our situation code ("Sans emploi" -> demandeur_emploi is the FLAGGED proposal)
STATUT = [
    ("Scolarisé", "scolarise"),
    ("Sans emploi", "demandeur_emploi"),
    ("En emploi", "en_emploi"),
    ("Retraité", "retraite"),
    ("Non communiqué ou hétérogène", "non_communique"),
]
AUTONOMIE = {"entierement_accompagne": "1/3", "partiellement_autonome": "2/3", "autonome": "3/3"}
NIVEAU = {"debutant": "1/3", "intermediaire": "2/3", "avance": "3/3"}
ORIENTATION = {
    "administration": "Administration (mairie, préfecture…)",
    "mediation_numerique": "Autre structure de médiation numérique",
    "operateur_ou_organisme_en_charge": "Opérateur ou organisme en charge de la démarche administrative",
    "aide_sociale": "Structure d’aide sociale (maison des solidarités, centre social…)",
    "insertion_professionnelle": "Structure d’insertion professionnelle (France Travail, mission locale, chambre de commerce…)",
    "aide_aux_demarches_administratives": "Structure d’aide aux démarches administratives (France Services…)",
    "autre": "Autre",
}
TYPE_ACTIVITE = {"individuel": "Accompagnement individuel", "collectif": "Atelier collectif"}

# fake sites (public places); 'code' = what a CCAS would declare in metadata/lieux.csv
LIEUX = [
    {
        "code": "ccas_centre",
        "nom": "CCAS de Fauxville - Espace numérique",
        "adresse": "1 place CANARI-ADRESSE-LIEU-1",
        "commune": "Fauxville",
        "code_postal": "99100",
        "code_insee": "99123",
    },
    {
        "code": "mediatheque",
        "nom": "Médiathèque Jean Moulin",
        "adresse": "8 rue CANARI-ADRESSE-LIEU-2",
        "commune": "Fauxville",
        "code_postal": "99100",
        "code_insee": "99123",
    },
]
COMMUNE_INSEE = "99123"
OTHER_COMMUNE = ("Autreville", "99200", "99456")


def header_list(self_export: bool, v1: bool) -> list[str]:
    h = ["Date", "Enregistré le", "Dernière modification le"]
    if not self_export:
        h += ["Prénom du médiateur", "Nom du médiateur", "Rôle", "ID - Conum"]
    h += ["Type", "Participants"]
    if self_export:
        h += ["Bénéficiaire"]
    h += [
        "Canaux d’accompagnement",
        "Nom du lieu",
        "Adresse",
        "Commune",
        "Code postal",
        "Code Insee",
        "Durée (min)",
        "Nom de l’atelier",
        "Matériel numérique utilisé",
        "Thématique(s) d’accompagnement",
        "Tags",
        "Nom de la démarche administrative",
        "Niveau d’autonomie (ou de l’atelier)",
        "Bénéficiaire réorienté",
        "Structure de redirection",
        "Commune du bénéficiaire",
        "Code postal du bénéficiaire",
        "Code Insee du bénéficiaire",
        "Genre du bénéficiaire",
        "Tranche d’âge du bénéficiaire",
        "Statut du bénéficiaire",
    ]
    if self_export:
        h += ["Notes supplémentaires"]
    if v1:
        h += ["Source de la donnée"]
    h += ["ID CRA"]
    return h


# ---------------------------------------------------------------- data generation (as codes)
def make_activites(rng: random.Random) -> list[dict]:
    """Return activités; each has a list of participants (1 for individual)."""
    persons = [
        {
            "name": f"CANARI-PRENOM-{i} CANARI-NOM-{i}",
            "genre": rng.choice(list(GENRE)),
            "tranche": TRANCHE[rng.randrange(len(TRANCHE))],
            "statut": STATUT[rng.randrange(len(STATUT))],
            "residence": None if i % 7 == 0 else ("in" if i % 4 else "out"),
        }
        for i in range(1, 21)
    ]
    # named persons actually used by in-year individual rows (k < 40, k % 5 != 4), in order of
    # first appearance: give them every label at least once (repeat visits keep their values)
    used = list(dict.fromkeys((k * 3) % len(persons) for k in range(40) if k % 5 != 4))
    for i, t in enumerate(TRANCHE):
        persons[used[i]]["tranche"] = t
    for i, s in enumerate(STATUT):
        persons[used[i + 2]]["statut"] = s
    for i, g in enumerate(GENRE):
        persons[used[i + 4]]["genre"] = g

    def anonymous():
        return {
            "name": "Bénéficiaire anonyme",
            "genre": rng.choice(list(GENRE)),
            "tranche": TRANCHE[rng.randrange(len(TRANCHE))],
            "statut": STATUT[rng.randrange(len(STATUT))],
            "residence": None,
        }

    acts: list[dict[str, Any]] = []
    n_indiv = 42  # 40 inside YEAR + 2 outside
    thematique_cycle = list(THEMATIQUES)  # cover all 30 labels
    for k in range(n_indiv):
        if k == 40:
            date = dt.date(YEAR - 1, 12, 18)
        elif k == 41:
            date = dt.date(YEAR + 1, 1, 6)
        else:
            date = dt.date(YEAR, 1, 1) + dt.timedelta(days=(k * 9) % 360)
        # person: named with repeats, or anonymous every 5th row
        person = anonymous() if k % 5 == 4 else persons[(k * 3) % len(persons)]
        # thematiques: 1 to 3, cover all labels over the rows
        main = thematique_cycle[k % len(thematique_cycle)]
        them = [main]
        if main in COOP_ADMIN_SUB:
            them.insert(0, "aide_aux_demarches_administratives")
        if k % 3 == 0:
            extra = DIGITAL[(k * 7) % len(DIGITAL)]
            if extra not in them:
                them.append(extra)
        type_lieu = ["lieu_activite", "lieu_activite", "domicile", "a_distance", "autre", "lieu_activite"][k % 6]
        lieu = LIEUX[k % 2] if type_lieu == "lieu_activite" else None
        materiel = [[], ["ordinateur"], ["telephone"], ["ordinateur", "telephone"], ["tablette"], ["autre"], ["aucun"]][k % 7]
        duree = [30, 45, 60, 90, 15, 120, 75][k % 7]
        autonomie = [None, "entierement_accompagne", "partiellement_autonome", "autonome"][k % 4]
        reoriente = None if k % 6 == 5 else (k % 3 == 1)
        orientation = list(ORIENTATION)[k % len(ORIENTATION)] if reoriente else None
        acts.append(
            {
                "type": "individuel",
                "date": date,
                "type_lieu": type_lieu,
                "lieu": lieu,
                "duree": duree,
                "titre": "",
                "materiel": materiel,
                "thematiques": them,
                "tags": ["CANARI-TAG-A", "CANARI-TAG-B"] if k % 4 == 0 else [],
                "precisions": f"CANARI-DEMARCHE-{k}" if set(them) & ADMIN else "",
                "autonomie": autonomie,
                "niveau": None,
                "reoriente": reoriente,
                "orientation": orientation,
                "notes": f"CANARI-NOTE-{k}" if k % 2 == 0 else "",
                "participants": [person],
                "mediateur": k % 2,
                "v1": k % 10 == 3,
            }
        )
    # workshop 1: 6 participants, at the médiathèque, débutant
    acts.append(
        {
            "type": "collectif",
            "date": dt.date(YEAR, 3, 14),
            "type_lieu": "lieu_activite",
            "lieu": LIEUX[1],
            "duree": 120,
            "titre": "CANARI-ATELIER-1",
            "materiel": ["ordinateur"],
            "thematiques": ["navigation_sur_internet", "email"],
            "tags": ["CANARI-TAG-ATELIER"],
            "precisions": "",
            "autonomie": None,
            "niveau": "debutant",
            "reoriente": None,
            "orientation": None,
            "notes": "CANARI-NOTE-ATELIER-1",
            "participants": [persons[0], persons[5]] + [anonymous() for _ in range(4)],
            "mediateur": 0,
            "v1": False,
        }
    )
    # workshop 2: 4 participants, outside ("Autre lieu" -> hors_les_murs), intermédiaire
    acts.append(
        {
            "type": "collectif",
            "date": dt.date(YEAR, 10, 2),
            "type_lieu": "autre",
            "lieu": None,
            "duree": 90,
            "titre": "CANARI-ATELIER-2",
            "materiel": ["telephone", "tablette"],
            "thematiques": ["securite_numerique", "intelligence_artificielle"],
            "tags": [],
            "precisions": "",
            "autonomie": None,
            "niveau": "intermediaire",
            "reoriente": None,
            "orientation": None,
            "notes": "",
            "participants": [persons[2]] + [anonymous() for _ in range(3)],
            "mediateur": 1,
            "v1": False,
        }
    )
    for i, a in enumerate(acts):
        a["id"] = str(uuid.uuid5(NS, f"cra-{i}"))
        created = dt.datetime.combine(a["date"], dt.time(17, 5)) + dt.timedelta(days=1)
        a["creation"] = created
        a["modification"] = created if i % 3 else created + dt.timedelta(days=2, hours=1)
    # list order: most recent first (as the activités list shows them; not verified for the export)
    acts.sort(key=lambda a: (a["date"], a["creation"]), reverse=True)
    return acts


MEDIATEURS = [
    ("CANARI-PRENOM-MEDIATEUR-1", "CANARI-NOM-MEDIATEUR-1", "Conseiller Numérique", True),
    ("CANARI-PRENOM-MEDIATEUR-2", "CANARI-NOM-MEDIATEUR-2", "Médiateur", False),
]


def fmt_dt(d: dt.datetime) -> str:
    return d.strftime("%d/%m/%Y à %H:%M")


def residence_cells(p: dict) -> list:
    if p["residence"] == "in":
        return ["Fauxville", "99100", COMMUNE_INSEE]
    if p["residence"] == "out":
        return list(OTHER_COMMUNE)
    return ["", "", ""]


def build_rows(acts, self_export: bool, v1: bool) -> list[list]:
    rows = []
    for a in acts:
        n = len(a["participants"])
        for idx, p in enumerate(a["participants"]):
            lieu = a["lieu"]
            if lieu:
                lieu_cells = [lieu["nom"], lieu["adresse"], lieu["commune"], lieu["code_postal"], lieu["code_insee"]]
            else:  # lieuCommune/CodePostal/CodeInsee only
                lieu_cells = ["", "", "Fauxville", "99100", COMMUNE_INSEE]
            if a["autonomie"]:
                niveau_cell = AUTONOMIE[a["autonomie"]]
            elif a["niveau"]:
                niveau_cell = NIVEAU[a["niveau"]]
            else:
                niveau_cell = ""
            row = [a["date"], fmt_dt(a["creation"]), "" if a["creation"] == a["modification"] else fmt_dt(a["modification"])]
            if not self_export:
                m = MEDIATEURS[a["mediateur"]]
                row += [m[0], m[1], m[2], m[3]]
            row += [TYPE_ACTIVITE[a["type"]], 1 if n == 1 else f"{idx + 1}/{n}"]
            if self_export:
                row += [p["name"]]
            row += [
                TYPE_LIEU[a["type_lieu"]],
                *lieu_cells,
                a["duree"],
                a["titre"],
                "\n".join(MATERIEL[m] for m in a["materiel"]),
                "\n".join(THEMATIQUES[t] for t in a["thematiques"]),
                "\n".join(a["tags"]),
                a["precisions"],
                niveau_cell,
                "" if a["reoriente"] is None else ("Oui" if a["reoriente"] else "Non"),
                ORIENTATION[a["orientation"]] if a["orientation"] else "",
                *residence_cells(p),
                GENRE[p["genre"]],
                p["tranche"][0],
                p["statut"][0],
            ]
            if self_export:
                row += [a["notes"] if idx == 0 else ""]
            if v1:
                row += ["Espace coop (V1)" if a["v1"] else "La Coop de la médiation numérique (V2)"]
            row += [a["id"]]
            rows.append(row)
    return rows


# ---------------------------------------------------------------- expected contract contents
def expected(acts, self_export: bool, coordinateur_roles: bool) -> dict:
    in_year = [a for a in acts if a["date"].year == YEAR]
    out_year = [a for a in acts if a["date"].year != YEAR]
    indiv = [a for a in in_year if a["type"] == "individuel"]
    ateliers = [a for a in in_year if a["type"] == "collectif"]

    def lieu_code(a):
        if a["lieu"]:
            return a["lieu"]["code"]
        return "hors_les_murs" if a["type"] == "collectif" and a["type_lieu"] == "autre" else None

    c: dict[str, Counter[str]] = {
        k: Counter()
        for k in (
            "thematiques",
            "genre",
            "tranche_age",
            "situation",
            "autonomie",
            "orientation",
            "type_lieu",
            "materiel",
            "lieu",
            "intervenant",
            "quartier",
        )
    }
    named = set()
    anon_rows = 0
    for a in indiv:
        p = a["participants"][0]
        for t in a["thematiques"]:
            c["thematiques"][t] += 1
        c["genre"][p["genre"]] += 1
        c["tranche_age"][p["tranche"][1]] += 1
        c["situation"][p["statut"][1]] += 1
        c["autonomie"][a["autonomie"] or ""] += 1
        c["orientation"][a["orientation"] or ""] += 1
        c["type_lieu"][a["type_lieu"]] += 1
        for m in a["materiel"]:
            c["materiel"][m] += 1
        c["lieu"][lieu_code(a) or f"UNRESOLVED(no Nom du lieu; {a['type_lieu']}; commune {COMMUNE_INSEE})"] += 1
        c["quartier"][{"out": "hors_commune"}.get(p["residence"], "")] += 1
        if coordinateur_roles:
            c["intervenant"][["conseiller_numerique", "mediateur_numerique"][a["mediateur"]]] += 1
        if p["name"] == "Bénéficiaire anonyme":
            anon_rows += 1
        else:
            named.add(p["name"])
    # coverage: every Coop label of each list occurs in the in-year individual rows
    assert set(c["thematiques"]) == set(THEMATIQUES), set(THEMATIQUES) - set(c["thematiques"])
    assert len({a["participants"][0]["tranche"][0] for a in indiv}) == len(TRANCHE)
    assert len({a["participants"][0]["statut"][0] for a in indiv}) == len(STATUT)
    assert set(c["genre"]) == set(GENRE) and set(c["type_lieu"]) == set(TYPE_LIEU)
    assert set(c["materiel"]) == set(MATERIEL) and set(c["orientation"]) - {""} == set(ORIENTATION)
    assert set(c["autonomie"]) - {""} == set(AUTONOMIE)
    canaries = set()
    for a in acts:
        for s in [a["titre"], a["precisions"], a["notes"], *a["tags"]] + ([a["lieu"]["adresse"]] if a["lieu"] else []):
            if s:
                canaries.add(s)
        if self_export:
            for p in a["participants"]:
                if p["name"].startswith("CANARI"):
                    canaries.update(p["name"].split(" "))
    if not self_export:
        for m in MEDIATEURS:
            canaries.update([m[0], m[1]])
    canaries.update(["CANARI-NOM-EXPORTEUR", "CANARI-PRENOM-EXPORTEUR"])
    return {
        "year": YEAR,
        "accompagnements": {
            "rows": len(indiv),
            "set_aside_outside_year": len(out_year),
            "set_aside_dates": sorted(a["date"].isoformat() for a in out_year),
            "demarches_administratives": sum(1 for a in indiv if set(a["thematiques"]) & ADMIN),
            "duree_total_minutes": sum(a["duree"] for a in indiv),
            "distinct_named_persons": len(named) if self_export else None,
            "rows_without_usager": anon_rows if self_export else len(indiv),
            "premier_accompagnement": "empty on every row (not exported by the Coop)",
            **{k: dict(sorted(v.items())) for k, v in c.items()},
        },
        "ateliers": [
            {
                "date": a["date"].isoformat(),
                "lieu": lieu_code(a),
                "thematiques": "|".join(a["thematiques"]),
                "participants": len(a["participants"]),
                "duree": a["duree"],
                "niveau": a["niveau"],
                "format": "atelier",
            }
            for a in sorted(ateliers, key=lambda a: a["date"])
        ],
        "notes": [
            "situation counts use the FLAGGED proposal 'Sans emploi' -> demandeur_emploi",
            "autonomie '' = not given; orientation '' = not redirected; quartier '' = unknown "
            "(resident of the commune or residence not given), 'hors_commune' from Code Insee du "
            "bénéficiaire != 99123",
            "rows_without_usager counts 'Bénéficiaire anonyme' rows (self-export) or every row "
            "(coordinateur export: no beneficiary column)",
            "workshop participants are not accompagnements rows",
            "lieu UNRESOLVED rows: individual rows whose 'Nom du lieu' is empty (domicile, à "
            "distance, autre lieu); the outcome depends on the lieu rule still to be decided "
            "(mapping.yml values.lieu). Both fake sites share code INSEE 99123 on purpose.",
        ],
        "lieux_csv_suggestion": [{k: l[k] for k in ("code", "nom", "commune", "code_postal", "code_insee")} for l in LIEUX],
        "canaries_never_in_output": sorted(canaries) + ["CANARI-"],
    }


# ---------------------------------------------------------------- workbook
def write_xlsx(path: Path, self_export: bool, v1: bool, beneficiaire_filter: bool) -> dict:
    rng = random.Random(SEED)
    acts = make_activites(rng)
    headers = header_list(self_export, v1)
    rows = build_rows(acts, self_export, v1)
    assert all(len(r) == len(headers) for r in rows)

    wb = Workbook()
    ws = wb.active
    ws.title = "Activités"
    bold = Font(bold=True)

    def title(text):
        ws.append([text])
        ws.cell(row=ws.max_row, column=1).font = bold

    # addExportMetadata
    title("Informations export")
    now = dt.datetime(YEAR + 1, 1, 15, 9, 42)
    for r in (
        ["Nom", "CANARI-NOM-EXPORTEUR"],
        ["Prénom", "CANARI-PRENOM-EXPORTEUR"],
        ["Rôle", "Médiateur" if self_export else "Coordinateur"],
        ["Total", len(rows)],
        ["Date d’export", now.strftime("%d/%m/%Y")],
        ["Heure d’export", now.strftime("%H:%M")],
    ):
        ws.append(r)
    ws.append([])
    # addFilters
    title("Filtres")
    filters = [
        ["Période", f"01/01/{YEAR} - 31/12/{YEAR}"],
        ["Source", "-"],
        ["Lieux d’accompagnement", "-"],
        ["Communes", "-"],
        ["Départements", "-"],
        ["Type d’accompagnement", "-"],
        ["Rôle", "-"],
        ["Thématiques non administratives", "-"],
        ["Thématiques administratives", "-"],
        ["Tags", "-"],
    ]
    if beneficiaire_filter:
        filters.append(["Bénéficiaires", "CANARI-PRENOM-1 CANARI-NOM-1, CANARI-PRENOM-2 CANARI-NOM-2"])
    for r in filters:
        ws.append(r)
    ws.append([])
    ws.append([""])  # separatorRowBeforeTable
    header_row = ws.max_row + 1
    ws.append(headers)
    for r in rows:
        ws.append(r)
    last_row = ws.max_row
    for cell in ws["A"][header_row:]:  # rows after the header
        if cell.value:
            cell.number_format = "dd/mm/yyyy"
    for row in ws.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    from openpyxl.utils import get_column_letter

    ref = f"A{header_row}:{get_column_letter(len(headers))}{last_row}"
    table = Table(displayName="Activités", ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    ws.add_table(table)
    for i, h in enumerate(headers, start=1):
        ws.column_dimensions[get_column_letter(i)].width = min(60, max(10, len(h) + 2))
    wb.save(path)

    exp = expected(acts, self_export, coordinateur_roles=not self_export)
    exp["file"] = {
        "name_pattern": "coop-numerique_accompagnements_AAAA-MM-JJ.xlsx",
        "sheet": "Activités",
        "header_row": header_row,
        "first_data_row": header_row + 1,
        "last_data_row": last_row,
        "table_rows": len(rows),
        "headers": headers,
        "variant": {"self_export": self_export, "v1": v1, "beneficiaire_filter_row": beneficiaire_filter},
    }
    return exp


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path, help="output .xlsx (expected JSON written to OUT.expected.json)")
    ap.add_argument("--coordinateur", action="store_true", help="coordinateur (non self) export")
    ap.add_argument("--v1", action="store_true", help="add 'Source de la donnée' column")
    ap.add_argument(
        "--with-beneficiaire-filter", action="store_true", help="add the optional 'Bénéficiaires' filter row (header moves to row 23)"
    )
    args = ap.parse_args(argv)
    exp = write_xlsx(args.out, self_export=not args.coordinateur, v1=args.v1, beneficiaire_filter=args.with_beneficiaire_filter)
    jpath = args.out.with_name(args.out.stem + ".expected.json")
    jpath.write_text(json.dumps(exp, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: exp[k] for k in ("file",)}["file"]["variant"], ensure_ascii=False))
    print(f"wrote {args.out} ({exp['file']['table_rows']} table rows, header row {exp['file']['header_row']}) and {jpath}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
