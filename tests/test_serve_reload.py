"""A running ``serve`` picks up a new publication by itself, and never mixes two: a
real server on a published folder while a real release of the next year is made."""

from __future__ import annotations

import importlib.util
import shutil
import threading
import time
from pathlib import Path

import httpx
import pytest

from conftest import SMALL_YEAR, Server, release

import ccas_opendata.site
from ccas_opendata.demo import write_demo_year

NEW = 2025
PLUGIN_SOURCE = Path(ccas_opendata.site.__file__).parent / "plugin.py"


def state(server: Server) -> tuple[int, int, int, bool | None]:
    """(status of /, of /bilan/2025, of the downloads list, whether that list has 2025)."""
    home = server.get("/")
    bilan = server.get(f"/bilan/{NEW}")
    downloads = server.get("/telechargements/telechargements.json")
    listed = None if downloads.status_code != 200 else f"ccas-opendata-{NEW}.zip" in downloads.text
    return home.status_code, bilan.status_code, downloads.status_code, listed


# Its reads are placed in time (« 0.5 s after the release »): it runs alone (pyproject's timing).
@pytest.mark.slow
@pytest.mark.timing
def test_serve_switches_to_the_new_publication_without_a_restart(published_copy: Path, tmp_path: Path, publisher):
    inputs = write_demo_year(tmp_path / "entrees" / str(NEW), NEW, publisher, size=SMALL_YEAR, form="csv-excel")
    server = Server(published_copy)
    try:
        assert state(server) == (200, 404, 200, False)
        seen: list[tuple[float, tuple]] = []
        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set():
                try:
                    seen.append((time.monotonic(), state(server)))
                except httpx.HTTPError:
                    seen.append((time.monotonic(), ("connexion",)))

        watcher = threading.Thread(target=watch)
        watcher.start()
        result = release(published_copy, NEW, inputs)
        released = time.monotonic()
        assert result.exit_code == 0, result
        deadline = released + 60
        while time.monotonic() < deadline and not (seen and seen[-1][1] == (200, 200, 200, True)):
            time.sleep(0.2)
        stop.set()
        watcher.join(30)
        assert seen[-1][1] == (200, 200, 200, True), seen[-5:]
        assert server.process.poll() is None  # the same process, never restarted by hand
        old, new = (200, 404, 200, False), (200, 200, 200, True)
        for _, observed in seen:
            # Each answer is the old publication, the new one, or « reloading »: never a mix
            # (old pages with the new zips, or the new list with /bilan/2025 missing).
            if observed in (old, new) or observed == ("connexion",):
                continue
            assert all(status in (200, 404, 503) for status in observed[:3]), observed
            assert 503 in observed[:3], observed
        after = [observed for moment, observed in seen if moment > released + 0.5]
        assert old not in after[3:], ("l'ancienne publication est encore servie après la mise en ligne", after[:8])
    finally:
        server.stop()


def load_plugin(publish: Path):
    """The pages plugin as Datasette loads it: a module imported from ``publish/plugins/``."""
    spec = importlib.util.spec_from_file_location(f"pages_plugin_{id(publish)}", publish / "plugins" / "plugin.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_running_server_reads_the_downloads_of_its_own_publication(tmp_path: Path):
    """A request that passed the freshness check just before a release renames ``publish/``
    away still reads the downloads list of the publication the process started on, never
    the new one beside the old pages (the old folder is read through a descriptor)."""

    def publication(path: Path, manifest: str) -> Path:
        (path / "plugins").mkdir(parents=True)
        shutil.copyfile(PLUGIN_SOURCE, path / "plugins" / "plugin.py")
        (path / "telechargements").mkdir()
        (path / "telechargements" / "telechargements.json").write_text(manifest, encoding="utf-8")
        return path

    publish = publication(tmp_path / "publish", '{"fichiers": ["ancienne"]}')
    running = load_plugin(publish)
    publish.rename(tmp_path / "ancien")  # the switch: old folder away, new one in
    publication(tmp_path / "publish", '{"fichiers": ["nouvelle"]}')
    assert running._read_download("telechargements.json") == b'{"fichiers": ["ancienne"]}'
    assert running._read_download("absent.zip") is None
    assert load_plugin(tmp_path / "publish")._read_download("telechargements.json") == b'{"fichiers": ["nouvelle"]}'
