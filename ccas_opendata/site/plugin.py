"""Serves the citizens' pages, pre-rendered at publish time, ahead of Datasette's own
routes (plugin routes are matched first). Copied into ``publish/plugins/`` by the
publish stage; Datasette loads it from the configuration directory.

The pages are files read once at start-up and served from memory with long cache
headers: they only change when a release rebuilds ``publish/``. When the site lives under
a sub-path, Datasette's ``base_url`` setting strips it before routing: pages are found by
the path Datasette routes (``route_path``), and links carry the sub-path already.

The wrapper also mends two things Datasette does for every API client: CSV is sent as
``text/plain`` (here ``text/csv``), and a canned query called without one of its
parameters answers ``[]`` as if nothing matched (here a 400 naming the parameter).

Every unknown address answers one French 404 (see :func:`handle_exception`): Datasette 0.65
answers in English (« Database not found »), prints a full traceback to the log for each
404, and answers 500 where that printing itself fails (any path starting with a dot, such
as ``/.well-known/security.txt``), or where a row address has too few key values.
"""

import html
import json
import os
import re
import sqlite3
from pathlib import Path
from urllib.parse import parse_qs

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Request, Response
from markupsafe import Markup, escape

PUBLISH_DIR = Path(__file__).resolve().parent.parent
PAGES_DIR = PUBLISH_DIR / "pages"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".ttl": "text/turtle; charset=utf-8",
    ".jsonld": "application/ld+json; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
DOWNLOADS_DIR = PUBLISH_DIR / "telechargements"
HEADERS = {"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def _load_pages():
    pages = {}
    if PAGES_DIR.exists():
        for path in PAGES_DIR.rglob("*"):
            if path.is_file() and path.suffix in TYPES:
                relative = path.relative_to(PAGES_DIR).as_posix()
                route = "/" if relative == "index.html" else "/" + relative.removesuffix(".html")
                pages[route] = (path.read_bytes(), TYPES[path.suffix])
    return pages


def _canned_parameters():
    """{"/db/query": ["param", ...]}: the ``params`` each canned query of ``metadata.json`` declares."""
    metadata_path = PUBLISH_DIR / "metadata.json"
    if not metadata_path.exists():
        return {}
    metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
    found = {}
    for database, entry in metadata.get("databases", {}).items():
        for name, query in entry.get("queries", {}).items():
            parameters = query.get("params", [])
            if parameters:
                found[f"/{database}/{name}"] = parameters
    return found


def _labels():
    """{"indicateur"|"dimension"|"lieu": {code: label}, "modalite": {dimension: {code: label}}}:
    written by the release beside this plugin (``libelles.json``, from the contract's labels);
    the database's ``modalites`` table (dimension, code, libelle, ordre), when it exists, wins."""
    path = PUBLISH_DIR / "libelles.json"
    labels = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    database = PUBLISH_DIR / "indicateurs.db"
    if database.exists():
        connection = sqlite3.connect(f"file:{database}?mode=ro&immutable=1", uri=True)
        try:
            rows = connection.execute("select dimension, code, libelle from modalites").fetchall()
        except sqlite3.Error:  # no such table: the labels of libelles.json stand
            rows = []
        finally:
            connection.close()
        for dimension, code, label in rows:
            labels.setdefault("modalite", {}).setdefault(dimension, {})[code] = label
    return labels


def _open_downloads():
    """A descriptor of the downloads folder this process started on, or None. The zips are
    read through it, not by path: a release renames ``publish/`` away and a new one in, and a
    request that passed the freshness check just before would otherwise read the new list
    beside the old pages. Through the descriptor, a process only ever serves its own
    publication (the renamed folder stays readable until the process restarts)."""
    try:
        return os.open(DOWNLOADS_DIR, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None


def _read_download(name):
    """The bytes of one file of the downloads folder the process started on, or None."""
    if DOWNLOADS_FD is None:
        return None
    try:
        with os.fdopen(os.open(name, os.O_RDONLY, dir_fd=DOWNLOADS_FD), "rb") as file:
            return file.read()
    except OSError:  # absent, or not a file
        return None


PAGES = _load_pages()
DOWNLOADS_FD = _open_downloads()
CANNED_PARAMETERS = _canned_parameters()
LABELS = _labels()
LABELLED_COLUMNS = ("indicateur", "dimension", "lieu", "modalite")


async def serve_page(request, datasette):
    path = request.scope.get("route_path", request.path).rstrip("/") or "/"
    if path not in PAGES:
        return await french_not_found(datasette, request)()
    body, content_type = PAGES[path]
    headers = dict(HEADERS)
    if content_type.startswith("text/csv"):
        headers["Content-Disposition"] = 'attachment; filename="' + path.rsplit("/", 1)[-1] + '"'
        headers["Access-Control-Allow-Origin"] = "*"
    return Response(body, status=200, headers=headers, content_type=content_type)


def _missing_parameter(path, query_string):
    """The French error for a canned query's JSON or CSV called without a parameter, or None."""
    stem, dot, extension = path.rpartition(".")
    if not dot or extension not in ("json", "csv") or stem not in CANNED_PARAMETERS:
        return None
    given = {k for k, v in parse_qs(query_string, keep_blank_values=True).items() if any(x.strip() for x in v)}
    missing = [p for p in CANNED_PARAMETERS[stem] if p not in given]
    if not missing:
        return None
    example = "&".join(f"{p}=…" for p in missing)
    return f"Paramètre manquant : {', '.join(missing)}. Ajoutez-le à l'adresse, par exemple ?{example} (voir la page « API »)."


async def serve_download(request, datasette):
    """A zip of ``publish/telechargements/`` (links to the kept versions), or the manifest.
    A versioned zip never changes: cached for a year; the current alias for an hour."""
    name = request.url_vars["name"]
    body = _read_download(name)
    if body is None:
        listing = datasette.urls.path("/telechargements")
        return Response.html(
            f'<!DOCTYPE html><html lang="fr"><title>Fichier introuvable</title><p>Fichier introuvable. <a href="{listing}">Tous les téléchargements</a></p></html>',
            status=404,
        )
    headers = dict(HEADERS)
    if name.endswith(".json"):
        content_type = TYPES[".json"]
    else:
        content_type = "application/zip"
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
        if "-v" in name:
            headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return Response(body, status=200, headers=headers, content_type=content_type)


@hookimpl
def asgi_wrapper(datasette):
    """CORS on every response, so that ``datasette publish/`` (without ``--cors``)
    serves the API to other sites as ``ccas-opendata serve`` does; ``text/csv`` for CSV;
    a 400 for a canned query missing a parameter."""

    def wrap(app):
        async def with_fixes(scope, receive, send):
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            base = datasette.setting("base_url")
            path = scope.get("path", "")
            if base != "/" and path.startswith(base):
                path = "/" + path[len(base) :]
            error = _missing_parameter(path, scope.get("query_string", b"").decode("latin-1"))
            if error is not None:
                if path.endswith(".json"):
                    body = json.dumps({"ok": False, "error": error, "status": 400, "title": "Paramètre manquant"}, ensure_ascii=False)
                    content_type = b"application/json; charset=utf-8"
                else:
                    body, content_type = error + "\n", b"text/plain; charset=utf-8"
                await send(
                    {
                        "type": "http.response.start",
                        "status": 400,
                        "headers": [(b"content-type", content_type), (b"access-control-allow-origin", b"*")],
                    }
                )
                await send({"type": "http.response.body", "body": body.encode("utf-8")})
                return
            is_csv = path.endswith(".csv")

            async def send_fixed(event):
                if event["type"] == "http.response.start":
                    headers = [(k, v) for k, v in event.get("headers", []) if k.lower() != b"access-control-allow-origin"]
                    if is_csv:
                        headers = [
                            (k, b"text/csv; charset=utf-8" if k.lower() == b"content-type" and v.startswith(b"text/plain") else v)
                            for k, v in headers
                        ]
                    event = dict(event, headers=headers + [(b"access-control-allow-origin", b"*")])
                await send(event)

            await app(scope, receive, send_fixed)

        return with_fixes

    return wrap


NOT_FOUND_TITLE = "Page introuvable"
NOT_FOUND_MESSAGE = (
    "Cette adresse ne correspond à aucune page, table ou donnée de ce site. Vérifiez-la, ou partez de l'accueil "
    "ou de la page « API », qui liste les tables et les téléchargements."
)


def is_not_found(exception) -> bool:
    """A 404 of Datasette's, or a row address with the wrong number of key values (Datasette
    0.65 lets SQLite fail on the missing binding parameters: a 500 for a page that does not exist)."""
    if isinstance(exception, NotFound):
        return True
    return isinstance(exception, sqlite3.ProgrammingError) and "binding parameter" in str(exception)


def french_not_found(datasette, request):
    """The French 404, as JSON for a ``.json`` address, else Datasette's error page in French;
    nothing written to the log (the access log line says enough)."""

    async def respond():
        info = {"ok": False, "error": NOT_FOUND_MESSAGE, "status": 404, "title": NOT_FOUND_TITLE}
        headers = {"Access-Control-Allow-Origin": "*"}
        if request.path.split("?")[0].endswith(".json"):
            return Response.json(info, status=404, headers=headers)
        template = datasette.jinja_env.select_template(["404.html", "error.html"])
        body = await template.render_async(dict(info, urls=datasette.urls, app_css_hash=datasette.app_css_hash(), menu_links=lambda: []))
        return Response.html(body, status=404, headers=headers)

    return respond


@hookimpl(hookwrapper=True)
def handle_exception(datasette, request, exception):
    """Replace every answer to a 404 by the French one. A wrapper, because Datasette's own
    handler (which prints the traceback) runs whatever the other plugins answer."""
    outcome = yield
    if is_not_found(exception):
        outcome.force_result([french_not_found(datasette, request)])


STATIC_PREFIXES = ("/static/", "/-/static/", "/-/static-plugins/")


@hookimpl(specname="asgi_wrapper")
def french_static_404s(datasette):
    """The French 404 also for a missing static file, which Datasette answers with a bare
    « 404: File not found », out of reach of ``handle_exception`` (``/static/nope.css``)."""

    def wrap(app):
        async def french(scope, receive, send):
            base = datasette.setting("base_url")
            path = scope.get("path", "")
            if base != "/" and path.startswith(base):
                path = "/" + path[len(base) :]
            if scope["type"] != "http" or not path.startswith(STATIC_PREFIXES):
                await app(scope, receive, send)
                return
            replaced = False

            async def watch(event):
                nonlocal replaced
                if event["type"] == "http.response.start" and event["status"] == 404:
                    replaced = True
                elif not replaced:
                    await send(event)
                elif event["type"] == "http.response.body" and not event.get("more_body"):
                    response = await french_not_found(datasette, Request(scope, receive))()
                    await response.asgi_send(send)

            await app(scope, receive, watch)

        return french

    return wrap


def fr_nombre(value) -> str:
    """``1193`` → ``1 193``: counts on Datasette's French pages (its own templates write ``1,193``)."""
    return f"{value:,}".replace(",", "\u00a0") if isinstance(value, int) else str(value)


def label_of(column, code, dimension=None):
    """The French label of a code of ``column`` (``modalite``: within its ``dimension``), or None."""
    if column == "modalite":
        if dimension is not None:
            return LABELS.get("modalite", {}).get(dimension, {}).get(code)
        found = {m[code] for m in LABELS.get("modalite", {}).values() if code in m}
        return found.pop() if len(found) == 1 else None
    return LABELS.get(column, {}).get(code)


def with_label(code, label):
    if not label or label.casefold() == code.casefold():
        return escape(code)
    return Markup(f'{escape(code)} <span class="libelle-code">{escape(label)}</span>')


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    """Codes of the indicators table shown with their label beside them (« ccas_centre CCAS — centre-ville »)."""
    if column not in LABELLED_COLUMNS or not isinstance(value, str) or table not in ("indicateurs", "annees", "versions"):
        return None
    try:
        dimension = row["dimension"] if column == "modalite" else None
    except (IndexError, KeyError):
        dimension = None
    label = label_of(column, value, dimension)
    return with_label(value, label) if label else None


def libelle_facette(value, column):
    """A facet's value with its label (the facets list codes)."""
    text = str(value)
    return with_label(text, label_of(column, text)) if column in LABELLED_COLUMNS else escape(text)


ROW_LINK = re.compile(r'^<a href="([^"]+)">(.*)</a>$', re.S)


def lien_ligne(value):
    """Datasette's link to a row of a table with a compound key carries the whole key as its
    text (740 px wide on the indicators table): a short French link, the key for screen readers."""
    found = ROW_LINK.match(str(value))
    if not found:
        return value
    key = html.unescape(found.group(2))
    return Markup(f'<a href="{found.group(1)}" aria-label="Voir la ligne {escape(key)}">Voir</a>')


@hookimpl
def prepare_jinja2_environment(env):
    env.filters["fr_nombre"] = fr_nombre
    env.filters["libelle_facette"] = libelle_facette
    env.filters["lien_ligne"] = lien_ligne
    metadata_path = PUBLISH_DIR / "metadata.json"
    metadata = json.loads(metadata_path.read_text(encoding="utf-8")) if metadata_path.exists() else {}
    env.globals["accessibilite_etat"] = metadata.get("accessibilite_etat", "non conforme")


@hookimpl
def register_routes():
    return [
        (r"^/$", serve_page),
        (r"^/(?:bilan|indicateur|risque)/[a-z0-9_\-]+(?:\.csv)?/?$", serve_page),
        (r"^/graphique/[a-z0-9_\-]+(?:\.csv|\.svg|\.png)?/?$", serve_page),
        (r"^/(?:api|methode|accessibilite|mentions-legales|telechargements|changements)/?$", serve_page),
        (r"^/(?:catalogue\.ttl|catalogue\.jsonld|lieux-mediation-numerique\.csv|changements\.atom)$", serve_page),
        (r"^/telechargements/(?P<name>ccas-opendata-[0-9]{4}(?:-v[0-9]+\.[0-9]+\.[0-9]+)?\.zip|telechargements\.json)$", serve_download),
    ]
