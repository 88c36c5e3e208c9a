"""A writer's posting pool that spills to disk a chunk of postings at a time.

What Whoosh does. A SegmentWriter gathers its postings in a PostingPool. Past `limitmb` (by
the pool's own estimate of their size) it sorts them and writes a run to a temporary file,
one `pickle.dump` call per posting; at the end it reads every run back, one `pickle.load`
call per posting, into a heap merge.

Why that is slow. A build worker spills once it holds about 3,500 generated articles (400
postings each), so every worker of a build of 10,000 spills, and of 100,000 a dozen times.
Measured on 5,000 articles in one writer: finishing the segment took 2 ms an article more
with one spilled run than with none, a tenth of indexing.

The fix. The same runs, sorted the same way, pickled RUN_CHUNK postings at a time: the merge
gets the same postings in the same order, with two C calls per chunk instead of two Python
calls per posting. A subclass set on the writer (`chunked`), not a patch: the pool is not
saved in the index.
"""

from __future__ import annotations

import pickle
from itertools import islice

from whoosh.writing import PostingPool, SegmentWriter

RUN_CHUNK = 8192  # postings a pickle: a run being merged holds one chunk in memory


class ChunkedPool(PostingPool):
    def _write_run(self, f, items) -> None:
        items = iter(items)
        while chunk := list(islice(items, RUN_CHUNK)):
            pickle.dump(chunk, f, pickle.HIGHEST_PROTOCOL)
        f.close()

    def _read_run(self, path):
        f = self._open_run(path)
        try:
            while True:
                try:
                    chunk = pickle.load(f)
                except EOFError:
                    return
                yield from chunk
        finally:
            f.close()
            self._remove_run(path)


def chunked(writer: SegmentWriter) -> SegmentWriter:
    """`writer` with a ChunkedPool in place of its new, empty PostingPool."""
    pool = writer.pool
    assert not pool.current and not pool.runs, "the pool is replaced before any posting"
    writer.pool = ChunkedPool(pool.tempstore, pool.segment, limitmb=pool.limit // 2**20)
    return writer
