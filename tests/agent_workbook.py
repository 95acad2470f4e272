"""A workbook shaped like a coordinator's real one, written with openpyxl, and the truth
behind it (who came, where, for how long) for hand counts.

Shaped as issue #14 found it: a « Synthèse » sheet of formulas first, a title row and a
blank row above each header, one sheet per site, « Nom Prénom » typed with case, accent
and spacing variants of one person, « Démarche(s) » typed « CAF + impôts » or
« CPAM / ameli », durations in every form agents type, « Orienté par » holding
« C.C.A.S. », a « Médiateur » and a « Commentaire » column, « Ateliers » and
« Formations agents » sheets. Canary values (names, phones, comments) are planted so a
test can grep every output for them.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl

YEAR = 2025
WORKBOOK = "Permanences 2025.xlsx"
#: Sheet → the site code it is in the demo metadata (metadata/lieux.csv).
SITES = {"MDH Centre": "ccas_centre", "MDH Prainet": "maison_quartier_nord", "Espace Lauriers": "mediatheque_sud"}
#: Durations as typed → minutes (a time cell is written as a datetime.time).
DURATIONS: list[tuple[object, int]] = [
    ("1h30", 90),
    ("1 h 30", 90),
    ("1h", 60),
    ("45 min", 45),
    ("45mn", 45),
    ("45'", 45),
    ("0:30", 30),
    ("20mn", 20),
    (30, 30),
    (dt.time(0, 45), 45),
    ("1:15", 75),
    ("2h", 120),
]
#: Démarches as typed → the codes they are (the pieces are mapped in CORRESPONDANCES).
DEMARCHES: list[tuple[str, set[str]]] = [
    ("CAF + impôts", {"famille_scolarite", "argent_impots"}),
    ("CPAM / ameli", {"social_sante"}),
    ("CAF", {"famille_scolarite"}),
    ("ANTS", {"papiers_elections_citoyennete"}),
    ("Impôts", {"argent_impots"}),
    ("Social, santé (CPAM, RSA, handicap)", {"social_sante"}),  # a label with commas, matched whole
    ("France Travail et CAF", {"travail_formation", "famille_scolarite"}),
    ("ameli;ANTS", {"social_sante", "papiers_elections_citoyennete"}),
    ("Naviguer sur internet", {"navigation_sur_internet"}),
]
ORIENTE_PAR: list[tuple[str, str]] = [
    ("C.C.A.S.", "orientation_interne"),
    ("CCAS", "orientation_interne"),
    ("ccas", "orientation_interne"),
    ("Mairie", "partenaire"),
    ("", "non_communique"),
]
SATISFACTION: list[tuple[str, str]] = [("Très satisfait", "5"), ("Satisfait", "4"), ("Pas du tout satisfait", "1"), ("", "non_communique")]
FIRST = ["Marie", "Hélène", "Jean-Pierre", "Noël", "Zoé", "Amélie", "François", "Léa", "José", "Inès", "Ronan", "Élodie"]
LAST = ["Dupont", "Martin", "Lefèvre", "Durand", "Gaëtan", "Moreau", "Girard", "Bérard", "Roux", "Fabre"]
#: Planted in the workbook; none may reach any output.
CANARY_NAME = ("Quartzelia", "ZORGLUBINE")
CANARY_PHONE = "06 98 76 54 32"
CANARY_COMMENT = "CANARI-COMMENTAIRE-7f3a"


def spellings(first: str, last: str) -> list[str]:
    """One person as agents type her over a year: case, accents, spacing."""
    plain_last = last.replace("è", "e").replace("ë", "e").replace("é", "e")
    return [
        f"{last.upper()} {first}",
        f"{last} {first}",
        f"{last}  {first.lower()}",
        f"{plain_last.upper()} {first}",
        f" {last.lower()} {first} ",
    ]


@dataclass
class Truth:
    """What the workbook holds, counted by the generator itself (never by the tool)."""

    visits: list[dict] = field(default_factory=list)
    ateliers: list[dict] = field(default_factory=list)
    formations: list[dict] = field(default_factory=list)

    @property
    def persons(self) -> int:
        return len({v["person"] for v in self.visits})


def _title_and_blank(ws, title: str) -> None:
    ws.append([title])
    ws.append([])


def write_workbook(folder: Path, visits_per_site: int = 150, seed: int = 14) -> Truth:
    """Write ``WORKBOOK`` into ``folder``; return the truth behind it."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    people = [(f, ln) for ln in LAST for f in FIRST][:90]
    truth = Truth()
    wb = openpyxl.Workbook()
    summary = wb.active
    summary.title = "Synthèse"
    summary.append(["Synthèse de l'année", None])
    for sheet in SITES:
        summary.append([sheet, f"=COUNTA('{sheet}'!A4:A1000)"])
    summary.append(["Total", f"=SUM(B2:B{len(SITES) + 1})"])
    header = [
        "Date de venue",
        "Nom Prénom",
        "Année de naissance",
        "Téléphone",
        "Démarche(s)",
        "Durée",
        "Orienté par",
        "Médiateur",
        "Satisfaction",
        "Commentaire",
    ]
    for sheet, code in SITES.items():
        ws = wb.create_sheet(sheet)
        _title_and_blank(ws, f"Permanences numériques {YEAR} — {sheet}")
        ws.append(header)
        for i in range(visits_per_site):
            person = rng.randrange(len(people))
            first, last = people[person]
            name = rng.choice(spellings(first, last))
            if person == 0 and i % 7 == 0:
                name, first, last = f"{CANARY_NAME[1]} {CANARY_NAME[0]}", *CANARY_NAME
            key = (first, last) if (first, last) != CANARY_NAME else CANARY_NAME
            day = dt.date(YEAR, 1, 1) + dt.timedelta(days=rng.randrange(360))
            typed_duration, minutes = rng.choice(DURATIONS)
            typed_demarche, codes = rng.choice(DEMARCHES)
            typed_channel, channel = rng.choice(ORIENTE_PAR)
            typed_satisfaction, satisfaction = rng.choice(SATISFACTION)
            born = 1940 + (person * 7) % 60
            ws.append(
                [
                    day,
                    name,
                    born,
                    CANARY_PHONE if i % 11 == 0 else "",
                    typed_demarche,
                    typed_duration,
                    typed_channel,
                    rng.choice(["Sophie", "Karim"]),
                    typed_satisfaction,
                    CANARY_COMMENT if i % 13 == 0 else "",
                ]
            )
            truth.visits.append(
                {
                    "person": key,
                    "site": code,
                    "minutes": minutes,
                    "codes": codes,
                    "typed": typed_demarche,
                    "canal": channel,
                    "satisfaction": satisfaction,
                    "month": day.month,
                    "born": born,
                }
            )
        ws.append([])  # a blank line at the end, as agents leave them
    ws = wb.create_sheet("Ateliers")
    _title_and_blank(ws, "Ateliers collectifs")
    ws.append(["Date", "Lieu", "Thème", "Nb participants", "Durée"])
    for i in range(36):
        sheet = list(SITES)[i % 3]
        participants = 11 + i % 6
        typed = f"{participants} pers." if i % 2 else participants
        ws.append([dt.date(YEAR, 1 + i % 12, 10), sheet, "Naviguer sur internet" if i % 4 else "Messagerie électronique", typed, "1h30"])
        truth.ateliers.append({"site": SITES[sheet], "participants": participants})
    ws = wb.create_sheet("Formations agents")
    _title_and_blank(ws, "Formations des agents")
    ws.append(["Date", "Thème", "Inscrits", "Présents"])
    for i in range(4):
        ws.append([dt.date(YEAR, 3 + i, 5), "Accueil numérique", 10 + i, 8 + i])
        truth.formations.append({"inscrits": 10 + i, "presents": 8 + i})
    wb.save(folder / WORKBOOK)
    return truth


#: The correspondances for this workbook, in the documented format (records.md, « A workbook as agents keep it »).
CORRESPONDANCES = """\
accompagnements:
  fichier: "Permanences*.xlsx"
  feuilles: ["MDH Centre", "MDH Prainet", "Espace Lauriers"]
  colonnes:
    lieu: {feuille: true}
    usager: ["Nom Prénom"]
    date: "Date de venue"
    duree: "Durée"
    thematiques: "Démarche(s)"
    canal: "Orienté par"
  ignorer: ["Médiateur", "Commentaire"]
  valeurs:
    lieu: {"MDH Centre": ccas_centre, "MDH Prainet": maison_quartier_nord, "Espace Lauriers": mediatheque_sud}
    thematiques: {"CAF": famille_scolarite, "impôts": argent_impots, "CPAM": social_sante, "Ameli": social_sante,
                  "ANTS": papiers_elections_citoyennete, "France Travail": travail_formation}
    canal: {"CCAS": orientation_interne, "Mairie": partenaire}
ateliers:
  fichier: "Permanences*.xlsx"
  feuilles: ["Ateliers"]
  colonnes: {date: "Date", lieu: "Lieu", thematiques: "Thème", participants: "Nb participants"}
  valeurs:
    lieu: {"MDH Centre": ccas_centre, "MDH Prainet": maison_quartier_nord, "Espace Lauriers": mediatheque_sud}
formations:
  fichier: "Permanences*.xlsx"
  feuilles: ["Formations agents"]
  colonnes: {date: "Date", inscrits: "Inscrits", presents: "Présents"}
"""
