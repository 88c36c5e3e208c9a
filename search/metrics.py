"""Prometheus metrics: request counters and histogram, index gauges, GET /metrics.

Workers are processes. With PROMETHEUS_MULTIPROC_DIR set, each writes its counters to files
there and the worker that answers /metrics adds up every worker's. The index gauges describe the
shared index, so only the answering worker computes them, at scrape time; the write queue is
per worker, so it is a `livesum` gauge: each worker samples its own after each write request and
the answering worker just before the scrape.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import shutil
import tempfile
import time
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, values
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED = "unmatched"  # the route label of requests no route matched (404s)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"})
SCOPE_KEY = "search.metrics"  # where RequestLog leaves its Metrics for the /metrics handler

log = logging.getLogger("search.metrics")


def _queue_depth(app) -> int | None:
    updater = getattr(getattr(app, "state", None), "updater", None)
    depth = getattr(updater, "depth", None)
    return depth if isinstance(depth, int) else None


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
