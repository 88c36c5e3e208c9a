"""The arrays of one searcher, over all its segments: document numbers are the searcher's
(a segment's own plus its offset). Made on first use and kept while the View lives.

What grows with the archive is here, as arrays: the live mask, field lengths, the date
column, facet entries and the ids' order; no Python object per document.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from whoosh.searching import Searcher

from search import segment_arrays
from search.whoosh_ext import arrays

UNDATED = 2**64 - 1  # what Whoosh's raw date column holds for a document without a date
DENSE = 64  # a value carried by 1 document in DENSE or more is counted from a bitmap
# A phrase asking a term's positions in 1 in WHOLE of its documents or more reads them in
# every document once and keeps them (segment_arrays.positions); fewer are read each time.
WHOLE = 4


@dataclass(frozen=True)
class Facet:
    """One facet over the searcher: `names` (sorted) and one entry per (document, value).
    For counting, a value many documents carry is also a bitmap over the documents (a bit
    a document costs less than an entry once more than 1 in 64 carry it)."""

    names: tuple[str, ...]
    docs: np.ndarray  # int32 document numbers
    codes: np.ndarray  # int32 positions in names
    dense: np.ndarray  # codes of the values kept as bitmaps
    bitmaps: np.ndarray  # uint8, one packed row of document bits per dense value
    sparse_docs: np.ndarray  # the entries of the other values
    sparse_codes: np.ndarray

    @classmethod
    def of(cls, names: tuple[str, ...], docs: np.ndarray, codes: np.ndarray, size: int) -> Facet:
        carried = np.bincount(codes, minlength=len(names))
        dense = np.flatnonzero(carried * DENSE >= max(size, 1))
        is_dense = np.zeros(len(names), bool)
        is_dense[dense] = True
        bitmaps = np.zeros((len(dense), (size + 7) // 8), np.uint8)
        for row, code in enumerate(dense.tolist()):
            bits = np.zeros(size, bool)
            bits[docs[codes == code]] = True
            bitmaps[row] = np.packbits(bits)
        sparse = ~is_dense[codes]
        return cls(names, docs, codes, dense, bitmaps, docs[sparse], codes[sparse])

    def per_document(self, size: int) -> np.ndarray:
        """For a field of one value a document (year, month): docnum -> code, -1 for none."""
        out = np.full(size, -1, np.int32)
        out[self.docs] = self.codes
        return out


class ViewArrays(segment_arrays.Once):
    """Arrays over one searcher's documents."""

    def __init__(self, searcher: Searcher) -> None:
        super().__init__()
        self.searcher = searcher
        reader = searcher.reader()
        self.leaves = [
            (leaf, offset, segment_arrays.of(leaf)) for leaf, offset in reader.leaf_readers()
        ]
        self.size = reader.doc_count_all()
        live = np.ones(self.size, bool)
        for leaf, offset, _ in self.leaves:
            live[offset + arrays.deleted(leaf)] = False
        self.live = live
        self.live_count = int(live.sum())

    def _joined(self, part) -> np.ndarray:
        pieces = [part(leaf, seg) for leaf, _, seg in self.leaves]
        return np.concatenate(pieces) if pieces else np.zeros(0)

    def lengths(self, field: str) -> np.ndarray:
        """Each document's length of a text field (float64), as BM25F reads it."""
        return self._once(
            ("lengths", field), lambda: self._joined(lambda leaf, s: s.lengths(leaf, field))
        )

    def dates(self) -> np.ndarray:
        """The raw date column (uint64; UNDATED for none)."""
        return self.numeric("date").astype(np.uint64, copy=False)

    def numeric(self, field: str) -> np.ndarray:
        """A numeric column's raw values over the searcher."""
        return self._once(
            ("numeric", field), lambda: self._joined(lambda leaf, s: s.numeric(leaf, field))
        )

    def postings(self, field: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
        """A term's document numbers (int64, ascending) and weights (float32), deleted
        documents included."""
        docs, weights = [], []
        for leaf, offset, seg in self.leaves:
            found, weight, _, _ = seg.postings(leaf, field, btext)
            if len(found):
                docs.append(found.astype(np.int64) + offset)
                weights.append(weight)
        if not docs:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        return np.concatenate(docs), np.concatenate(weights)

    def positions(self, field: str, btext: bytes, docnums: np.ndarray) -> np.ndarray | None:
        """Where a term stands in each of `docnums` (ascending, each holding the term), as
        (document number << 32 | position), ascending. None when a segment's blocks cannot
        be located (a rare term's postings sit in its term info): the caller then asks
        Whoosh."""
        field_format = self.searcher.schema[field].format
        out = []
        for leaf, offset, seg in self.leaves:
            lo, hi = np.searchsorted(docnums, (offset, offset + leaf.doc_count_all()))
            if lo == hi:
                continue
            found = seg.postings(leaf, field, btext)
            if not len(found.block_starts):
                return None
            local = docnums[lo:hi] - offset
            if len(local) * WHOLE < len(found.docs):
                flat, counts = arrays.positions(leaf, found, local, field_format)
            else:
                flat, counts = _some(*seg.positions(leaf, field, btext), found.docs, local)
            out.append((np.repeat(docnums[lo:hi], counts) << 32) | flat)
        return np.concatenate(out) if out else np.zeros(0, np.int64)

    def spans(self, field: str, btext: bytes, docnums: list[int]) -> dict[int, list] | None:
        """docnum -> the character spans of the term in `field` for those of `docnums`
        (ascending) that hold it, each block holding one of them read once. None when a
        segment's blocks cannot be located (the caller then walks Whoosh's postings)."""
        characters = self.searcher.schema[field].format.decoder("characters")
        wanted = np.asarray(docnums, np.int64)
        out: dict[int, list] = {}
        for leaf, offset, seg in self.leaves:
            lo, hi = np.searchsorted(wanted, (offset, offset + leaf.doc_count_all()))
            if lo == hi:
                continue
            found = seg.postings(leaf, field, btext)
            if not len(found.docs):
                continue
            if not len(found.block_starts):
                return None
            local = wanted[lo:hi] - offset
            at = np.searchsorted(found.docs, local).clip(0, len(found.docs) - 1)
            held = local[found.docs[at] == local]
            values = arrays.values_at(leaf, found, held)
            for docnum, value in zip(held.tolist(), values, strict=True):
                out[docnum + offset] = [(s, e) for _, s, e in characters(value)]
        return out

    def facet(self, field: str) -> Facet:
        return self._once(("facet", field), lambda: self._facet(field))

    def _facet(self, field: str) -> Facet:
        parts = [(seg.values(leaf, field), offset) for leaf, offset, seg in self.leaves]
        names = sorted({n for values, _ in parts for n in values.names})
        position = {name: i for i, name in enumerate(names)}
        docs, codes = [], []
        for values, offset in parts:
            to_global = np.array([position[n] for n in values.names], np.int32)
            docs.append(values.docs + np.int32(offset))
            codes.append(to_global[values.codes] if len(values.codes) else values.codes)
        return Facet.of(
            tuple(names),
            np.concatenate(docs).astype(np.int32) if docs else np.zeros(0, np.int32),
            np.concatenate(codes).astype(np.int32) if codes else np.zeros(0, np.int32),
            self.size,
        )

    def codes(self, field: str) -> np.ndarray:
        """docnum -> value code of a one-value field (year, month), -1 for none."""
        return self._once(("codes", field), lambda: self.facet(field).per_document(self.size))

    def ids(self) -> np.ndarray:
        """Each document's id (UTF-8 bytes), a replaced version's too (deleted, so masked)."""
        return self._once(("ids",), lambda: self._joined(lambda leaf, s: s.ids(leaf)))

    def id_of(self, docnum: int) -> str:
        return bytes(self.ids()[docnum]).decode("utf-8")

    def id_rank(self) -> np.ndarray:
        """docnum -> the position of its id in id order (ties of a ranking go by id)."""

        def rank() -> np.ndarray:
            order = np.argsort(self.ids(), kind="stable")
            out = np.empty(self.size, np.int64)
            out[order] = np.arange(self.size)
            return out

        return self._once(("id_rank",), rank)

    def ids_after(self, doc_id: str) -> int:
        """The rank from which ids sort after `doc_id` (for cursors)."""
        ordered = self._once(("sorted_ids",), lambda: np.sort(self.ids()))
        return int(np.searchsorted(ordered, doc_id.encode("utf-8"), side="right"))


def _some(flat: np.ndarray, ends: np.ndarray, docs: np.ndarray, wanted: np.ndarray):
    """From a term's positions in each of `docs` (`flat`, each document's ending at `ends`),
    those in `wanted` (some of `docs`): the positions and how many each has."""
    at = np.searchsorted(docs, wanted)
    counts = ends[at] - np.concatenate(([0], ends))[at]
    begins = ends[at] - counts
    shift = np.repeat(begins - np.concatenate(([0], np.cumsum(counts)[:-1])), counts)
    return flat[np.arange(int(counts.sum())) + shift].astype(np.int64), counts
