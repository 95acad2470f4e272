"""Shared fixtures: publication folders in tmp_path, synthetic inputs, a real Datasette.

Nothing here replaces a component: releases run the real ingest, Great Expectations,
Frictionless and sqlite-utils; servers are real Datasette processes on 127.0.0.1.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import inspect
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from ccas_opendata.aggregate import MEASURES
from ccas_opendata.anonymise import anonymise
from ccas_opendata.catalogue import Catalogue, load_catalogue
from ccas_opendata.cli import cli
from ccas_opendata.ingest import read_records
from ccas_opendata.layout import Layout
from ccas_opendata.publisher import Publisher, read_publisher
from ccas_opendata.demo import write_demo_year

REPO = Path(__file__).resolve().parent.parent
# The official shapes and schemas the team keeps beside the repository (``../shared/external``,
# with their sources); CCAS_SHARED_EXTERNAL points elsewhere when a checkout lives apart.
SHARED_EXTERNAL = Path(os.environ.get("CCAS_SHARED_EXTERNAL", REPO.parent / "shared" / "external"))
needs_shared_external = pytest.mark.skipif(
    not SHARED_EXTERNAL.is_dir(),
    reason=f"{SHARED_EXTERNAL} absent: the official DCAT-AP shapes and lieux schema live there",
)
TEST_KEY = "cle-de-test-uniquement-" + "7" * 24
# A fixed release date: re-running a release must give byte-identical packages.
EPOCH = "1767225600"
SMALL_YEAR = 1500
YEARS = (2023, 2024)

# Session fixtures run releases before any function-scoped fixture exists: the key and
# the release date are part of the test environment, set once here.
os.environ["CCAS_OPENDATA_CLE"] = TEST_KEY
os.environ["SOURCE_DATE_EPOCH"] = EPOCH


def demo_year_tables(path: Path, year: int, size: int) -> tuple[Publisher, Catalogue, dict]:
    """The demo CCAS's publisher and catalogue, and a generated year of ``size``
    accompaniments written as a CSV in ``path``, read and anonymised by the real stages
    (no release): for tests of aggregation, granularity and secrecy on the frames."""
    publisher = read_publisher(REPO)
    catalogue = load_catalogue(Layout(REPO).catalogue, frozenset(MEASURES))
    inputs = write_demo_year(path, year, publisher, size=size, form="csv-utf8")
    return publisher, catalogue, anonymise(read_records(inputs), publisher, year, b"k" * 32)


def make_folder(path: Path) -> Path:
    """A publication folder with the demo CCAS's metadata."""
    path.mkdir(parents=True, exist_ok=True)
    shutil.copytree(REPO / "metadata", path / "metadata", symlinks=False)
    return path


def invoke(*args: object) -> CliResult:
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    return CliResult(result.exit_code, result.stdout, result.stderr)


class CliResult:
    def __init__(self, exit_code: int, stdout: str, stderr: str):
        self.exit_code, self.stdout, self.stderr = exit_code, stdout, stderr

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __repr__(self) -> str:
        return f"CliResult(exit_code={self.exit_code}, output={self.output[-2000:]!r})"


def release(folder: Path, year: int, inputs: Path, *extra: object) -> CliResult:
    return invoke("release", "--dossier", folder, "--annee", year, *extra, inputs)


def snapshot(folder: Path) -> dict[str, str]:
    """sha256 of every file a publication consists of (packages and publish/)."""
    digests = {}
    for sub in ("datapackages", "publish"):
        base = folder / sub
        if base.exists():
            for path in sorted(base.rglob("*")):
                if path.is_file():
                    digests[str(path.relative_to(folder))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return make_folder(tmp_path / "ccas")


@pytest.fixture(scope="session")
def publisher():
    return read_publisher(REPO)


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]) -> Path:
    """The folder ``name``, filled by ``build`` once for the whole run.

    Under pytest-xdist each worker is a session of its own, and would release the published
    years again: the first worker that needs the folder builds it under an exclusive lock in
    the run's temporary root (the parent of every worker's base), the others wait for it and
    read the same folder. A build that failed leaves no completion mark, so the next worker
    tries again and reports its own failure. Without xdist, a plain ``mktemp`` folder."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        folder = tmp_path_factory.mktemp(name)
        build(folder)
        return folder
    root = tmp_path_factory.getbasetemp().parent
    folder, done = root / name, root / f"{name}.built"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            done.touch()
    return folder


@pytest.fixture(scope="session")
def small_inputs(tmp_path_factory, publisher) -> dict[int, Path]:
    """Two small synthetic years (Excel-style CSV), shared read-only by the tests."""

    def build(base: Path) -> None:
        for year in YEARS:
            write_demo_year(base / str(year), year, publisher, size=SMALL_YEAR, form="csv-excel")

    base = built_once(tmp_path_factory, "entrees", build)
    return {year: base / str(year) for year in YEARS}


def every_file(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder``, private work area included."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def published(tmp_path_factory, small_inputs):
    """A folder with 2023 and 2024 released. Tests must not modify it: under xdist the
    workers share it (see ``built_once``), so the session checks at its end that no file
    of it changed, appeared or went (a test that needs to write works on ``published_copy``)."""

    def build(base: Path) -> None:
        folder = make_folder(base / "ccas")
        for year, inputs in small_inputs.items():
            result = release(folder, year, inputs)
            assert result.exit_code == 0, result

    folder = built_once(tmp_path_factory, "publie", build) / "ccas"
    before = every_file(folder)
    yield folder
    assert every_file(folder) == before, "a test modified the shared published folder: tests that write use published_copy"


def copy_folder(source: Path, tmp_path: Path) -> Path:
    """A test's own copy of a folder built once for the module or the session."""
    target = tmp_path / "ccas"
    shutil.copytree(source, target, symlinks=True)
    return target


@pytest.fixture
def published_copy(tmp_path: Path, published: Path) -> Path:
    """A private copy of the published folder, for tests that release more years."""
    return copy_folder(published, tmp_path)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``ccas-opendata serve``, or with ``plain=True`` Datasette itself on ``publish/``."""

    def __init__(self, folder: Path, plain: bool = False):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = (
            [sys.executable, "-m", "datasette", "serve", str(folder / "publish"), "--host", "127.0.0.1"]
            if plain
            else [sys.executable, "-m", "ccas_opendata.cli", "serve", "--dossier", str(folder)]
        )
        self.process = subprocess.Popen(command + ["--port", str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                assert self.process.stderr is not None  # opened with stderr=PIPE
                raise RuntimeError("Datasette s'est arrêté : " + self.process.stderr.read().decode()[-2000:])
            try:
                if httpx.get(self.url + "/-/versions.json", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("Datasette n'a pas démarré en 60 s")

    def get(self, path: str, **kwargs) -> httpx.Response:
        return httpx.get(self.url + path, timeout=10, **kwargs)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture(scope="session")
def server(published: Path):
    """A real Datasette serving the published folder on 127.0.0.1."""
    running = Server(published)
    yield running
    running.stop()


# --- the fast subset: a test that runs a release is slow, whether it says so or not ----------------

# What starts a release (or one of its stages) in a test or a fixture: the CLI's commands,
# the release function, a child process of the CLI, a Datasette server on a released folder.
_RELEASES = re.compile(
    r"""\b(?:release|run_release|stage_\w+)\(|invoke\(\s*["'](?:release|anonymise|aggregate|validate|package|publish|demo)["']"""
    r"""|["']-m["'],\s*["']ccas_opendata|\bServer\("""
)


_CALLS = re.compile(r"\b([A-Za-z_]\w*)\(")
TESTS_DIR = Path(__file__).resolve().parent


@functools.cache
def _starts_a_release(function, seen: frozenset = frozenset()) -> bool:
    """Whether ``function``, or a helper of the test modules it calls, starts a release."""
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        return False
    if _RELEASES.search(source):
        return True
    for name in set(_CALLS.findall(source)) - seen:
        helper = getattr(function, "__globals__", {}).get(name)
        if inspect.isfunction(helper) and helper is not function and Path(inspect.getfile(helper)).resolve().parent == TESTS_DIR:
            if _starts_a_release(helper, seen | {name}):
                return True
    return False


def pytest_collection_modifyitems(config, items):
    """Mark ``slow`` every test whose body or any fixture it uses (directly or through
    other fixtures) starts a release, so ``make test-fast`` never waits on one: read from
    the source, not declared by hand (three such tests once ran unmarked)."""
    for item in items:
        if item.get_closest_marker("slow"):
            continue
        functions = [getattr(item, "function", None)]
        for name in getattr(item, "fixturenames", ()):
            for definition in item._fixtureinfo.name2fixturedefs.get(name, ()):
                functions.append(definition.func)
        if any(f is not None and _starts_a_release(f) for f in functions):
            item.add_marker(pytest.mark.slow)
