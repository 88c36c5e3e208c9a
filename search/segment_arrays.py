"""What is read from a Whoosh segment into arrays, once: a segment never changes once
written, so every View that holds it (and every later one, until a merge removes it) shares
these. Deletions are not here: they change with each commit (see search.view_arrays).

- postings of a term: document numbers and weights, decoded on first use and kept within a
  byte budget (least recently used first out);
- field lengths of the text fields, for BM25F;
- the raw date column, for date ranges and date orders;
- each facet's values: a value table and (document, value) entries from the field's postings;
- the ids, for ties and cursors.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from whoosh.reading import IndexReader

from search.whoosh_ext import arrays

POSTINGS_BUDGET = 192 * 2**20  # bytes of decoded postings kept (setting postings_cache_mb)
KEPT_SEGMENTS = 256  # segments' arrays kept after no view holds them (tests open many)


@dataclass(frozen=True)
class Values:
    """One facet field in one segment: `names` (sorted), and one entry per (document, value):
    `docs` (int32, local numbers) and `codes` (int32 positions in `names`)."""

    names: tuple[str, ...]
    docs: np.ndarray
    codes: np.ndarray


class Once:
    """Values made on first use and kept; a value is made once even when threads ask for it
    together (a warm-up thread and a search)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._made: dict[tuple, object] = {}

    def _once(self, key: tuple, make):
        found = self._made.get(key)
        if found is None:
            with self._lock:
                found = self._made.get(key)
                if found is None:
                    found = self._made[key] = make()
        return found


class SegmentArrays(Once):
    """The arrays of one segment, made on first use."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def lengths(self, leaf: IndexReader, field: str) -> np.ndarray:
        return self._once(("lengths", field), lambda: arrays.field_lengths(leaf, field))

    def numeric(self, leaf: IndexReader, field: str) -> np.ndarray:
        return self._once(("numeric", field), lambda: arrays.numeric_column(leaf, field))

    def values(self, leaf: IndexReader, field: str) -> Values:
        return self._once(("values", field), lambda: _read_values(leaf, field))

    def ids(self, leaf: IndexReader) -> np.ndarray:
        """Each document's id as UTF-8 bytes (see _read_ids)."""
        return self._once(("ids",), lambda: _read_ids(leaf))

    def postings(self, leaf: IndexReader, field: str, btext: bytes) -> arrays.Postings:
        found = POSTINGS.get((self.key, field, btext), lambda: arrays.postings(leaf, field, btext))
        return arrays.Postings(*found)


def _read_values(leaf: IndexReader, field: str) -> Values:
    terms, docs, per_term = arrays.field_docs(leaf, field)
    names = [t.decode("utf-8") if isinstance(t, bytes) else t for t in terms]
    order = sorted(range(len(names)), key=names.__getitem__)  # lexicons are byte-ordered
    rank = np.empty(len(names), np.int32)
    rank[order] = np.arange(len(names), dtype=np.int32)
    return Values(tuple(names[i] for i in order), docs, np.repeat(rank, per_term))


def _read_ids(leaf: IndexReader) -> np.ndarray:
    """From the id column; in an index built before it had one, from the id terms (an id's
    last posting is its live document: a replaced version earlier in the segment is
    deleted)."""
    found = arrays.bytes_column(leaf, "id")
    if found is not None:
        return np.array(found, dtype=bytes)
    out = [b""] * leaf.doc_count_all()
    for term, info in leaf.iter_field("id"):
        out[info.max_id()] = term if isinstance(term, bytes) else term.encode("utf-8")
    return np.array(out, dtype=bytes)


class PostingsCache:
    """Decoded postings by (segment, field, term), within a byte budget."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self._items: OrderedDict[tuple, tuple] = OrderedDict()
        self._lock = threading.RLock()

    def get(self, key: tuple, make) -> tuple:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        found = make()
        size = sum(a.nbytes for a in found)
        with self._lock:
            if key not in self._items:
                self._items[key] = found
                self.used += size
            while self.used > self.budget and len(self._items) > 1:
                _, old = self._items.popitem(last=False)
                self.used -= sum(a.nbytes for a in old)
        return found


POSTINGS = PostingsCache(POSTINGS_BUDGET)
_SEGMENTS: OrderedDict[str, SegmentArrays] = OrderedDict()
_SEGMENTS_LOCK = threading.Lock()
_UNNAMED = itertools.count()


def of(leaf: IndexReader) -> SegmentArrays:
    """The arrays of a segment reader's segment (a reader without one gets its own)."""
    key = arrays.segment_key(leaf)
    if key is None:  # in memory: its own arrays, under a name never used again
        return SegmentArrays(f"unnamed-{next(_UNNAMED)}")
    with _SEGMENTS_LOCK:
        found = _SEGMENTS.get(key)
        if found is None:
            found = _SEGMENTS[key] = SegmentArrays(key)
        _SEGMENTS.move_to_end(key)
        while len(_SEGMENTS) > KEPT_SEGMENTS:
            _SEGMENTS.popitem(last=False)
    return found
