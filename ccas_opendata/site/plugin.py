"""Serves the citizens' pages, pre-rendered at publish time, ahead of Datasette's own
routes (plugin routes are matched first). Copied into ``publish/plugins/`` by the
publish stage; Datasette loads it from the configuration directory.

The pages are files read once at start-up and served from memory with long cache
headers: they only change when a release rebuilds ``publish/``.
"""

from pathlib import Path

from datasette import hookimpl
from datasette.utils.asgi import Response

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"
TYPES = {".html": "text/html; charset=utf-8", ".csv": "text/csv; charset=utf-8", ".json": "application/json; charset=utf-8",
         ".atom": "application/atom+xml; charset=utf-8"}
DOWNLOADS_DIR = PAGES_DIR.parent / "telechargements"
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


PAGES = _load_pages()


async def serve_page(request):
    path = request.path.rstrip("/") or "/"
    if path not in PAGES:
        return Response.html("<!DOCTYPE html><html lang=\"fr\"><title>Page introuvable</title><p>Page introuvable. <a href=\"/\">Retour à l'accueil</a></p></html>", status=404)
    body, content_type = PAGES[path]
    headers = dict(HEADERS)
    if content_type.startswith("text/csv"):
        headers["Content-Disposition"] = "attachment; filename=\"" + path.rsplit("/", 1)[-1] + "\""
        headers["Access-Control-Allow-Origin"] = "*"
    return Response(body, status=200, headers=headers, content_type=content_type)


async def serve_download(request):
    """A zip of ``publish/telechargements/`` (links to the kept versions), or the manifest.
    A versioned zip never changes: cached for a year; the current alias for an hour."""
    name = request.url_vars["name"]
    path = DOWNLOADS_DIR / name
    if not path.is_file():
        return Response.html("<!DOCTYPE html><html lang=\"fr\"><title>Fichier introuvable</title><p>Fichier introuvable. <a href=\"/telechargements\">Tous les téléchargements</a></p></html>", status=404)
    headers = dict(HEADERS)
    if name.endswith(".json"):
        content_type = TYPES[".json"]
    else:
        content_type = "application/zip"
        headers["Content-Disposition"] = f"attachment; filename=\"{name}\""
        if "-v" in name:
            headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return Response(path.read_bytes(), status=200, headers=headers, content_type=content_type)


@hookimpl
def asgi_wrapper():
    """CORS on every response, so that ``datasette publish/`` (without ``--cors``)
    serves the API to other sites as ``ccas-opendata serve`` does."""
    def wrap(app):
        async def with_cors(scope, receive, send):
            async def send_with_cors(event):
                if event["type"] == "http.response.start":
                    headers = [(k, v) for k, v in event.get("headers", []) if k.lower() != b"access-control-allow-origin"]
                    event = dict(event, headers=headers + [(b"access-control-allow-origin", b"*")])
                await send(event)
            await app(scope, receive, send_with_cors if scope["type"] == "http" else send)
        return with_cors
    return wrap


@hookimpl
def register_routes():
    return [
        (r"^/$", serve_page),
        (r"^/(?:bilan|indicateur|risque)/[a-z0-9_\-]+(?:\.csv)?/?$", serve_page),
        (r"^/(?:api|methode|telechargements|changements)/?$", serve_page),
        (r"^/changements\.atom$", serve_page),
        (r"^/telechargements/(?P<name>ccas-opendata-[0-9]{4}(?:-v[0-9]+\.[0-9]+\.[0-9]+)?\.zip|telechargements\.json)$", serve_download),
    ]
