"""The API's answers: JSON bytes by orjson, and one error shape for every failure
({"error": {"code", "message", "param"}}), whatever raised it."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from search.errors import SearchError

log = logging.getLogger("search.api")

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


def encode(content: Any) -> bytes:
    """JSON as UTF-8 bytes, by orjson (answers hold no NaN, which orjson would write as
    null)."""
    return orjson.dumps(content)


class Json(JSONResponse):
    """JSON that browsers must not sniff as HTML: article text inside stays data. `body`:
    content already encoded (a cached answer)."""

    def __init__(
        self,
        content: Any,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
    ) -> None:
        self._body = body
        super().__init__(
            content, status_code, {"X-Content-Type-Options": "nosniff", **(headers or {})}
        )

    def render(self, content: Any) -> bytes:
        return self._body if self._body is not None else encode(content)


async def search_error(request: Request, error: Exception) -> Json:
    """A SearchError: its status, code, message and parameter."""
    assert isinstance(error, SearchError)
    return Json(error.to_json(), status_code=error.status, headers=error.headers)


async def http_error(request: Request, error: Exception) -> Json:
    """Starlette's own refusals (no route, a method not allowed) in the same shape."""
    assert isinstance(error, HTTPException)
    code = _STATUS_CODES.get(error.status_code, "error")
    message = error.detail
    if error.status_code == 404:
        message = f"no route {request.url.path}"
    elif error.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}"
    body = {"error": {"code": code, "message": message, "param": None}}
    return Json(body, status_code=error.status_code, headers=error.headers)


async def server_error(request: Request, error: Exception) -> Json:
    """Anything else: logged, and a 500 that says nothing of it."""
    # %-encoded: a path holding a carriage return must not forge a log line
    log.exception("unhandled error on %s %s", request.method, quote(request.url.path, safe="/"))
    body = {"error": {"code": "internal", "message": "internal error", "param": None}}
    return Json(body, status_code=500)


EXCEPTION_HANDLERS = {
    SearchError: search_error,
    HTTPException: http_error,
    Exception: server_error,
}
