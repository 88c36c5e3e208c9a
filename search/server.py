"""What each worker of `search serve` runs: the API (search.api) with its logging set up,
behind the access log (search.access), with GET /metrics (search.metrics).

    instrument(app, fmt)   `app` with /metrics behind RequestLog
    create_app()           the uvicorn factory: sockets and shutdown as search.sockets and
                           search.draining say, logging from the settings, then the above
"""

from __future__ import annotations

from starlette.applications import Starlette

from search import draining, logs, settings, sockets
from search.access import RequestLog
from search.metrics import METRICS_ROUTE


def instrument(app: Starlette, fmt: str = "plain") -> RequestLog:
    """`app` with GET /metrics (unless it has one) behind RequestLog."""
    if not any(getattr(route, "path", None) == "/metrics" for route in app.routes):
        app.router.routes.append(METRICS_ROUTE)
    return RequestLog(app, fmt)


def create_app() -> RequestLog:
    """uvicorn factory, run in every worker: logging from the log_level and log_format
    settings, then search.api.create_app() instrumented."""
    from search import api  # here: api comes before this module and never imports it

    if settings.integer("workers") > 1:  # one worker takes every connection anyway
        sockets.accept_in_turn()
    draining.drain_every_connection()  # SIGTERM ends the worker even under a busy client
    fmt = settings.text("log_format") or "plain"
    logs.configure_logging(settings.text("log_level") or "info", fmt)
    return instrument(api.create_app(), fmt)
