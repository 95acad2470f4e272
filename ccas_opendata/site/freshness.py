"""A running server never mixes two publications: it restarts itself on the new one.

Copied into ``publish/plugins/`` beside the pages plugin. Datasette reads the pages,
the metadata and the templates once, at start-up, but opens the database and the
downloads by path: after a release swaps a new ``publish/`` in, a server left running
would send old pages with new zips (and ``/bilan/2025`` as a 404). So every request
first compares ``publish/`` (the folder, and the database, ``inspect-data.json`` and
``metadata.json`` in it, which a copy to the server replaces file by file) with what the
process started on. When they differ, it answers 503 « nouvelle publication » and the
process re-executes itself, same command line, same process (systemd, or ``ccas-opendata
serve``, sees nothing), to serve the new publication whole. While ``publish/`` is
missing (between two renames of the switch) it answers 503 and waits.
"""

import asyncio
import os
import sys
from pathlib import Path

from datasette import hookimpl

PUBLISH_DIR = Path(__file__).resolve().parent.parent
# Replaced by every release: a copy to the server (rsync, file by file) changes them too.
FILES = ("inspect-data.json", "indicateurs.db", "metadata.json")
RELOADING = (
    "Une nouvelle publication est en cours de mise en ligne : le site redémarre avec elle. Rechargez la page dans quelques secondes."
)


def identity():
    """What tells two publications apart, or None while ``publish/`` is missing."""
    try:
        folder = os.stat(PUBLISH_DIR)
        files = [os.stat(PUBLISH_DIR / name) for name in FILES]
    except FileNotFoundError:
        return None
    return (folder.st_dev, folder.st_ino, *((f.st_ino, f.st_mtime_ns, f.st_size) for f in files))


STARTED_ON = identity()


def _restart() -> None:
    os.execv(sys.executable, sys.orig_argv)


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        restarting = False

        async def fresh(scope, receive, send):
            nonlocal restarting
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            now = identity()
            if now == STARTED_ON:
                await app(scope, receive, send)
                return
            await send(
                {
                    "type": "http.response.start",
                    "status": 503,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"retry-after", b"2"), (b"cache-control", b"no-store")],
                }
            )
            await send({"type": "http.response.body", "body": (RELOADING + "\n").encode("utf-8")})
            if now is not None and not restarting:
                restarting = True
                asyncio.get_running_loop().call_later(0.2, _restart)  # once this answer is sent

        return fresh

    return wrap
