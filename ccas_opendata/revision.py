"""A published year released again: compare its records with the version online (and every
version still downloadable), refuse what would reveal, number the new version, and carry the
revision into the next year's evolutions.

Split from :mod:`release` so that the stages read as a straight line and the revision rules,
which protect readers holding several versions, live in one place beside :mod:`versions`.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .aggregate import KEY, expected_keys, finish_evolutions, previous_published, round_figures
from .anonymise import read_anonymised
from .context import Context
from .downloads import published_in_zip, zip_name
from .errors import CcasError, SecrecyError, StageOrderError
from .layout import PUBLISHED_TABLE, private_dir
from .package import package_year, read_published
from .secrecy import SECRET, Revision, audit, figures_changed, public_secret
from .versions import (
    FIRST_VERSION,
    KEY_FINGERPRINT,
    changelog_entry,
    diff_tables,
    kept_versions,
    next_version,
    package_version,
    revision_against,
    revision_diff,
    write_snapshot,
)


def stage_snapshot(ctx: Context, tables: dict[str, pd.DataFrame], threshold: int) -> Revision | None:
    """Stage the records of the version being made (for the next revision) and, when the
    year is online with its records kept, compare them: the persons behind each change."""
    staged = ctx.work.snapshot
    if ctx.fingerprint is None:
        raise StageOrderError(f"Aucune donnée anonymisée pour {ctx.year} : lancez d'abord « ccas-opendata anonymise ».")
    write_snapshot(staged, tables, ctx.fingerprint, ctx.person_rule)
    online = ctx.layout.package(ctx.year)
    if not ctx.layout.descriptor(ctx.year).exists():
        return None
    kept = ctx.layout.snapshot(ctx.year, package_version(online)[0])
    if not (kept / KEY_FINGERPRINT).exists():
        return None  # published before versions were kept: only an unchanged re-release is possible
    ctx.progress("Comparaison avec les enregistrements de la version en ligne…")
    # Read back from the files, as the version online was: both sides compared as written.
    new = read_anonymised(staged)

    def against(records: Path, published: pd.DataFrame) -> Revision:
        return revision_against(
            records, ctx.fingerprint or "", new, published, ctx.publisher, ctx.catalogue, ctx.year, threshold, ctx.person_rule
        )

    revision = against(kept, read_published(ctx.layout.published_table(ctx.year)))
    for version, records in kept_versions(ctx.folder, ctx.year):
        archive = ctx.layout.downloads / zip_name(ctx.year, version)
        if records != kept and archive.exists():  # an earlier version a reader may still hold
            ctx.progress(f"  et avec ceux de la version {version}…")
            revision.older.append(against(records, published_in_zip(archive)))
    return revision


def refuse_revealing_revision(ctx: Context, table: pd.DataFrame) -> None:
    """A year published before versions were kept (no records to compare with) is
    republished only when no figure changes: a reader who kept the published version
    would otherwise subtract it from the new one, and without the earlier records
    nothing tells how many persons the difference describes."""
    published = ctx.layout.published_table(ctx.year)
    if not published.exists():
        return
    changed = figures_changed(read_published(published), table)
    if changed:
        raise CcasError(
            f"L'année {ctx.year} a été publiée sans que ses enregistrements soient conservés pour une révision, et ces "
            f"fichiers changeraient {changed} de ses chiffres. Quiconque a téléchargé la version en ligne pourrait faire "
            "la différence entre les deux versions : elle ne décrit que les enregistrements modifiés, et rien ne permet "
            "ici de vérifier qu'elle concerne assez de personnes.",
            advice=f"La publication de {ctx.year} reste telle quelle. Gardez vos corrections pour la prochaine année, "
            "ou republiez ces fichiers seulement s'ils redonnent exactement les chiffres publiés.",
        )


def new_version(ctx: Context, table: pd.DataFrame) -> tuple[str, str | None]:
    """(version, created) of the package to write: 1.0.0 for a first publication, the
    version online when no figure changes, the next minor version for a revision."""
    online = ctx.layout.package(ctx.year)
    diff = revision_diff(ctx.folder, ctx.year, table)
    if diff is None:
        return FIRST_VERSION, None
    version, created = package_version(online)
    if not diff.changed:
        return version, created
    if not ctx.motif:
        raise CcasError(
            f"La révision de {ctx.year} change {diff.changed} chiffres : indiquez son motif avec « --motif ».",
            advice="Le motif est publié dans le journal des changements (/changements).",
        )
    return next_version(version), None


@dataclass
class StagedVersions:
    """What a publication adds besides the site: the changelog entries, the packages that
    replace those online (by year), the records kept for the next revision (staged path →
    path under ``.versions/``). ``unchanged``: no figure changed (a revision whose every
    change is frozen, or a re-release), so the package online stays as it is, its risk
    report and quality report too; they would otherwise count the new records exactly."""

    unchanged: bool
    entries: list[dict] = field(default_factory=list)
    packages: dict[int, Path] = field(default_factory=dict)
    snapshots: dict[Path, Path] = field(default_factory=dict)


def stage_versions(ctx: Context) -> StagedVersions:
    """The versions the staged package makes: a first publication, a revision (with the
    next year whose evolutions rest on it), or the version online kept."""
    work, layout = ctx.work, ctx.layout
    staged, online = work.staged_package, layout.package(ctx.year)
    version, created = package_version(staged)
    unchanged = online.exists() and version == package_version(online)[0]
    out = StagedVersions(unchanged, packages={} if unchanged else {ctx.year: staged})
    if not online.exists():
        out.entries.append(changelog_entry(ctx.year, version, created, "Première publication", None))
        out.snapshots[work.snapshot] = layout.snapshot(ctx.year, version)
    elif version != package_version(online)[0]:
        revised = read_published(staged / PUBLISHED_TABLE)
        diff = diff_tables(ctx.year, package_version(online)[0], read_published(layout.published_table(ctx.year)), revised)
        out.entries.append(changelog_entry(ctx.year, version, created, ctx.motif or "", diff, ctx.publisher.seuil_secret))
        out.snapshots[work.snapshot] = layout.snapshot(ctx.year, version)
        dependent = stage_dependent_year(ctx, revised, version)
        if dependent is not None:
            package, entry = dependent
            out.packages[ctx.year + 1] = package
            out.entries.append(entry)
            kept = layout.snapshot(ctx.year + 1, package_version(layout.package(ctx.year + 1))[0])
            if kept.exists():  # same records: the new version's copy, for its own next revision
                shutil.copytree(kept, work.next_snapshot)
                out.snapshots[work.next_snapshot] = layout.snapshot(ctx.year + 1, entry["version"])
    elif not layout.snapshot(ctx.year, version).exists():
        # Published before versions were kept, re-released without a figure changed: these
        # records give exactly the figures online, so a later revision can compare with them.
        out.snapshots[work.snapshot] = layout.snapshot(ctx.year, version)
    if not work.snapshot.exists():
        out.snapshots.pop(work.snapshot, None)
    return out


def stage_dependent_year(ctx: Context, revised: pd.DataFrame, version: str) -> tuple[Path, dict] | None:
    """The next year, if published, with its evolutions recomputed against the revised
    year: a new version of it when they change. Its own figures come from its published
    table (an evolution is published only beside its published count); the audit is run
    again against the revised year."""
    following = ctx.of_year(ctx.year + 1)
    year = following.year
    online = ctx.layout.package(year)
    if not ctx.layout.descriptor(year).exists():
        return None
    table = read_published(ctx.layout.published_table(year))
    recomputed = recompute_evolutions(following, table, revised)
    result = audit(recomputed, None, ctx.catalogue, ctx.publisher, year, revised)
    if not result.ok:
        raise SecrecyError(
            f"Audit du secret de {year} après révision de {ctx.year} : {len(result.failures)} case(s) masquée(s) "
            f"deviendraient encadrables à moins de {ctx.publisher.largeur_protection} près. Rien n'est publié."
        )
    online_version, _ = package_version(online)
    diff = diff_tables(year, online_version, table, recomputed)
    if not diff.changed:
        return None
    target = ctx.work.next_package
    private_dir(target.parent)
    risk = json.loads(ctx.layout.risk_report(year).read_text(encoding="utf-8"))
    dependent_version = next_version(online_version)
    package_year(following, target, recomputed, risk, dependent_version)
    created = package_version(target)[1]
    motif = (
        f"Évolutions par rapport à {ctx.year} recalculées après la révision de {ctx.year} (version {version}) : {ctx.motif or ''}".rstrip(
            " :"
        )
    )
    return target, changelog_entry(year, dependent_version, created, motif, diff)


def recompute_evolutions(ctx: Context, table: pd.DataFrame, previous: pd.DataFrame) -> pd.DataFrame:
    """``table`` (the published table of ``ctx.year``) with its ``evolution_*`` rows computed
    again against ``previous`` (the previous year's new published table), as aggregation
    computes them: from the published count, hidden with it, absent where last year's
    figure is hidden or zero."""
    catalogue, publisher, year = ctx.catalogue, ctx.publisher, ctx.year
    evolutions = [i for i in catalogue.indicators if i.mesure == "evolution"]
    kept = table[~table["indicateur"].isin([i.code for i in evolutions])].copy()
    kept["secret"] = public_secret(kept["secret"])  # a version published with primaire/secondaire says « secret » now
    rows = []
    for indicator in evolutions:
        counts = table[table["indicateur"] == indicator.lien["de"]]
        by_key = {
            key: (value, secret)
            for key, value, secret in zip(counts[KEY].astype(str).itertuples(index=False, name=None), counts["valeur"], counts["secret"])
        }
        before = previous_published(previous, indicator.lien["de"], year)
        for key in expected_keys(indicator, publisher, year):
            if key not in by_key or not (before.get(key, 0.0) > 0):
                continue
            value, secret = by_key[key]
            rows.append(
                {
                    "annee": year,
                    "periode": key[0],
                    "lieu": key[1],
                    "indicateur": indicator.code,
                    "dimension": key[2],
                    "modalite": key[3],
                    "valeur": value if not secret else float("nan"),
                    "unite": indicator.unite,
                    "secret": SECRET if secret else "",
                }
            )
    if not rows:
        return kept.reset_index(drop=True)
    frame = finish_evolutions(pd.DataFrame(rows), catalogue, previous, year, current=table)
    frame["valeur"] = round_figures(frame, catalogue)
    return pd.concat([kept, frame[kept.columns]], ignore_index=True)
