"""The listening socket of `search serve --workers N`, and how its workers share it.

uvicorn binds one socket in the supervisor and every worker accepts from it. asyncio
accepts every waiting connection at once, so the first worker to wake took a whole burst:
keep-alive clients all landed on one worker, and a second worker added little to the
requests served instead of nearly doubling them. One socket per worker (SO_REUSEPORT) did
not do better: the kernel hands each connection to a socket by a hash of its addresses, and
8 keep-alive clients split 4/4 only by luck (1/8, 2/7 and 0/8 were seen). So each worker
accepts one connection per wake-up, and a worker holding connections waits a little before
it accepts another (accept_in_turn): the one holding fewer takes it.

The sockets are also made with IPPROTO_TCP: uvicorn's are made with protocol 0, so asyncio
never set TCP_NODELAY on their connections and every keep-alive request after the first
waited for a delayed ACK (uvicorn issue #3149).
"""

from __future__ import annotations

import socket
from asyncio import selector_events
from typing import Any

STEP = 0.002  # seconds a worker waits per connection it holds before it accepts another
MOST = 0.02


def bind_tcp() -> None:
    """In the supervisor, before uvicorn.run(): its listening socket made with IPPROTO_TCP
    (see above), bound where uvicorn would bind it."""
    from uvicorn.config import Config

    bind = Config.bind_socket
    if getattr(bind, "tcp", False):
        return

    def bind_socket(self) -> socket.socket:
        sock = bind(self)  # uvicorn's own: its checks, messages and exit on failure
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return sock
        address = sock.getsockname()
        sock.close()  # the same address again, with the protocol set
        tcp = socket.socket(sock.family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        tcp.bind(address)
        tcp.set_inheritable(True)
        return tcp

    bind_socket.tcp = True  # type: ignore[attr-defined]
    Config.bind_socket = bind_socket  # type: ignore[method-assign]


def accept_in_turn() -> None:
    """In each of several workers, before it starts serving: accept one connection each
    time the listening socket wakes it, not every one waiting (asyncio's default), and a
    worker already holding connections first waits STEP seconds for each (at most MOST),
    so that one holding fewer takes the connection (nginx's accept_disabled, in short)."""
    loop: Any = selector_events.BaseSelectorEventLoop  # _accept_connection is private
    accept = loop._accept_connection
    if getattr(accept, "in_turn", False):
        return

    def accept_one(self, factory, sock, sslcontext=None, server=None, backlog=100, *rest):
        held = getattr(server, "_active_count", 0)
        if not held:
            return accept(self, factory, sock, sslcontext, server, 1, *rest)
        fd = sock.fileno()
        self._remove_reader(fd)

        def resume() -> None:
            if sock.fileno() == -1 or getattr(server, "_sockets", None) is None:
                return  # the server closed meanwhile
            accept(self, factory, sock, sslcontext, server, 1, *rest)
            self._add_reader(
                fd, self._accept_connection, factory, sock, sslcontext, server, 1, *rest
            )

        self.call_later(min(held * STEP, MOST), resume)
        return None

    accept_one.in_turn = True  # type: ignore[attr-defined]
    loop._accept_connection = accept_one
