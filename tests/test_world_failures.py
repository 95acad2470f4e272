"""The world's failures, met in French: a second run in the same folder, a stop signal,
a full disk, a spreadsheet that expands to hundreds of megabytes, a key others can
read or guess, a contact or a link that is not what it should be.

Each is provoked for real (a real concurrent release, real signals, a real tmpfs that
fills up, a real zip), and each leaves the previous publication byte for byte intact.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from conftest import REPO, release, snapshot

from ccas_opendata.anonymise import SNAPSHOT_SUFFIX
from ccas_opendata.archive import oversized_archive

YEAR = 2024


def as_background_job() -> None:
    """What a shell does to a command started with ``&``: SIGINT ignored, inherited."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def start_release(folder: Path, inputs: Path, background: bool = False) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ccas_opendata.cli", "release", "--dossier", str(folder), "--annee", str(YEAR), str(inputs)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=as_background_job if background else None,
    )


def wait_for(condition, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "délai dépassé"
        time.sleep(0.05)


# --- one run at a time ----------------------------------------------------------------


@pytest.mark.slow
def test_a_second_release_in_the_same_folder_is_refused_naming_the_first(published_copy: Path, small_inputs):
    first = start_release(published_copy, small_inputs[YEAR])
    holder = published_copy / ".travail" / "en-cours.json"
    wait_for(lambda: holder.exists() or first.poll() is not None)
    second = release(published_copy, YEAR, small_inputs[YEAR])
    _out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert second.exit_code == 1
    assert "Une autre commande travaille déjà dans le dossier" in second.stderr
    assert f"« ccas-opendata release » (processus {first.pid}, lancée le " in second.stderr
    assert "Traceback" not in second.output
    assert not (published_copy / ".travail").exists()


# --- stop signals -----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_stopped_release_leaves_no_person_level_file(published_copy: Path, small_inputs, signum):
    before = snapshot(published_copy)
    # Started as a shell's background job (SIGINT inherited ignored): the agent's
    # ``kill -INT`` must stop it all the same.
    process = start_release(published_copy, small_inputs[YEAR], background=True)
    records = published_copy / ".travail" / str(YEAR) / "instantane" / f"accompagnements{SNAPSHOT_SUFFIX}"
    wait_for(lambda: records.exists() or process.poll() is not None)
    process.send_signal(signum)
    process.communicate(timeout=120)
    assert process.returncode != 0
    assert not (published_copy / ".travail" / str(YEAR)).exists()
    assert snapshot(published_copy) == before


def test_a_release_starts_by_removing_every_years_leftovers(published_copy: Path, tmp_path: Path):
    """Leftovers of another year (a run killed years ago) go too, even when this release
    is refused at once."""
    leftover = published_copy / ".travail" / "2019" / "instantane"
    leftover.mkdir(parents=True)
    (leftover / "accompagnements.csv").write_text("usager\nCANARI-2019\n")
    (published_copy / ".travail" / "2022").mkdir()
    (published_copy / ".travail" / "2022" / "indicateurs_internes.csv").write_text("vraie valeur cachée\n")
    result = release(published_copy, YEAR, tmp_path / "absent")
    assert result.exit_code == 1
    assert not (published_copy / ".travail" / "2019").exists()
    assert not (published_copy / ".travail" / "2022").exists()


# --- a full disk -------------------------------------------------------------------------


def _can_mount_tmpfs() -> bool:
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt 2>/dev/null || mount -t tmpfs -o size=1m tmpfs /tmp"],
        capture_output=True,
    )
    return probe.returncode == 0


FULL_DISK = r"""
import hashlib, json, shutil, subprocess, sys
from pathlib import Path
source, mount = Path(sys.argv[1]), Path(sys.argv[2])
folder = mount / "ccas"
shutil.copytree(source, folder, symlinks=True)
def digest():
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}
before = digest()
run = subprocess.run([sys.executable, "-m", "ccas_opendata.cli", "release", "--dossier", str(folder), "--annee", sys.argv[4], sys.argv[3]],
                     capture_output=True, text=True)
print(json.dumps({"code": run.returncode, "stderr": run.stderr, "same": digest() == before,
                  "travail": (folder / ".travail").exists()}))
"""


@pytest.mark.slow
@pytest.mark.skipif(not _can_mount_tmpfs(), reason="unshare -rm (espace de noms utilisateur) indisponible : pas de disque plein de test")
def test_a_full_disk_stops_the_release_in_french(published: Path, small_inputs, tmp_path: Path):
    """A real tmpfs with 600 KB free beyond the folder: the new publish/ does not fit."""
    # tmpfs allocates whole 4 KiB pages per file and per folder: count them so, or the copy
    # of a folder with many small files (the charts' CSV, SVG, PNG) does not fit at all.
    page = 4096
    used = sum(-(-p.stat().st_size // page) * page if p.is_file() else page for p in published.rglob("*"))
    size_kb = used // 1024 + 600
    mount = tmp_path / "disque"
    mount.mkdir()
    script = tmp_path / "plein.py"
    script.write_text(FULL_DISK)
    shell = f"mount -t tmpfs -o size={size_kb}k tmpfs {mount} && {sys.executable} {script} {published} {mount} {small_inputs[YEAR]} {YEAR}"
    outcome = subprocess.run(["unshare", "-rm", "sh", "-c", shell], capture_output=True, text=True, timeout=600, cwd=REPO)
    assert outcome.returncode == 0, outcome.stderr
    result = json.loads(outcome.stdout.strip().splitlines()[-1])
    assert result["code"] == 1, result
    assert "Erreur : Le disque est plein" in result["stderr"], result["stderr"][-3000:]
    assert "Libérez de la place" in result["stderr"]
    assert "Traceback" not in result["stderr"]
    assert result["same"], "la publication précédente a changé"


# --- an archive that expands too much ----------------------------------------------------


@pytest.fixture(scope="module")
def expanding_xlsx(tmp_path_factory) -> Path:
    """An .xlsx of about 400 KB that expands to 406 MB (one sheet of blanks)."""
    path = tmp_path_factory.mktemp("bombe") / "accompagnements.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            block = b" " * 1_000_000
            for _ in range(406):
                sheet.write(block)
    return path


def test_an_archive_expanding_past_the_limit_is_refused_before_reading(expanding_xlsx: Path, published_copy: Path):
    assert expanding_xlsx.stat().st_size < 1_000_000
    before = snapshot(published_copy)
    started = time.process_time()
    result = release(published_copy, YEAR, expanding_xlsx.parent)
    cpu = time.process_time() - started
    assert result.exit_code == 1
    assert "accompagnements.xlsx : une fois décompressé, ce fichier ferait 406 Mo, plus que les 200 Mo permis" in result.stderr
    assert cpu < 10, cpu  # read to the end, it took about a minute and 632 MB
    assert snapshot(published_copy) == before


def test_a_truncated_spreadsheet_is_named_not_a_traceback(tmp_path: Path, small_inputs):
    broken = tmp_path / "accompagnements.xlsx"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    problem = oversized_archive(broken)
    assert problem is not None and "illisible (abîmé, tronqué" in problem.describe()


# --- the key ------------------------------------------------------------------------------

GOOD_KEY = "3bcecbf94e2b7f16e2baa17984a11028f886a2ef53700b6fb8bdc30061e53fe9"


def key_release(folder: Path, inputs: Path, key_file: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k != "CCAS_OPENDATA_CLE"}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "ccas_opendata.cli",
            "release",
            "--essai",
            "--dossier",
            str(folder),
            "--annee",
            "2023",
            "--cle-fichier",
            str(key_file),
            str(inputs),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    return run.stderr


@pytest.mark.parametrize(
    ("mode", "folder_mode", "expected"),
    [
        (0o644, 0o700, "est lisible par d'autres comptes que le vôtre (droits -rw-r--r--)"),
        (0o640, 0o700, "est lisible par d'autres comptes"),
        (0o600, 0o777, "est modifiable par tous"),
    ],
)
def test_a_key_file_others_can_read_or_replace_is_refused(folder: Path, tmp_path: Path, small_inputs, mode, folder_mode, expected):
    keys = tmp_path / "cles"
    keys.mkdir()
    key_file = keys / "cle"
    key_file.write_text(GOOD_KEY + "\n")
    key_file.chmod(mode)
    keys.chmod(folder_mode)
    try:
        stderr = key_release(folder, small_inputs[2023], key_file)
    finally:
        keys.chmod(0o700)
    assert expected in stderr
    assert "Traceback" not in stderr
    assert not (folder / "datapackages").exists()


@pytest.mark.parametrize("key", ["a" * 32, "ab" * 20, "z" * 64])
def test_a_guessable_key_is_refused(folder: Path, small_inputs, monkeypatch, key):
    monkeypatch.setenv("CCAS_OPENDATA_CLE", key)
    result = release(folder, 2023, small_inputs[2023])
    assert result.exit_code == 1
    assert "La clé de pseudonymisation est trop prévisible" in result.stderr
    assert not (folder / "datapackages").exists()


# --- contact and links --------------------------------------------------------------------


def set_organisation(folder: Path, **values: str) -> None:
    path = folder / "metadata" / "organisation.yml"
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.split(":")[0] not in values]
    lines += [f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"contact": "Mme Martin"}, "« contact » doit être une adresse électronique"),
        ({"contact": "donnees@ville"}, "« contact » doit être une adresse électronique"),
        ({"site_web": "javascript:alert(document.cookie)"}, "« site_web » doit être une adresse http:// ou https://"),
        ({"site_web": "www.ma-commune.fr"}, "« site_web » doit être une adresse http:// ou https://"),
        ({"hebergeur": "data:text/html,<script>alert(1)</script>"}, "« hebergeur » : seules les adresses http:// ou https://"),
    ],
)
def test_a_bad_contact_or_link_is_caught_when_the_metadata_is_read(folder: Path, small_inputs, values, expected):
    set_organisation(folder, **values)
    started = time.process_time()
    result = release(folder, 2023, small_inputs[2023])
    assert result.exit_code == 1
    assert expected in result.stderr
    assert "signalez" not in result.stderr  # not at step 4 as a bug, at once as a configuration to fix
    assert time.process_time() - started < 5
    assert not (folder / "datapackages").exists()


def test_a_truncated_spreadsheet_stops_the_release_in_french(published_copy: Path, small_inputs, tmp_path: Path):
    inputs = tmp_path / "entrees"
    shutil.copytree(small_inputs[YEAR], inputs)
    (inputs / "accompagnements.csv").unlink()
    whole = tmp_path / "entier.xlsx"
    import pandas as pd

    pd.DataFrame({"usager": ["a"], "date": ["01/01/2024"]}).to_excel(whole, index=False)
    (inputs / "accompagnements.xlsx").write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])  # a copy cut short
    before = snapshot(published_copy)
    result = release(published_copy, YEAR, inputs)
    assert result.exit_code == 1
    assert "Fichiers illisibles (1) :\n  - accompagnements.xlsx : ce fichier XLSX est illisible (abîmé, tronqué" in result.stderr
    assert "Traceback" not in result.output
    assert snapshot(published_copy) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root lit tout")
def test_an_input_file_without_read_permission_is_named_in_french(published_copy: Path, small_inputs, tmp_path: Path):
    inputs = tmp_path / "entrees"
    shutil.copytree(small_inputs[YEAR], inputs)
    (inputs / "ateliers.csv").chmod(0)
    before = snapshot(published_copy)
    result = release(published_copy, YEAR, inputs)
    assert result.exit_code == 1
    assert "Erreur : Accès refusé (" in result.stderr and "ateliers.csv)" in result.stderr
    assert "Traceback" not in result.output
    assert snapshot(published_copy) == before
