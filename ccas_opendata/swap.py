"""The switch of a new publication into place: a journal, then renames, replayable.

A publication is several things side by side (the year's package, the next year's
when a revision recomputes its evolutions, ``publish/``, ``telechargements/``,
``changements.json``, the version's records in ``.versions/``). No single rename
moves them all, so a run killed between two renames would leave a mixed folder: the
year online without its changelog entry, or ``publish/`` gone.

Hence a journal. Before the first rename, the list of moves is written to
``.travail/bascule.json`` (written whole, synced, then renamed into place: it exists
entirely or not at all). That is the commit point:

- killed before it, nothing was renamed: the folder is the old publication, untouched;
- killed after it, the next command that opens the folder (``release``, any stage,
  ``serve``) calls :func:`recover`, which finishes the moves from whatever point the
  kill left them at, then removes the journal: the folder is the new publication.

Each move is two renames, ``target → backup`` then ``staged → target``; from the state
of the three paths :func:`_apply` knows which of them is still to do, so replaying a
journal any number of times, killed anywhere, ends in the same place. The staged
sources live in ``.travail/``, which nothing clears before :func:`recover` has run.

Test hook: :data:`STOP_ENV` (``CCAS_OPENDATA_ARRET_BASCULE=N``) makes the process kill
itself with SIGKILL after N actions of the switch (1: the journal written, then each
rename, last: the journal removed), so that the tests can kill a real release at every
step. Nothing else reads it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .layout import Layout, private_dir, private_file
from .errors import CcasError

JOURNAL = "bascule.json"
STOP_ENV = "CCAS_OPENDATA_ARRET_BASCULE"
#: Signals a user or a system sends to stop a run: held back while the renames run, so
#: that only SIGKILL (or a power cut, which the journal covers too) can interrupt them.
HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT}


def journal_path(folder: Path) -> Path:
    return Layout(folder).work / JOURNAL


class _Actions:
    """Counts the switch's actions for the test hook."""

    def __init__(self) -> None:
        stop = os.environ.get(STOP_ENV, "").strip()
        self.stop = int(stop) if stop.isdigit() else None
        self.done = 0

    def tick(self) -> None:
        self.done += 1
        if self.stop is not None and self.done >= self.stop:
            os.kill(os.getpid(), signal.SIGKILL)


def swap_in(folder: Path, moves: list[tuple[Path, Path]], backup: Path) -> None:
    """Put each staged path (second of a pair) at its target (first), the old target
    going to ``backup``: journal first, so that a kill at any instant is finished by
    :func:`recover`. On an error (disk, permissions), every rename is undone."""
    folder = folder.resolve()
    private_dir(backup)
    entries = [
        {"cible": _relative(folder, target), "nouveau": _relative(folder, new), "ancien": _relative(folder, backup / str(n))}
        for n, (target, new) in enumerate(moves)
    ]
    actions = _Actions()
    if actions.stop == 0:
        actions.tick()
    with held_signals():
        _write_journal(folder, entries, _relative(folder, backup.parent))
        actions.tick()
        try:
            _replay(folder, entries, actions)
        except OSError:
            _undo(folder, entries)
            journal_path(folder).unlink(missing_ok=True)
            raise
        _finish(folder, actions, backup)


def recover(folder: Path) -> bool:
    """Finish a switch a killed run left half-done (True if there was one)."""
    folder = folder.resolve()
    path = journal_path(folder)
    if not path.exists():
        return False
    try:
        journal = json.loads(path.read_text(encoding="utf-8"))
        entries, work = journal["deplacements"], folder / journal["zone"]
    except (ValueError, KeyError) as error:
        raise CcasError(
            f"Le journal de mise en ligne {path} est illisible ({error}).",
            advice="Restaurez le dossier de publication depuis sa sauvegarde, puis supprimez ce fichier.",
        ) from None
    actions = _Actions()
    with held_signals():
        _replay(folder, entries, actions)
        # As after a run that was not killed, the year's work area goes (person counts).
        _finish(folder, actions, work)
    return True


@contextmanager
def held_signals() -> Iterator[None]:
    """Defer the stop signals (they are delivered on exit) while the renames run."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _relative(folder: Path, path: Path) -> str:
    # Relative: the folder may be moved (or restored elsewhere) before the replay.
    return os.path.relpath(path.resolve(), folder)


def _write_journal(folder: Path, entries: list[dict[str, str]], work: str) -> None:
    path = journal_path(folder)
    temporary = private_file(path.with_suffix(".tmp"))
    with open(temporary, "w", encoding="utf-8") as f:
        json.dump({"zone": work, "deplacements": entries}, f, ensure_ascii=False, indent=2)
        f.flush()
        os.fsync(f.fileno())
    temporary.rename(path)
    _sync_dir(path.parent)


def _replay(folder: Path, entries: list[dict[str, str]], actions: _Actions) -> None:
    for entry in entries:
        _apply(folder / entry["cible"], folder / entry["nouveau"], folder / entry["ancien"], actions)


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _apply(target: Path, new: Path, backup: Path, actions: _Actions) -> None:
    """One move, from wherever a kill left it: nothing to do once ``new`` is gone."""
    if not _exists(new):
        return
    if _exists(target):
        private_dir(backup.parent)
        target.rename(backup)
        _sync_dir(target.parent)
        actions.tick()
    target.parent.mkdir(parents=True, exist_ok=True)
    new.rename(target)
    _sync_dir(target.parent)
    _sync_dir(new.parent)
    actions.tick()


def _undo(folder: Path, entries: list[dict[str, str]]) -> None:
    """Put everything back as it was, from the state of each move."""
    for entry in reversed(entries):
        target, new, backup = folder / entry["cible"], folder / entry["nouveau"], folder / entry["ancien"]
        if _exists(target) and not _exists(new):
            target.rename(new)
        if _exists(backup) and not _exists(target):
            backup.rename(target)


def _finish(folder: Path, actions: _Actions, leftovers: Path) -> None:
    """Remove what the switch no longer needs, then the journal (a kill in between
    replays a journal with nothing left to move)."""
    shutil.rmtree(leftovers, ignore_errors=True)
    journal_path(folder).unlink(missing_ok=True)
    _sync_dir(journal_path(folder).parent)
    actions.tick()


def _sync_dir(directory: Path) -> None:
    """Make the renames in ``directory`` durable, in order (a power cut is a kill too)."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
