"""The HTTP API (v1): Starlette routes answering JSON, one error shape for every failure.

    GET /search  /documents/{id}  /documents/{id}/similar  /facets/{name}  /suggest
        /trends  /stats  /health  /openapi.json
    POST /documents  PUT /documents/{id}  DELETE /documents/{id}   (with the API key)

Whoosh is pure Python and CPU-bound, so handlers run the search in the event loop: a worker
answers one request at a time and `search serve --workers N` adds parallelism. Writes are
parsed and tagged in a thread and committed by the process's writer thread (search.updates).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import threading
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

import orjson
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from search import gazetteer, intake, limits, query, settings, whoosh_ext
from search.errors import (
    BadArticle,
    BadParameter,
    Forbidden,
    IndexUnavailable,
    NotFound,
    SearchError,
    TooLarge,
    Unauthorized,
)
from search.generations import current_generation, index_root
from search.locking import lock_holder
from search.openapi import spec
from search.request import (
    INTERVALS,
    MAX_FACET_SIZE,
    choice,
    integer,
    known_only,
    parse_request,
)
from search.schema import FACETS, Change
from search.service import Service
from search.updates import Updater

log = logging.getLogger("search.api")
CORS_ENV = settings.SETTINGS["cors_origins"].env


def encode(content) -> bytes:
    """JSON as UTF-8 bytes, by orjson: 0.02 ms against json.dumps' 0.26 ms for a 35 KB answer with
    highlights (answers hold no NaN, which orjson would write as null)."""
    return orjson.dumps(content)


class Json(JSONResponse):
    """JSON that browsers must not sniff as HTML: article text inside stays data. `body`:
    content already encoded (a cached answer)."""

    def __init__(self, content, status_code: int = 200, headers=None, body=None) -> None:
        self._body = body
        super().__init__(
            content, status_code, {"X-Content-Type-Options": "nosniff", **(headers or {})}
        )

    def render(self, content) -> bytes:
        return self._body if self._body is not None else encode(content)


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    422: "unprocessable",
    503: "unavailable",
}


def _params(request: Request) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        out.setdefault(key, []).append(value)
    return out


def _service(request: Request) -> Service:
    return request.app.state.service


def _bearer(request: Request) -> str | None:
    parts = request.headers.get("authorization", "").split(None, 1)
    return parts[1].strip() if len(parts) == 2 and parts[0].lower() == "bearer" else None


def _matches(token: str, key: str | None) -> bool:
    # Digests of both, compared in constant time: neither the key nor its length leaks.
    if key is None:
        return False
    given = hashlib.sha256(token.encode("latin-1", "replace")).digest()
    return hmac.compare_digest(given, hashlib.sha256(key.encode()).digest())


def _authorize_read(request: Request) -> None:
    read_key, api_key = request.app.state.read_key, request.app.state.api_key
    if read_key is None:
        return
    token = _bearer(request)
    if token is None:
        raise Unauthorized("this server needs a key to search: send Authorization: Bearer KEY")
    if not (_matches(token, read_key) | _matches(token, api_key)):  # | : no short cut
        raise Forbidden("the key is not valid")


def _authorize_write(request: Request) -> None:
    api_key = request.app.state.api_key
    if api_key is None:
        raise Forbidden(
            "writes are disabled: start the server with SEARCH_API_KEY set (or --api-key) "
            "and send Authorization: Bearer KEY"
        )
    token = _bearer(request)
    if token is None:
        raise Unauthorized("writes need the API key: send Authorization: Bearer KEY")
    if not _matches(token, api_key):
        raise Forbidden("the API key is not valid")


async def _body(request: Request) -> bytes:
    """The request body, refused with 413 as soon as it passes max_body_bytes."""
    limit = limits.current().max_body_bytes
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise TooLarge(f"request body is larger than {limit} bytes", "body")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise TooLarge(f"request body is larger than {limit} bytes", "body")
            chunks.append(chunk)
    except ClientDisconnect:  # nobody will read the answer; not a server error either
        raise BadParameter("the client went away before sending the whole body", "body") from None
    return b"".join(chunks)


async def _commit(request: Request, changes: list[Change]) -> list[str]:
    """Queue changes with this process's writer; their statuses once they are on disk."""
    future = request.app.state.updater.submit(changes)
    return await asyncio.wrap_future(future)


def _prepare(records: list) -> list[Change | BadArticle]:
    out: list[Change | BadArticle] = []
    seen: dict[str, int] = {}
    for number, record in enumerate(records):
        try:
            change = intake.change(record)
        except BadArticle as error:
            out.append(error)
            continue
        if change.id in seen:
            message = f"id {change.id!r} repeats article {seen[change.id]} of this request"
            out.append(BadArticle(message, "id"))
            continue
        seen[change.id] = number
        out.append(change)
    return out


async def add_documents(request: Request) -> Json:
    _authorize_write(request)
    known_only(_params(request), ())
    records = intake.records(await _body(request), request.headers.get("content-type"))
    limit = limits.current().max_articles
    if len(records) > limit:
        raise TooLarge(f"{len(records)} articles in one request; at most {limit}", "body")
    if not records:
        raise BadParameter("the body holds no article", "body")
    prepared = await run_in_threadpool(_prepare, records)
    changes = [p for p in prepared if isinstance(p, Change)]
    statuses = iter(await _commit(request, changes) if changes else [])
    items, counts = [], {"created": 0, "replaced": 0, "errors": 0}
    for number, item in enumerate(prepared):
        if isinstance(item, Change):
            status = next(statuses)
            counts[status] += 1
            items.append({"index": number, "id": item.id, "status": status})
        else:
            counts["errors"] += 1
            error = item.to_json()["error"]
            items.append({"index": number, "id": None, "status": "error", "error": error})
    return Json({**counts, "items": items}, status_code=200 if changes else 422)


async def put_document(request: Request) -> Json:
    _authorize_write(request)
    known_only(_params(request), ())
    doc_id = request.path_params["id"]
    found = intake.record(await _body(request), request.headers.get("content-type"))
    change = await run_in_threadpool(intake.change, found, doc_id)
    [status] = await _commit(request, [change])
    return Json({"id": doc_id, "status": status}, status_code=201 if status == "created" else 200)


async def delete_document(request: Request) -> Json:
    _authorize_write(request)
    known_only(_params(request), ())
    doc_id = request.path_params["id"]
    [status] = await _commit(request, [Change(doc_id, None)])
    if status == "not_found":
        raise NotFound(f"no document with id {doc_id!r}", "id")
    return Json({"id": doc_id, "status": status})


async def one_document(request: Request) -> Json:
    """GET, PUT or DELETE /documents/{id}: one route, so that a 405 lists every method."""
    if request.method in ("GET", "HEAD"):
        return await document(request)
    if request.path_params["id"].endswith("/similar"):  # ids may hold "/": this one is a GET
        headers = {"Allow": "GET, HEAD"}
        raise HTTPException(405, f"{request.method} is not allowed", headers=headers)
    return await (put_document if request.method == "PUT" else delete_document)(request)


async def search(request: Request) -> Json:
    _authorize_read(request)
    params = _params(request)
    search_request = parse_request(params)
    view = _service(request).view()
    answer = view.recall(search_request)
    cache = "hit"
    if answer is None:
        result = query.search(view, search_request)
        answer = (result["total"], encode(result))
        view.remember(search_request, answer)
        cache = "miss"
    request.state.hits = answer[0]  # for the access line (search.access)
    return Json(None, headers={"X-Cache": cache}, body=answer[1])


async def document(request: Request) -> Json:
    _authorize_read(request)
    return Json(query.document(_service(request).view(), request.path_params["id"]))


async def similar(request: Request) -> Json:
    _authorize_read(request)
    params = _params(request)
    known_only(params, ("size",))
    size = integer(params, "size", 10, 1, 100)
    view = _service(request).view()
    return Json(query.similar(view, request.path_params["id"], size))


async def facet(request: Request) -> Json:
    _authorize_read(request)
    name = request.path_params["name"]
    if name not in FACETS:
        raise BadParameter(f"unknown facet {name!r}; facets are {', '.join(FACETS)}", "name")
    params = _params(request)
    search_request = parse_request(params, allowed=("prefix", "size"))
    size = integer(params, "size", 100, 1, MAX_FACET_SIZE)
    prefix = search_request.extra.get("prefix") or ""
    view = _service(request).view()
    return Json(query.facet_values(view, search_request, name, prefix, size))


async def suggest(request: Request) -> Json:
    _authorize_read(request)
    params = _params(request)
    known_only(params, ("q", "size"))
    text = (params.get("q") or [""])[0]
    if len(text) > 100:
        raise BadParameter("q is longer than 100 characters", "q")
    size = integer(params, "size", 10, 1, 50)
    return Json(query.suggest(_service(request).view(), text, size))


async def trends(request: Request) -> Json:
    _authorize_read(request)
    params = _params(request)
    search_request = parse_request(params, allowed=("facet", "interval"))
    facet_name = choice(params, "facet", "faction", FACETS)
    interval = choice(params, "interval", "month", INTERVALS)
    view = _service(request).view()
    return Json(query.trends(view, search_request, facet_name, interval))


async def stats(request: Request) -> Json:
    _authorize_read(request)
    known_only(_params(request), ())
    service = _service(request)
    state = service.state()
    reader = service.view().searcher.reader()
    cardinality = {name: sum(1 for _ in reader.lexicon(name)) for name in FACETS}
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


# --- errors --------------------------------------------------------------------------------------


async def search_error(request: Request, error: SearchError) -> Json:
    return Json(error.to_json(), status_code=error.status, headers=error.headers)


async def http_error(request: Request, error: HTTPException) -> Json:
    code = _STATUS_CODES.get(error.status_code, "error")
    message = error.detail
    if error.status_code == 404:
        message = f"no route {request.url.path}"
    elif error.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    body = {"error": {"code": code, "message": message, "param": None}}
    return Json(body, status_code=error.status_code, headers=error.headers)


async def server_error(request: Request, error: Exception) -> Json:
    # %-encoded: a path holding a carriage return must not forge a log line
    log.exception("unhandled error on %s %s", request.method, quote(request.url.path, safe="/"))
    body = {"error": {"code": "internal", "message": "internal error", "param": None}}
    return Json(body, status_code=500)


ROUTES = [
    Route("/", page, methods=["GET"]),
    Mount("/static", StaticFiles(directory=WEB), name="static"),
    Route("/search", search, methods=["GET"]),
    Route("/documents", add_documents, methods=["POST"]),
    Route("/documents/{id:path}/similar", similar, methods=["GET"]),
    Route("/documents/{id:path}", one_document, methods=["GET", "PUT", "DELETE"]),
    Route("/facets/{name}", facet, methods=["GET"]),
    Route("/suggest", suggest, methods=["GET"]),
    Route("/trends", trends, methods=["GET"]),
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
            app.state.service.view()
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
        raw = settings.get("cors_origins")
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
        exception_handlers={
            SearchError: search_error,
            HTTPException: http_error,
            Exception: server_error,
        },
    )
    root = index_root(root)
    app.state.service = service = Service(root)
    app.state.updater = Updater(root, on_commit=service.changed)
    app.state.ready = threading.Event()
    app.state.api_key = settings.get("api_key")
    app.state.read_key = settings.get("read_key")
    return app
