"""Listening sockets for `search serve --workers N`: one per worker, spread by the kernel.

uvicorn binds one socket in the supervisor and every worker accepts from it. asyncio
accepts every waiting connection at once, so the first worker to wake took a whole burst:
keep-alive clients all landed on one worker, and a second worker added little to the
requests served instead of nearly doubling them. Here the supervisor's socket is bound with
SO_REUSEPORT and never listens; each worker listens on a socket of its own bound to the
same address, and the kernel hands each new connection to one of them by a hash of its
addresses.

The sockets are also made with IPPROTO_TCP: uvicorn's are made with protocol 0, so asyncio
never set TCP_NODELAY on their connections and every keep-alive request after the first
waited for a delayed ACK (uvicorn issue #3149).
"""

from __future__ import annotations

import socket


def _tcp_socket(family: int) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    return sock


def share_port() -> None:
    """In the supervisor, before uvicorn.run(): bind its socket so workers may bind too."""
    from uvicorn.config import Config

    bind = Config.bind_socket
    if getattr(bind, "shared", False):
        return

    def bind_socket(self) -> socket.socket:
        sock = bind(self)  # uvicorn's own: its checks, messages and exit on failure
        if sock.family not in (socket.AF_INET, socket.AF_INET6):
            return sock
        address = sock.getsockname()
        sock.close()  # the same address again, now shareable
        shared = _tcp_socket(sock.family)
        shared.bind(address)
        shared.set_inheritable(True)
        return shared

    bind_socket.shared = True  # type: ignore[attr-defined]
    Config.bind_socket = bind_socket  # type: ignore[method-assign]


def listen_apart() -> None:
    """In a worker, before it starts serving: listen on a socket of its own instead of the
    supervisor's."""
    from uvicorn.server import Server

    startup = Server.startup
    if getattr(startup, "apart", False):
        return

    async def own_startup(self, sockets=None):
        if sockets:
            sockets = [_own(sock) for sock in sockets]
        return await startup(self, sockets)

    own_startup.apart = True  # type: ignore[attr-defined]
    Server.startup = own_startup  # type: ignore[method-assign]


def _own(sock: socket.socket) -> socket.socket:
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return sock
    own = _tcp_socket(sock.family)
    own.bind(sock.getsockname())
    return own
