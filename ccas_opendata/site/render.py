"""The citizens' site: French pages pre-rendered at publish time from the packages.

Why pre-rendered: Datasette's HTML pages serve 22–76 requests/s on two cores against
~180 for its JSON; pages that change once a year are rendered once, here, with their
charts as inline SVG, and served from memory by a small plugin (``site/plugin.py``)
registered ahead of Datasette's own routes. Every figure shown comes from the
published packages, never from the records.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import jinja2
import pandas as pd
import yaml
from markupsafe import Markup

from ..aggregate import ENSEMBLE, MULTI_VALUED
from .. import granularity
from .charts import Bar, columns, horizontal_bars
from ..publisher import ACCESSIBILITY_STATES, Publisher
from ..vocabulary import extra_codes
from ..correspondances import contract_label
from ..excel import excel_name
from .formatting import fr_change, fr_date, fr_number, fr_value
from .sentences import key_sentences
from .exports import EXPORT_DIR, write_chart_files
from .sharing import dataset, json_ld
from ..layout import DESCRIPTOR, PUBLISHED_TABLE, RISK_REPORT
from ..package import read_published
from .urls import SiteUrls

if TYPE_CHECKING:
    from ..context import Context

SITE_DIR = Path(__file__).parent
INTEGRAL = {"accompagnements", "usagers", "ateliers", "participants_ateliers", "formations_inscrits", "formations_presents"}


@dataclass(frozen=True)
class Section:
    """One section of a yearly bilan: a title, a sentence, and what it charts."""

    anchor: str
    title: str
    intro: str
    dimensions: tuple[str, ...] = ()
    key_figures: tuple[str, ...] = ()
    source: str = "accompagnements"


SECTIONS = (
    Section(
        "frequentation",
        "Fréquentation",
        "Combien d'accompagnements individuels, quand et où.",
        (),
        ("accompagnements", "usagers", "part_usagers_plusieurs_visites"),
    ),
    Section("ages", "Âge des personnes", "Répartition des accompagnements selon l'âge de la personne.", ("tranche_age",)),
    Section("genre", "Genre", "Répartition des accompagnements selon le genre déclaré.", ("genre",)),
    Section("familles", "Composition familiale", "La situation familiale des personnes accompagnées.", ("composition_familiale",)),
    Section("situation", "Situation socio-professionnelle", "Emploi, recherche d'emploi, retraite…", ("situation",)),
    Section(
        "quartiers",
        "Quartiers et quartiers prioritaires",
        "Où habitent les personnes accompagnées.",
        ("quartier", "qpv"),
        ("part_usagers_qpv",),
    ),
    Section(
        "demarches",
        "Démarches et thématiques",
        "Les démarches en ligne et les compétences numériques travaillées.",
        ("thematique",),
        ("part_demarches_administratives",),
    ),
    Section(
        "duree", "Durée des accompagnements", "Le temps passé avec chaque personne.", ("duree_tranche",), ("duree_moyenne", "duree_mediane")
    ),
    Section("autonomie", "Autonomie", "Ce que la personne a pu faire elle-même.", ("autonomie",)),
    Section(
        "canal", "Comment les personnes ont connu le service", "Orientation par le CCAS, un partenaire, le bouche-à-oreille…", ("canal",)
    ),
    Section(
        "orientation",
        "Orientations vers les partenaires",
        "Les personnes redirigées vers un autre service à l'issue de l'accompagnement.",
        ("orientation",),
    ),
    Section(
        "satisfaction",
        "Satisfaction",
        "Les réponses au questionnaire de fin d'accompagnement (1 à 5).",
        ("satisfaction",),
        ("taux_satisfaction",),
    ),
    Section("materiel", "Équipement numérique", "Le matériel dont disposent les personnes (plusieurs réponses possibles).", ("materiel",)),
    Section(
        "ateliers",
        "Ateliers collectifs",
        "Ateliers, événements et actions « aller vers ».",
        ("format", "thematique"),
        ("ateliers", "participants_ateliers", "participants_moyen_atelier"),
        "ateliers",
    ),
    Section(
        "formations",
        "Formations des professionnels et bénévoles",
        "Sessions de formation organisées par le CCAS.",
        ("public",),
        ("formations_inscrits", "formations_presents", "taux_presence_formations"),
        "formations",
    ),
)
MONTH_ABBREVIATIONS = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."]


def load_labels() -> dict:
    with open(SITE_DIR / "libelles.yml", encoding="utf-8") as f:
        return yaml.safe_load(f)


@dataclass
class Publication:
    """Every published year, read back from the packages."""

    publisher: Publisher
    packages: list[Path]
    dimension_labels: dict[str, str]
    #: Indicators whose figure is a change (« mesure: evolution » in the catalogue): said with their sign.
    evolutions: frozenset[str] = frozenset()
    #: Labels of the coarser periods a small year is published by (``T1`` → « 1er trimestre »).
    period_labels: dict[str, str] = field(default_factory=dict)
    table: pd.DataFrame = field(init=False)
    definitions: dict[str, dict] = field(init=False)
    lieux: list[dict] = field(init=False)
    descriptors: dict[int, dict] = field(init=False)
    risks: dict[int, dict] = field(init=False)

    def __post_init__(self) -> None:
        self.table = (
            pd.concat([read_published(p / PUBLISHED_TABLE) for p in self.packages], ignore_index=True) if self.packages else pd.DataFrame()
        )
        latest = self.packages[-1]
        with open(latest / "definitions.csv", encoding="utf-8", newline="") as f:
            self.definitions = {r["indicateur"]: r for r in csv.DictReader(f)}
        with open(latest / "lieux.csv", encoding="utf-8", newline="") as f:
            self.lieux = list(csv.DictReader(f))
        self.descriptors = {int(p.name): json.loads((p / DESCRIPTOR).read_text(encoding="utf-8")) for p in self.packages}
        self.risks = {int(p.name): json.loads((p / RISK_REPORT).read_text(encoding="utf-8")) for p in self.packages}
        self._index = {
            (int(r.annee), r.periode, r.lieu, r.indicateur, r.dimension, r.modalite): (
                None if r.secret else r.valeur,
                "secret" if r.secret else "",
                r.unite,
            )
            for r in self.table.itertuples(index=False)
        }

    @property
    def years(self) -> list[int]:
        return sorted(self.descriptors)

    @cached_property
    def labels(self) -> dict:
        return load_labels()

    def get(
        self,
        year: int,
        indicateur: str,
        periode: str | None = None,
        lieu: str = ENSEMBLE,
        dimension: str = ENSEMBLE,
        modalite: str = ENSEMBLE,
    ):
        """(value or None when hidden, secret flag, unit), or None when not published."""
        return self._index.get((year, periode or str(year), lieu, indicateur, dimension, modalite))

    def hidden_count(self, year: int) -> int:
        """The year's hidden cells, counted in the published table: the one count every page
        says (whatever kinds of secret the table distinguishes)."""
        rows = self.table[self.table["annee"] == year]
        return int((rows["secret"].fillna("").astype(str) != "").sum())

    def value(self, *args, **kwargs) -> float | None:
        found = self.get(*args, **kwargs)
        return None if found is None else found[0]

    def modalities(self, year: int, indicateur: str, dimension: str, lieu: str = ENSEMBLE) -> list[str]:
        rows = self.table[
            (self.table["annee"] == year)
            & (self.table["indicateur"] == indicateur)
            & (self.table["dimension"] == dimension)
            & (self.table["lieu"] == lieu)
            & (self.table["periode"] == str(year))
        ]
        return list(rows["modalite"])

    def label(self, dimension: str, code: str) -> str:
        if dimension == "quartier":
            names = {q.code: q.nom for q in self.publisher.quartiers}
            if code in names:
                return names[code]
        if dimension == "lieu":
            names = {l["code"]: l["nom"] for l in self.lieux}
            if code in names:
                return names[code]
        # The contract's labels first (the ingest accepts the same), then the site's own
        # (derived modalities such as ``qpv``, and ``non_communique`` for every dimension).
        modalites = self.labels["modalites"]
        return (
            contract_label(MULTI_VALUED.get(dimension, dimension), code)
            or modalites.get(dimension, {}).get(code)
            or modalites.get(code)
            or code
        )

    def dimension_label(self, dimension: str) -> str:
        return self.dimension_labels.get(dimension, dimension)


# --- pieces of pages --------------------------------------------------------------------


@dataclass
class TableRow:
    label: str
    text: str
    share: str = ""
    previous: str = ""
    secret: bool = False
    previous_secret: bool = False
    #: The published numbers behind ``text``, ``share`` and ``previous`` (the chart's CSV).
    value: float | None = None
    share_value: float | None = None
    previous_value: float | None = None
    unit: str = "nombre"


@dataclass
class Block:
    """A chart and the table it draws."""

    id: str
    title: str
    chart: Markup
    rows: list[TableRow]
    columns: tuple[str, ...]
    has_secret: bool
    csv_name: str = ""
    #: What the « Part » column is a share of, said under the table.
    base: str = ""
    #: The categories at zero, named rather than drawn.
    folded: str = ""
    #: Set by :func:`export_chart`: the files' stem under ``/graphique/``, the source line,
    #: the page that shows the block (its permalink) and whether a PNG could be drawn.
    stem: str = ""
    source: str = ""
    page: str = ""
    png: bool = False


def _bars_for_dimension(
    pub: Publication, year: int, indicateur: str, dimension: str, share_code: str | None
) -> tuple[list[Bar], list[TableRow]]:
    bars, rows = [], []
    previous_year = year - 1 if (year - 1) in pub.years else None
    for modalite in pub.modalities(year, indicateur, dimension):
        found = pub.get(year, indicateur, dimension=dimension, modalite=modalite)
        value, _secret, unite = found
        label = pub.label(dimension, modalite)
        last_year = pub.get(previous_year, indicateur, dimension=dimension, modalite=modalite) if previous_year else None
        before = last_year[0] if last_year else None
        share = pub.get(year, share_code, dimension=dimension, modalite=modalite) if share_code else None
        text = fr_value(value, unite)
        bars.append(Bar(label, value, text, before))
        rows.append(
            TableRow(
                label,
                text,
                fr_value(share[0], share[2]) if share else "",
                fr_value(before, unite) if last_year else "",
                value is None,
                last_year is not None and before is None,
                value,
                share[0] if share else None,
                before,
                unite,
            )
        )
    return bars, rows


def dimension_block(
    pub: Publication,
    year: int,
    dimension: str,
    source: str,
    limit: int | None = None,
    block_id: str | None = None,
    title: str | None = None,
) -> Block | None:
    """A breakdown's chart and table; ``limit``: only its largest categories (the home page's
    main procedures), under ``block_id`` so that its files do not replace the bilan's."""
    indicateur = {"accompagnements": "accompagnements", "ateliers": "ateliers", "formations": "formations_presents"}[source]
    share_code = "part_accompagnements" if source == "accompagnements" else None
    if not pub.modalities(year, indicateur, dimension):
        return None
    bars, rows = _bars_for_dimension(pub, year, indicateur, dimension, share_code)
    # Categories ordered by size reads better, except ordinal ones (ages, durations, scores).
    if dimension in ("thematique", "materiel", "canal", "orientation", "quartier", "situation", "composition_familiale", "format"):
        order = sorted(range(len(bars)), key=lambda i: -(bars[i].value or 0) if bars[i].value is not None else 1)
        bars, rows = [bars[i] for i in order], [rows[i] for i in order]
    if dimension == "thematique":  # the long tail of zero themes says nothing
        keep = [i for i, b in enumerate(bars) if b.value != 0]
        bars, rows = [bars[i] for i in keep], [rows[i] for i in keep]
    if limit is not None:
        keep = [i for i, b in enumerate(bars) if b.value is not None][:limit]
        bars, rows = [bars[i] for i in keep], [rows[i] for i in keep]
    what = pub.definitions[indicateur]["libelle"]
    label = pub.dimension_label(dimension)
    title = title or f"{what} par {label[0].lower() + label[1:]}, {year}"
    previous = f"{year - 1}" if (year - 1) in pub.years else None
    # A category at zero both years is named under the chart rather than drawn as an empty bar.
    folded = [b.label for b in bars if b.value == 0 and not b.previous]
    drawn = [b for b in bars if not (b.value == 0 and not b.previous)]
    block_id = block_id or f"{source}-{dimension}"
    chart = Markup(horizontal_bars(f"graphique-{block_id}", title, drawn, previous, str(year)))
    # "Nombre": the caption names the indicator; a long header would widen the table on a phone.
    cols = ("Catégorie", "Nombre") + (("Part",) if source == "accompagnements" else ()) + ((f"En {year - 1}",) if previous else ())
    base = ""
    if source == "accompagnements":
        total = pub.value(year, "accompagnements")
        template = pub.labels["base_part"]["multiple" if dimension in MULTI_VALUED else "simple"]
        base = template.format(total=fr_number(total)) if total is not None else ""
    return Block(
        block_id,
        title,
        chart,
        rows,
        cols,
        any(r.secret for r in rows),
        base=base,
        folded=f"{pub.labels['zero']} {year} : {', '.join(folded)}." if folded else "",
    )


def _series_block(
    pub: Publication,
    year: int,
    indicateur: str,
    suffix: str,
    title: str,
    draw: Callable[..., str],
    bars: list[Bar],
    rows: list[TableRow],
    first_column: str,
) -> Block:
    """A chart of one indicator along months, years or sites, with the table it draws."""
    return Block(
        f"{indicateur}-{suffix}-{year}",
        title,
        Markup(draw(f"graphique-{indicateur}-{suffix}", title, bars)),
        rows,
        (first_column, pub.definitions[indicateur]["libelle"]),
        any(r.secret for r in rows),
    )


def months_block(pub: Publication, year: int, indicateur: str) -> Block:
    label_month = pub.labels["mois"]
    bars, rows = [], []
    coarse = [code for code in pub.period_labels if pub.get(year, indicateur, periode=f"{year}-{code}") is not None]
    if coarse:  # a year published by quarter or semester (a small CCAS): its periods, not twelve secret months
        for code in coarse:
            value, _, unite = pub.get(year, indicateur, periode=f"{year}-{code}") or (None, "", "nombre")
            bars.append(Bar(code, value, fr_number(value) if value is not None else ""))
            rows.append(TableRow(pub.period_labels[code], fr_value(value, unite), secret=value is None, value=value, unit=unite))
        title = f"{pub.definitions[indicateur]['libelle']} par période, {year}"
        return _series_block(pub, year, indicateur, "mois", title, columns, bars, rows, "Période")
    for month in range(1, 13):
        periode = f"{year}-{month:02d}"
        found = pub.get(year, indicateur, periode=periode) or (None, "", "nombre")
        value, _, unite = found
        bars.append(Bar(MONTH_ABBREVIATIONS[month - 1], value, fr_number(value) if value is not None else ""))
        rows.append(TableRow(label_month[f"{month:02d}"], fr_value(value, unite), secret=value is None, value=value, unit=unite))
    title = f"{pub.definitions[indicateur]['libelle']} par mois, {year}"
    return _series_block(pub, year, indicateur, "mois", title, columns, bars, rows, "Mois")


def years_block(pub: Publication, year: int, indicateur: str = "accompagnements") -> Block | None:
    """« Is it growing? »: the headline figure of every published year up to ``year``."""
    years = [y for y in pub.years if y <= year and pub.get(y, indicateur) is not None]
    if len(years) < 2:
        return None
    libelle = pub.definitions[indicateur]["libelle"]
    bars, rows = [], []
    for y in years:
        value, _, unite = pub.get(y, indicateur)
        text = fr_value(value, unite, indicateur in INTEGRAL)
        bars.append(Bar(str(y), value, text))
        rows.append(TableRow(str(y), text, secret=value is None, value=value, unit=unite))
    title = f"{libelle} par année, {years[0]}–{years[-1]}"
    return _series_block(pub, year, indicateur, "annees", title, columns, bars, rows, "Année")


def sites_block(pub: Publication, year: int, indicateur: str) -> Block | None:
    bars, rows = [], []
    for lieu in [l["code"] for l in pub.lieux] + extra_codes("lieu"):
        found = pub.get(year, indicateur, lieu=lieu)
        if found is None:
            continue
        value, _, unite = found
        label = pub.label("lieu", lieu)
        bars.append(Bar(label, value, fr_value(value, unite)))
        rows.append(TableRow(label, fr_value(value, unite), secret=value is None, value=value, unit=unite))
    if not bars:
        return None
    title = f"{pub.definitions[indicateur]['libelle']} par lieu, {year}"
    return _series_block(pub, year, indicateur, "lieux", title, horizontal_bars, bars, rows, "Lieu")


@dataclass
class KeyFigure:
    code: str
    label: str
    text: str
    change: str = ""
    secret: bool = False
    #: What the figure counts or is a share of (« en % des personnes dont le quartier est connu »).
    base: str = ""


def key_figure(pub: Publication, year: int, code: str) -> KeyFigure | None:
    found = pub.get(year, code)
    if found is None:
        return None
    value, _, unite = found
    change = ""
    previous = pub.value(year - 1, code) if (year - 1) in pub.years else None
    if value is not None and previous:
        if unite == "nombre":
            change = f"{fr_change((value / previous - 1) * 100)} par rapport à {year - 1}"
        else:
            difference = value - previous
            unit = " point" + ("s" if abs(difference) >= 2 else "") if unite == "pourcentage" else " min"
            change = f"{'+' if difference > 0 else ('−' if difference < 0 else '')}{fr_number(abs(difference), 1)}{unit} par rapport à {year - 1}"
    return KeyFigure(
        code,
        pub.definitions[code]["libelle"],
        fr_value(value, unite, code in INTEGRAL, code in pub.evolutions),
        change,
        value is None,
        pub.labels.get("bases", {}).get(code, ""),
    )


# --- pages ------------------------------------------------------------------------------


def css_string(text: str) -> Markup:
    """Text for a CSS string inside ``<style>`` (the printed running footer): HTML entities
    are not read there, so the text is unescaped, then escaped the CSS way."""
    plain = Markup(text).unescape() if isinstance(text, Markup) else str(text)
    return Markup("".join(f"\\{ord(c):x} " if c in '"\\<>&' else c for c in plain))


def _environment(urls: SiteUrls) -> jinja2.Environment:
    """Templates see ``url('/bilan/2024')`` for every link (the one place the sub-path of
    ``base_url`` is added) and ``absolute_url(...)`` for citations."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(SITE_DIR / "pages"),
        autoescape=True,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["fr_date"] = fr_date
    env.filters["fr_number"] = fr_number
    env.filters["css_string"] = css_string
    env.globals["url"] = urls.path
    env.globals["absolute_url"] = urls.absolute
    env.globals["excel_name"] = excel_name
    return env


def _bilan(pub: Publication, year: int) -> dict:
    """A bilan's sections, its key sentences and, for the printed summary, every key figure."""
    sections: list[dict] = []
    summary: list[KeyFigure] = []
    for section in SECTIONS:
        blocks = []
        if section.anchor == "frequentation":
            blocks = [months_block(pub, year, "accompagnements"), sites_block(pub, year, "accompagnements")]
        elif section.anchor == "ateliers":
            if pub.get(year, "ateliers") is None:
                continue
            blocks = [months_block(pub, year, "ateliers"), sites_block(pub, year, "ateliers")]
        if section.source == "formations" and pub.get(year, "formations_presents") is None:
            continue
        blocks += [dimension_block(pub, year, d, section.source) for d in section.dimensions]
        figures = [f for f in (key_figure(pub, year, code) for code in section.key_figures) if f]
        blocks = [b for b in blocks if b]
        if blocks or figures:  # a section the records say nothing about is left out
            sections.append({"section": section, "blocks": blocks, "figures": figures})
            summary += figures

    def figure(code: str) -> tuple[float | None, str] | None:
        found = pub.get(year, code)
        return None if found is None else (found[0], found[2])

    return {
        "year": year,
        "sections": sections,
        "years_chart": years_block(pub, year),
        "descriptor": pub.descriptors[year],
        "risk": pub.risks[year],
        "hidden": pub.hidden_count(year),
        "sentences": key_sentences(pub.labels, year, figure),
        "summary": summary,
    }


def series_rows(pub: Publication, code: str) -> tuple[list[dict], str]:
    """The yearly series an indicator page charts (and its CSV offers): the whole CCAS
    when published at that level, else its breakdown by site."""
    rows = []
    for year in pub.years:
        found = pub.get(year, code)
        if found is not None:
            rows.append({"annee": year, "lieu": ENSEMBLE, "valeur": found[0], "unite": found[2], "secret": found[1]})
    if rows:
        return rows, "ensemble"
    for year in pub.years:
        for lieu in [l["code"] for l in pub.lieux]:
            found = pub.get(year, code, lieu=lieu)
            if found is not None:
                rows.append({"annee": year, "lieu": lieu, "valeur": found[0], "unite": found[2], "secret": found[1]})
    return rows, "lieu"


def series_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["annee", "lieu", "valeur", "unite", "secret"])
    for r in rows:
        writer.writerow(
            [
                r["annee"],
                r["lieu"],
                ""
                if r["valeur"] is None
                else (f"{r['valeur']:.0f}" if r["unite"] == "nombre" and float(r["valeur"]).is_integer() else f"{r['valeur']:.1f}"),
                r["unite"],
                r["secret"],
            ]
        )
    return buffer.getvalue()


def _indicator_page(pub: Publication, code: str) -> tuple[dict, str]:
    rows, level = series_rows(pub, code)
    definition = pub.definitions[code]
    bars = [
        Bar(
            str(r["annee"]) + ("" if level == ENSEMBLE else " " + pub.label("lieu", r["lieu"])),
            r["valeur"],
            fr_value(r["valeur"], r["unite"], code in INTEGRAL, code in pub.evolutions),
        )
        for r in rows
    ]
    title = f"{definition['libelle']}" + (" par lieu" if level == "lieu" else "") + ", par année"
    chart = Markup(columns(f"graphique-{code}", title, bars) if level == ENSEMBLE else horizontal_bars(f"graphique-{code}", title, bars))
    table = [TableRow(b.label, b.text, secret=b.value is None, value=b.value, unit=r["unite"]) for b, r in zip(bars, rows)]
    serie = Block(
        "serie", title, chart, table, ("Année et lieu" if level == "lieu" else "Année", definition["libelle"]), any(r.secret for r in table)
    )
    serie.stem = f"indicateur-{code}"
    return {"code": code, "definition": definition, "serie": serie, "level": level, "title": title}, series_csv(rows)


def api_examples(pub: Publication, urls: SiteUrls) -> dict:
    """The ready-to-copy examples of ``/api``, written with the site's real address
    (``base_url``): they work as copied, without JavaScript (``static/origine.js`` swaps the
    address only when the page is read from another one, a local copy or a trial site)."""
    year = pub.years[-1]
    values = {"annee": year, "indicateur": "accompagnements", "dimension": "tranche_age"}  # example parameter values
    return {
        "year": year,
        "origin": urls.origin,
        "json": urls.absolute(
            f"/indicateurs/indicateurs.json?annee={year}&indicateur=accompagnements&dimension=ensemble&_shape=array&_size=max"
        ),
        "csv": urls.absolute(
            f"/indicateurs/indicateurs.csv?annee={year}&indicateur=accompagnements&dimension=tranche_age&lieu=ensemble&_size=max"
        ),
        "modalites": urls.absolute("/indicateurs/modalites.csv?_size=max"),
        "full_csv": urls.absolute("/indicateurs/indicateurs.csv?_stream=on&_size=max"),
        "full_year_csv": urls.absolute(f"/indicateurs/indicateurs.csv?annee={year}&_stream=on&_size=max"),
        "full_json": urls.absolute(f"/indicateurs/indicateurs.json?annee={year}&_shape=array&_size=max"),
        "serie": urls.path("/indicateurs/serie_annuelle.json?indicateur=accompagnements&_shape=array"),
        "queries": {
            name: urls.path(f"/indicateurs/{name}.json?" + urlencode({p: values[p] for p in q.get("params", [])} | {"_shape": "array"}))
            for name, q in canned_queries().items()
        },
        "sql": urls.absolute(
            "/indicateurs?sql=select+annee%2C+valeur+from+indicateurs+where+indicateur+%3D+%27usagers%27+and+lieu+%3D+%27ensemble%27+and+periode+%3D+cast%28annee+as+text%29"
        ),
        "sql_labels": urls.absolute("/indicateurs?" + urlencode({"sql": JOIN_EXAMPLE.format(year=year)})),
        "join_sql": JOIN_EXAMPLE.format(year=year),
    }


def legal_notice_gaps(publisher: Publisher) -> list[str]:
    """What the legal notice still lacks, said to the agent when a release builds the site
    and when the server configuration is written (the page itself says whom to ask)."""
    gaps = []
    if not str(publisher.extra.get("hebergeur") or "").strip():
        gaps.append(
            "Mentions légales : l'hébergeur du site n'est pas déclaré. La loi (LCEN, article 6) demande son nom, "
            "son adresse et son téléphone : ajoutez « hebergeur » dans metadata/organisation.yml."
        )
    return gaps


# The labels of the codes, joined from ``modalites`` (shown on /api, and run by its test).
JOIN_EXAMPLE = (
    "select i.modalite, m.libelle, i.valeur, i.secret from indicateurs i "
    "join modalites m on m.dimension = i.dimension and m.code = i.modalite "
    "where i.annee = {year} and i.indicateur = 'accompagnements' and i.dimension = 'tranche_age' "
    "and i.lieu = 'ensemble' and i.periode = '{year}' order by m.ordre"
)


def accessibility(publisher: Publisher) -> dict[str, str]:
    """The accessibility statement's state, from ``organisation.yml`` (checked there):
    « non conforme » until the CCAS declares an audit, as the RGAA requires."""
    declared = publisher.extra.get("accessibilite") or {}
    return {"etat": str(declared.get("etat", ACCESSIBILITY_STATES[0])), "audit": str(declared.get("audit", ""))}


def render_site(
    ctx: Context,
    target: Path,
    packages: list[Path],
    downloads: list[dict] | None = None,
    changelog: list[dict] | None = None,
    previous: Path | None = None,
) -> None:
    """Write every page into ``target/pages`` and the plugin that serves them; the charts
    ``previous`` (the ``publish/`` being replaced) drew from the same SVG are copied."""
    publisher, catalogue = ctx.publisher, ctx.catalogue
    urls = SiteUrls(publisher.base_url)
    env = _environment(urls)
    pub = Publication(
        publisher,
        packages,
        {code: d.libelle for code, d in catalogue.dimensions.items()},
        frozenset(i.code for i in catalogue.indicators if i.mesure == "evolution"),
        {code: text for level in granularity.rules(catalogue).periods for code, text in level.labels.items()},
    )
    pages = target / "pages"
    pages.mkdir(parents=True, exist_ok=True)
    latest = pub.years[-1]
    common = {
        "publisher": publisher,
        "years": pub.years,
        "latest": latest,
        "licence": publisher.licence_info,
        "published_on": pub.descriptors[latest]["created"],
        "definitions": pub.definitions,
        "seuil": publisher.seuil_secret,
        "accessibilite": accessibility(publisher),
    }

    def write(relative: str, template: str, **context) -> None:
        path = pages / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        page_path = "/" + relative.removesuffix(".html").removesuffix("index")
        path.write_text(env.get_template(template).render(**common, page_path=page_path, **context), encoding="utf-8")

    def og_image(block: Block | None) -> dict | None:
        """The headline chart's PNG, for the link previews of social networks and chat apps."""
        if block is None or not block.png:
            return None
        return {"url": urls.absolute(f"/{EXPORT_DIR}/{block.stem}.png"), "alt": block.title}

    def export(block: Block, year: int, page: str, period: str) -> None:
        """The block's CSV, SVG, PNG and chart-only page (``/graphique/<stem>``)."""
        block.stem = block.stem or (block.id if block.id.endswith(str(year)) else f"{block.id}-{year}")
        block.source = pub.labels["source_graphique"].format(
            organisation=publisher.nom, periode=period, licence=publisher.licence_info["title"]
        )
        block.page = page
        write_chart_files(pages / EXPORT_DIR, block, year, previous / "pages" / EXPORT_DIR if previous is not None else None)
        write(f"{EXPORT_DIR}/{block.stem}.html", "graphique.html", block=block)

    home_figures = [
        f
        for f in (
            key_figure(pub, latest, c)
            for c in ("accompagnements", "usagers", "ateliers", "participants_ateliers", "duree_moyenne", "taux_satisfaction")
        )
        if f
    ]
    home_months = months_block(pub, latest, "accompagnements")
    export(home_months, latest, "/", str(latest))
    home_years = years_block(pub, latest)
    if home_years:
        export(home_years, latest, "/", f"{pub.years[0]}–{latest}")
    procedures = dimension_block(
        pub,
        latest,
        "thematique",
        "accompagnements",
        limit=5,
        block_id="principales-thematiques",
        title=f"Les cinq thématiques les plus fréquentes des accompagnements, {latest}",
    )
    if procedures:
        export(procedures, latest, "/", str(latest))
    write(
        "index.html",
        "accueil.html",
        figures=home_figures,
        months=home_months,
        years_chart=home_years,
        procedures=procedures,
        og_image=og_image(home_years or home_months),
        jsonld=json_ld(*(dataset(pub.descriptors[y], y, publisher, urls, f"/bilan/{y}") for y in pub.years)),
    )
    for year in pub.years:
        bilan = _bilan(pub, year)
        if bilan["years_chart"]:
            export(bilan["years_chart"], year, f"/bilan/{year}", f"{pub.years[0]}–{year}")
        for section in bilan["sections"]:
            for block in section["blocks"]:
                export(block, year, f"/bilan/{year}", str(year))
        headline = bilan["years_chart"] or next((b for section in bilan["sections"] for b in section["blocks"]), None)
        write(
            f"bilan/{year}.html",
            "bilan.html",
            **bilan,
            og_image=og_image(headline),
            jsonld=json_ld(dataset(pub.descriptors[year], year, publisher, urls, f"/bilan/{year}")),
        )
        write(f"risque/{year}.html", "risque.html", year=year, risk=pub.risks[year], hidden=pub.hidden_count(year))
    for code in pub.definitions:
        context, csv_text = _indicator_page(pub, code)
        export(context["serie"], latest, f"/indicateur/{code}", f"{pub.years[0]}–{latest}" if len(pub.years) > 1 else str(latest))
        write(f"indicateur/{code}.html", "indicateur.html", **context, og_image=og_image(context["serie"]))
        (pages / "indicateur" / f"{code}.csv").write_text(csv_text, encoding="utf-8")
    write("api.html", "api.html", examples=api_examples(pub, urls), queries=canned_queries())
    detail = {y: granularity.describe(granularity.of_table(pub.table, catalogue, y), catalogue) for y in pub.years}
    write("methode.html", "methode.html", detail={y: text for y, text in detail.items() if text})
    write("accessibilite.html", "accessibilite.html")
    write("mentions-legales.html", "mentions-legales.html", mentions=publisher.extra)
    write("telechargements.html", "telechargements.html", downloads=downloads_by_year(downloads or []))
    changelog = changelog or []
    write("changements.html", "changements.html", changelog=changelog)
    write(
        "changements.atom",
        "changements.atom",
        changelog=changelog,
        base=publisher.base_url.rstrip("/"),
        feed_id=f"urn:ccas-opendata:{publisher.siret}:changements",
        updated=max((e["horodatage"] for e in changelog), default=pub.descriptors[latest]["created"]),
    )
    (target / "libelles.json").write_text(json.dumps(datasette_labels(pub), ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    (target / "plugins").mkdir(exist_ok=True)
    shutil.copy(SITE_DIR / "plugin.py", target / "plugins" / "pages_citoyennes.py")
    shutil.copy(SITE_DIR / "limits.py", target / "plugins" / "limites.py")
    shutil.copy(SITE_DIR / "freshness.py", target / "plugins" / "fraicheur.py")


def datasette_labels(pub: Publication) -> dict:
    """The labels the explorer shows beside the codes (read by ``site/plugin.py``): the
    contract's and the site's, the catalogue's for indicators and dimensions, the lieux' names."""
    modalities: dict[str, dict[str, str]] = {}
    for dimension, code in pub.table[["dimension", "modalite"]].drop_duplicates().itertuples(index=False):
        if dimension != ENSEMBLE:
            modalities.setdefault(dimension, {})[code] = pub.label(dimension, code)
    return {
        "indicateur": {code: d["libelle"] for code, d in pub.definitions.items()},
        "dimension": dict(pub.dimension_labels),
        "lieu": {lieu["code"]: lieu["nom"] for lieu in pub.lieux} | {ENSEMBLE: pub.labels["modalites"][ENSEMBLE]},
        "modalite": modalities,
    }


def downloads_by_year(files: list[dict]) -> list[tuple[int, list[dict]]]:
    """The manifest's files, latest year first; in a year the current alias, then the
    versions, latest first."""
    years = sorted({f["annee"] for f in files}, reverse=True)

    def order(f: dict) -> tuple:
        return ("-v" in f["fichier"], tuple(-int(p) for p in f["version"].split(".")))

    return [(y, sorted((f for f in files if f["annee"] == y), key=order)) for y in years]


def canned_queries() -> dict:
    """Datasette canned queries: the researchers' common questions, titled in French.

    Each declares its ``params`` (Datasette reads them for the query's form; the site's
    plugin answers 400 to a JSON or CSV call that omits one; the API page fills them
    with examples)."""
    return {
        "serie_annuelle": {
            "params": ["indicateur"],
            "title": "Série annuelle d'un indicateur (tout le CCAS)",
            "description": "Une ligne par année publiée. Paramètre : indicateur (par exemple accompagnements, usagers, taux_satisfaction).",
            "sql": "select annee, valeur, unite, secret from indicateurs where indicateur = :indicateur and lieu = 'ensemble' "
            "and dimension = 'ensemble' and periode = cast(annee as text) order by annee",
        },
        "serie_mensuelle": {
            "params": ["annee"],
            "title": "Accompagnements par mois d'une année",
            "description": "Les douze mois d'une année, tout le CCAS. Paramètre : annee.",
            "sql": "select periode, valeur, secret from indicateurs where indicateur = 'accompagnements' and annee = :annee "
            "and lieu = 'ensemble' and dimension = 'ensemble' and periode like '____-__' order by periode",
        },
        "ventilation": {
            "params": ["annee", "dimension"],
            "title": "Répartition des accompagnements selon une dimension",
            "description": "Nombre et part des accompagnements par modalité. Paramètres : annee, dimension (tranche_age, genre, situation, quartier, thematique…).",
            "sql": "select n.modalite, n.valeur as accompagnements, p.valeur as part, n.secret from indicateurs n "
            "left join indicateurs p on p.annee = n.annee and p.periode = n.periode and p.lieu = n.lieu and p.dimension = n.dimension "
            "and p.modalite = n.modalite and p.indicateur = 'part_accompagnements' "
            "where n.indicateur = 'accompagnements' and n.annee = :annee and n.lieu = 'ensemble' and n.dimension = :dimension "
            "and n.periode = cast(n.annee as text) order by n.valeur desc",
        },
        "ventilation_libelles": {
            "params": ["annee", "dimension"],
            "title": "Répartition des accompagnements, avec les libellés",
            "description": "Comme « ventilation », chaque modalité avec son libellé français et dans l'ordre du site (jointure avec la table modalites). "
            "Paramètres : annee, dimension.",
            "sql": "select i.modalite, m.libelle, i.valeur as accompagnements, i.secret from indicateurs i "
            "join modalites m on m.dimension = i.dimension and m.code = i.modalite "
            "where i.indicateur = 'accompagnements' and i.annee = :annee and i.lieu = 'ensemble' and i.dimension = :dimension "
            "and i.periode = cast(i.annee as text) order by m.ordre",
        },
        "par_lieu": {
            "params": ["annee"],
            "title": "Indicateurs par lieu d'accueil",
            "description": "Accompagnements, personnes, durée moyenne par lieu pour une année. Paramètre : annee.",
            "sql": "select l.nom as lieu, i.indicateur, i.valeur, i.unite, i.secret from indicateurs i join lieux l on l.code = i.lieu "
            "where i.annee = :annee and i.dimension = 'ensemble' and i.periode = cast(i.annee as text) "
            "and i.indicateur in ('accompagnements', 'usagers', 'duree_moyenne', 'taux_satisfaction') order by l.nom, i.indicateur",
        },
        "secret_par_annee": {
            "title": "Cases sous secret statistique, par année",
            "description": "Combien de chiffres sont masqués chaque année, et pourquoi.",
            "sql": "select annee, secret, count(*) as cases from indicateurs where secret != '' group by annee, secret order by annee, secret",
        },
    }
