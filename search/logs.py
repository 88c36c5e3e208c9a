"""Log lines: the "search" loggers (and uvicorn's) on stderr, as plain lines or JSON lines.

    configure_logging(level, fmt)  in each worker: the "search" loggers on stderr
    uvicorn_log_config(fmt)        uvicorn's own records in the same format
    access_line(fmt, fields)       the text of one access line (search.access)

Records logged while a request is answered carry its id (current_request_id).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from contextvars import ContextVar
from typing import Any

from search.settings import CHOICES

FORMATS = CHOICES["log_format"]  # plain, json
# the id of the request being answered, set by search.access
REQUEST_ID: ContextVar[str | None] = ContextVar("search_request_id", default=None)
_HANDLER_NAME = "search.logs"
_OTHERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")  # "" is the root


def current_request_id() -> str | None:
    """The id of the request being answered (None outside one); log records carry it too."""
    return REQUEST_ID.get()


def utc(timestamp: float) -> str:
    """A time as UTC ISO 8601 with milliseconds: 2017-07-11T10:00:00.123Z."""
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(timestamp))
    return f"{whole}.{int(timestamp % 1 * 1000):03d}Z"


class PlainFormatter(logging.Formatter):
    """`TIME LEVEL LOGGER: message id=REQUEST` (+ traceback); access lines as they are."""

    @staticmethod
    def access(fields: dict[str, Any]) -> str:
        hits = "-" if fields["hits"] is None else fields["hits"]
        return (
            f"{fields['time']} {fields['method']} {fields['path']} {fields['status']} "
            f"{fields['ms']:.1f}ms hits={hits} id={fields['request_id']}"
        )

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "access", None)
        if isinstance(fields, dict):  # an access line (search.access)
            return self.access(fields)
        line = f"{utc(record.created)} {record.levelname} {record.name}: {record.getMessage()}"
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            line += f" id={request_id}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object a line: access lines {time, method, path, status, ms, hits,
    request_id}; other records {time, level, logger, message[, request_id][, exc]}."""

    @staticmethod
    def access(fields: dict[str, Any]) -> str:
        return json.dumps(fields)

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "access", None)
        if isinstance(fields, dict):  # an access line (search.access)
            return self.access(fields)
        out = {
            "time": utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            out["request_id"] = request_id
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out)


# the formatter of each log format, in the order of FORMATS
_FORMATTERS: dict[str, type[PlainFormatter | JsonFormatter]] = dict(
    zip(FORMATS, (PlainFormatter, JsonFormatter), strict=True)
)


def formatter(fmt: str) -> type[PlainFormatter | JsonFormatter]:
    """The formatter class of a log format; ValueError naming the formats for another."""
    if fmt not in _FORMATTERS:
        raise ValueError(f"log format {fmt!r}: expected one of {', '.join(FORMATS)}")
    return _FORMATTERS[fmt]


def access_line(fmt: str, fields: dict[str, Any]) -> str:
    """An access line (search.access) in a log format."""
    return _FORMATTERS[fmt].access(fields)


def configure_logging(level: str = "info", fmt: str = "plain") -> None:
    """Log the "search" loggers at `level` and above to stderr, as plain lines or JSON lines.
    With "json", the records of every other logger (root, uvicorn) are JSON lines too. The root
    logger gets the same handler when it has none (as in a fresh worker process). Calling it
    again replaces what an earlier call set up."""
    number = logging.getLevelName(str(level).upper())
    if not isinstance(number, int):
        raise ValueError(f"log level {level!r}: expected debug, info, warning or error")
    made = formatter(fmt)()
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(made)
    for name in ("search", *_OTHERS):
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if h.get_name() == _HANDLER_NAME]:
            logger.removeHandler(old)
    ours = logging.getLogger("search")
    ours.setLevel(number)
    ours.addHandler(handler)
    ours.propagate = False  # else a root handler prints each line a second time
    root = logging.getLogger()
    if isinstance(made, JsonFormatter):
        for name in _OTHERS:
            for other in logging.getLogger(name).handlers:
                other.setFormatter(made)
    if not root.handlers:
        root.addHandler(handler)


def uvicorn_log_config(fmt: str = "plain") -> dict:
    """A `log_config` for uvicorn.run: uvicorn's own records (in the supervising process too)
    as plain lines or JSON lines, like the "search" ones."""
    made = formatter(fmt)
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "search",
        "stream": "ext://sys.stderr",
    }
    alone = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"search": {"()": f"{__name__}.{made.__name__}"}},
        "handlers": {"default": handler},
        "loggers": {"uvicorn": alone, "uvicorn.error": {"level": "INFO"}, "uvicorn.access": alone},
    }
