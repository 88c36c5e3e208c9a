"""A writer's postings, pooled and written out faster (`faster(writer)`): the segment Whoosh
writes, byte for byte but for its small blocks, left uncompressed.

What Whoosh does.
- A SegmentWriter gathers its postings in a PostingPool, with two type assertions and a size
  estimate per posting. Past `limitmb` (by that estimate) the pool sorts them and writes a
  run to a temporary file, one `pickle.dump` call per posting; at the end it reads every run
  back, one `pickle.load` call per posting, into a heap merge.
- At the segment's finish, `FieldWriter.add_postings` passes each posting through two method
  calls and four type checks (W3FieldWriter.add, W3PostingsWriter.add_posting) into the
  block it fills, and asks the per-document reader for the document's field length. Each
  term's start and finish take about fifteen more calls (the term info's statistics, the
  minified lists, the row packed, the hash file's entry).
- Each block of postings is pickled and compressed with zlib, however small. Whoosh means
  to leave a pickle under 20 bytes uncompressed, but the next line sets the compression
  again (`_write_block`).

Why that is slow. A build worker spills once it holds about 3,500 generated articles (400
postings each), so every worker of a build of 10,000 spills, and of 100,000 a dozen times.
Measured on 5,000 articles in one writer: finishing the segment took 2 ms an article more
with one spilled run than with none, a tenth of indexing; the per-posting calls at finish
were about another tenth. Most terms of a segment have one posting, one small block each,
and `zlib.compress` costs about 23 microseconds a call however short its input: of 33,805
blocks written for 1,000 generated articles, 28,487 pickled to under 128 bytes, which zlib
made no shorter (1.01 times their size, 1.56 under 32 bytes), at about 0.65 ms an article.

The fix. The same runs, sorted the same way, pickled RUN_CHUNK postings at a time: the merge
gets the same postings in the same order, with two C calls per chunk instead of two Python
calls per posting. The pool's size estimate is Whoosh's formula without the assertions, and
each posting goes into its block in one loop (the same statistics, the same blocks), its
length read from the field's lengths decoded once. A term is started and finished by two
functions that write the same row and hash entry (measured on 2,000 generated articles in
one process, in alternating pairs: finish from about 4.1 to 2.4 ms an article). A
block whose pickle is under SMALL_BLOCK bytes is written uncompressed, which the block's
info says, so Whoosh's reader and whoosh_ext.arrays read it as they read any. Set on
the writer, not patched into Whoosh: neither the pool nor the field writer is saved in the
index.
"""

from __future__ import annotations

import pickle
import struct
import types
import zlib
from itertools import islice
from typing import Any

from whoosh.codec import whoosh3
from whoosh.filedb import filetables
from whoosh.system import pack_int, pack_ushort
from whoosh.util.numeric import length_to_byte
from whoosh.util.numlists import delta_encode
from whoosh.writing import PostingPool, SegmentWriter

from search.whoosh_ext.lengths import field_lengths

RUN_CHUNK = 8192  # postings a pickle: a run being merged holds one chunk in memory
SMALL_BLOCK = 128  # bytes of pickled block data below which zlib saves nothing
# A term's row: W3TermInfo's statistics, then where its postings start and their length
TERM_ROW = struct.Struct(whoosh3.W3TermInfo._struct.format + "qi")
KEY_VALUE = filetables._lengths  # a hash file entry's key and value lengths


class ChunkedPool(PostingPool):
    """A PostingPool spilling a chunk at a time. Its `fieldnames` stays empty: only Whoosh's
    multiprocessing writer reads it, and this service does not use that writer."""

    def add(self, item) -> None:
        # PostingPool.add's estimate of the item's size (see there), without its assertions
        self.currentsize += 150 + len(item[0]) + 2 * len(item[1]) + len(item[4] or b"")
        if self.currentsize > self.limit:
            self.save()
        self.current.append(item)

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


def add_postings(self, schema, lengths, items) -> None:
    """FieldWriter.add_postings of a W3FieldWriter (`self`), given postings sorted by field,
    term and document (Whoosh's pool sorts them; its order checks are left out), each added to
    its term's block as W3PostingsWriter.add_posting adds it."""
    field = text = None
    block: Any = None  # the field's W3PostingsWriter
    field_length: Any = None  # the field's length in each document, when read at once
    for fieldname, btext, docnum, weight, value in items:
        if fieldname != field:
            if text is not None:
                finish_term(self, block)
            if field is not None:
                self.finish_field()
            self.start_field(fieldname, schema[fieldname])
            field, text, block = fieldname, None, self._postwriter
            assert block._inlinelimit <= 1 and not block._byteids  # W3Codec's: never inlined
            block._format = self._format
            block._fixed_size = self._format.fixed_value_size()
            block._write_block = types.MethodType(write_block, block)
            field_length = _lengths_of(lengths, fieldname)
        if docnum == -1:
            continue  # Whoosh's mark of a spelling word, which it skips here too
        if btext != text:
            if text is not None:
                finish_term(self, block)
            start_term(self, block, btext)
            text = btext
        if len(block._ids) >= block._blocklimit:
            block._write_block()
        block._ids.append(docnum)
        block._weights.append(weight)
        if weight > block._maxweight:
            block._maxweight = weight
        if value:
            block._values.append(value)
        if field_length:
            length = field_length[docnum]
        elif field_length is None:
            length = lengths.doc_field_length(docnum, field)
        else:
            continue  # the field keeps no lengths (a spell_ or keyword field)
        if length:
            if block._minlength is None or length < block._minlength:
                block._minlength = length
            if length > block._maxlength:
                block._maxlength = length
    if text is not None:
        finish_term(self, block)
    if field is not None:
        self.finish_field()


def start_term(fields: Any, block: Any, btext: bytes) -> None:
    """W3FieldWriter.start_term (`fields`) and W3PostingsWriter.start_postings (`block`, its
    format set with the field)."""
    fields._btext = btext
    block._terminfo = whoosh3.W3TermInfo()
    block._blockcount = 0
    block._new_block()
    block._startoffset = block._postfile.tell()


def finish_term(fields: Any, block: Any) -> None:
    """W3FieldWriter.finish_term (`fields`) with W3PostingsWriter.finish_postings (`block`),
    W3TermInfo.to_bytes and OrderedHashWriter.add inline: the same bytes in a term's row,
    for postings never inlined into it (W3Codec's inline limit is 1)."""
    if block._ids:
        block._write_block(last=True)
    info, block._terminfo = block._terminfo, None
    start = block._startoffset
    row = TERM_ROW.pack(
        False,
        info._weight,
        info._df,
        0 if info._minlength is None else length_to_byte(info._minlength),
        length_to_byte(info._maxlength),
        info._maxweight,
        0xFFFFFFFF if info._minid is None else info._minid,
        0xFFFFFFFF if info._maxid is None else info._maxid,
        start,
        block._postfile.tell() - start,
    )
    key = pack_ushort(fields._fieldid) + fields._btext
    table = fields._tindex
    if key <= table.lastkey:
        raise ValueError(f"Keys must increase: {table.lastkey!r}..{key!r}")
    position = table.dbfile.tell()
    table.index.append(position)
    table.dbfile.write(KEY_VALUE.pack(len(key), len(row)) + key + row)
    hashed = table.hashfn(key)
    table.buckets[hashed & 255].append((hashed, position))
    table.lastkey = key


def _lengths_of(lengths, fieldname) -> list | tuple | None:
    """Each document's length of `fieldname` (see lengths.py) from a segment's own per-document
    reader, as a build's finish has (() when the field keeps none, or without lengths); None
    from another reader (a merge's), to be asked per posting."""
    if not lengths:
        return ()
    if type(lengths) is whoosh3.W3PerDocReader:
        return field_lengths(lengths, fieldname)
    return None


def write_block(self, last: bool = False) -> None:
    """W3PostingsWriter._write_block (`self`), with its block data compressed only from
    SMALL_BLOCK bytes."""
    if not self._blockcount:
        self._postfile.write(whoosh3.WHOOSH3_HEADER_MAGIC)
    ids, weights, values = self._ids, self._weights, self._values
    term = self._terminfo  # W3TermInfo.add_block(self)
    term._weight += sum(weights)
    term._df += len(ids)
    if term._minlength is None:
        term._minlength = self._minlength
    else:
        term._minlength = min(term._minlength, self._minlength)
    term._maxlength = max(term._maxlength, self._maxlength)
    term._maxweight = max(term._maxweight, self._maxweight)
    if term._minid is None:
        term._minid = ids[0]
    term._maxid = ids[-1]
    # _mini_ids, _mini_weights, _mini_values
    mini_ids = (ids[0],) if len(ids) == 1 else tuple(delta_encode(ids))
    first = weights[0]
    if weights.count(first) == len(weights):
        mini_weights = None if first == 1.0 else first
    else:
        mini_weights = tuple(weights)
    fixed = self._fixed_size
    mini_values: tuple | bytes | None
    if fixed is None or fixed < 0:
        mini_values = tuple(values)
    else:
        mini_values = None if fixed == 0 else b"".join(values)
    data = pickle.dumps((mini_ids, mini_weights, mini_values), 2)
    compression = self._compression if len(data) >= SMALL_BLOCK else 0
    if compression:
        data = zlib.compress(data, compression)
    info = (
        len(ids),
        ids[-1],
        self._maxweight,
        compression,
        length_to_byte(self._minlength),
        length_to_byte(self._maxlength),
    )
    info_bytes = pickle.dumps(info, 2)
    length = len(info_bytes) + len(data)
    # the length negative for the term's last block
    self._postfile.write(pack_int(-length if last else length) + info_bytes + data)
    self._blockcount += 1
    self._new_block()


def faster(writer: SegmentWriter) -> SegmentWriter:
    """`writer` with a ChunkedPool in place of its new, empty PostingPool, and its field
    writer's add_postings this module's."""
    pool = writer.pool
    assert not pool.current and not pool.runs, "the pool is replaced before any posting"
    writer.pool = ChunkedPool(pool.tempstore, pool.segment, limitmb=pool.limit // 2**20)
    writer.fieldwriter.add_postings = types.MethodType(add_postings, writer.fieldwriter)
    return writer
