"""The HTTP API (v1): Starlette routes answering JSON, one error shape for every failure.

    GET /search  /documents/{id}  /documents/{id}/similar  /stories/{id}  /facets/{name}
        /suggest  /trends  /stats  /health  /openapi.json
    POST /documents  PUT /documents/{id}  DELETE /documents/{id}   (with the API key)

Whoosh is pure Python and CPU-bound, so handlers run the search in the event loop: a worker
answers one request at a time and `search serve --workers N` adds parallelism. Writes are
parsed and tagged in a thread and committed by the process's writer thread (search.updates).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from search import cursor, follow, gazetteer, limits, query, settings, whoosh_ext
from search import suggest as suggestions
from search.auth import reads
from search.errors import BadParameter, IndexUnavailable, SearchError
from search.generations import current_generation, index_root
from search.geo import places as geo_places
from search.locking import lock_holder
from search.openapi import spec
from search.request import (
    INTERVALS,
    MAX_FACET_SIZE,
    choice,
    integer,
    known_only,
    params_of,
    parse_request,
)
from search.responses import EXCEPTION_HANDLERS, Json, encode
from search.schema import FACETS
from search.service import Service
from search.updates import Updater
from search.writes import add_documents, delete_document, put_document

log = logging.getLogger("search.api")


def _service(request: Request) -> Service:
    return request.app.state.service


async def one_document(request: Request) -> Json:
    """GET, PUT or DELETE /documents/{id}: one route, so that a 405 lists every method."""
    if request.method in ("GET", "HEAD"):
        return await document(request)
    if request.path_params["id"].endswith("/similar"):  # ids may hold "/": this one is a GET
        headers = {"Allow": "GET, HEAD"}
        raise HTTPException(405, f"{request.method} is not allowed", headers=headers)
    return await (put_document if request.method == "PUT" else delete_document)(request)


@reads
async def search(request: Request) -> Json:
    params = params_of(request.query_params.multi_items())
    search_request = parse_request(params, allowed=("cursor",))
    token = search_request.extra["cursor"]
    after = cursor.decode(token, search_request) if token else None
    view = _service(request).view()
    key = (search_request, token)
    answer = view.recall(key)
    cache = "hit"
    if answer is None:
        result = query.search(view, search_request, after)
        answer = (result["total"], encode(result))
        view.remember(key, answer)
        cache = "miss"
    request.state.hits = answer[0]  # for the access line (search.access)
    return Json(None, headers={"X-Cache": cache}, body=answer[1])


@reads
async def document(request: Request) -> Json:
    return Json(query.document(_service(request).view(), request.path_params["id"]))


@reads
async def similar(request: Request) -> Json:
    params = params_of(request.query_params.multi_items())
    known_only(params, ("size",))
    size = integer(params, "size", 10, 1, 100)
    view = _service(request).view()
    return Json(query.similar(view, request.path_params["id"], size))


@reads
async def story(request: Request) -> Json:
    params = params_of(request.query_params.multi_items())
    known_only(params, ("size",))
    size = integer(params, "size", 100, 1, 1000)
    view = _service(request).view()
    return Json(query.story(view, request.path_params["id"], size))


@reads
async def facet(request: Request) -> Json:
    name = request.path_params["name"]
    if name not in FACETS:
        raise BadParameter(f"unknown facet {name!r}; facets are {', '.join(FACETS)}", "name")
    params = params_of(request.query_params.multi_items())
    search_request = parse_request(params, allowed=("prefix", "size"))
    size = integer(params, "size", 100, 1, MAX_FACET_SIZE)
    prefix = search_request.extra.get("prefix") or ""
    view = _service(request).view()
    return Json(query.facet_values(view, search_request, name, prefix, size))


@reads
async def suggest(request: Request) -> Json:
    params = params_of(request.query_params.multi_items())
    known_only(params, ("q", "size"))
    text = (params.get("q") or [""])[0]
    if len(text) > 100:
        raise BadParameter("q is longer than 100 characters", "q")
    size = integer(params, "size", 10, 1, 50)
    return Json(suggestions.suggest(_service(request).view(), text, size))


@reads
async def trends(request: Request) -> Json:
    params = params_of(request.query_params.multi_items())
    search_request = parse_request(params, allowed=("facet", "interval"))
    facet_name = choice(params, "facet", "faction", FACETS)
    interval = choice(params, "interval", "month", INTERVALS)
    view = _service(request).view()
    return Json(query.trends(view, search_request, facet_name, interval))


@reads
async def geo(request: Request) -> Json:
    """GET /geo: the places of the matching articles as GeoJSON (search.geo)."""
    search_request = parse_request(params_of(request.query_params.multi_items()))
    answer = geo_places(_service(request).view(), search_request)
    return Json(answer)


@reads
async def stats(request: Request) -> Json:
    known_only(params_of(request.query_params.multi_items()), ())
    service = _service(request)
    state = service.state()
    view = service.view()
    # values some live document carries: a deleted one's terms stay in the lexicon until merged
    cardinality = {name: len(+view.totals(name)) for name in FACETS}
    return Json({**state, "facets": cardinality})


async def health(request: Request) -> Json:
    """starting (503) until the index is open; ok (200); degraded (200: searches work, some
    writes may not) with reasons; unavailable (503) without an index; stopping (503)."""
    app = request.app
    updater = app.state.updater
    if updater.closing:
        return Json({"status": "stopping"}, status_code=503)
    if not app.state.ready.is_set():
        return Json({"status": "starting"}, status_code=503)
    service = _service(request)
    try:
        state = service.state()
    except IndexUnavailable as error:
        return Json({"status": "unavailable", "reason": error.message}, status_code=503)
    reasons = []
    if current_generation(service.root) is None:
        reasons.append("the index folder is gone: serving the last version read")
    elif not os.access(service.root / state["generation"], os.W_OK):
        reasons.append("the index is read-only: writes will fail")
    writer = {"queue": updater.depth, "lock_holder": lock_holder(service.root)}
    status = "degraded" if reasons else "ok"
    return Json({"status": status, "reasons": reasons, **state, "writer": writer})


WEB = Path(__file__).parent / "web"
# The page loads nothing from another site and runs no inline script: article text that slipped
# through as markup could not run either.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


async def page(request: Request) -> FileResponse:
    """GET /: the search page (search/web/), a client of this API."""
    return FileResponse(WEB / "index.html", headers=PAGE_HEADERS)


async def openapi(request: Request) -> Json:
    return Json(spec())


ROUTES = [
    Route("/", page, methods=["GET"]),
    Mount("/static", StaticFiles(directory=WEB), name="static"),
    Route("/search", search, methods=["GET"]),
    Route("/search.atom", follow.search_atom, methods=["GET"]),
    Route("/search.csv", follow.search_csv, methods=["GET"]),
    Route("/search.jsonl", follow.search_jsonl, methods=["GET"]),
    Route("/saved-searches", follow.saved_searches, methods=["GET", "POST"]),
    Route("/saved-searches/{id}.atom", follow.saved_feed, methods=["GET"]),
    Route("/saved-searches/{id}/new", follow.saved_new, methods=["GET"]),
    Route("/saved-searches/{id}", follow.saved_search, methods=["GET", "DELETE"]),
    Route("/documents", add_documents, methods=["POST"]),
    Route("/documents/{id:path}/similar", similar, methods=["GET"]),
    Route("/documents/{id:path}", one_document, methods=["GET", "PUT", "DELETE"]),
    Route("/stories/{id}", story, methods=["GET"]),
    Route("/facets/{name}", facet, methods=["GET"]),
    Route("/suggest", suggest, methods=["GET"]),
    Route("/trends", trends, methods=["GET"]),
    Route("/geo", geo, methods=["GET"]),
    Route("/stats", stats, methods=["GET"]),
    Route("/health", health, methods=["GET"]),
    Route("/openapi.json", openapi, methods=["GET"]),
]


@asynccontextmanager
async def _lifespan(app: Starlette):
    """Open the index before the first search needs it (health says `starting` meanwhile);
    at shutdown (SIGTERM), refuse new writes and commit those already accepted. In-flight
    requests are finished by uvicorn before this runs."""

    def warm() -> None:
        try:
            app.state.service.view().warm()  # arrays the first searches need
        except SearchError:
            pass  # no index yet: health says unavailable, searches 503
        finally:
            app.state.ready.set()

    threading.Thread(target=warm, name="warm-up", daemon=True).start()
    yield
    if not await asyncio.to_thread(app.state.updater.close, 60.0):
        log.error("shutting down with writes still uncommitted: they were not acknowledged")


def create_app(root: Path | str | None = None, cors_origins: list[str] | None = None) -> Starlette:
    """The application over the index in `root` (default: SEARCH_INDEX or ./index).
    CORS origins come from `cors_origins` or SEARCH_CORS_ORIGINS (comma-separated; `*` all);
    keys and limits from the settings (search.settings)."""
    whoosh_ext.install()
    settings.check()
    limits.current()  # read once, here at the start, for every request of this process
    gazetteer.load()  # the data is read once, before the first request or write needs it
    if cors_origins is None:
        raw = settings.text("cors_origins") or ""
        cors_origins = [o.strip() for o in raw.split(",") if o.strip()]
    cors = Middleware(
        CORSMiddleware,
        allow_origins=cors_origins,
        allow_methods=["GET", "POST", "PUT", "DELETE"],
        allow_headers=["Authorization", "Content-Type"],
        expose_headers=["X-Request-ID"],
    )
    app = Starlette(
        routes=ROUTES,
        lifespan=_lifespan,
        middleware=[cors],
        exception_handlers=EXCEPTION_HANDLERS,
    )
    root = index_root(root)
    app.state.service = service = Service(root)
    app.state.updater = Updater(root, on_commit=service.changed)
    app.state.ready = threading.Event()
    app.state.api_key = settings.get("api_key")
    app.state.read_key = settings.get("read_key")
    return app
