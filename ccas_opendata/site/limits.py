"""Bounded answers: no request can take the server's memory, nor hold up the others.

Copied into ``publish/plugins/`` beside the pages plugin (Datasette loads every file
there). Datasette's ``sql_time_limit_ms`` bounds how long a query runs, not what it
returns: ``select randomblob(1000000000)`` took a Datasette to 7.5 GB, and eight
clients running time-limited heavy queries made a light API call wait 25 s. Hence
three bounds, each where it costs least:

- **in SQLite**, on every connection (``prepare_connection``): no text or blob longer
  than :data:`VALUE_MAX_BYTES` (``randomblob(1e9)`` fails at once, never allocated),
  no statement longer than :data:`SQL_MAX_BYTES`;
- **while the rows are read** (a row factory counting each cursor's bytes): an answer
  past :data:`ANSWER_MAX_BYTES` stops with a French error before it is built;
- **at the door** (``asgi_wrapper``): at most :data:`HEAVY_AT_ONCE` requests carrying
  SQL of their own (``sql=`` or ``_where=``) run at a time, :data:`HEAVY_WAITING` more
  wait, the rest get a French 503 at once. Pages (served from memory) and the
  published tables' JSON never queue behind them. A body past
  :data:`BODY_MAX_BYTES` is cut (a last guard; the row count bounds it well before).

The published values are short (the longest is a definition of a few hundred
characters): these bounds are far above any honest answer.
"""

import asyncio
import json
import sqlite3
import weakref
from urllib.parse import parse_qsl

from datasette import hookimpl

VALUE_MAX_BYTES = 100_000
SQL_MAX_BYTES = 20_000
ANSWER_MAX_BYTES = 8_000_000
BODY_MAX_BYTES = 32_000_000
HEAVY_AT_ONCE = 1
HEAVY_WAITING = 4
TOO_BIG = (
    f"Réponse trop volumineuse : plus de {ANSWER_MAX_BYTES // 1_000_000} Mo. Ajoutez une clause « limit », "
    "choisissez moins de colonnes, ou téléchargez le paquet de données complet (page « Téléchargements »)."
)
SQLITE_TOO_BIG = b"string or blob too big"
TOO_LONG = f"Valeur trop longue : une valeur de la réponse dépasserait {VALUE_MAX_BYTES // 1000} Ko (aucune valeur publiée n'en approche)."
BUSY = (
    "Trop de requêtes SQL sont en cours : réessayez dans quelques secondes. Les tables publiées restent accessibles "
    "sans SQL (par exemple /indicateurs/indicateurs.json?annee=2024), et les paquets complets se téléchargent."
)

_answered: "weakref.WeakKeyDictionary[sqlite3.Cursor, int]" = weakref.WeakKeyDictionary()


def _size(value) -> int:
    return len(value) if isinstance(value, (str, bytes)) else 8


def counted_row(cursor, row):
    """Datasette's own row type, once the cursor's answer is known to stay small."""
    total = _answered.get(cursor, 0) + sum(_size(v) for v in row)
    if total > ANSWER_MAX_BYTES:
        raise sqlite3.OperationalError(TOO_BIG)
    _answered[cursor] = total
    return sqlite3.Row(cursor, row)


@hookimpl
def prepare_connection(conn):
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, VALUE_MAX_BYTES)
    conn.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, SQL_MAX_BYTES)
    conn.row_factory = counted_row


def is_heavy(query_string: bytes) -> bool:
    """A request that runs SQL of the caller's own: ``?sql=`` (a query) or ``_where=``
    (a SQL condition on a table page); names decoded as Datasette decodes them."""
    names = {name for name, _ in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)}
    return bool(names & {"sql", "_where"})


async def _refuse(send, path: str, status: int, message: str) -> None:
    if ".json" in path:
        body = json.dumps({"ok": False, "error": message, "status": status, "title": "Requête refusée"}, ensure_ascii=False)
        content_type = b"application/json; charset=utf-8"
    else:
        body, content_type = message + "\n", b"text/plain; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"retry-after", b"5"), (b"cache-control", b"no-store")],
        }
    )
    await send({"type": "http.response.body", "body": body.encode("utf-8")})


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        running = asyncio.Semaphore(HEAVY_AT_ONCE)
        waiting = 0

        async def bounded(scope, receive, send):
            nonlocal waiting
            if scope["type"] != "http" or not is_heavy(scope.get("query_string", b"")):
                await app(scope, receive, send)
                return
            if running.locked() and waiting >= HEAVY_WAITING:
                await _refuse(send, scope.get("path", ""), 503, BUSY)
                return
            waiting += 1
            try:
                await running.acquire()
            finally:
                waiting -= 1
            try:
                await app(scope, receive, _capped(send))
            finally:
                running.release()

        return bounded

    return wrap


def _french(body: bytes) -> bytes:
    """SQLite's own words for a value past :data:`VALUE_MAX_BYTES`, in French (as JSON text)."""
    french = json.dumps(TOO_LONG, ensure_ascii=False)[1:-1].encode("utf-8")
    return body.replace(SQLITE_TOO_BIG, french)


def _capped(send):
    """``send`` that ends the body once it passes :data:`BODY_MAX_BYTES`, and that says
    SQLite's refusal of an oversized value in French (an error answer is small: it is
    held until complete, and its length set again)."""
    sent = 0
    ended = False
    held: dict | None = None
    chunks: list[bytes] = []

    async def capped(event):
        nonlocal sent, ended, held
        if ended:
            return
        if event["type"] == "http.response.start" and event.get("status") == 400:
            held = event
            return
        if held is not None and event["type"] == "http.response.body":
            chunks.append(event.get("body", b""))
            if event.get("more_body"):
                return
            body = _french(b"".join(chunks))
            headers = [(k, v) for k, v in held.get("headers", []) if k.lower() != b"content-length"]
            await send(dict(held, headers=headers + [(b"content-length", str(len(body)).encode())]))
            await send({"type": "http.response.body", "body": body})
            ended = True
            return
        if event["type"] == "http.response.body":
            sent += len(event.get("body", b""))
            if sent > BODY_MAX_BYTES:
                ended = True
                await send({"type": "http.response.body", "body": "\n[réponse tronquée]\n".encode(), "more_body": False})
                return
        await send(event)

    return capped
