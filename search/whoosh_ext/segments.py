"""Segments written by several processes and committed in one table of contents (for
search.segments, the parallel fresh build).

Whoosh has no public way to do this: its MpWriter merges every worker's segment in the
parent. Here each worker's SegmentWriter is finished without a commit (its segment kept,
its temporary folder left to the parent), and the parent lists all the segments in one
durable commit.
"""

from __future__ import annotations

from whoosh.index import FileIndex, Index
from whoosh.reading import IndexReader
from whoosh.writing import SegmentWriter

from search.whoosh_ext.commit import commit_toc
from search.whoosh_ext.postings import faster


def unlocked_writer(ix: Index, **kwargs) -> SegmentWriter:
    """A writer that does not take Whoosh's lock: for a worker of a parent holding it."""
    return faster(SegmentWriter(ix, _lk=False, **kwargs))


def finish_segment(writer: SegmentWriter):
    """Close a worker's writer without committing; its segment, or None when it got no
    document (its files are then left to the parent's commit to remove). Not commit() or
    cancel(): both remove the temporary folder, which the parent and the other workers
    share."""
    if writer.doc_count():
        return writer._finalize_segment()
    writer._close_segment()
    return None


def commit_segments(writer: SegmentWriter, segments: list) -> None:
    """Commit `writer` (the parent's, holding the lock, with whatever it indexed itself)
    and the workers' `segments` in one durable table of contents: readers see all of them
    or none."""
    if writer._added:
        segments = [*segments, writer._finalize_segment()]
    else:
        writer._close_segment()
    commit_toc(writer, segments)
    writer._finish()


def segments_reader(writer: SegmentWriter, segments: list) -> IndexReader:
    """A reader of exactly `segments` (a commit's, before its table of contents is
    written), with their deletions: what the commit will show readers. Close it."""
    return FileIndex._reader(writer.storage, writer.schema, list(segments), writer.generation)
