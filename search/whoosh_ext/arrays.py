"""A segment's postings and numeric columns read whole into numpy arrays (for
search.segment_arrays).

Whoosh hands postings out one at a time (`Matcher.id()`, `weight()`, `next()`), a Python
call each. Its own posting format (W3LeafMatcher) keeps them in pickled blocks of up to 128:
`_goto()` reads a block's header, `_read_data()` unpickles (ids delta-encoded, weights, values)
and `_next_block()` moves on. Read here a block at a time, straight from the segment's
buffer; the positions a phrase needs from the blocks' values the same way. Numeric columns
(field lengths, dates) are fixed-width big-endian values at `_basepos` of the column file,
`_count` of them, the column's default for the documents after the last one written.
"""

from __future__ import annotations

import io
import os
import pickle
import zlib
from collections.abc import Iterator
from itertools import chain, pairwise, repeat
from operator import itemgetter
from typing import Any, NamedTuple

import numpy as np
from whoosh.codec import whoosh3
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec, W3LeafMatcher
from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.formats import Characters
from whoosh.reading import IndexReader, TermNotFound
from whoosh.system import _INT_SIZE
from whoosh.util.numeric import byte_to_length

_PICKLED_LIST = b"\x80\x02("  # PROTO 2, MARK: the start of a list of pickles (_positions)
DECODED_AT_ONCE = 128  # postings values decoded in one pickle: a Whoosh block's worth
# A field length as Whoosh decodes its byte (byte 0 is "no length": 1, BM25F's default).
LENGTH_OF_BYTE = np.array([1.0] + [float(byte_to_length(b)) for b in range(1, 256)])


def segment_key(leaf: IndexReader) -> str | None:
    """What tells a segment on disk from every other: its folder, id and the identity of
    its file (inode, size, time). A segment is written once, but its random id is not
    enough: code that seeds `random` (a test, a forked process) can draw the same again.
    None for a segment in memory."""
    segment = leaf.segment() if hasattr(leaf, "segment") else None
    folder = segment_folder(leaf)
    if segment is None or folder is None:
        return None
    for ext in (segment.COMPOUND_EXT, W3Codec.TERMS_EXT):
        path = os.path.join(folder, segment.make_filename(ext))
        if os.path.exists(path):
            found = os.stat(path)
            return f"{path}:{found.st_ino}:{found.st_size}:{found.st_mtime_ns}"
    return None


def segment_folder(leaf: IndexReader) -> str | None:
    """The folder of a segment reader's files; None in memory. A compound segment's reader
    reads through an OverlayStorage: the compound file (`a`) over the folder (`b`)."""
    storage = getattr(leaf, "_storage", None)
    for found in (storage, getattr(storage, "b", None)):
        folder = getattr(found, "folder", None)
        if folder is not None:
            return folder
    return None


class Postings(NamedTuple):
    """A term's postings in one segment: document numbers (int32, ascending) and weights
    (float32, as Whoosh reads them), deleted documents included; and where each block of
    them starts in the postings file and how many postings end with it (empty when the
    blocks cannot be read from a buffer)."""

    docs: np.ndarray
    weights: np.ndarray
    block_starts: np.ndarray
    block_ends: np.ndarray


def postings(leaf: IndexReader, field: str, btext: bytes) -> Postings:
    """A term's postings in one segment (see Postings). Read without moving the position of
    the segment's shared postings file (a search thread may be reading it) when the file is
    a buffer, as every compound segment's is."""
    none = np.zeros(0, np.int64)
    blocks = _term_blocks(leaf, field, btext)
    if blocks is None:
        return Postings(np.zeros(0, np.int32), np.zeros(0, np.float32), none, none)
    deltas: list[int] = []
    weights: list[float] = []
    counts: list[int] = []
    starts: list[int] = []
    for start, count, block_deltas, block_weights in blocks:
        deltas.extend(block_deltas)
        counts.append(count)
        starts.append(start)
        if block_weights is None:
            weights.extend(repeat(1.0, count))
        elif isinstance(block_weights, float):
            weights.extend(repeat(block_weights, count))
        else:
            weights.extend(block_weights)  # a tuple of floats
    located = bool(starts) and starts[0] >= 0
    return Postings(
        _undelta(deltas, counts),
        np.array(weights, np.float32),
        np.array(starts, np.int64) if located else none,
        np.cumsum(counts) if located else none,
    )


def field_docs(leaf: IndexReader, field: str) -> tuple[list[bytes], np.ndarray, np.ndarray]:
    """Every term of a field in one segment (lexicon order), and the document numbers of all
    their postings, term after term, with how many each term has: the facet values of the
    segment's documents, read with one conversion to arrays per field, not per term, and
    without the weights a facet does not need."""
    terms: list[bytes] = []
    deltas: list[int] = []
    counts: list[int] = []
    per_term: list[int] = []
    for btext in leaf.lexicon(field):
        blocks = _term_blocks(leaf, field, btext)
        before = len(deltas)
        for _, count, block_deltas, _ in blocks or ():
            deltas.extend(block_deltas)
            counts.append(count)
        terms.append(btext)
        per_term.append(len(deltas) - before)
    return terms, _undelta(deltas, counts), np.array(per_term, np.int64)


def _term_blocks(leaf: IndexReader, field: str, btext: bytes):
    """(start, count, delta-encoded ids, weights) of each of a term's posting blocks; None
    when the segment lacks the term. An inlined term's postings are one block (start -1)."""
    try:
        info = leaf.term_info(field, btext)
    except TermNotFound:
        return None
    if info.is_inlined():  # a rare term's postings sit in its term info
        ids, weights, _ = info.inlined_postings()
        deltas = [ids[0], *(b - a for a, b in pairwise(ids))] if ids else []
        return [(-1, len(ids), deltas, tuple(weights) if weights else None)]
    buffer = getattr(leaf._terms._postfile, "_buf", None)
    if buffer is not None:
        return _blocks_in(buffer, info.extent()[0] + len(WHOOSH3_HEADER_MAGIC))
    return _blocks(leaf._terms.matcher(field, btext, leaf.schema[field].format))


def _undelta(deltas: list[int], counts: list[int]) -> np.ndarray:
    """Document numbers from blocks of delta-encoded ids (each block's first delta is from
    0): undo the running sum of the blocks before each block."""
    if not deltas:
        return np.zeros(0, np.int32)
    running = np.cumsum(np.array(deltas, np.int64))
    ends = np.cumsum(counts)
    before = np.concatenate(([0], running[ends[:-1] - 1]))
    return (running - np.repeat(before, counts)).astype(np.int32)


def _blocks(matcher: W3LeafMatcher) -> Iterator[tuple[int, int, tuple, Any]]:
    """(-1, count, delta-encoded ids, weights) of each block, through the matcher."""
    while matcher.is_active():
        if matcher._data is None:
            matcher._read_data()
        yield -1, matcher._blocklength, matcher._data[0], matcher._data[1]
        matcher._next_block()


def _blocks_in(buffer, position: int) -> Iterator[tuple[int, int, tuple, Any]]:
    """(start, count, delta-encoded ids, weights) of each block from `position` of a
    postings buffer. A block is a big-endian int (its length, negative for the last), the
    pickled block info, and the pickled data, compressed when the info says so."""
    while True:
        length, count, (ids, weights, _) = _block(buffer, position)
        yield position, count, ids, weights
        if length < 0:
            return
        position += 4 + abs(length)


def _block(buffer, position: int) -> tuple[int, int, tuple]:
    """The signed length, posting count and data (ids, weights, values) of the block at
    `position`."""
    length = int.from_bytes(buffer[position : position + 4], "big", signed=True)
    block = io.BytesIO(buffer[position + 4 : position + 4 + abs(length)])
    count, _, _, compression, _, _ = pickle.load(block)
    data = block.read()
    return length, count, pickle.loads(zlib.decompress(data) if compression else data)


def block_values(leaf: IndexReader, start: int) -> tuple:
    """The encoded values (positions, characters) of the postings of the block at `start`
    (a Postings.block_starts entry) of a segment's postings file."""
    return _block(leaf._terms._postfile._buf, start)[2][2]


def values_at(leaf: IndexReader, found: Postings, docs: np.ndarray) -> list[bytes]:
    """The encoded values (positions, characters) of a term's postings in the segment's
    documents `docs` (ascending, each one holding the term; `found` its postings), each
    block holding one of them read once."""
    if not len(docs):
        return []
    at = np.searchsorted(found.docs, docs)
    blocks = np.searchsorted(found.block_ends, at, side="right")
    index = at - np.concatenate(([0], found.block_ends))[blocks]
    edges = np.flatnonzero(np.diff(blocks)) + 1
    values: list[bytes] = []
    for first, last in zip(np.r_[0, edges].tolist(), np.r_[edges, len(docs)].tolist(), strict=True):
        block = block_values(leaf, int(found.block_starts[blocks[first]]))
        values += [block[i] for i in index[first:last].tolist()]
    return values


def positions(
    leaf: IndexReader, found: Postings, docs: np.ndarray, field_format
) -> tuple[np.ndarray, np.ndarray]:
    """Where a term stands in each of the segment's documents `docs` (ascending, each one
    holding the term; `found` its postings): every position, document after document, and
    how many each document has. Decoded a posting block's worth at a time, so a term read
    in all its documents never holds all their decoded tuples at once."""
    values = values_at(leaf, found, docs)
    flats, counts = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for start in range(0, len(values), DECODED_AT_ONCE):
        flat, count = _positions(values[start : start + DECODED_AT_ONCE], field_format)
        flats.append(flat)
        counts.append(count)
    return np.concatenate(flats), np.concatenate(counts)


def _positions(values: list[bytes], field_format) -> tuple[np.ndarray, np.ndarray]:
    """The positions in postings values, one after the other, and how many each holds.

    Whoosh's Characters value is a count and a pickled list of (position delta, start
    delta, length). The values are read with one pickle.loads, as the items of one list
    (PROTO, MARK, each value's pickle without its PROTO and STOP, LIST, STOP: values hold
    no memo references), and without the characters Whoosh's decoder also makes."""
    if type(field_format) is Characters:
        pieces = [_PICKLED_LIST, *[value[_INT_SIZE + 2 : -1] for value in values], b"l."]
        codes = pickle.loads(b"".join(pieces))
        counts = np.fromiter(map(len, codes), np.int64, len(codes))
        deltas = map(itemgetter(0), chain.from_iterable(codes))
        flat = np.cumsum(np.fromiter(deltas, np.int64, int(counts.sum())))
        before = np.concatenate(([0], flat[np.cumsum(counts)[:-1] - 1]))
        return flat - np.repeat(before, counts), counts
    decode = field_format.decoder("positions")
    lists = [decode(value) for value in values]
    counts = np.fromiter(map(len, lists), np.int64, len(lists))
    return np.fromiter(chain.from_iterable(lists), np.int64, int(counts.sum())), counts


def bytes_column(leaf: IndexReader, field: str) -> list[bytes] | None:
    """Every document's value of a field's variable-length bytes column (the id column),
    read in one piece; None when the segment has no such column."""
    if not leaf.has_column(field):
        return None
    reader = leaf.column_reader(field, translate=False)
    if not isinstance(reader, VarBytesColumn.Reader):
        return None
    lengths = reader._lengths
    raw = reader._dbfile.get(reader._basepos, sum(lengths))
    ends = np.cumsum(np.array(lengths, np.int64)).tolist()
    return [raw[end - n : end] for end, n in zip(ends, lengths, strict=True)]


def numeric_column(leaf: IndexReader, field: str) -> np.ndarray:
    """Every document's value of a field's numeric column, raw: as
    `column_reader(translate=False)` gives them."""
    return _values(leaf.column_reader(field, translate=False), leaf.doc_count_all())


def _values(reader, count: int) -> np.ndarray:
    if not isinstance(reader, NumericColumn.Reader):  # no column file: every value the default
        return np.array([reader[d] for d in range(count)])
    typecode = reader._typecode
    written = min(reader._count, count)
    raw = reader._dbfile.get(reader._basepos, written * reader._fixedlen)
    values = np.frombuffer(raw, np.dtype(typecode).newbyteorder(">"))
    out = np.full(count, reader._default, np.dtype(typecode))
    out[:written] = values
    return out


def field_lengths(leaf: IndexReader, field: str) -> np.ndarray:
    """Each document's length of a text field as BM25F reads it (float64)."""
    if not leaf._perdoc.has_column(whoosh3._lenfield(field)):
        return np.ones(leaf.doc_count_all())
    perdoc = leaf._perdoc
    reader = perdoc.column_reader(whoosh3._lenfield(field), whoosh3.LENGTHS_COLUMN)
    return LENGTH_OF_BYTE[_values(reader, leaf.doc_count_all())]


def deleted(leaf: IndexReader) -> np.ndarray:
    """The deleted document numbers of a segment reader (its own numbering)."""
    if not leaf.has_deletions():
        return np.zeros(0, np.int64)
    found = leaf.deleted_docs_set  # a cached property in whoosh-reloaded, a method before
    found = found() if callable(found) else found
    return np.fromiter(found, np.int64, len(found))
