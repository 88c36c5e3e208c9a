"""A Whoosh commit that survives a power cut: DurableWriter.

What Whoosh does. `SegmentWriter.commit()` writes the new segment's files, then
`_commit_toc` writes the new table of contents (`_MAIN_<n+1>.toc`) to a temporary file,
renames it into place, and at once removes what the new TOC no longer names: the previous
TOC and the segments merged away (`whoosh.index.clean_files`). Nothing is flushed to the
disk: not the segment files, not the new TOC, not the folder.

Why that is wrong. After a power cut the disk may hold the removals but not the new TOC (its
name without its bytes, or not even its name): the folder then has no readable table of
contents, and the index is lost, although the process had finished the commit. A writer
that syncs after `commit()` returns (as this service did) is too late: the old TOC is gone
by then.

The fix. Sync the new segment files and the folder, write the new TOC to its temporary
file and sync it, rename it into place and sync the folder; only then remove the old TOC
and the merged segments. At every moment the disk holds a complete table of contents: the
old one until the new one is durable. For Whoosh itself this belongs in `TOC.write` (fsync
before the rename, and of the folder after it) and in `_commit_toc` (clean_files after).

Done by a subclass, not a patch: the index's writers are made by `index.new_writer`, and
the workers of a parallel build commit nothing (see search.whoosh_ext.segments).
"""

from __future__ import annotations

import os
from pathlib import Path

from whoosh.index import TOC, clean_files
from whoosh.writing import SegmentWriter

from search.whoosh_ext.postings import faster


def fsync_path(path: Path | str) -> None:
    """Flush a file, or a folder's entries, to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_SYNCED: dict[Path, set[str]] = {}  # generation folder -> segment files already synced


def sync_new_files(folder: Path) -> None:
    """Flush the files of `folder` not yet flushed by this process, then the folder's
    entries. Segment files never change once written, so each is synced once; tables of
    contents are synced as they are written (commit_toc)."""
    paths = list(folder.iterdir())
    synced = _SYNCED.setdefault(folder, set())
    synced &= {path.name for path in paths}  # forget segments merged away: no growth
    for path in paths:
        if path.name in synced or ".toc" in path.name or not path.is_file():
            continue
        try:
            fsync_path(path)
        except FileNotFoundError:  # removed meanwhile (a temporary file of the writer)
            continue
        synced.add(path.name)
    fsync_path(folder)


class _SyncedStorage:
    """The storage a table of contents is written through: each file it creates is flushed
    to the disk as it is closed, and a rename is followed by a sync of the folder."""

    def __init__(self, storage, folder: Path) -> None:
        self._storage, self._folder = storage, folder

    def create_file(self, name, **kwargs):
        return self._storage.create_file(name, onclose=_flush, **kwargs)

    def rename_file(self, old, new, safe=False):
        self._storage.rename_file(old, new, safe=safe)
        fsync_path(self._folder)

    def __getattr__(self, name):
        return getattr(self._storage, name)


def _flush(stream) -> None:
    stream.file.flush()
    os.fsync(stream.file.fileno())


def commit_toc(writer: SegmentWriter, segments: list) -> None:
    """Write the table of contents listing `segments` for `writer`'s generation, durably,
    then remove the files it no longer names (see the module's docstring for the order).
    A writer with a `before_toc(segments)` method writes its own files there first: they
    are synced with the segment files, before the table of contents makes them visible.
    An index in memory (RamStorage) has nothing to sync."""
    storage = writer.storage
    before = getattr(writer, "before_toc", None)
    if before is not None:  # files the commit carries beside its segments (search.story_store)
        before(segments)
    toc = TOC(writer.schema, segments, writer.generation)
    folder = getattr(storage, "folder", None)
    if folder is None:
        toc.write(storage, writer.indexname)
    else:
        folder = Path(folder)
        sync_new_files(folder)  # the segment files, before a TOC names them
        toc.write(_SyncedStorage(storage, folder), writer.indexname)
    clean_files(storage, writer.indexname, writer.generation, segments)


class DurableWriter(SegmentWriter):
    """A SegmentWriter whose commit is on the disk when commit() returns, in an order that a
    power cut at any moment leaves a readable index (commit_toc). Its postings are pooled
    and written out faster (postings.faster)."""

    def __init__(self, ix, **kwargs) -> None:
        super().__init__(ix, **kwargs)
        faster(self)

    def _commit_toc(self, segments):
        commit_toc(self, segments)
