"""``python -m ccas_opendata`` and the ``ccas-opendata`` command: the CLI, run as a process.

Two things here make a short command cost what it does:

- ``gc.freeze()`` once the command's modules are imported (see :func:`freeze_imports`):
  pandas, Great Expectations and their dependencies leave a few million long-lived
  objects that every later full collection would walk again for nothing; and a less
  eager collector (see :func:`main`);
- leaving with ``os._exit`` once the command is done and its output flushed. The
  interpreter's normal teardown frees every module's objects one by one (about half a
  second after Great Expectations was imported) and runs atexit hooks that this tool
  does not need: every file is written and closed by a ``with`` block, SQLite
  databases are committed and closed, servers and children are waited for before the
  command returns, and temporary folders are removed by their own context managers.
  Logging is flushed and the atexit hooks are run first anyway, so a library that
  relies on them (logging handlers, tempfile finalisers) still sees them.

Tests call :func:`ccas_opendata.cli.cli` through Click's runner, in-process: they never
reach this exit.
"""

from __future__ import annotations

import atexit
import gc
import logging
import os
import sys


def freeze_imports() -> None:
    """Move every object alive now (the imported modules) out of the collector's sight:
    called after the CLI's imports here, and by :mod:`quality` after Great Expectations'."""
    gc.freeze()


def main() -> None:
    from .cli import cli

    freeze_imports()
    # Collect the youngest generation every 20,000 allocations, not 700: pandas and Great
    # Expectations allocate millions of short-lived objects, few of them in cycles, and
    # the default made the collector run thousands of times for nothing (a typical year:
    # -0.3 to -0.6 s of CPU, measured paired; cycles are still collected).
    gc.set_threshold(20_000, 20, 20)
    try:
        cli.main(prog_name="ccas-opendata")
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        if exit_.code is not None and not isinstance(exit_.code, int):
            print(exit_.code, file=sys.stderr)
    if sys.getprofile() is not None or sys.gettrace() is not None:
        sys.exit(code)  # under cProfile or coverage: they write their report at the normal exit
    logging.shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (« | head ») is the reader's choice
            code = code or 1
    os._exit(code)


if __name__ == "__main__":
    main()
