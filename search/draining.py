"""A worker's graceful shutdown that ends: connections that arrive while it begins are told
to close too.

uvicorn's `Server.shutdown()` closes the listening sockets, tells each open connection once to
close after its current response (`connection.shutdown()`), then waits until no connection is
left. A connection accepted just before the listener closed is registered a moment later, so
it is never told; a client that keeps it busy (a writer posting one article after another)
then holds the worker open for ever, and `search serve` never exits after SIGTERM (seen in
tests/test_service_life.py about once in fifteen runs on a loaded machine).

Here, while the worker waits for its connections, every connection is told again each tick
(telling is idempotent). Telling is what uvicorn does itself: an idle connection closes now, a
busy one after the response it is sending, so nothing in flight is cut short.
"""

from __future__ import annotations

import asyncio


def drain_every_connection() -> None:
    """In a worker, before it starts serving: make its shutdown tell late connections too."""
    from uvicorn.server import Server

    wait = Server._wait_tasks_to_complete
    if getattr(wait, "drains", False):
        return

    async def wait_draining(self) -> None:
        waiting = asyncio.ensure_future(wait(self))
        try:
            while not waiting.done():
                for connection in list(self.server_state.connections):
                    connection.shutdown()
                await asyncio.wait([waiting], timeout=0.1)
        finally:
            waiting.cancel()  # when uvicorn's graceful timeout cancels us, the wait ends too
        waiting.result()

    wait_draining.drains = True  # type: ignore[attr-defined]
    Server._wait_tasks_to_complete = wait_draining  # type: ignore[method-assign]
