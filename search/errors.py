"""Errors that carry their HTTP status and a stable code; one handler turns them into JSON."""

from __future__ import annotations


class SearchError(Exception):
    """A request the service cannot answer. `param` names the offending parameter."""

    status = 400
    code = "bad_request"
    headers: dict[str, str] = {}

    def __init__(self, message: str, param: str | None = None, **extra: object) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.extra = extra

    def to_json(self) -> dict:
        error = {"code": self.code, "message": self.message, "param": self.param, **self.extra}
        return {"error": error}


class BadParameter(SearchError):
    code = "bad_parameter"


class QuerySyntaxError(SearchError):
    """A query that does not parse; says where (`offset`, from 0, as documented) and what
    (`text`). The message counts characters from 1, as people do."""

    code = "query_syntax"

    def __init__(self, message: str, offset: int, text: str, param: str = "q") -> None:
        super().__init__(f"{message} at character {offset + 1}", param, offset=offset, text=text)


class NotFound(SearchError):
    status = 404
    code = "not_found"


class IndexUnavailable(SearchError):
    status = 503
    code = "index_unavailable"


class BadArticle(SearchError):
    """A posted article that cannot be indexed; `param` names the field."""

    status = 422
    code = "bad_article"


class TooLarge(SearchError):
    status = 413
    code = "too_large"


class UnsupportedMediaType(SearchError):
    status = 415
    code = "unsupported_media_type"


class Unauthorized(SearchError):
    status = 401
    code = "unauthorized"
    headers = {"WWW-Authenticate": "Bearer"}


class Forbidden(SearchError):
    status = 403
    code = "forbidden"


class Busy(SearchError):
    """Too many writes waiting, or another writer holds the index: try again shortly."""

    status = 503
    code = "busy"

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message, retry_after=retry_after)
        self.headers = {"Retry-After": str(retry_after)}
