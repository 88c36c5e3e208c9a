"""One open index per process: a View reused across requests, refreshed when the index changes.

A change is either a new Whoosh commit in the live generation or a rebuild that switched
generations; both are noticed within REFRESH_SECONDS.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from whoosh import index as whoosh_index

from search import segment_arrays, settings
from search.errors import IndexUnavailable
from search.generations import IndexNotFoundError, current_generation, open_live
from search.view import View

REFRESH_SECONDS = 0.5


def _utc_time(timestamp: float | None) -> str | None:
    """A file time as UTC ISO 8601, to the second."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


class Service:
    """Hands out the current View of the index in `root`."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()
        self._index = None
        self._generation: Path | None = None
        self._view: View | None = None
        self._retired: View | None = None
        self._checked = 0.0
        self._pins: dict[View, int] = {}  # views in use by a long read (an export)
        segment_arrays.POSTINGS.budget = settings.integer("postings_cache_mb") * 2**20

    def view(self) -> View:
        """The current view; IndexUnavailable (503) when there is no index."""
        with self._lock:
            now = time.monotonic()
            if self._view is None or now - self._checked >= REFRESH_SECONDS:
                self._checked = now
                self._refresh()
            assert self._view is not None  # _refresh raises when it has none
            return self._view

    def pin(self) -> View:
        """The current view, kept open until unpin(view) however the index changes meanwhile:
        for a read that outlasts refreshes (an export streams for minutes)."""
        view = self.view()
        with self._lock:
            self._pins[view] = self._pins.get(view, 0) + 1
        return view

    def unpin(self, view: View) -> None:
        """The long read of `view` is done: close it if it was replaced meanwhile."""
        with self._lock:
            left = self._pins.pop(view, 1) - 1
            if left:
                self._pins[view] = left
            elif view is not self._view and view is not self._retired:
                view.close()

    def changed(self) -> None:
        """The index was just committed to: the next view() looks again."""
        self._checked = 0.0

    def _refresh(self) -> None:
        # Any failure to look keeps the view in hand: searches go on from the last good one.
        try:
            generation = current_generation(self.root)
            if generation != self._generation or self._index is None:
                index, generation = open_live(self.root)
                view = View(index.searcher(), settings.integer("cache_size"), generation)
                self._replace(index, view, generation)
            elif not self._view.searcher.up_to_date():
                view = View(self._index.searcher(), settings.integer("cache_size"), generation)
                self._replace(self._index, view, generation)
        except (IndexNotFoundError, OSError, ValueError, whoosh_index.IndexError) as error:
            if self._view is None:
                raise IndexUnavailable(str(error)) from None

    def _replace(self, index, view: View, generation: Path | None) -> None:
        # The view being replaced may still be in use by a request that got it just before;
        # it is closed at the next replacement, not now.
        if self._retired is not None and self._retired not in self._pins:
            self._retired.close()  # a pinned one is closed by unpin
        self._retired = self._view
        self._index, self._view, self._generation = index, view, generation

    def state(self) -> dict:
        """What /health and /stats report about the index on disk."""
        view = self.view()
        folder = self._generation
        sizes, times = [], []
        try:
            paths = list(folder.iterdir()) if folder else []
        except OSError:  # the folder was removed; the open view still answers
            paths = []
        for path in paths:
            try:  # a commit may delete old segment files under our feet
                info = path.stat()
            except OSError:
                continue
            sizes.append(info.st_size)
            times.append(info.st_mtime)
        reader = view.searcher.reader()
        return {
            "documents": view.searcher.doc_count(),
            "generation": folder.name if folder else None,
            "segments": len(list(reader.leaf_readers())),
            "index_bytes": sum(sizes),
            "last_update": _utc_time(max(times, default=None)),
        }
