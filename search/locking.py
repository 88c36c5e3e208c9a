"""The write lock of an index folder: one writer at a time, across processes and threads."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from pathlib import Path

from whoosh.index import LockError

from search import settings

LOCK = "WRITE.lock"


class IndexBusy(LockError):
    """Another process or thread kept the write lock for longer than we would wait."""


class WriteLock:
    """The right to change the index in `root`, exclusive across processes and threads: an
    flock on root/WRITE.lock. The kernel drops an flock when its holder dies, so a killed
    writer never leaves the index locked; the file only names the last holder, for messages."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._fd: int | None = None

    def acquire(self, wait: float | None = None) -> None:
        """Take the lock, waiting up to `wait` seconds (default: the write_wait setting);
        IndexBusy when it stays taken."""
        if wait is None:
            wait = settings.number("write_wait")
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        holder = os.pread(fd, 64, 0).decode(errors="replace").strip()
                        who = f" (held by process {holder})" if holder else ""
                        raise IndexBusy(
                            f"another writer kept the index in {self.root} locked for "
                            f"{wait:g} s{who}"
                        ) from None
                    time.sleep(0.01)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        with contextlib.suppress(OSError):  # the holder's pid only serves messages
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> WriteLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock_holder(root: Path) -> int | None:
    """The process holding the write lock of `root` now, or None when it is free. (An flock
    dies with its holder: there are no stale locks to report, only live holders.)"""
    try:
        fd = os.open(root / LOCK, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    except BlockingIOError:
        text = os.pread(fd, 64, 0).decode(errors="replace").strip()
        return int(text) if text.isdigit() else -1
    finally:
        os.close(fd)
