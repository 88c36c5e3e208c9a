"""Live changes from the write routes: one writer thread per process, committing in groups.

Requests queue their changes here. The writer thread takes everything queued, applies it in
one commit under the index's write lock (shared with the other workers and with `search index`)
and answers each request only once the commit is on disk. Grouping keeps many small writes
from paying one commit each. A full queue, or a writer lock held too long by someone else,
is a 503 with Retry-After: the change is refused, never dropped after being accepted.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from whoosh.index import LockError

from search import settings
from search.errors import Busy, IndexUnavailable
from search.generations import IndexNotFoundError
from search.index import apply
from search.schema import Change

log = logging.getLogger("search.updates")


class Updater:
    """Queues changes for the index in `root`; `on_commit` runs after each commit."""

    def __init__(self, root: Path, on_commit: Callable[[], None] = lambda: None) -> None:
        self.root = root
        self.on_commit = on_commit
        self.limit = settings.integer("write_queue")
        self._queue: list[tuple[list[Change], Future]] = []
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closing = False
        self._busy = False  # a batch is being applied

    @property
    def closing(self) -> bool:
        return self._closing

    @property
    def depth(self) -> int:
        """Write requests waiting for the writer thread."""
        return len(self._queue)

    def submit(self, changes: list[Change]) -> Future:
        """Queue changes; the future gives their statuses (as index.apply) once committed.
        Raises Busy when the queue is full."""
        future: Future = Future()
        with self._wake:
            if self._closing:
                raise Busy("the server is shutting down; retry against another instance")
            if len(self._queue) >= self.limit:
                raise Busy(f"{self.limit} write requests are already waiting; retry shortly")
            self._queue.append((changes, future))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="writer", daemon=True)
                self._thread.start()
            self._wake.notify_all()
        return future

    def close(self, timeout: float = 60.0) -> bool:
        """Refuse new writes and commit those already accepted. True when all are done."""
        with self._wake:
            self._closing = True
            deadline = threading.TIMEOUT_MAX if timeout is None else timeout
            return self._wake.wait_for(lambda: not self._queue and not self._busy, deadline)

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._queue:
                    self._wake.wait()
                batch, self._queue = self._queue, []
                self._busy = True
            try:
                self._commit(batch)
            except Exception:  # never let the thread die: later writes would hang
                log.exception("the writer thread failed")
            finally:
                with self._wake:
                    self._busy = False
                    self._wake.notify_all()

    def _commit(self, batch: list[tuple[list[Change], Future]]) -> None:
        # A request whose client went away (its future cancelled) is applied all the same:
        # an unanswered write may or may not have happened. It just gets no answer.
        answer = [future.set_running_or_notify_cancel() for _, future in batch]
        changes = [change for request, _ in batch for change in request]
        try:
            statuses = apply(changes, self.root)
        except LockError as error:  # ours (IndexBusy), or Whoosh's own lock held elsewhere
            reason = str(error) or "another program is writing to the index"
            self._fail(batch, answer, Busy(reason, retry_after=2))
            return
        except IndexNotFoundError as error:  # e.g. CURRENT names a generation that is gone
            self._fail(batch, answer, IndexUnavailable(str(error)))
            return
        except Exception as error:  # the requests answer 500; the thread lives on
            log.exception("writing %d changes failed", len(changes))
            self._fail(batch, answer, error)
            return
        try:
            self.on_commit()
        except Exception:  # the commit is on disk: answer the requests all the same
            log.exception("after a commit")
        start = 0
        for (request, future), waiting in zip(batch, answer, strict=True):
            if waiting:
                future.set_result(statuses[start : start + len(request)])
            start += len(request)

    @staticmethod
    def _fail(batch, answer: list[bool], error: BaseException) -> None:
        for (_, future), waiting in zip(batch, answer, strict=True):
            if waiting:
                future.set_exception(error)
