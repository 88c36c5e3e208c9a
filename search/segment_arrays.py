"""What is read from a Whoosh segment into arrays, once: a segment never changes once
written, so every View that holds it (and every later one, until a merge removes it) shares
these. Deletions are not here: they change with each commit (see search.view_arrays).

- postings of a term: document numbers and weights, decoded on first use and kept within a
  byte budget (least recently used first out); in the same budget, the positions of a word
  a phrase asked in many of its documents;
- field lengths of the text fields, for BM25F;
- the raw date column, for date ranges and date orders;
- each facet's values: a value table and (document, value) entries from the field's postings;
- the ids, for ties and cursors.

All but the postings and positions are also kept on disk beside the segment
(search.sidecars): a segment with a sidecar maps them from it instead of decoding them again.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from whoosh.reading import IndexReader

from search import sidecars
from search.schema import FACETS
from search.whoosh_ext import arrays

log = logging.getLogger(__name__)

POSTINGS_BUDGET = 192 * 2**20  # bytes of decoded postings kept (setting postings_cache_mb)
KEPT_SEGMENTS = 256  # segments' arrays kept after no view holds them (tests open many)
# What a sidecar holds: what View.warm reads of every segment.
LENGTHS = ("title", "body")
NUMERIC = ("date", "indexed_at")
VALUES = (*FACETS, "year", "month")
# What reading a damaged sidecar raises (SidecarError is a ValueError; a header with a field
# missing or of another type gives KeyError or TypeError)
UNREADABLE = (OSError, ValueError, KeyError, TypeError)


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

    def __init__(self, key: str, stored: dict[tuple, object] | None = None) -> None:
        """`stored`: arrays already made (read from the segment's sidecar)."""
        super().__init__()
        self.key = key
        self.from_sidecar = bool(stored)
        self._made.update(stored or {})

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

    def positions(
        self, leaf: IndexReader, field: str, btext: bytes
    ) -> tuple[np.ndarray, np.ndarray]:
        """Where a term stands in every document of the segment holding it: positions one
        document after the other (int32) and where each document's end (int64), kept with
        the postings (a phrase of common words asks them of most of their documents)."""

        def make() -> tuple:
            found = self.postings(leaf, field, btext)
            flat, counts = arrays.positions(leaf, found, found.docs, leaf.schema[field].format)
            return flat.astype(np.int32), np.cumsum(counts)

        flat, ends = POSTINGS.get((self.key, field, btext, "positions"), make)
        return flat, ends

    def fill(self, leaf: IndexReader) -> None:
        """Make every array a sidecar holds."""
        for field in LENGTHS:
            self.lengths(leaf, field)
        for field in NUMERIC:
            self.numeric(leaf, field)
        for field in VALUES:
            self.values(leaf, field)
        self.ids(leaf)

    def sidecar(self, leaf: IndexReader) -> tuple[dict, dict[str, np.ndarray]]:
        """What a sidecar of this segment holds: the value tables, and the arrays by name."""
        self.fill(leaf)
        names, out = {}, {"ids": self.ids(leaf)}
        for field in LENGTHS:
            out[f"lengths/{field}"] = self.lengths(leaf, field)
        for field in NUMERIC:
            out[f"numeric/{field}"] = self.numeric(leaf, field)
        for field in VALUES:
            found = self.values(leaf, field)
            names[field] = found.names
            out[f"values/{field}/docs"], out[f"values/{field}/codes"] = found.docs, found.codes
        return names, out


def _stored(names: dict, found: dict[str, np.ndarray]) -> dict[tuple, object]:
    """A sidecar's contents as SegmentArrays keeps them."""
    out: dict[tuple, object] = {("ids",): found["ids"]}
    for field in LENGTHS:
        out["lengths", field] = found[f"lengths/{field}"]
    for field in NUMERIC:
        out["numeric", field] = found[f"numeric/{field}"]
    for field in VALUES:
        docs, codes = found[f"values/{field}/docs"], found[f"values/{field}/codes"]
        out["values", field] = Values(tuple(names[field]), docs, codes)
    return out


def _load(leaf: IndexReader, quiet: bool = False) -> dict[tuple, object] | None:
    """A segment's arrays from its sidecar; None when it has none (or none usable)."""
    path = sidecars.path_of(leaf)
    if path is None:
        return None
    try:
        return _stored(*sidecars.read(path, sidecars.identity(leaf)))
    except FileNotFoundError:
        return None
    except UNREADABLE as error:
        if not quiet:
            log.warning("segment arrays read from the segment, not its sidecar: %s", error)
        return None


def save_every(reader: IndexReader) -> int:
    """Write the sidecar of each of a reader's segments that has none; how many written."""
    return sum(save(leaf) for leaf, _ in reader.leaf_readers())


def save(leaf: IndexReader) -> bool:
    """Write a segment's sidecar unless it has one; True if written. A folder that cannot
    be written (a read-only copy) is left as it is: the sidecar only saves time."""
    path, arrays_of = sidecars.path_of(leaf), of(leaf)
    # of() read the sidecar if there was one: read it again only if not (written since?)
    if path is None or arrays_of.from_sidecar or _load(leaf, quiet=True) is not None:
        return False
    names, found = arrays_of.sidecar(leaf)
    try:
        sidecars.write(path, sidecars.identity(leaf), names, found)
    except OSError as error:
        log.info("no sidecar written for %s: %s", path.name, error)
        return False
    return True


def check_sidecar(leaf: IndexReader) -> list[str]:
    """What is wrong with a segment's sidecar, if it has one: unreadable, another segment's,
    bytes changed since written, or arrays that differ from the segment's own."""
    path = sidecars.path_of(leaf)
    if path is None or not path.exists():
        return []
    try:
        stored = _stored(*sidecars.read(path, sidecars.identity(leaf)))
    except UNREADABLE as error:
        return [str(error)]
    fresh = SegmentArrays("checked")
    fresh.fill(leaf)
    differ = [key for key, value in stored.items() if not _same(value, fresh._made[key])]
    return [f"{path.name}: differs from its segment: {'/'.join(key)}" for key in differ]


def _same(a, b) -> bool:
    if isinstance(a, Values):
        return a.names == b.names and _same(a.docs, b.docs) and _same(a.codes, b.codes)
    return a.dtype == b.dtype and np.array_equal(a, b)


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
            found = _SEGMENTS[key] = SegmentArrays(key, _load(leaf))
        _SEGMENTS.move_to_end(key)
        while len(_SEGMENTS) > KEPT_SEGMENTS:
            _SEGMENTS.popitem(last=False)
    return found
