"""Before and after `search serve` starts: is its port free, and when does it answer.

uvicorn reports a busy port as `[Errno 98] ... address already in use` and nothing else,
and says nothing when it is ready at the log level the service runs it with.
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import Callable

WAIT_READY = 120.0  # seconds the announcement waits for the first answer


def port_taken(host: str, port: int) -> bool:
    """True when another process listens on host:port (a socket of ours could not bind)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        return False  # an unknown host: uvicorn says so itself
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # TIME_WAIT is not busy
        try:
            sock.bind(address)
        except OSError as error:
            return error.errno == errno.EADDRINUSE
    return False


def url_of(host: str, port: int) -> str:
    """The address people open: a wildcard host is reached on this machine as localhost."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else "[::1]" if host == "::" else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


def announce_when_ready(host: str, port: int, say: Callable[[str], None]) -> threading.Thread:
    """Calls `say(url)` once host:port accepts a connection, from a daemon thread: uvicorn
    listens only after a worker has started the app, so the line comes when it is ready."""
    url = url_of(host, port)
    target = url.removeprefix("http://").rsplit(":", 1)[0].strip("[]")

    def wait() -> None:
        deadline = time.monotonic() + WAIT_READY
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((target, port), timeout=1):
                    pass
            except OSError:
                time.sleep(0.1)
                continue
            say(url)
            return

    thread = threading.Thread(target=wait, name="announce", daemon=True)
    thread.start()
    return thread
