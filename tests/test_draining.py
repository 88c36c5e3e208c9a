"""search.draining: a worker's shutdown ends though a connection arrived as it began."""

from __future__ import annotations

import asyncio

import uvicorn

from search import draining


async def _app(scope, receive, send):  # never called: no request is served here
    raise AssertionError


class LateConnection:
    """A keep-alive connection registered after uvicorn told the others to close: it closes
    only when told (as uvicorn's protocols do), and counts the times it was."""

    def __init__(self, server: uvicorn.Server) -> None:
        self.server = server
        self.told = 0
        server.server_state.connections.add(self)  # type: ignore[arg-type]

    def shutdown(self) -> None:
        self.told += 1
        self.server.server_state.connections.discard(self)  # type: ignore[arg-type]


def test_a_connection_that_joins_as_shutdown_begins_is_told_to_close():
    draining.drain_every_connection()
    server = uvicorn.Server(uvicorn.Config(_app))
    server.servers = []
    late = LateConnection(server)
    # uvicorn alone waits for it for ever: the wait would time out here
    asyncio.run(asyncio.wait_for(server._wait_tasks_to_complete(), timeout=5))
    assert late.told == 1 and not server.server_state.connections


def test_installing_twice_wraps_once():
    draining.drain_every_connection()
    first = uvicorn.Server._wait_tasks_to_complete
    draining.drain_every_connection()
    assert uvicorn.Server._wait_tasks_to_complete is first
