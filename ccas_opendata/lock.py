"""One command at a time in a publication folder: an OS lock on the folder itself.

Two releases in one folder would clear each other's work area and race on the switch.
The lock is ``flock(2)`` on the folder's own directory (no lock file to leave behind
or to publish): the kernel drops it when the process ends, however it ends, so a
killed run never leaves the folder locked. Who holds it (command, process, start
time) is written in the private work area, for the message the other run prints.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .layout import Layout, private_file
from .errors import ConcurrentRunError

HOLDER = "en-cours.json"


@contextmanager
def publication_lock(folder: Path, command: str) -> Iterator[None]:
    """Hold the folder's lock while the block runs; refuse at once, in French, naming
    the other run, if another process holds it."""
    folder = folder.resolve()
    if not folder.is_dir():
        yield  # nothing to protect yet: the command says what is missing
        return
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConcurrentRunError(f"Une autre commande travaille déjà dans le dossier {folder} : {_holder(folder)}.") from None
        holder = Layout(folder).work / HOLDER
        private_file(holder).write_text(
            json.dumps({"commande": command, "pid": os.getpid(), "debut": time.strftime("%d/%m/%Y à %H:%M:%S")}, ensure_ascii=False),
            encoding="utf-8",
        )
        try:
            yield
        finally:
            holder.unlink(missing_ok=True)
            try:
                Layout(folder).work.rmdir()  # only when nothing else is left in it
            except OSError:
                pass
    finally:
        os.close(descriptor)  # releases the lock


def _holder(folder: Path) -> str:
    try:
        info = json.loads((Layout(folder).work / HOLDER).read_text(encoding="utf-8"))
        return f"« ccas-opendata {info['commande']} » (processus {info['pid']}, lancée le {info['debut']})"
    except (OSError, ValueError, KeyError):
        return "une commande ccas-opendata qui vient de démarrer"
