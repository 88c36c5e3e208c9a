"""The access log: one line and the request metrics for every HTTP request, and its id.

RequestLog is ASGI middleware, outermost. Access lines never hold a query string, a body or a
header other than X-Request-ID: the path is the route template (`/documents/{id}`) when a route
matched, and handlers report the hits of a search with `request.state.hits = total`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from functools import lru_cache
from urllib.parse import quote

from starlette.routing import Match

from search import logs
from search.metrics import SCOPE_KEY, UNMATCHED, Metrics

access_log = logging.getLogger("search.access")

_HEADER = b"x-request-id"
_VALID_ID = re.compile(r"[!-~]{1,64}")  # printable ASCII, no space
_CONVERTOR = re.compile(r"\{([^{}:]+):[^{}]*\}")  # {id:path} -> {id}
_SAFE = "/:@!$&'()*+,;=-._~{}"  # kept as they are in a logged path; the rest %-encoded


def _printable(text: str, limit: int = 200) -> str:
    """Text safe on one log line: spaces, controls and non-ASCII %-encoded; long text cut."""
    text = quote(text, safe=_SAFE)
    return text if len(text) <= limit else text[:limit] + "..."


@lru_cache(maxsize=512)
def _template(path: str) -> str:
    return _CONVERTOR.sub(r"{\1}", path)


def _route(scope: dict) -> str | None:
    """The template of the route that matched (also for a 405), None when none did."""
    route = scope.get("route")
    if route is None and "endpoint" in scope:  # Starlette before scope["route"] existed
        for candidate in getattr(scope.get("app"), "routes", ()):
            if candidate.matches(scope)[0] is not Match.NONE:
                route = candidate
                break
    path = getattr(route, "path", None)
    return _template(path) if isinstance(path, str) else None


def _incoming_id(scope: dict) -> str | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == _HEADER:  # the first one only
            text = value.decode("latin-1")
            return text if _VALID_ID.fullmatch(text) else None
    return None


class RequestLog:
    """ASGI middleware for HTTP requests: the X-Request-ID header (an incoming one of 1 to 64
    printable ASCII characters without spaces is kept, else a new uuid4 hex) on every answer,
    errors included; one line on the logger search.access at INFO; the request metrics.

    Wrap the whole Starlette application (RequestLog(app)), not app.add_middleware: inside it,
    an unhandled error would pass as an exception and its 500 would carry no id. Attributes it
    does not have are the wrapped application's (`.state`, `.routes`).

    A line says when the request arrived (UTC), its method, its route template (or, when no
    route matched, its path), status, milliseconds to the end of the answer, the hits a handler
    set with `request.state.hits = total` (else "-" or null) and the request id, which handlers
    find in `request.state.request_id` and log records carry."""

    def __init__(self, app, fmt: str = "plain", metrics: Metrics | None = None) -> None:
        logs.formatter(fmt)  # ValueError for an unknown format
        self.app = app
        self.fmt = fmt
        self.metrics = metrics if metrics is not None else Metrics()

    def __getattr__(self, name: str):
        if name == "app":  # not yet set: no recursion
            raise AttributeError(name)
        return getattr(self.app, name)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":  # lifespan, websocket
            await self.app(scope, receive, send)
            return
        started, arrived = time.perf_counter(), time.time()
        request_id = _incoming_id(scope) or uuid.uuid4().hex
        header = (_HEADER, request_id.encode("ascii"))
        state = scope.setdefault("state", {})  # request.state of the handlers
        state["request_id"] = request_id
        scope[SCOPE_KEY] = self.metrics
        status = 0

        async def send_with_id(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", ()) if h[0].lower() != _HEADER]
                headers.append(header)
                message = {**message, "headers": headers}
            await send(message)

        failed = 500  # the status to log when no answer started
        token = logs.REQUEST_ID.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        except asyncio.CancelledError:  # the client went away, or the server is stopping
            failed = 499
            raise
        finally:
            logs.REQUEST_ID.reset(token)
            seconds = time.perf_counter() - started
            try:
                self._record(scope, state, request_id, status or failed, arrived, seconds)
            except Exception:  # never let the bookkeeping break an answer
                access_log.exception("recording request %s failed", request_id)

    def _record(self, scope, state, request_id, status, arrived, seconds) -> None:
        route = _route(scope)
        method = scope.get("method", "")
        self.metrics.observe(route or UNMATCHED, method, status, seconds)
        if method not in ("GET", "HEAD"):  # only writes change the queue
            self.metrics.sample_queue(scope.get("app"))
        if not access_log.isEnabledFor(logging.INFO):
            return
        hits = state.get("hits")
        fields = {
            "time": logs.utc(arrived),
            "method": _printable(method, 16),
            "path": route or _printable(scope.get("path", "")),
            "status": status,
            "ms": round(seconds * 1000, 1),
            "hits": hits if type(hits) is int else None,
            "request_id": request_id,
        }
        access_log.info(logs.access_line(self.fmt, fields), extra={"access": fields})
