"""Observability: one access-log line and metrics for every request, request ids, /metrics.

    RequestLog(app, fmt)           ASGI middleware, outermost: X-Request-ID, access log, metrics
    metrics(request)               GET /metrics: the Prometheus text format (or OpenMetrics)
    configure_logging(level, fmt)  "search" loggers on stderr; fmt "plain" or "json"
    prepare_multiprocess_dir()     before starting workers: their counters add up at /metrics
    instrument(app, fmt), create_app()  the API with all of the above (create_app: uvicorn factory)

Access lines never hold a query string, a body or a header other than X-Request-ID: the path is
the route template (`/documents/{id}`) when a route matched, and handlers report the hits of a
search with `request.state.hits = total`.

Workers are processes. With PROMETHEUS_MULTIPROC_DIR set, each writes its counters to files
there and the worker that answers /metrics adds up every worker's. The index gauges describe the
shared index, so only the answering worker computes them, at scrape time; the write queue is
per worker, so it is a `livesum` gauge: each worker samples its own after each write request and
the answering worker just before the scrape.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
import uuid
from contextvars import ContextVar
from datetime import datetime
from functools import lru_cache
from urllib.parse import quote

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route

from search import settings, sockets

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
FORMATS = ("plain", "json")
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED = "unmatched"  # the route label of requests no route matched (404s)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"})
SCOPE_KEY = "search.metrics"  # where RequestLog leaves its Metrics for the /metrics handler

access_log = logging.getLogger("search.access")
log = logging.getLogger("search.observe")

_HEADER = b"x-request-id"
_VALID_ID = re.compile(r"[!-~]{1,64}")  # printable ASCII, no space
_CONVERTOR = re.compile(r"\{([^{}:]+):[^{}]*\}")  # {id:path} -> {id}
_SAFE = "/:@!$&'()*+,;=-._~{}"  # kept as they are in a logged path; the rest %-encoded
_request_id: ContextVar[str | None] = ContextVar("search_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being answered (None outside one); log records carry it too."""
    return _request_id.get()


# --- access lines -----------------------------------------------------------------------------


def _utc(timestamp: float) -> str:
    whole = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(timestamp))
    return f"{whole}.{int(timestamp % 1 * 1000):03d}Z"


def _printable(text: str, limit: int = 200) -> str:
    """Text safe on one log line: spaces, controls and non-ASCII %-encoded; long text cut."""
    text = quote(text, safe=_SAFE)
    return text if len(text) <= limit else text[:limit] + "..."


def _plain_line(fields: dict) -> str:
    hits = "-" if fields["hits"] is None else fields["hits"]
    return (
        f"{fields['time']} {fields['method']} {fields['path']} {fields['status']} "
        f"{fields['ms']:.1f}ms hits={hits} id={fields['request_id']}"
    )


def _json_line(fields: dict) -> str:
    return json.dumps(fields)


_LINES = {"plain": _plain_line, "json": _json_line}


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


def _queue_depth(app) -> int | None:
    updater = getattr(getattr(app, "state", None), "updater", None)
    depth = getattr(updater, "depth", None)
    return depth if isinstance(depth, int) else None


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
        if fmt not in FORMATS:
            raise ValueError(f"log format {fmt!r}: expected one of {', '.join(FORMATS)}")
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
        token = _request_id.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        except asyncio.CancelledError:  # the client went away, or the server is stopping
            failed = 499
            raise
        finally:
            _request_id.reset(token)
            seconds = time.perf_counter() - started
            try:
                self._record(scope, state, request_id, status or failed, arrived, seconds)
            except Exception:  # never let the bookkeeping break an answer
                log.exception("recording request %s failed", request_id)

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
            "time": _utc(arrived),
            "method": _printable(method, 16),
            "path": route or _printable(scope.get("path", "")),
            "status": status,
            "ms": round(seconds * 1000, 1),
            "hits": hits if type(hits) is int else None,
            "request_id": request_id,
        }
        access_log.info(
            _LINES[self.fmt](fields), extra={"access": fields, "access_format": self.fmt}
        )


# --- metrics ----------------------------------------------------------------------------------


def _sync_value_class() -> None:
    """prometheus_client picks in-memory or file-backed values when first imported; follow
    PROMETHEUS_MULTIPROC_DIR as it is now, in case it was set after that import."""
    wanted = bool(os.environ.get(MULTIPROC_ENV))
    if getattr(values.ValueClass, "_multiprocess", False) != wanted:
        values.ValueClass = values.get_value_class()


def prepare_multiprocess_dir() -> str:
    """A fresh folder for the workers' metric files, in PROMETHEUS_MULTIPROC_DIR (which they
    inherit); removed when this process exits. Call it before the workers start."""
    path = tempfile.mkdtemp(prefix="search-metrics-")
    os.environ[MULTIPROC_ENV] = path
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def mark_worker_dead(pid: int, path: str | None = None) -> None:
    """Drop the queue gauge of a worker that died. Scrapes do it themselves for workers no
    longer alive, so a supervisor need not call it; counters of dead workers stay counted."""
    mark_process_dead(pid, path or os.environ.get(MULTIPROC_ENV))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _prune_dead(path: str) -> None:
    for name in os.listdir(path):
        found = re.fullmatch(r"gauge_live[a-z]+_(\d+)\.db", name)
        if found and not _alive(int(found[1])):
            mark_worker_dead(int(found[1]), path)


class _IndexGauges:
    """Gauges of the shared index, read from app.state.service when scraped."""

    def __init__(self, app) -> None:
        self.app = app

    def collect(self):
        service = getattr(getattr(self.app, "state", None), "service", None)
        if service is None:
            return
        try:
            state = service.state()
        except Exception as error:  # no index yet (IndexUnavailable), or it vanished
            log.debug("no index state for /metrics: %s", error)
            state = None
        yield GaugeMetricFamily(
            "search_index_available", "1 when an index is open, else 0", value=int(bool(state))
        )
        if not state:
            return
        rows = [
            ("search_documents", "documents in the index", state.get("documents")),
            ("search_index_bytes", "bytes of the live index generation", state.get("index_bytes")),
            ("search_segments", "segments of the index", state.get("segments")),
        ]
        try:
            last = datetime.fromisoformat(state["last_update"]).timestamp()
        except (KeyError, TypeError, ValueError):  # none yet (an empty folder), or unreadable
            last = None
        if last is not None:
            age = max(0.0, time.time() - last)
            rows.append(("search_last_commit_age_seconds", "seconds since the last commit", age))
        for name, documentation, value in rows:
            if isinstance(value, int | float):
                yield GaugeMetricFamily(name, documentation, value=value)


class _Together:
    def __init__(self, *collectors) -> None:
        self.collectors = collectors

    def collect(self):
        for collector in self.collectors:
            yield from collector.collect()


class Metrics:
    """The request counters and histogram of one process (one per RequestLog), in files shared
    by the workers when PROMETHEUS_MULTIPROC_DIR is set when it is made."""

    def __init__(self) -> None:
        _sync_value_class()
        self.directory = os.environ.get(MULTIPROC_ENV) or None
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Counter(
            "search_requests",
            "HTTP requests answered, by route template, method and status",
            ("route", "method", "status"),
            registry=self.registry,
        )
        self.seconds = Histogram(
            "search_request_seconds",
            "time to answer HTTP requests, by route template and method",
            ("route", "method"),
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.queue = Gauge(
            "search_write_queue_depth",
            "write requests waiting for the writer threads, all workers together",
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self._children: dict[tuple, tuple] = {}  # labels() takes a lock: keep the children

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method if method in METHODS else "other", status)
        children = self._children.get(key)
        if children is None:
            children = (
                self.requests.labels(key[0], key[1], str(status)),
                self.seconds.labels(key[0], key[1]),
            )
            self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def sample_queue(self, app) -> None:
        depth = _queue_depth(app)
        if depth is not None:
            self.queue.set(depth)

    def collector(self, app):
        """What a scrape shows: the counters (of every worker) and the gauges of `app`."""
        self.sample_queue(app)
        if self.directory is None:
            return _Together(self.registry, _IndexGauges(app))
        _prune_dead(self.directory)
        return _Together(MultiProcessCollector(None, path=self.directory), _IndexGauges(app))

    def render(self, app, accept: str | None = None) -> tuple[bytes, str]:
        """The exposition for an Accept header, and its content type."""
        encode, content_type = choose_encoder(accept or "")
        return encode(self.collector(app)), content_type


_fallback: Metrics | None = None


async def metrics(request: Request) -> Response:
    """GET /metrics. Behind RequestLog it shows that middleware's counters; without it, only
    the gauges."""
    global _fallback
    source = request.scope.get(SCOPE_KEY)
    if source is None:
        source = _fallback = _fallback or Metrics()
    body, content_type = source.render(request.app, request.headers.get("accept"))
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
    return Response(body, headers=headers, media_type=content_type)


METRICS_ROUTE = Route("/metrics", metrics, methods=["GET"])


# --- logging ----------------------------------------------------------------------------------


class PlainFormatter(logging.Formatter):
    """`TIME LEVEL LOGGER: message id=REQUEST` (+ traceback); access lines as they are."""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "access", None)
        if isinstance(fields, dict):
            if getattr(record, "access_format", None) == "plain":
                return record.getMessage()
            return _plain_line(fields)
        line = f"{_utc(record.created)} {record.levelname} {record.name}: {record.getMessage()}"
        request_id = getattr(record, "request_id", None) or _request_id.get()
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

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "access", None)
        if isinstance(fields, dict):
            if getattr(record, "access_format", None) == "json":
                return record.getMessage()
            return _json_line(fields)
        out = {
            "time": _utc(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or _request_id.get()
        if request_id:
            out["request_id"] = request_id
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        return json.dumps(out)


_HANDLER_NAME = "search.observe"
_OTHERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")  # "" is the root


def configure_logging(level: str = "info", fmt: str = "plain") -> None:
    """Log the "search" loggers at `level` and above to stderr, as plain lines or JSON lines.
    With "json", the records of every other logger (root, uvicorn) are JSON lines too. The root
    logger gets the same handler when it has none (as in a fresh worker process). Calling it
    again replaces what an earlier call set up."""
    number = logging.getLevelName(str(level).upper())
    if not isinstance(number, int):
        raise ValueError(f"log level {level!r}: expected debug, info, warning or error")
    if fmt not in FORMATS:
        raise ValueError(f"log format {fmt!r}: expected one of {', '.join(FORMATS)}")
    formatter = JsonFormatter() if fmt == "json" else PlainFormatter()
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    for name in ("search", *_OTHERS):
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if h.get_name() == _HANDLER_NAME]:
            logger.removeHandler(old)
    ours = logging.getLogger("search")
    ours.setLevel(number)
    ours.addHandler(handler)
    ours.propagate = False  # else a root handler prints each line a second time
    root = logging.getLogger()
    if fmt == "json":
        for name in _OTHERS:
            for other in logging.getLogger(name).handlers:
                other.setFormatter(formatter)
    if not root.handlers:
        root.addHandler(handler)


def uvicorn_log_config(fmt: str = "plain") -> dict:
    """A `log_config` for uvicorn.run: uvicorn's own records (in the supervising process too)
    as plain lines or JSON lines, like the "search" ones."""
    if fmt not in FORMATS:
        raise ValueError(f"log format {fmt!r}: expected one of {', '.join(FORMATS)}")
    formatter = JsonFormatter if fmt == "json" else PlainFormatter
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "search",
        "stream": "ext://sys.stderr",
    }
    alone = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"search": {"()": f"{__name__}.{formatter.__name__}"}},
        "handlers": {"default": handler},
        "loggers": {"uvicorn": alone, "uvicorn.error": {"level": "INFO"}, "uvicorn.access": alone},
    }


# --- the application --------------------------------------------------------------------------


def instrument(app, fmt: str = "plain") -> RequestLog:
    """`app` with GET /metrics (unless it has one) behind RequestLog."""
    if not any(getattr(route, "path", None) == "/metrics" for route in app.routes):
        app.router.routes.append(METRICS_ROUTE)
    return RequestLog(app, fmt)


def create_app() -> RequestLog:
    """uvicorn factory, run in every worker: logging from the log_level and log_format
    settings, then search.api.create_app() instrumented."""
    from search import api  # here: api comes before this module and never imports it

    sockets.listen_apart()
    fmt = settings.get("log_format")
    configure_logging(settings.get("log_level"), fmt)
    return instrument(api.create_app(), fmt)
