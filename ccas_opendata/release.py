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
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import quality
from .aggregate import INTERNAL_COLUMNS, aggregate
from .anonymise import LEGACY_RULE, anonymise, read_anonymised, with_legacy_persons
from .context import Context, Progress, quiet, open_context, previous_table, published_years
from .downloads import stage_downloads
from .errors import StageOrderError
from .granularity import coarsen, of_table, year_rows
from .intake import read_year
from .layout import private_dir, private_file
from .package import package_year, read_published
from .publish import build_publish_dir
from .revision import new_version, refuse_revealing_revision, stage_snapshot, stage_versions
from .risk import revision_risk_report, risk_report
from .secrecy import Protected, protect
from .swap import recover, swap_in
from .versions import (
    KEY_FINGERPRINT,
    key_fingerprint,
    package_version,
    person_rule,
    read_changelog,
    revision_diff,
    write_changelog,
    write_frozen,
    write_snapshot,
    year_rule,
)
from .workarea import (
    clear_leftovers,
    internal_bytes,
    read_internal_bytes,
    record_packaged,
    record_validated,
    require_packaged,
    require_validated,
    start_stage,
    write_internal,
)

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
    ctx.fingerprint = key_fingerprint(key)
    ctx.person_rule = year_rule(ctx.folder, ctx.year)
    if ctx.person_rule == LEGACY_RULE:
        tables = with_legacy_persons(tables, records, key, ctx.year)
    if write:
        write_snapshot(ctx.work.anonymised, tables, ctx.fingerprint, ctx.person_rule)
    return tables


def stage_aggregate(ctx: Context, tables: dict[str, pd.DataFrame] | None = None) -> Protected:
    if tables is None:
        if not ctx.work.anonymised.exists():
            raise StageOrderError(f"Aucune donnée anonymisée pour {ctx.year} : lancez d'abord « ccas-opendata anonymise ».")
        tables = read_anonymised(ctx.work.anonymised)
        fingerprint = ctx.work.anonymised / KEY_FINGERPRINT
        ctx.fingerprint = fingerprint.read_text(encoding="ascii").strip() if fingerprint.exists() else None
        ctx.person_rule = person_rule(ctx.work.anonymised)
    start_stage(ctx.work, "aggregate")
    ctx.progress("Calcul des indicateurs…")
    previous = previous_table(ctx.folder, ctx.year)
    online = ctx.layout.published_table(ctx.year)
    # A revision publishes the cells of the version online: its granularity, not a new choice.
    granularity = of_table(read_published(online), ctx.catalogue, ctx.year) if online.exists() else None
    cells = aggregate(tables, ctx.publisher, ctx.catalogue, ctx.year, previous, granularity=granularity)
    has_person_id = bool(tables["accompagnements"]["usager_connu"].any())
    revision = stage_snapshot(ctx, tables, ctx.publisher.seuil_secret if has_person_id else ctx.publisher.seuil_sans_identifiant)
    ctx.progress("Secret statistique (seuil, suppressions secondaires, audit)…")
    protected = protect(cells, ctx.catalogue, ctx.publisher, ctx.year, previous, has_person_id, revision)
    # Private, beside the version's records: the next revision models these as unknowns.
    write_frozen(ctx.work.snapshot, protected.table, protected.reasons)
    if revision is None:
        refuse_revealing_revision(ctx, protected.table)
    diff = revision_diff(ctx.folder, ctx.year, protected.table)
    if diff is not None:
        ctx.progress(diff.french())
    ctx.progress(
        f"  audit réussi : {protected.audit.hidden_cells} cases masquées, aucune encadrable à moins de {ctx.publisher.largeur_protection} près"
    )
    # The records as the year's granularity reads them: a hidden quarter or age band matches its records.
    chosen = of_table(cells, ctx.catalogue, ctx.year)
    records = coarsen(tables["accompagnements"], "accompagnements", chosen)
    risk = risk_report(ctx, records, protected)
    if revision is not None:
        online_risk = ctx.layout.risk_report(ctx.year)
        risk = revision_risk_report(risk, json.loads(online_risk.read_text(encoding="utf-8")), protected.table)
    write_internal(ctx.work, protected.table)
    private_file(ctx.work.risk_report).write_text(json.dumps(risk, ensure_ascii=False, indent=2), encoding="utf-8")
    return protected


def _parse_internal(data: bytes) -> pd.DataFrame:
    """The internal table from the bytes already read (and hashed), never re-read from disk."""
    frame = pd.read_csv(
        io.BytesIO(data),
        dtype={c: str for c in INTERNAL_COLUMNS if c not in ("valeur", "personnes", "annee", "dominance")},
        keep_default_na=False,
    )
    frame["valeur"] = pd.to_numeric(frame["valeur"].replace("", None)).astype("float64")
    return frame


def stage_validate(ctx: Context, table: pd.DataFrame | None = None) -> quality.Report:
    data = read_internal_bytes(ctx.work) if table is None else internal_bytes(table)
    table = _parse_internal(data) if table is None else table
    start_stage(ctx.work, "validate")
    ctx.progress("Contrôle des tables à publier (Great Expectations) et Data Docs…")
    report = quality.validate_published(table, ctx.publisher, ctx.catalogue, ctx.year, ctx.work.quality_docs)
    # Only now, and for these bytes only: package and publish check the file against it.
    record_validated(ctx.work, data)
    return report


def stage_package(ctx: Context, table: pd.DataFrame | None = None) -> Path:
    data = require_validated(ctx.work)
    table = _parse_internal(data) if table is None else table
    start_stage(ctx.work, "package")
    risk = json.loads(ctx.work.risk_report.read_text(encoding="utf-8"))
    version, created = new_version(ctx, table)
    ctx.progress(f"Paquet de données Frictionless, version {version} (écriture et validation)…")
    target = ctx.work.staged_package
    private_dir(target.parent)
    package_year(ctx, target, table, risk, version, created)
    record_packaged(ctx.work)
    if ctx.motif:  # for « publish », run as a command of its own
        private_file(ctx.work.motif).write_text(ctx.motif + "\n", encoding="utf-8")
    return target


@dataclass
class PublishResult:
    years: list[int]
    counts: dict[str, int] = field(default_factory=dict)
    versions: list[dict] = field(default_factory=list)  # the changelog entries this run added


def stage_publish(ctx: Context, preview: Path | None = None) -> PublishResult:
    """Swap the staged package in, with the later year whose evolutions rest on it, the
    downloads, the changelog, the version's records and a rebuilt ``publish/``: all or
    nothing. With ``preview``, build the site there instead and publish nothing
    (``release --essai``)."""
    work = ctx.work
    require_validated(work)
    require_packaged(work)
    start_stage(work, "publish")
    if ctx.motif is None and work.motif.exists():
        ctx.motif = work.motif.read_text(encoding="utf-8").strip()
    staged_versions = stage_versions(ctx)
    unchanged, entries = staged_versions.unchanged, staged_versions.entries
    new_packages, snapshots = staged_versions.packages, staged_versions.snapshots
    ctx.progress("Construction du site, de la base Datasette et des téléchargements…")
    years = sorted(set(published_years(ctx.folder)) | {ctx.year})
    packages = [new_packages.get(y, ctx.layout.package(y)) for y in years]
    changelog_file = work.changelog
    write_changelog(changelog_file, read_changelog(ctx.layout.changelog) + entries)
    changelog = read_changelog(changelog_file)
    downloads = work.downloads
    stage_downloads(
        downloads, ctx.layout.downloads, packages, ctx.publisher, changelog, {y: package_version(p) for y, p in zip(years, packages)}
    )
    docs = {y: ctx.layout.quality_docs(y) for y in years}
    if not unchanged:
        docs[ctx.year] = work.quality_docs
    site = work.site
    counts = build_publish_dir(ctx, site, packages, docs, downloads, changelog)
    if preview is not None:
        shutil.move(site, preview)
        return PublishResult(years, counts, entries)
    ctx.progress("Mise en ligne (remplacement atomique)…")
    moves = [(ctx.layout.package(y), p) for y, p in sorted(new_packages.items())]
    moves += [(ctx.layout.publish, site), (ctx.layout.downloads, downloads), (ctx.layout.changelog, changelog_file)]
    moves += [(target, source) for source, target in snapshots.items()]
    for target in snapshots.values():
        private_dir(target.parent)
    swap_in(ctx.folder, moves, work.replaced)
    return PublishResult(years, counts, entries)


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
    versions: list[dict] = field(default_factory=list)
    #: Figures a revision kept as online (changes too small to publish).
    frozen: int = 0

    def french(self) -> str:
        """What was published, as the agent reads it: only published figures."""

        def fig(v: float | None) -> str:
            return "secret statistique" if v is None else f"{v:,.0f}".replace(",", "\u00a0")

        people = ""
        if "usagers" in self.key_figures:
            people = f", {fig(self.key_figures['usagers'])} personnes distinctes"
        elif not self.has_usager:
            people = (
                " (sans identifiant de personne : seuls des chiffres sur les accompagnements sont publiés, "
                "chacun sur au moins « seuil_sans_identifiant » accompagnements)"
            )
        lines = [
            f"Essai pour {self.year} : rien n'a été publié ; voici ce qui le serait."
            if self.preview
            else f"Année {self.year} : corrections retenues, rien de public ne change."
            if self.frozen and not self.versions
            else f"Année {self.year} publiée."
            if not any(e["nature"] == "revision" and e["annee"] == self.year for e in self.versions)
            else f"Année {self.year} révisée.",
            f"  {fig(self.key_figures.get('accompagnements'))} accompagnements{people}.",
            f"  {self.cells} chiffres dans la table, dont {self.hidden_primary} sous secret primaire et {self.hidden_secondary} sous secret secondaire.",
        ]
        if self.frozen:
            lines.append(
                f"  {self.frozen} chiffre(s) gardent la valeur de la version en ligne : la correction y concerne trop peu de "
                "personnes pour être publiée sans les désigner ; ils seront corrigés quand d'autres corrections s'y ajouteront."
            )
        if self.set_aside:
            lines.append(f"  {self.set_aside} ligne(s) datée(s) hors de l'année mises de côté (non publiées).")
        if "ateliers" in self.key_figures:
            lines.append(
                f"  Ateliers : {fig(self.key_figures['ateliers'])} ; participations : {fig(self.key_figures.get('participants_ateliers'))}."
            )
        for entry in self.versions:
            if entry["nature"] == "revision":
                lines.append(
                    f"  Révision : {entry['annee']} passe en version {entry['version']} ({entry['chiffres_modifies']} chiffres "
                    f"modifiés, {entry['masques']} masqués, {entry['demasques']} démasqués)."
                )
            else:
                lines.append(f"  Version {entry['version']} de {entry['annee']}.")
        if not self.versions:
            lines.append("  Aucun chiffre ne change : la version en ligne est conservée, sans nouvelle version.")
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


def release(
    folder: Path,
    year: int,
    input_dir: Path,
    key: bytes,
    progress: Progress = quiet,
    motif: str | None = None,
    preview: Path | None = None,
) -> ReleaseSummary:
    """Every stage in order for ``year`` (a revision when the year is published and its
    figures change: ``motif`` required); on any failure nothing published changes.

    With ``preview`` (a folder that does not exist yet), every stage runs but the site is
    built there for review and nothing under ``datapackages/`` or ``publish/`` changes."""
    start = time.perf_counter()
    # First of all, even if the release is refused: finish the switch a killed run left
    # half-done, then remove what killed runs left (person counts) for every year. The
    # stages recreate the work area, private.
    recover(folder)
    clear_leftovers(folder.resolve())
    ctx = open_context(folder, year, progress, motif, input_dir)
    folder = ctx.folder
    if preview is not None and ctx.motif is None:
        ctx.motif = "essai"  # a trial publishes nothing: it shows the revision without asking why
    steps = [
        "Lecture et anonymisation",
        "Indicateurs et secret",
        "Contrôles",
        "Paquet",
        "Publication" if preview is None else "Site d'essai",
    ]

    def numbered(n: int) -> None:
        elapsed = time.perf_counter() - start
        progress(f"[{n}/{len(steps)}] {steps[n - 1]}" + (f" ({elapsed:.1f} s écoulées)".replace(".", ",") if n > 1 else ""))

    try:
        numbered(1)
        tables = stage_anonymise(ctx, input_dir, key, write=False)
        numbered(2)
        protected = stage_aggregate(ctx, tables)
        new_version(ctx, protected.table)  # a revision without its motif stops here, before the checks
        numbered(3)
        stage_validate(ctx, protected.table)
        numbered(4)
        stage_package(ctx, protected.table)
        numbered(5)
        result = stage_publish(ctx, preview)
    except BaseException:
        # Keep nothing half-made: the work area holds pseudonymised data.
        shutil.rmtree(ctx.work.path, ignore_errors=True)
        raise
    shutil.rmtree(ctx.work.path, ignore_errors=True)
    _remove_empty(ctx.work.path.parent)
    table = protected.table

    def figure(code: str) -> float | None:
        return _year_figure(table, code, year)

    records = tables["accompagnements"]
    return ReleaseSummary(
        year=year,
        has_usager=bool(records["usager_connu"].any()),
        cells=len(table),
        hidden_primary=protected.totals()["primaire"],
        hidden_secondary=protected.totals()["secondaire"],
        frozen=protected.totals()["gel"],
        key_figures={
            code: figure(code)
            for code in ("accompagnements", "usagers", "ateliers", "participants_ateliers")
            if _is_published(table, code, year)
        },
        years=result.years,
        seconds=time.perf_counter() - start,
        set_aside=ctx.set_aside,
        per_indicator={
            code: (int((group["secret"] == "").sum()), int((group["secret"] != "").sum()))
            for code, group in table[year_rows(table["periode"])].groupby("indicateur", sort=False)
        },
        preview=preview,
        versions=result.versions,
    )


def _is_published(table: pd.DataFrame, code: str, year: int) -> bool:
    return bool(((table["indicateur"] == code) & (table["periode"] == str(year))).any())


def _year_figure(table: pd.DataFrame, code: str, year: int) -> float | None:
    row = table[
        (table["indicateur"] == code) & (table["periode"] == str(year)) & (table["lieu"] == "ensemble") & (table["dimension"] == "ensemble")
    ]
    if row.empty or row["secret"].iloc[0]:
        return None
    return float(row["valeur"].iloc[0])


def _remove_empty(directory: Path) -> None:
    if directory.exists() and not any(directory.iterdir()):
        directory.rmdir()
