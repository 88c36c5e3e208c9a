"""The server under test: a real `search serve` process on a free port (Server), for the
end-to-end tests, or the same application in this process (InProcess), for the API's contracts.
Both have `index`, `url`, `client` (an httpx.Client) and `stop()`."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """Starts `python -m search serve` on an index folder; stop() ends it, kill() kills it and
    its workers with SIGKILL. `env` adds environment variables (settings)."""

    def __init__(self, index: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.index = index
        self.port = free_port()
        self._output = tempfile.TemporaryFile()  # noqa: SIM115 (lives as long as the server)
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            sys.executable,
            "-m",
            "search",
            "serve",
            "--index",
            str(index),
            "--port",
            str(self.port),
            *extra,
        ]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=self._output,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,  # its own process group: kill() reaches every worker
        )
        self.client = httpx.Client(base_url=self.url, timeout=30)
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.output()}")
            try:
                self.client.get("/openapi.json")
                return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("server did not start within 30 s")

    def output(self) -> str:
        """What the server printed so far."""
        self._output.seek(0)
        return self._output.read().decode(errors="replace")

    def stop(self) -> None:
        self.client.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL the server and its workers at once, as a crash would."""
        self.client.close()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


class InProcess:
    """The application each `search serve` worker runs (search.api.create_app behind
    search.access's RequestLog and /metrics, as search.server.create_app builds it) over `index`,
    in this process through Starlette's TestClient: no process, no port, no start-up wait.

    Settings are read from the environment as it is when it is made (a test sets them first
    with monkeypatch.setenv) and, for those read per request, when each request comes; the
    query limits are read when search is imported, so a test of other limits needs a Server.
    An unhandled error answers 500 as a server would, instead of raising in the test."""

    url = "http://testserver"

    def __init__(self, index: Path) -> None:
        from starlette.testclient import TestClient

        from search import api, server

        self.index = index
        self.app = api.create_app(index)
        self.client = TestClient(
            server.instrument(self.app), base_url=self.url, raise_server_exceptions=False
        )
        self.client.__enter__()  # the lifespan: the index is opened, as at a server's start
        if not self.app.state.ready.wait(30):
            self.stop()
            raise RuntimeError("the application did not open its index within 30 s")

    def stop(self) -> None:
        """The lifespan's end, as on SIGTERM: writes already accepted are committed."""
        self.client.__exit__(None, None, None)

    def __enter__(self) -> InProcess:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def build_seeds(folder: Path) -> Path:
    """Index the five seed articles into `folder` with the real CLI; returns the folder."""
    subprocess.run(
        [sys.executable, "-m", "search", "index", "seeds", "--index", str(folder), "-q"],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    return folder


def run(*args, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`python -m search ARGS` as a user runs it; output captured as text."""
    return subprocess.run(
        [sys.executable, "-m", "search", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=300,
    )
