"""Validate with Great Expectations 1.x: the raw records, and the tables about to be published.

The suites are JSON files in ``expectations/``; values that depend on the contract or
the publication folder (codes, declared sites, the year's bounds, the threshold) are
``$PARAMETER`` references filled here. Frames are indexed by the row number of their
file, so a failure names rows the agent can find.

Privacy: what a failed expectation reports is its French message, the column and the
row numbers, never the values GX collected (a misplaced column can hold a name). Data
Docs are built only for the published tables, which hold codes and aggregates, and
describe only their published columns: no internal column (``personnes``), no sample of
values, no fingerprint of the frame.

``great_expectations`` takes over a second of CPU to import: it is imported inside the
functions that validate, never at module import, and without the statistics and chart
libraries it loads for expectations these suites never use (:data:`DEFERRED_BY_GX`).
"""

from __future__ import annotations

import functools
import gc
import importlib
import importlib.util
import json
import logging
import re
import shutil
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .aggregate import ENSEMBLE
from . import granularity
from .catalogue import Catalogue
from .config import EXPECTATIONS_DIR
from .publisher import Publisher
from .correspondances import accepted_codes
from .suites import parameter, stale, suite_name
from .vocabulary import PUBLISHED_COLUMNS, SOURCES, columns, extra_codes
from .errors import ROWS_KEPT, CcasError, Problem, ValidationFailed

#: The raw-record suite of each input table; their per-column part is written from
#: ``contract.yml`` (:mod:`.suites`).
RAW_SUITES = {table: suite_name(table) for table in SOURCES}
PUBLISHED_SUITE = "indicateurs_publies"
CHECK_COLUMNS = ["somme_mois", "personnes"]
# Check columns computed from published cells only, which the Data Docs may show. Any
# other check column (``personnes``: what the secret protects) is checked but never
# described in the published docs, including one added later.
DERIVED_CHECK_COLUMNS = ("somme_mois",)


def load_suite(name: str) -> dict:
    """A suite of ``expectations/``; a raw-record suite that no longer holds what the
    contract asks of its columns is refused (a column added to ``contract.yml`` and never
    checked), with the command that rewrites it."""
    with open(EXPECTATIONS_DIR / f"{name}.json", encoding="utf-8") as f:
        suite = json.load(f)
    table = next((t for t, suite_of in RAW_SUITES.items() if suite_of == name), None)
    if table is not None and stale(table, suite):
        raise CcasError(
            f"La suite de contrôle expectations/{name}.json ne suit plus les colonnes de contract.yml.",
            advice="Réécrivez les suites depuis le contrat : « python -m ccas_opendata.suites », puis relancez la commande.",
        )
    return suite


def _kwargs_without(expectation_type: str, kwargs: dict, hidden: tuple[str, ...]) -> dict | None:
    """An expectation's kwargs with nothing about the ``hidden`` columns, or None when
    the expectation is about them (on them, or conditioned on them). Applied to the
    suite and to the results alike, so the Data Docs' two pages agree."""
    mentions = re.compile(r"\b(?:" + "|".join(map(re.escape, hidden)) + r")\b")
    if any(kwargs.get(k) in hidden for k in ("column", "column_A", "column_B")):
        return None
    if mentions.search(str(kwargs.get("row_condition", ""))):
        return None
    if "column_list" in kwargs and any(c in hidden for c in kwargs["column_list"]):
        if expectation_type != "expect_table_columns_to_match_ordered_list":
            return None
        return dict(kwargs, column_list=[c for c in kwargs["column_list"] if c not in hidden])
    return kwargs


def suite_without(suite_json: dict, hidden: tuple[str, ...]) -> dict:
    """The suite with nothing about the ``hidden`` columns: no expectation on them or
    conditioned on them, and they are left out of the expected column lists."""
    if not hidden:
        return suite_json
    expectations = []
    for expectation in suite_json["expectations"]:
        kwargs = _kwargs_without(expectation["type"], dict(expectation["kwargs"]), hidden)
        if kwargs is not None:
            expectations.append(dict(expectation, kwargs=kwargs))
    return dict(suite_json, expectations=expectations)


# What the Data Docs may show of a result: counts and the observed value (a statistic
# of published cells, or the column list), never a sample of values nor row numbers.
_SHOWN_RESULT_KEYS = (
    "observed_value",
    "element_count",
    "missing_count",
    "missing_percent",
    "unexpected_count",
    "unexpected_percent",
    "unexpected_percent_total",
    "unexpected_percent_nonmissing",
)


@dataclass
class Failure:
    suite: str
    expectation: str
    message: str
    column: str
    rows: list[int] = field(default_factory=list)
    count: int = 0

    def as_dict(self) -> dict:
        return {
            "suite": self.suite,
            "attente": self.expectation,
            "message": self.message,
            "colonne": self.column,
            "lignes": self.rows,
            "nombre": self.count,
        }


@dataclass
class Report:
    suite: str
    success: bool
    evaluated: int
    failures: list[Failure]

    def as_dict(self) -> dict:
        return {
            "suite": self.suite,
            "reussi": self.success,
            "attentes_evaluees": self.evaluated,
            "echecs": [f.as_dict() for f in self.failures],
        }


def _codes_regex(codes: list[str]) -> str:
    alternatives = "|".join(re.escape(c) for c in sorted(codes, key=len, reverse=True))
    return rf"^(?:{alternatives})(?:\|(?:{alternatives}))*$"


def raw_parameters(publisher: Publisher, year: int) -> dict:
    """The ``$PARAMETER`` values of the raw-record suites, all from the contract (codes,
    bounds) and the publisher's own lists (``listes_editeur``, with the codes the contract
    adds to them), named as :func:`.suites.parameter` names them."""
    from .ingest.table import publisher_values

    params: dict = {"debut": pd.Timestamp(year, 1, 1), "fin": pd.Timestamp(year, 12, 31), "annee": year}
    for table in SOURCES:
        for column, spec in columns(table).items():
            for bound in ("min", "max"):
                if bound in spec:
                    params[parameter(table, column, bound)] = spec[bound]
            if spec["type"] not in ("code", "codes"):
                continue
            own = publisher_values(column, publisher, table)
            codes = list(own) if own is not None else accepted_codes(table, column) or []
            if spec["type"] == "code":
                params[parameter(table, column, "codes")] = codes
            else:
                params[parameter(table, column, "motif")] = _codes_regex(codes)
    return params


def published_parameters(publisher: Publisher, catalogue: Catalogue, years: list[int]) -> dict:
    return {
        "annees": years,
        "lieux": [ENSEMBLE] + publisher.lieu_codes + extra_codes("lieu"),
        "indicateurs": catalogue.codes,
        "dimensions": [ENSEMBLE] + list(catalogue.dimensions),
        "seuil": publisher.seuil_secret,
    }


#: Modules Great Expectations imports whole at its own import, for expectations and
#: renderers this project's suites never use (``altair`` draws the charts of
#: ``expect_column_kl_divergence_to_be_less_than``, ``scipy.stats`` runs it and the KS
#: tests): about a third of the import's CPU (-0.65 s of ~1.9 s, measured paired). They
#: are loaded on first use instead (:class:`_OnFirstUse`), so a suite that comes to use
#: them still gets them whole.
DEFERRED_BY_GX = ("altair", "scipy.stats")


class _OnFirstUse(types.ModuleType):
    """A stand-in for a module not imported yet: the first attribute read imports the
    real module and takes its namespace, so the names GX bound to the stand-in work as the
    module itself. ``__spec__`` is set, so that the import system sees an initialised
    module (``importlib.util.LazyLoader`` loads on that very check in Python 3.11)."""

    def __getattr__(self, attribute: str):
        name = self.__name__
        if sys.modules.get(name) is self:
            del sys.modules[name]
        module = importlib.import_module(name)
        self.__dict__.update(module.__dict__)
        return getattr(module, attribute)


def _defer_import(name: str) -> None:
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None:
        return
    stand_in = _OnFirstUse(name)
    stand_in.__spec__ = spec
    sys.modules[name] = stand_in


@functools.cache
def _gx():
    """``great_expectations``, imported once per process (~1.3 s of CPU), by the first
    validation: no other command pays for it."""
    from .__main__ import freeze_imports

    for name in DEFERRED_BY_GX:
        _defer_import(name)
    # No collection while its modules load: they build a few million objects that all
    # live as long as the process, and each collection would walk them again (-0.35 s
    # of the ~2 s import, measured), then out of the collector's sight for good.
    gc.disable()
    try:
        import great_expectations as gx
    finally:
        gc.enable()
    freeze_imports()
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    return gx


class _Validator:
    """One ephemeral GX context for a run: data source, suites and Data Docs site."""

    def __init__(self, docs_dir: Path | None = None):
        gx = self.gx = _gx()  # first: how GX is imported is decided there
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self.source = self.context.data_sources.add_pandas("ccas_opendata")
        self.docs_dir = docs_dir
        if docs_dir is not None:
            self.context.add_data_docs_site(
                "publication",
                {
                    "class_name": "SiteBuilder",
                    "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                },
            )

    def validate(self, name: str, frame: pd.DataFrame, parameters: dict, docs_hidden: tuple[str, ...] | None = None) -> Report:
        """Run suite ``name`` on ``frame`` once. With ``docs_hidden`` (one such run per
        context), also write its Data Docs from that same result: they show neither
        values nor row numbers nor batch markers, and nothing about the ``docs_hidden``
        columns, which are checked all the same."""
        gx = self.gx
        suite_json = load_suite(name)
        # Optional input columns that the file does not carry have nothing to check.
        expectations = [
            e
            for e in suite_json["expectations"]
            if all(e["kwargs"][k] in frame.columns for k in ("column", "column_A", "column_B") if k in e["kwargs"])
        ]
        suite = self.context.suites.add(
            gx.ExpectationSuite(
                name=f"{name}_{len(self.context.suites.all())}",
                expectations=expectations,
                meta=suite_json.get("meta", {}),
            )
        )
        # GX checks ranges on nullable Int64 columns about 3× slower than on floats
        # (measured on a million rows): validate a float view of them.
        frame = frame.astype({c: "float64" for c in frame.columns if str(frame[c].dtype) == "Int64"})
        # The asset's name is in the Data Docs' paths: the suite's own name there.
        asset = self.source.add_dataframe_asset(name if docs_hidden is not None else suite.name)
        batch_definition = asset.add_batch_definition_whole_dataframe("tout")
        result_format = {"result_format": "COMPLETE", "include_unexpected_rows": False, "partial_unexpected_count": 0}
        if docs_hidden is not None:
            definition = self.context.validation_definitions.add(
                gx.ValidationDefinition(name=suite.name, data=batch_definition, suite=suite)
            )
            checkpoint = self.context.checkpoints.add(
                gx.Checkpoint(
                    name=suite.name,
                    validation_definitions=[definition],
                    actions=[],
                    result_format=result_format,
                )
            )
            run = checkpoint.run(batch_parameters={"dataframe": frame}, expectation_parameters=parameters)
            identifier, results = next(iter(run.run_results.items()))
        else:
            batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
            results = batch.validate(suite, expectation_parameters=parameters, result_format=result_format)
        failures = []
        for result in results.results:
            if result.success:
                continue
            config = result.expectation_config
            kwargs = config.kwargs
            column = kwargs.get("column") or ", ".join(v for k, v in kwargs.items() if k in ("column_A", "column_B")) or ""
            # An unnamed index makes GX return bare row numbers, not dicts carrying values.
            rows = sorted(int(i["ligne"] if isinstance(i, dict) else i) for i in (result.result or {}).get("unexpected_index_list") or [])
            if result.exception_info and result.exception_info.get("raised_exception"):
                message = f"{config.meta.get('message', config.type)} (le contrôle n'a pas pu s'exécuter)"
            else:
                message = config.meta.get("message", config.type)
            count = int((result.result or {}).get("unexpected_count") or len(rows))
            failures.append(Failure(name, config.type, message, column, rows, count))
        if docs_hidden is not None:
            self._write_docs(name, suite_json, expectations, identifier, results, docs_hidden)
        return Report(name, not failures, len(results.results), failures)

    def _write_docs(self, name: str, suite_json: dict, expectations: list[dict], identifier, results, hidden: tuple[str, ...]) -> None:
        """The Data Docs of a run, from its own result: the results and the suite page
        without the ``hidden`` columns, each result reduced to its counts."""
        from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
        from great_expectations.data_context.types.resource_identifiers import ExpectationSuiteIdentifier, ValidationResultIdentifier

        gx = self.gx
        shown_suite = suite_without(dict(suite_json, expectations=expectations), hidden)
        # The page of the suite keeps the suite's own name.
        self.context.suites.add(gx.ExpectationSuite(name=name, expectations=shown_suite["expectations"], meta=suite_json.get("meta", {})))
        shown = []
        for result in results.results:
            config = result.expectation_config
            kwargs = _kwargs_without(config.type, dict(config.kwargs), hidden)
            if kwargs is None:
                continue
            counts = {k: v for k, v in (result.result or {}).items() if k in _SHOWN_RESULT_KEYS}
            if isinstance(counts.get("observed_value"), list):  # a column list
                counts["observed_value"] = [c for c in counts["observed_value"] if c not in hidden]
            shown.append(
                type(result)(
                    success=result.success,
                    expectation_config=type(config)(type=config.type, kwargs=kwargs, meta=config.meta),
                    result=counts,
                    exception_info=result.exception_info,
                )
            )
        successes = sum(r.success for r in shown)
        statistics = {
            "evaluated_expectations": len(shown),
            "successful_expectations": successes,
            "unsuccessful_expectations": len(shown) - successes,
            "success_percent": 100 * successes / len(shown) if shown else None,
        }
        # No batch markers: they carry a fingerprint of the whole frame.
        meta = dict(results.meta, batch_markers={})
        document = ExpectationSuiteValidationResult(
            success=all(r.success for r in shown),
            results=shown,
            suite_name=name,
            suite_parameters=results.suite_parameters,
            statistics=statistics,
            meta=meta,
        )
        key = ValidationResultIdentifier(ExpectationSuiteIdentifier(name=name), identifier.run_id, identifier.batch_identifier)
        self.context.validation_results_store.set(key, document)
        self.context.build_data_docs(site_names=["publication"], resource_identifiers=[key, ExpectationSuiteIdentifier(name=name)])

    def finish_docs(self) -> None:
        if self.docs_dir is not None and self.docs_dir.exists():
            strip_remote_assets(self.docs_dir)
            list_pages_on_index(self.docs_dir)


def validate_records(tables: dict[str, tuple[str, pd.DataFrame]], publisher: Publisher, year: int) -> dict[str, Report]:
    """Run the raw-record suite of each table (key → (table, frame)) in one GX context;
    each report lists every failing row."""
    validator = _Validator()
    parameters = raw_parameters(publisher, year)
    return {key: validator.validate(RAW_SUITES[table], frame, parameters) for key, (table, frame) in tables.items()}


def check_records(tables: dict[str, pd.DataFrame], files: dict[str, str], publisher: Publisher, year: int) -> list[Problem]:
    """Run the raw-record suites; every failure as a Problem naming file, rows and column."""
    reports = validate_records({name: (name, frame) for name, frame in tables.items()}, publisher, year)
    return [
        Problem(files[name], f.column, f"{f.message}.", tuple(f.rows[:ROWS_KEPT]), f.count, kind="controle")
        for name, report in reports.items()
        for f in report.failures
    ]


def with_check_columns(table: pd.DataFrame, catalogue: Catalogue, year: int) -> pd.DataFrame:
    """The published columns plus the check columns the suite needs, indexed by the
    row number the row will have in ``indicateurs.csv``.

    ``somme_mois`` is, on a year's row, the sum of its sub-periods when every one of them
    is published: its twelve months, or its quarters or semesters for a year published
    coarser (the levels are the catalogue's ``granularite``)."""
    frame = table.reset_index(drop=True).copy()
    frame.index = pd.RangeIndex(2, len(frame) + 2)
    spec = granularity.rules(catalogue)
    totals = frame[frame["dimension"] == ENSEMBLE]
    level = totals["periode"].map({p: spec.level_of_period(p) for p in totals["periode"].unique()})
    parts = totals[level.notna() & (level != granularity.YEAR)].assign(_level=level)
    by_level = ["lieu", "indicateur", "_level"]
    expected = parts["_level"].map({lvl.code: len(granularity.periods(spec, lvl.code, year)) for lvl in spec.periods})
    shown = parts.groupby(by_level)["periode"].transform("size").eq(expected)
    hidden = parts["secret"].ne("").groupby([parts[c] for c in by_level]).transform("any")
    sums = parts[shown & ~hidden].groupby(by_level)["valeur"].sum().reset_index()
    # One level per year: the finest complete one, should a table ever show two.
    rank = sums["_level"].map({lvl.code: n for n, lvl in enumerate(spec.periods)})
    sums = sums.assign(_rank=rank).sort_values("_rank").drop_duplicates(["lieu", "indicateur"])
    sums = sums.set_index(["lieu", "indicateur"])["valeur"]
    is_year = granularity.year_rows(frame["periode"]) & (frame["dimension"] == ENSEMBLE)
    keys = pd.MultiIndex.from_frame(frame[["lieu", "indicateur"]])
    frame["somme_mois"] = sums.reindex(keys).to_numpy()
    frame.loc[~is_year, "somme_mois"] = float("nan")
    # Only counts that add up across periods (the catalogue's « agregation: somme »): for
    # distinct persons, shares and means the sum of the sub-periods is not the year.
    summed = {i.code for i in catalogue.indicators if i.agregation == "somme"}
    frame.loc[~frame["indicateur"].isin(summed), "somme_mois"] = float("nan")
    if "personnes" not in frame:
        frame["personnes"] = pd.NA
    return frame


def validate_published(table: pd.DataFrame, publisher: Publisher, catalogue: Catalogue, year: int, docs_dir: Path | None = None) -> Report:
    """Run the published-table suite on the year's table (with its ``personnes`` column),
    build Data Docs into ``docs_dir``; raise ValidationFailed on any failed expectation.

    One run: the Data Docs, published with the year, are written from its result
    without ``personnes`` (what the secret protects), so they describe nothing a
    reader of ``indicateurs.csv`` could not compute."""
    validator = _Validator(docs_dir)
    frame = with_check_columns(table, catalogue, year)
    columns = PUBLISHED_COLUMNS + CHECK_COLUMNS
    parameters = published_parameters(publisher, catalogue, [year])
    hidden = tuple(c for c in CHECK_COLUMNS if c not in DERIVED_CHECK_COLUMNS)
    report = validator.validate(PUBLISHED_SUITE, frame[columns], parameters, docs_hidden=hidden if docs_dir is not None else None)
    if docs_dir is not None:
        validator.finish_docs()
    if not report.success:
        lines = [
            f"« {f.message} » ({f.expectation}), colonne « {f.column} », lignes de indicateurs.csv : "
            f"{', '.join(map(str, f.rows[:10])) or '—'}" + (f" (et {f.count - 10} autres)" if f.count > 10 else "")
            for f in report.failures
        ]
        raise ValidationFailed("Le contrôle des tables à publier a échoué :\n  - " + "\n  - ".join(lines))
    return report


_REMOTE = re.compile(r"""<(script|link|img)\b[^>]*\b(?:src|href)\s*=\s*["']https?://[^"']*["'][^>]*>(?:\s*</script>)?""", re.I)
_REMOTE_ANCHOR = re.compile(r"""<a\b[^>]*\bhref\s*=\s*["']https?://[^"']*["'][^>]*>(.*?)</a>""", re.I | re.S)


def list_pages_on_index(directory: Path) -> None:
    """GX's index lists its pages with a script loaded from a CDN, which the site does
    not load: write the list into the page itself, in French."""
    index = directory / "index.html"
    if not index.exists():
        return
    links = []
    for kind, label in (("validations", "Résultat du contrôle des tables publiées"), ("expectations", "Liste des attentes contrôlées")):
        for page in sorted((directory / kind).rglob("*.html")):
            links.append(f'<li><a href="{page.relative_to(directory).as_posix()}">{label}</a></li>')
    block = (
        '<section lang="fr" style="font-family: sans-serif; margin: 1rem;"><h1>Contrôle qualité (Great Expectations)</h1>'
        "<p>Chaque année, avant publication, la table des indicateurs est vérifiée par une suite d'attentes "
        "(schéma, parts entre 0 et 100, aucun chiffre sous le seuil de secret, mois qui font l'année). "
        "Les contrôles qui portent sur des colonnes internes, jamais publiées, sont exécutés mais ne sont pas "
        "décrits ici.</p>"
        f"<ul>{''.join(links)}</ul></section>"
    )
    text = index.read_text(encoding="utf-8")
    index.write_text(re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + block, text, count=1), encoding="utf-8")


def strip_remote_assets(directory: Path) -> None:
    """GX Data Docs load Bootstrap, jQuery and Vega from CDNs and logos from S3: the
    published site makes no third-party request, so those tags are removed (the pages
    stay readable, less styled)."""
    for page in directory.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        text = _REMOTE.sub("", text)
        text = _REMOTE_ANCHOR.sub(r"\1", text)
        page.write_text(text, encoding="utf-8")
    for junk in ("static/images", "static/fonts"):
        shutil.rmtree(directory / junk, ignore_errors=True)
