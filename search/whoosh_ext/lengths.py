"""Patch: a segment's field lengths decoded once per reader, and a missing length column
looked for on disk once.

What Whoosh does. `W3PerDocReader.doc_field_length(docnum, field)` (whoosh/codec/whoosh3.py)
asks `_cached_reader` for the field's length column at every call, reads the document's
length byte from it and decodes it with `byte_to_length`. When the field has no length
column (the `spell_` fields of a `spelling=True` text field have none), `_cached_reader`
caches nothing and looks for the column file on disk again (`storage.file_exists`).

Why that is slow. The length is asked for at every posting written
(`FieldWriter.add_postings` scores each block with the lengths of its documents) and every
match scored (BM25F's length normalisation). Measured on this service's indexing with
whoosh-reloaded 2.7.5, when the patch was written: the repeated disk look-ups of the
spelling fields' missing columns took a third of indexing time, the decoding of the same
bytes again and again a tenth.

The fix. Decode a field's whole column into a list the first time it is asked for (a
segment never changes once written), remember a missing column as an empty one, and answer
from the list: the same values (byte 0 still gives None, as Whoosh's `if lbyte:` does),
the same IndexError past the end.
"""

from __future__ import annotations

from whoosh.codec import whoosh3
from whoosh.util.numeric import byte_to_length

_LENGTHS = [None] + [byte_to_length(b) for b in range(1, 256)]  # Whoosh: byte 0 -> None


def field_lengths(self, fieldname) -> list | tuple:
    """Every document's length of `fieldname` in the W3PerDocReader `self` (None for 0), or
    () when the field keeps no lengths; decoded the first time it is asked for."""
    decoded = self.__dict__.setdefault("_decoded_lengths", {})
    found = decoded.get(fieldname)
    if found is None:
        column = self._cached_reader(whoosh3._lenfield(fieldname), whoosh3.LENGTHS_COLUMN)
        found = decoded[fieldname] = [_LENGTHS[b] for b in column] if column else ()
    return found


def doc_field_length(self, docnum, fieldname, default=0):
    """Replaces W3PerDocReader.doc_field_length: the length of `fieldname` in `docnum`,
    from the field's column decoded once per reader."""
    found = field_lengths(self, fieldname)
    if docnum > self._doccount:
        raise IndexError(f"Asked for docnum {docnum!r} of {self._doccount}")
    return found[docnum] if found else default
