"""The HTTP API (v1): Starlette routes answering JSON, one error shape for every failure.

    GET /search  /documents/{id}  /documents/{id}/similar  /facets/{name}  /suggest
        /trends  /stats  /health  /openapi.json

Whoosh is pure Python and CPU-bound, so handlers run the search in the event loop: a worker
answers one request at a time and `search serve --workers N` adds parallelism.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from search import query
from search.errors import BadParameter, IndexUnavailable, SearchError
from search.index import FACETS, default_dir
from search.openapi import spec
from search.request import (
    INTERVALS,
    MAX_FACET_SIZE,
    choice,
    integer,
    known_only,
    parse_request,
)
from search.service import Service

log = logging.getLogger("search.api")
CORS_ENV = "SEARCH_CORS_ORIGINS"


class Json(JSONResponse):
    """JSON that browsers must not sniff as HTML: article text inside stays data."""

    def __init__(self, content, status_code: int = 200, headers=None) -> None:
        super().__init__(
            content, status_code, {"X-Content-Type-Options": "nosniff", **(headers or {})}
        )


_STATUS_CODES = {
    400: "bad_request",
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


async def search(request: Request) -> Json:
    params = _params(request)
    search_request = parse_request(params)
    return Json(query.search(_service(request).view(), search_request))


async def document(request: Request) -> Json:
    return Json(query.document(_service(request).view(), request.path_params["id"]))


async def similar(request: Request) -> Json:
    params = _params(request)
    known_only(params, ("size",))
    size = integer(params, "size", 10, 1, 100)
    view = _service(request).view()
    return Json(query.similar(view, request.path_params["id"], size))


async def facet(request: Request) -> Json:
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
    params = _params(request)
    known_only(params, ("q", "size"))
    text = (params.get("q") or [""])[0]
    if len(text) > 100:
        raise BadParameter("q is longer than 100 characters", "q")
    size = integer(params, "size", 10, 1, 50)
    return Json(query.suggest(_service(request).view(), text, size))


async def trends(request: Request) -> Json:
    params = _params(request)
    search_request = parse_request(params, allowed=("facet", "interval"))
    facet_name = choice(params, "facet", "faction", FACETS)
    interval = choice(params, "interval", "month", INTERVALS)
    view = _service(request).view()
    return Json(query.trends(view, search_request, facet_name, interval))


async def stats(request: Request) -> Json:
    known_only(_params(request), ())
    service = _service(request)
    state = service.state()
    reader = service.view().searcher.reader()
    cardinality = {name: sum(1 for _ in reader.lexicon(name)) for name in FACETS}
    return Json({**state, "facets": cardinality})


async def health(request: Request) -> Json:
    try:
        state = _service(request).state()
    except IndexUnavailable as error:
        return Json({"status": "unavailable", "reason": error.message}, status_code=503)
    return Json({"status": "ok", **state})


async def openapi(request: Request) -> Json:
    return Json(spec())


# --- errors --------------------------------------------------------------------------------------


async def search_error(request: Request, error: SearchError) -> Json:
    return Json(error.to_json(), status_code=error.status)


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
    log.exception("unhandled error on %s", request.url.path)
    body = {"error": {"code": "internal", "message": "internal error", "param": None}}
    return Json(body, status_code=500)


ROUTES = [
    Route("/search", search, methods=["GET"]),
    Route("/documents/{id:path}/similar", similar, methods=["GET"]),
    Route("/documents/{id:path}", document, methods=["GET"]),
    Route("/facets/{name}", facet, methods=["GET"]),
    Route("/suggest", suggest, methods=["GET"]),
    Route("/trends", trends, methods=["GET"]),
    Route("/stats", stats, methods=["GET"]),
    Route("/health", health, methods=["GET"]),
    Route("/openapi.json", openapi, methods=["GET"]),
]


def create_app(root: Path | str | None = None, cors_origins: list[str] | None = None) -> Starlette:
    """The application over the index in `root` (default: SEARCH_INDEX or ./index).
    CORS origins come from `cors_origins` or SEARCH_CORS_ORIGINS (comma-separated; `*` all)."""
    if cors_origins is None:
        raw = os.environ.get(CORS_ENV, "*")
        cors_origins = [o.strip() for o in raw.split(",") if o.strip()]
    app = Starlette(
        routes=ROUTES,
        middleware=[Middleware(CORSMiddleware, allow_origins=cors_origins, allow_methods=["GET"])],
        exception_handlers={
            SearchError: search_error,
            HTTPException: http_error,
            Exception: server_error,
        },
    )
    app.state.service = Service(root if root is not None else default_dir())
    return app
