"""Keys: the read key checked by one decorator on every read route, the API key by the write
routes. Keys are compared in constant time and never logged."""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import Response

from search.errors import Forbidden, Unauthorized

R = TypeVar("R", bound=Response)


def _bearer(request: Request) -> str | None:
    parts = request.headers.get("authorization", "").split(None, 1)
    return parts[1].strip() if len(parts) == 2 and parts[0].lower() == "bearer" else None


def _matches(token: str, key: str | None) -> bool:
    # Digests of both, compared in constant time: neither the key nor its length leaks.
    if key is None:
        return False
    given = hashlib.sha256(token.encode("latin-1", "replace")).digest()
    return hmac.compare_digest(given, hashlib.sha256(key.encode()).digest())


def reads(
    handler: Callable[[Request], Awaitable[R]],
) -> Callable[[Request], Awaitable[R]]:
    """A read route: when the app has a read key (app.state.read_key), the request must bring
    it, or the API key, before the handler runs (401 without a key, 403 with another)."""

    @functools.wraps(handler)
    async def guarded(request: Request) -> R:
        read_key, api_key = request.app.state.read_key, request.app.state.api_key
        if read_key is not None:
            token = _bearer(request)
            if token is None:
                raise Unauthorized(
                    "this server needs a key to search: send Authorization: Bearer KEY"
                )
            if not (_matches(token, read_key) | _matches(token, api_key)):  # | : no short cut
                raise Forbidden("the key is not valid")
        return await handler(request)

    return guarded


def authorize_write(request: Request) -> None:
    """Refuse a write without the API key (403 when the server has none)."""
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
