"""Unknown addresses: one French 404 everywhere (the site's pages, Datasette's databases,
tables and rows, paths starting with a dot), JSON for JSON addresses, no traceback in the
log; and ``ccas-opendata serve`` stopped by its PID leaves nothing listening."""

from __future__ import annotations

import os
import signal
import socket
import time

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from conftest import free_port

pytestmark = pytest.mark.slow

UNKNOWN = [
    "/.well-known/security.txt",  # a dot path: Datasette answered 500
    "/.env",
    "/nope",  # « Database not found »
    "/indicateurs/nope",  # « Table not found »
    "/indicateurs/indicateurs/zzz",  # a row address with 1 of 6 key values: Datasette answered 500
    "/indicateurs/lieux/nope",  # a row that does not exist
    "/bilan/1999",  # a page route of the site, for a year never published
    "/indicateur/nope",
    "/static/nope.css",
]
JSON_UNKNOWN = ["/nope.json", "/indicateurs/nope.json", "/indicateurs/indicateurs/zzz.json"]


@pytest.fixture(scope="module")
def answered(published, tmp_path_factory):
    """Each unknown address asked of ``ccas-opendata serve`` (its stdout and stderr, where
    Datasette writes its access lines and tracebacks, kept in a file), then serve stopped by
    SIGTERM to its PID: the answers, the log, and whether the port still answers."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("journal") / "serve.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "ccas_opendata.cli", "serve", "--dossier", str(published), "--port", str(port)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
        try:
            if httpx.get(base + "/-/versions.json", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    try:
        answers = {path: httpx.get(base + path, timeout=10) for path in UNKNOWN}
        answers_json = {path: httpx.get(base + path, timeout=10) for path in JSON_UNKNOWN}
    finally:
        os.kill(process.pid, signal.SIGTERM)
        process.wait(20)
    time.sleep(0.5)
    with socket.socket() as probe:
        still_listening = probe.connect_ex(("127.0.0.1", port)) == 0
    return answers, answers_json, log_path.read_text(encoding="utf-8", errors="replace"), still_listening


def test_every_unknown_address_answers_the_french_404(answered):
    answers, _, _, _ = answered
    for path, response in answers.items():
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html"), path
        assert '<html lang="fr"' in response.text and "<title>Page introuvable" in response.text, path
        assert "Cette adresse ne correspond à aucune page" in response.text, path
        for english in ("not found", "Not Found", "Traceback", "Error 404"):
            assert english not in response.text, (path, english)


def test_json_addresses_answer_a_french_json_404(answered):
    _, answers, _, _ = answered
    for path, response in answers.items():
        assert response.status_code == 404, path
        body = response.json()
        assert body["ok"] is False and body["status"] == 404 and body["title"] == "Page introuvable", path


def test_no_traceback_in_the_log(answered):
    _, _, log, _ = answered
    assert log.count(" 404 Not Found") == len(UNKNOWN) + len(JSON_UNKNOWN)  # one access line each
    for word in ("Traceback", "Exception", "500 Internal"):
        assert word not in log


def test_serve_stopped_by_its_pid_leaves_nothing_listening(answered):
    _, _, _, still_listening = answered
    assert not still_listening


def test_the_trial_site_stops_with_release_and_is_erased(folder, small_inputs):
    """``release --essai --servir PORT`` stopped by SIGTERM to its PID: Datasette stops with it,
    and the trial site is erased (it ran as a child, left running before, after a NameError)."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ccas_opendata.cli",
            "release",
            "--dossier",
            str(folder),
            "--annee",
            "2024",
            "--essai",
            "--servir",
            str(port),
            str(small_inputs[2024]),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None  # opened with stdout=PIPE
    deadline = time.monotonic() + 180
    while True:
        assert process.poll() is None and time.monotonic() < deadline, process.stdout.read().decode()[-3000:]
        try:
            if httpx.get(f"http://127.0.0.1:{port}/bilan/2024", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    child = subprocess.run(["ps", "-ww", "-o", "args=", "--ppid", str(process.pid)], capture_output=True, text=True).stdout
    trial_site = Path(child.split(" serve ", 1)[1].split()[0])  # Datasette's argument: the trial's publish/
    assert trial_site.name == "publish" and trial_site.parent.name.startswith("ccas-opendata-essai-") and trial_site.exists()
    os.kill(process.pid, signal.SIGTERM)
    assert process.wait(30) is not None
    time.sleep(0.5)
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0
    assert not trial_site.parent.exists()
    assert not (folder / "publish").exists()  # a trial publishes nothing
