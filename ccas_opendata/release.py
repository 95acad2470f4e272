"""The yearly publish step: the stages in order, in a private work area, all or nothing.

Each stage reads what the previous one wrote in ``.travail/YYYY/`` (so the stage
commands can be run one by one), except that ``release`` hands the frames over in
memory instead of re-reading them. Nothing under ``datapackages/`` or ``publish/``
changes until every check has passed; then the new package and the new ``publish/``
are swapped in by renames, and the work area is removed.
"""

from __future__ import annotations

import io
import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import quality
from .aggregate import INTERNAL_COLUMNS, MEASURES, aggregate
from .anonymise import anonymise, read_anonymised, write_anonymised
from .catalogue import Catalogue, load_catalogue
from .config import Publisher, catalogue_path, datapackages_dir, private_dir, private_file, publish_dir, read_publisher, work_dir
from .errors import CcasError, ConfigurationError, StageOrderError
from .intake import read_year, read_year_without_publisher
from .package import package_year, read_published
from .publish import build_publish_dir
from .risk import risk_report
from .secrecy import Protected, figures_changed, protect
from .workarea import (
    internal_bytes, read_internal_bytes, record_packaged, record_validated, require_packaged, require_validated,
    start_stage, write_internal,
)

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass
class Context:
    folder: Path
    year: int
    publisher: Publisher
    catalogue: Catalogue
    progress: Progress = _quiet
    #: Rows of national exports dated outside the year, set aside by the ingest.
    set_aside: int = 0

    @property
    def work(self) -> Path:
        return work_dir(self.folder, self.year)

    @property
    def staged_package(self) -> Path:
        """Named by its year, like the published package it will become."""
        return self.work / "paquet" / str(self.year)


def open_context(folder: Path, year: int, progress: Progress = _quiet, input_dir: Path | None = None) -> Context:
    """The year's context. With ``input_dir``, a configuration error is reported together
    with every problem of the input files (one run shows everything to fix)."""
    # Absolute from here on: GX's Data Docs and the swap renames need stable paths
    # whatever the current directory (``--dossier`` defaults to ".").
    folder = folder.resolve()
    try:
        publisher = read_publisher(folder)
    except ConfigurationError as error:
        if input_dir is None or not (folder / "metadata").is_dir():
            raise
        read_year_without_publisher(folder, year, input_dir, error)
        raise
    catalogue = load_catalogue(catalogue_path(folder), frozenset(MEASURES))
    return Context(folder, year, publisher, catalogue, progress)


def published_years(folder: Path) -> list[int]:
    base = datapackages_dir(folder)
    if not base.exists():
        return []
    return sorted(int(p.name) for p in base.iterdir() if p.name.isdigit() and (p / "datapackage.json").exists())


def previous_table(folder: Path, year: int) -> pd.DataFrame | None:
    """Last year's published table, the base of ``evolution_*`` and of the cross-year audit."""
    path = datapackages_dir(folder) / str(year - 1) / "indicateurs.csv"
    return read_published(path) if path.exists() else None


# --- the stages ---------------------------------------------------------------------------

def stage_anonymise(ctx: Context, input_dir: Path, key: bytes, write: bool = True) -> dict[str, pd.DataFrame]:
    if write:
        start_stage(ctx.work, "anonymise")
    ctx.progress("Lecture et contrôle des fichiers d'entrée (Great Expectations compris)…")
    records = read_year(ctx.folder, ctx.year, input_dir, ctx.publisher)
    ctx.set_aside = sum(t.outside_year for t in records.tables.values())
    for warning in records.warnings:
        ctx.progress("  ⚠ " + warning)
    ctx.progress(f"  {len(records['accompagnements'].frame):,} accompagnements lus".replace(",", " "))
    ctx.progress("Anonymisation (pseudonymes, mois, tranches d'âge)…")
    tables = anonymise(records, ctx.publisher, ctx.year, key)
    if write:
        write_anonymised(tables, ctx.work / "anonymise")
    return tables


def stage_aggregate(ctx: Context, tables: dict[str, pd.DataFrame] | None = None) -> Protected:
    if tables is None:
        if not (ctx.work / "anonymise").exists():
            raise StageOrderError(f"Aucune donnée anonymisée pour {ctx.year} : lancez d'abord « ccas-opendata anonymise ».")
        tables = read_anonymised(ctx.work / "anonymise")
    start_stage(ctx.work, "aggregate")
    ctx.progress("Calcul des indicateurs…")
    previous = previous_table(ctx.folder, ctx.year)
    cells = aggregate(tables, ctx.publisher, ctx.catalogue, ctx.year, previous)
    ctx.progress("Secret statistique (primaire, secondaire, audit)…")
    has_person_id = bool(tables["accompagnements"]["usager_connu"].any())
    protected = protect(cells, ctx.catalogue, ctx.publisher, ctx.year, previous, has_person_id)
    refuse_revealing_revision(ctx, protected.table)
    ctx.progress(f"  audit réussi : {protected.audit.hidden_cells} cases masquées, aucune encadrable à moins de {ctx.publisher.largeur_protection} près")
    risk = risk_report(tables["accompagnements"], protected, ctx.publisher, ctx.catalogue, ctx.year)
    write_internal(ctx.work, protected.table)
    private_file(ctx.work / "risque.json").write_text(json.dumps(risk, ensure_ascii=False, indent=2), encoding="utf-8")
    return protected


def refuse_revealing_revision(ctx: Context, table: pd.DataFrame) -> None:
    """A published year is republished only when no figure changes: a reader who kept the
    published version would otherwise subtract it from the new one, and the difference
    describes only the records that changed — often one or two persons (one added
    record moves every cell of her profile by exactly one)."""
    published = datapackages_dir(ctx.folder) / str(ctx.year) / "indicateurs.csv"
    if not published.exists():
        return
    changed = figures_changed(read_published(published), table)
    if changed:
        raise CcasError(
            f"L'année {ctx.year} est déjà publiée, et ces fichiers changeraient {changed} de ses chiffres. Quiconque a "
            "téléchargé la version en ligne pourrait faire la différence entre les deux versions : elle ne décrit que "
            "les enregistrements modifiés, souvent une ou deux personnes, et le secret statistique ne la protège pas.",
            advice=f"La publication de {ctx.year} reste telle quelle. Gardez vos corrections pour la prochaine année, "
                   "ou republiez ces fichiers seulement s'ils redonnent exactement les chiffres publiés.",
        )


def _parse_internal(data: bytes) -> pd.DataFrame:
    """The internal table from the bytes already read (and hashed), never re-read from disk."""
    frame = pd.read_csv(io.BytesIO(data), dtype={c: str for c in INTERNAL_COLUMNS if c not in ("valeur", "personnes", "annee", "dominance")}, keep_default_na=False)
    frame["valeur"] = pd.to_numeric(frame["valeur"].replace("", None)).astype("float64")
    return frame


def stage_validate(ctx: Context, table: pd.DataFrame | None = None) -> quality.Report:
    data = read_internal_bytes(ctx.work, ctx.year) if table is None else internal_bytes(table)
    table = _parse_internal(data) if table is None else table
    start_stage(ctx.work, "validate")
    ctx.progress("Contrôle des tables à publier (Great Expectations) et Data Docs…")
    report = quality.validate_published(table, ctx.publisher, ctx.catalogue, ctx.year, ctx.work / "qualite")
    # Only now, and for these bytes only: package and publish check the file against it.
    record_validated(ctx.work, data)
    return report


def stage_package(ctx: Context, table: pd.DataFrame | None = None) -> Path:
    data = require_validated(ctx.work, ctx.year)
    table = _parse_internal(data) if table is None else table
    start_stage(ctx.work, "package")
    risk = json.loads((ctx.work / "risque.json").read_text(encoding="utf-8"))
    ctx.progress("Paquet de données Frictionless (écriture et validation)…")
    target = ctx.staged_package
    private_dir(target.parent)
    package_year(target, table, risk, ctx.publisher, ctx.catalogue, ctx.year)
    record_packaged(ctx.work, target)
    return target


@dataclass
class PublishResult:
    years: list[int]
    counts: dict[str, int] = field(default_factory=dict)


def refuse_rewriting_history(folder: Path, year: int) -> None:
    """A year is never republished once a later one is out: the later year's
    evolutions, and the cross-year audit, rest on its published figures."""
    later = [y for y in published_years(folder) if y > year]
    if later:
        raise CcasError(
            f"L'année {later[0]} est déjà publiée : republier {year} changerait les chiffres sur lesquels "
            f"reposent ses évolutions.",
            advice="Publiez les années dans l'ordre ; pour corriger une année ancienne, contactez l'équipe technique.",
        )


def stage_publish(ctx: Context, preview: Path | None = None) -> PublishResult:
    """Swap the staged package in and rebuild ``publish/``, all or nothing. With
    ``preview``, build the site there instead and publish nothing (``release --essai``)."""
    if preview is None:
        refuse_rewriting_history(ctx.folder, ctx.year)
    staged = ctx.staged_package
    require_validated(ctx.work, ctx.year)
    require_packaged(ctx.work, staged, ctx.year)
    start_stage(ctx.work, "publish")
    ctx.progress("Construction du site et de la base Datasette…")
    years = sorted(set(published_years(ctx.folder)) | {ctx.year})
    packages = [staged if y == ctx.year else datapackages_dir(ctx.folder) / str(y) for y in years]
    docs = {y: publish_dir(ctx.folder) / "static" / "qualite" / str(y) for y in years}
    docs[ctx.year] = ctx.work / "qualite"
    site = ctx.work / "site"
    counts = build_publish_dir(site, packages, ctx.publisher, ctx.catalogue, docs)
    if preview is not None:
        shutil.move(site, preview)
        return PublishResult(years, counts)
    ctx.progress("Mise en ligne (remplacement atomique)…")
    swap_in(ctx.folder, ctx.year, staged, site, ctx.work / "ancien")
    return PublishResult(years, counts)


def swap_in(folder: Path, year: int, package: Path, site: Path, backup: Path) -> None:
    """Move the new package and site into place by renames; undo on any failure."""
    backup.mkdir(parents=True, exist_ok=True)
    target_package = datapackages_dir(folder) / str(year)
    target_site = publish_dir(folder)
    target_package.parent.mkdir(parents=True, exist_ok=True)
    done: list[tuple[Path, Path]] = []
    try:
        for current, new, old in ((target_package, package, backup / "paquet"), (target_site, site, backup / "publish")):
            if current.exists():
                current.rename(old)
                done.append((old, current))
            new.rename(current)
            done.append((current, new))
    except OSError:
        for src, dst in reversed(done):
            if src.exists():
                src.rename(dst)
        raise
    shutil.rmtree(backup, ignore_errors=True)


# --- release --------------------------------------------------------------------------

@dataclass
class ReleaseSummary:
    year: int
    has_usager: bool
    cells: int
    hidden_primary: int
    hidden_secondary: int
    key_figures: dict[str, float | None]
    years: list[int]
    seconds: float
    set_aside: int = 0
    #: Hidden cells per indicator (code → (published, hidden)), for the trial's report.
    per_indicator: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: ``release --essai``: the site built for review, nothing published.
    preview: Path | None = None

    def french(self) -> str:
        """What was published, as the agent reads it: only published figures."""
        fig = lambda v: "secret statistique" if v is None else f"{v:,.0f}".replace(",", "\u00a0")  # noqa: E731
        people = ""
        if "usagers" in self.key_figures:
            people = f", {fig(self.key_figures['usagers'])} personnes distinctes"
        elif not self.has_usager:
            people = (" (sans identifiant de personne : seuls des chiffres sur les accompagnements sont publiés, "
                      "chacun sur au moins « seuil_sans_identifiant » accompagnements)")
        lines = [
            f"Essai pour {self.year} : rien n'a été publié ; voici ce qui le serait." if self.preview else f"Année {self.year} publiée.",
            f"  {fig(self.key_figures.get('accompagnements'))} accompagnements{people}.",
            f"  {self.cells} chiffres dans la table, dont {self.hidden_primary} sous secret primaire et {self.hidden_secondary} sous secret secondaire.",
        ]
        if self.set_aside:
            lines.append(f"  {self.set_aside} ligne(s) datée(s) hors de l'année mises de côté (non publiées).")
        if "ateliers" in self.key_figures:
            lines.append(f"  Ateliers : {fig(self.key_figures['ateliers'])} ; participations : {fig(self.key_figures.get('participants_ateliers'))}.")
        if self.preview:
            lines.append("  Chiffres publiés / masqués (secret statistique), par indicateur :")
            width = max((len(code) for code in self.per_indicator), default=0)
            for code, (shown, hidden) in self.per_indicator.items():
                lines.append(f"    {code.ljust(width)}  {shown:>5} publiés  {hidden:>5} masqués")
            lines += [
                f"  Durée : {self.seconds:.1f} s. Pour publier pour de bon : la même commande sans --essai.",
                "  « release » construit le site sur cet ordinateur (dossier publish/) ; pour le mettre en ligne, "
                "voir la section « Mettre en ligne » du README.",
            ]
            return "\n".join(lines)
        lines += [
            f"  Années en ligne : {', '.join(map(str, self.years))}. Durée : {self.seconds:.1f} s.",
            "  Pour consulter : ccas-opendata serve. Le site est construit sur cet ordinateur (dossier publish/) ; "
            "pour le mettre en ligne, voir la section « Mettre en ligne » du README.",
        ]
        return "\n".join(lines)


def release(folder: Path, year: int, input_dir: Path, key: bytes, progress: Progress = _quiet, preview: Path | None = None) -> ReleaseSummary:
    """Every stage in order for ``year``; on any failure nothing published changes.

    With ``preview`` (a folder that does not exist yet), every stage runs but the site is
    built there for review and nothing under ``datapackages/`` or ``publish/`` changes."""
    start = time.perf_counter()
    ctx = open_context(folder, year, progress, input_dir)
    folder = ctx.folder
    # First of all, even if the release is refused: a killed earlier run may have left
    # person counts here. The stages recreate the work area, private.
    shutil.rmtree(ctx.work, ignore_errors=True)
    if preview is None:
        refuse_rewriting_history(folder, year)
    steps = ["Lecture et anonymisation", "Indicateurs et secret", "Contrôles", "Paquet", "Publication" if preview is None else "Site d'essai"]
    def numbered(n: int) -> None:
        elapsed = time.perf_counter() - start
        progress(f"[{n}/{len(steps)}] {steps[n - 1]}" + (f" ({elapsed:.1f} s écoulées)".replace(".", ",") if n > 1 else ""))
    try:
        numbered(1)
        tables = stage_anonymise(ctx, input_dir, key, write=False)
        numbered(2)
        protected = stage_aggregate(ctx, tables)
        numbered(3)
        stage_validate(ctx, protected.table)
        numbered(4)
        stage_package(ctx, protected.table)
        numbered(5)
        result = stage_publish(ctx, preview)
    except BaseException:
        # Keep nothing half-made: the work area holds pseudonymised data.
        shutil.rmtree(ctx.work, ignore_errors=True)
        raise
    shutil.rmtree(ctx.work, ignore_errors=True)
    _remove_empty(ctx.work.parent)
    table = protected.table
    figure = lambda code: _year_figure(table, code, year)  # noqa: E731
    records = tables["accompagnements"]
    return ReleaseSummary(
        year=year,
        has_usager=bool(records["usager_connu"].any()),
        cells=len(table),
        hidden_primary=int((table["secret"] == "primaire").sum()),
        hidden_secondary=int((table["secret"] == "secondaire").sum()),
        key_figures={code: figure(code) for code in ("accompagnements", "usagers", "ateliers", "participants_ateliers") if _is_published(table, code, year)},
        years=result.years,
        seconds=time.perf_counter() - start,
        set_aside=ctx.set_aside,
        per_indicator={
            code: (int((group["secret"] == "").sum()), int((group["secret"] != "").sum()))
            for code, group in table[table["periode"].astype(str).str.len() == 4].groupby("indicateur", sort=False)
        },
        preview=preview,
    )


def _is_published(table: pd.DataFrame, code: str, year: int) -> bool:
    return bool(((table["indicateur"] == code) & (table["periode"] == str(year))).any())


def _year_figure(table: pd.DataFrame, code: str, year: int) -> float | None:
    row = table[(table["indicateur"] == code) & (table["periode"] == str(year)) & (table["lieu"] == "ensemble") & (table["dimension"] == "ensemble")]
    if row.empty or row["secret"].iloc[0]:
        return None
    return float(row["valeur"].iloc[0])


def _remove_empty(directory: Path) -> None:
    if directory.exists() and not any(directory.iterdir()):
        directory.rmdir()
