"""search.access, logs, metrics and server: request ids, access lines, logging set-up and
metrics, in process over a small Starlette app; then a real two-worker server whose counters
add up at /metrics."""

from __future__ import annotations

import json
import logging
import logging.config
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from search import access, api, logs, metrics, server
from search.errors import IndexUnavailable
from tests.live import ROOT, free_port

SECRET_QUERY, SECRET_BODY, SECRET_KEY = "zanzibarquery", "zanzibarbody", "zanzibarkey"
PLAIN = re.compile(
    r"(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (?P<method>\S+) (?P<path>\S+) "
    r"(?P<status>\d{3}) (?P<ms>\d+\.\d)ms hits=(?P<hits>\d+|-) id=(?P<id>\S+)"
)
ACCESS_KEYS = ["time", "method", "path", "status", "ms", "hits", "request_id"]


@pytest.fixture(autouse=True)
def single_process(monkeypatch):
    monkeypatch.delenv(metrics.MULTIPROC_ENV, raising=False)


@pytest.fixture
def restore_logging():
    """configure_logging changes global loggers: put them back as they were."""
    saved = []
    for name in ("search", "", "uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
        logger = logging.getLogger(name)
        formatters = [(h, h.formatter) for h in logger.handlers]
        saved.append((logger, logger.level, list(logger.handlers), logger.propagate, formatters))
    yield
    for logger, level, handlers, propagate, formatters in saved:
        logger.setLevel(level)
        logger.handlers[:] = handlers
        logger.propagate = propagate
        for handler, formatter in formatters:
            handler.setFormatter(formatter)


class FakeService:
    def __init__(self, state: dict | None = None) -> None:
        self._state = state

    def state(self) -> dict:
        if self._state is None:
            raise IndexUnavailable("no index in /nowhere")
        return self._state


class FakeUpdater:
    depth = 3


async def search(request: Request) -> JSONResponse:
    request.state.hits = 4
    return JSONResponse({"total": 4})


async def document(request: Request) -> JSONResponse:
    if request.method == "PUT":
        await request.body()
    return JSONResponse({"id": request.path_params["id"]})


async def boom(request: Request) -> JSONResponse:
    logging.getLogger("search.test").warning("about to fail")
    raise RuntimeError("boom")


async def server_error(request: Request, error: Exception) -> JSONResponse:
    logging.getLogger("search.test").exception("unhandled")
    return JSONResponse({"error": {"code": "internal"}}, status_code=500)


def make_app(fmt: str = "plain", service=None, middleware=()) -> access.RequestLog:
    routes = [
        Route("/search", search),
        Route("/documents/{id:path}", document, methods=["GET", "PUT"]),
        Route("/boom", boom),
        metrics.METRICS_ROUTE,
    ]
    app = Starlette(
        routes=routes,
        middleware=list(middleware),
        exception_handlers={Exception: server_error},
    )
    app.state.service = service or FakeService(
        {"documents": 5, "segments": 2, "index_bytes": 12345, "last_update": None}
    )
    app.state.updater = FakeUpdater()
    return access.RequestLog(app, fmt)


def client(fmt: str = "plain", **kwargs) -> TestClient:
    return TestClient(make_app(fmt, **kwargs), raise_server_exceptions=False)


def access_records(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "search.access"]


def scrape(http) -> dict:
    response = http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return {f.name: f for f in text_string_to_metric_families(response.text)}


def sample(families: dict, family: str, name: str | None = None, **labels) -> float | None:
    for s in families[family].samples:
        if s.name == (name or family) and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None


# --- request ids ------------------------------------------------------------------------------


def test_a_request_without_an_id_gets_a_new_one():
    with client() as http:
        first = http.get("/search").headers["x-request-id"]
        second = http.get("/search").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and first != second


@pytest.mark.parametrize("given", ["abc", "A" * 64, "req-1:2/3=x\"'", "!~"])
def test_a_valid_incoming_id_is_kept(given):
    with client() as http:
        assert http.get("/search", headers={"X-Request-ID": given}).headers["x-request-id"] == given


@pytest.mark.parametrize(
    "given", [b"", b"a b", b"A" * 65, "caf\u00e9".encode(), b"tab\there", b" lead"]
)
def test_an_invalid_incoming_id_is_replaced(given):
    with client() as http:
        answer = http.get("/search", headers=[(b"X-Request-ID", given)])
    assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["x-request-id"])
    assert answer.headers.get_list("x-request-id") == [answer.headers["x-request-id"]]


@pytest.mark.parametrize(("path", "method", "status"), [
    ("/nowhere", "GET", 404),
    ("/search", "POST", 405),
    ("/boom", "GET", 500),
])  # fmt: skip
def test_errors_carry_the_id_too(path, method, status, caplog):
    caplog.set_level(logging.INFO, logger="search")
    with client() as http:
        answer = http.request(method, path, headers={"X-Request-ID": "trace-7"})
    assert (answer.status_code, answer.headers["x-request-id"]) == (status, "trace-7")
    [record] = access_records(caplog)
    assert record.access["status"] == status and record.access["request_id"] == "trace-7"


def test_the_id_reaches_handlers_and_their_log_records(caplog):
    caplog.set_level(logging.INFO, logger="search")
    seen = {}

    async def look(request: Request) -> JSONResponse:
        seen["state"] = request.state.request_id
        seen["context"] = logs.current_request_id()
        return JSONResponse({})

    app = access.RequestLog(Starlette(routes=[Route("/look", look)]))
    with TestClient(app) as http:
        http.get("/look", headers={"X-Request-ID": "abc"})
    assert seen == {"state": "abc", "context": "abc"} and logs.current_request_id() is None


# --- access lines -----------------------------------------------------------------------------


def test_plain_access_line(caplog):
    caplog.set_level(logging.INFO, logger="search")
    with client("plain") as http:
        http.get("/search", params={"q": "raqqa"}, headers={"X-Request-ID": "abc"})
        http.get("/documents/some/id", headers={"X-Request-ID": "def"})
    first, second = access_records(caplog)
    assert first.levelno == logging.INFO
    line = PLAIN.fullmatch(first.getMessage())
    assert line, first.getMessage()
    assert line["method"] == "GET" and line["path"] == "/search" and line["status"] == "200"
    assert (line["hits"], line["id"]) == ("4", "abc")
    arrived = datetime.fromisoformat(line["time"].replace("Z", "+00:00"))
    assert abs(datetime.now(UTC) - arrived) < timedelta(seconds=10)
    line = PLAIN.fullmatch(second.getMessage())
    assert (line["path"], line["hits"], line["id"]) == ("/documents/{id}", "-", "def")


def test_json_access_line(caplog):
    caplog.set_level(logging.INFO, logger="search")
    with client("json") as http:
        http.get("/search", params={"q": "raqqa"}, headers={"X-Request-ID": "abc"})
        http.put("/documents/x1", content=b"{}")
        http.get("/nowhere/%0Aforged line")
    first, second, third = (json.loads(r.getMessage()) for r in access_records(caplog))
    assert list(first) == ACCESS_KEYS
    assert first["method"] == "GET" and first["path"] == "/search" and first["status"] == 200
    assert first["hits"] == 4 and first["request_id"] == "abc"
    assert isinstance(first["ms"], float) and first["ms"] == round(first["ms"], 1)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["time"])
    assert (second["method"], second["path"], second["hits"]) == ("PUT", "/documents/{id}", None)
    # no route: the path as sent, on one line (controls and spaces %-encoded)
    assert third["path"] == "/nowhere/%0Aforged%20line" and third["status"] == 404


def test_logs_hold_no_query_body_or_authorization(caplog, capsys, restore_logging):
    caplog.set_level(logging.INFO, logger="search")
    for fmt in logs.FORMATS:
        logs.configure_logging("info", fmt)
        logging.getLogger("search").propagate = True  # caplog listens on the root
        with client(fmt) as http:
            headers = {"Authorization": f"Bearer {SECRET_KEY}"}
            http.get("/search", params={"q": SECRET_QUERY}, headers=headers)
            http.put("/documents/a", content=SECRET_BODY.encode(), headers=headers)
            http.get("/boom", params={"q": SECRET_QUERY}, headers=headers)
    printed = capsys.readouterr().err
    assert printed.count("/search") == 2 and printed.count("/documents/{id}") == 2
    for text in (caplog.text, printed):
        for secret in (SECRET_QUERY, SECRET_BODY, SECRET_KEY, "?q=", "Bearer"):
            assert secret not in text


def test_route_template_without_scope_route(caplog):
    """Starlette before 0.41 did not leave the matched route in the scope."""
    caplog.set_level(logging.INFO, logger="search")

    class ForgetRoute:
        def __init__(self, app) -> None:
            self.app = app

        async def __call__(self, scope, receive, send) -> None:
            await self.app(scope, receive, send)
            scope.pop("route", None)

    with client("json", middleware=[Middleware(ForgetRoute)]) as http:
        http.get("/documents/a/b")
        metrics = scrape(http)
    assert json.loads(access_records(caplog)[0].getMessage())["path"] == "/documents/{id}"
    labels = {"route": "/documents/{id}", "method": "GET", "status": "200"}
    assert sample(metrics, "search_requests", "search_requests_total", **labels) == 1


def test_no_access_line_below_info(caplog):
    caplog.set_level(logging.WARNING, logger="search")
    with client() as http:
        assert http.get("/search").status_code == 200
        assert "search_requests_total" in http.get("/metrics").text
    assert access_records(caplog) == []


def test_middleware_checks_its_format():
    with pytest.raises(ValueError, match="xml"):
        access.RequestLog(Starlette(), "xml")


# --- configure_logging ------------------------------------------------------------------------


def test_configure_logging_plain(capsys, restore_logging):
    logs.configure_logging("info", "plain")
    logs.configure_logging("info", "plain")  # again: still one handler
    with client("plain") as http:
        http.get("/boom", headers={"X-Request-ID": "abc"})
    logging.getLogger("search.test").debug("not shown below info")
    lines = capsys.readouterr().err.splitlines()
    assert re.fullmatch(r"\S+Z WARNING search\.test: about to fail id=abc", lines[0])
    assert re.fullmatch(r"\S+Z ERROR search\.test: unhandled id=abc", lines[1])
    assert lines[2] == "Traceback (most recent call last):"
    assert PLAIN.fullmatch(lines[-1])["status"] == "500"
    assert sum(1 for line in lines if PLAIN.fullmatch(line)) == 1
    assert not any("not shown" in line for line in lines)


def test_configure_logging_json(capsys, monkeypatch, restore_logging):
    monkeypatch.setattr(logging.getLogger(), "handlers", [])  # as in a fresh worker
    # uvicorn.Config() elsewhere in the suite gives uvicorn's loggers handlers of their own
    for name in ("uvicorn", "uvicorn.error"):
        monkeypatch.setattr(logging.getLogger(name), "handlers", [])
        monkeypatch.setattr(logging.getLogger(name), "propagate", True)
    logs.configure_logging("debug", "json")
    with client("plain") as http:  # a plain middleware still gives JSON lines here
        http.get("/boom", headers={"X-Request-ID": "abc"})
        http.get("/search")
    logging.getLogger("search.test").debug("shown at debug")
    logging.getLogger("uvicorn.error").warning("from %s", "uvicorn")
    logging.getLogger("whoosh").error("from another library")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    warning, error, failed, searched, debug, uvicorn, other = lines
    assert warning["level"] == "WARNING" and warning["logger"] == "search.test"
    assert warning["message"] == "about to fail" and warning["request_id"] == "abc"
    assert "RuntimeError: boom" in error["exc"] and error["request_id"] == "abc"
    assert list(failed) == ACCESS_KEYS and failed["status"] == 500
    assert list(searched) == ACCESS_KEYS and searched["hits"] == 4
    assert debug["message"] == "shown at debug" and "request_id" not in debug
    assert (uvicorn["logger"], uvicorn["message"]) == ("uvicorn.error", "from uvicorn")
    assert (other["logger"], other["level"]) == ("whoosh", "ERROR")


def test_uvicorn_log_config(capsys, restore_logging):
    logging.config.dictConfig(logs.uvicorn_log_config("json"))
    logging.getLogger("uvicorn.error").warning("child process died")
    line = json.loads(capsys.readouterr().err)
    assert (line["logger"], line["message"]) == ("uvicorn.error", "child process died")
    logging.config.dictConfig(logs.uvicorn_log_config("plain"))
    logging.getLogger("uvicorn.error").warning("child process died")
    assert re.fullmatch(
        r"\S+Z WARNING uvicorn\.error: child process died\n", capsys.readouterr().err
    )


def test_configure_logging_refuses_unknown_values(restore_logging):
    with pytest.raises(ValueError, match="loud"):
        logs.configure_logging("loud", "plain")
    with pytest.raises(ValueError, match="xml"):
        logs.configure_logging("info", "xml")


# --- metrics ----------------------------------------------------------------------------------


def test_request_counters_and_histogram():
    with client() as http:
        for _ in range(3):
            http.get("/search", params={"q": "raqqa"})
        http.get("/documents/a")
        http.get("/documents/b/c")
        http.get("/nowhere")
        http.get("/boom")
        http.request("BREW", "/search")
        families = scrape(http)

    def count(**labels):
        return sample(families, "search_requests", "search_requests_total", **labels)

    assert count(route="/search", method="GET", status="200") == 3
    assert count(route="/documents/{id}", method="GET", status="200") == 2
    assert count(route="unmatched", method="GET", status="404") == 1
    assert count(route="/boom", method="GET", status="500") == 1
    assert count(route="/search", method="other", status="405") == 1
    assert count(route="/metrics") is None  # a scrape counts once it is answered

    histogram = families["search_request_seconds"]
    assert histogram.type == "histogram"
    bounds = [
        s.labels["le"]
        for s in histogram.samples
        if s.name.endswith("_bucket")
        and s.labels == {"route": "/search", "method": "GET", "le": s.labels["le"]}
    ]
    assert bounds == [*(repr(float(b)) for b in metrics.BUCKETS), "+Inf"]
    labels = {"route": "/search", "method": "GET"}
    assert sample(families, "search_request_seconds", "search_request_seconds_count", **labels) == 3
    inf = sample(
        families, "search_request_seconds", "search_request_seconds_bucket", **labels, le="+Inf"
    )
    assert inf == 3
    assert sample(families, "search_request_seconds", "search_request_seconds_sum", **labels) > 0


def test_gauges_come_from_the_app_state():
    ten_seconds_ago = (datetime.now(UTC) - timedelta(seconds=10)).isoformat(timespec="seconds")
    state = {"documents": 5, "segments": 2, "index_bytes": 12345, "last_update": ten_seconds_ago}
    with client(service=FakeService(state)) as http:
        families = scrape(http)
        text = http.get("/metrics").text
    assert sample(families, "search_index_available") == 1
    assert sample(families, "search_documents") == 5
    assert sample(families, "search_segments") == 2
    assert sample(families, "search_index_bytes") == 12345
    assert 9 <= sample(families, "search_last_commit_age_seconds") <= 30
    assert sample(families, "search_write_queue_depth") == 3
    for name in ("search_documents ", "search_write_queue_depth "):
        assert text.count("\n" + name) == 1


def test_gauges_without_an_index():
    with client(service=FakeService(None)) as http:
        families = scrape(http)
    assert sample(families, "search_index_available") == 0
    assert "search_documents" not in families and "search_last_commit_age_seconds" not in families
    assert sample(families, "search_write_queue_depth") == 3


def test_openmetrics_on_request():
    with client() as http:
        http.get("/search")
        answer = http.get("/metrics", headers={"Accept": "application/openmetrics-text"})
    assert answer.headers["content-type"].startswith("application/openmetrics-text")
    assert answer.text.endswith("# EOF\n") and "search_requests_total{" in answer.text


def test_metrics_route_without_the_middleware():
    app = Starlette(routes=[metrics.METRICS_ROUTE])
    app.state.service = FakeService({"documents": 7})
    with TestClient(app) as http:
        families = scrape(http)
    assert sample(families, "search_documents") == 7


def test_the_real_app_instrumented(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="search")
    app = server.instrument(api.create_app(tmp_path / "no-index"), "json")
    assert server.instrument(app.app, "json").routes == app.routes  # /metrics only once
    assert [r.path for r in app.routes].count("/metrics") == 1
    assert all(getattr(r, "path", None) != "/metrics" for r in api.ROUTES)
    with TestClient(app) as http:
        assert http.app.state.service is app.app.state.service
        answer = http.get("/nowhere", headers={"X-Request-ID": "abc"})
        assert (answer.status_code, answer.headers["x-request-id"]) == (404, "abc")
        assert answer.json()["error"]["code"] == "not_found"
        families = scrape(http)
    assert sample(families, "search_index_available") == 0
    assert sample(families, "search_write_queue_depth") == 0
    paths = [json.loads(r.getMessage())["path"] for r in access_records(caplog)]
    assert paths == ["/nowhere", "/metrics"]


def test_prepare_multiprocess_dir(monkeypatch):
    path = metrics.prepare_multiprocess_dir()
    try:
        assert os.environ[metrics.MULTIPROC_ENV] == path
        assert Path(path).is_dir() and not any(Path(path).iterdir())
        assert metrics.prepare_multiprocess_dir() != path  # fresh each time
    finally:
        monkeypatch.delenv(metrics.MULTIPROC_ENV)


ONE_WORKER = """
import os
from starlette.applications import Starlette
from starlette.testclient import TestClient
from search import metrics, server  # imported (with prometheus_client) before the folder is set
folder = metrics.prepare_multiprocess_dir()
app = server.instrument(Starlette(), "plain")
with TestClient(app) as http:
    http.get("/nowhere")
    text = http.get("/metrics").text
assert 'search_requests_total{method="GET",route="unmatched",status="404"} 1.0' in text, text
kinds = sorted(name.split("_")[0] for name in os.listdir(folder))
assert kinds == ["counter", "gauge", "histogram"], kinds
"""


def test_one_worker_in_the_serving_process():
    """`search serve` with one worker: uvicorn runs the app in the process that imported
    prometheus_client before prepare_multiprocess_dir() set the folder."""
    env = {k: v for k, v in os.environ.items() if k != metrics.MULTIPROC_ENV}
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", ONE_WORKER], cwd=ROOT, env=env, capture_output=True
    )
    assert done.returncode == 0, done.stderr.decode()


def test_dead_workers_queue_gauges_are_dropped(tmp_path):
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()  # reaped: its pid names no process
    dead = tmp_path / f"gauge_livesum_{ended.pid}.db"
    alive = tmp_path / f"gauge_livesum_{os.getpid()}.db"
    counter = tmp_path / f"counter_{ended.pid}.db"  # what it counted stays counted
    for path in (dead, alive, counter):
        path.write_bytes(b"")
    metrics._prune_dead(str(tmp_path))
    assert not dead.exists() and alive.exists() and counter.exists()


# --- a real server, two workers ---------------------------------------------------------------

LAUNCH = """
import sys, uvicorn
from search import access, logs, metrics, server
print(metrics.prepare_multiprocess_dir(), flush=True)
uvicorn.run("search.server:create_app", factory=True, host="127.0.0.1",
            port=int(sys.argv[1]), workers=2, log_level="warning",
            log_config=logs.uvicorn_log_config("json"))
"""


def test_two_workers_add_up(index, tmp_path):
    port = free_port()
    env = {**os.environ, "SEARCH_INDEX": str(index), "SEARCH_LOG_FORMAT": "json"}
    env.pop(metrics.MULTIPROC_ENV, None)
    errors = (tmp_path / "stderr").open("w+b")
    server = subprocess.Popen(
        [sys.executable, "-c", LAUNCH, str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=errors,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        folder = Path(server.stdout.readline().decode().strip())
        assert folder.name.startswith("search-metrics-") and folder.is_dir()
        # each phase has its own deadline: on a loaded machine the start alone can take
        # most of a shared one, and the test then failed while nothing was wrong
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "no server"
            time.sleep(0.1)

        def one(_) -> httpx.Response:  # a new connection each: either worker may answer
            answer = httpx.get(f"{url}/search", params={"q": SECRET_QUERY, "facets": "none"})
            assert answer.status_code == 200 and answer.headers["x-request-id"]
            return answer

        sent, deadline = 0, time.monotonic() + 30
        with ThreadPoolExecutor(8) as pool:
            while len(list(folder.glob("counter_*.db"))) < 2:  # until both have answered
                assert time.monotonic() < deadline, "one worker answered everything"
                sent += len(list(pool.map(one, range(16))))

        def total(families, name, **labels) -> float | None:
            return sample(families, "search_requests", name, route="/search", **labels)

        deadline = time.monotonic() + 20
        for _ in range(4):  # whichever worker answers, it counts both workers' requests
            while True:
                with httpx.Client(base_url=url) as http:
                    families = scrape(http)
                labels = {"method": "GET", "status": "200"}
                if total(families, "search_requests_total", **labels) == sent:
                    break
                assert time.monotonic() < deadline, "the counts never added up"
                time.sleep(0.05)
            count = sample(
                families,
                "search_request_seconds",
                "search_request_seconds_count",
                route="/search",
                method="GET",
            )
            assert count == sent
            assert sample(families, "search_documents") == 5
            assert sample(families, "search_index_available") == 1
            for family in ("search_documents", "search_write_queue_depth"):
                assert len(families[family].samples) == 1  # not once per worker
            assert sample(families, "search_write_queue_depth") == 0
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    assert not folder.exists()  # removed when the server stopped
    errors.seek(0)
    lines = [json.loads(line) for line in errors.read().decode().splitlines()]
    searches = [line for line in lines if line.get("path") == "/search"]
    assert len(searches) == sent and all(line["status"] == 200 for line in searches)
    assert SECRET_QUERY not in json.dumps(lines)
