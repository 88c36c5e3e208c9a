"""Patches to Whoosh (whoosh-reloaded 2.7), applied on import: each is a bug or a slow path
found while measuring this service. search.index imports this module, so every process that
reads or writes an index has them."""

from __future__ import annotations

from whoosh.codec import whoosh3
from whoosh.matching.combo import ArrayUnionMatcher
from whoosh.searching import Searcher
from whoosh.util.numeric import byte_to_length


def _cached_reader(self, fieldname, column):
    """Whoosh looks on disk again for a missing length column at every posting it writes
    (the spell_ fields have none): a third of indexing time. Segment files never change once
    written, so remember the miss too."""
    if fieldname not in self._readers:
        found = self.has_column(fieldname)
        self._readers[fieldname] = self.column_reader(fieldname, column) if found else None
    return self._readers[fieldname]


whoosh3.W3PerDocReader._cached_reader = _cached_reader
_LENGTHS = [None] + [byte_to_length(b) for b in range(1, 256)]  # Whoosh: byte 0 -> None


def _doc_field_length(self, docnum, fieldname, default=0):
    """A field's lengths decoded once per segment reader into a list: writing a segment
    asks for a document's length at every posting (a tenth of indexing time), scoring at
    every match."""
    lengths = self.__dict__.setdefault("_decoded_lengths", {})
    found = lengths.get(fieldname)
    if found is None:
        column = self._cached_reader(whoosh3._lenfield(fieldname), whoosh3.LENGTHS_COLUMN)
        found = lengths[fieldname] = [_LENGTHS[b] for b in column] if column else ()
    if docnum > self._doccount:
        raise IndexError(f"Asked for docnum {docnum!r} of {self._doccount}")
    return found[docnum] if found else default


whoosh3.W3PerDocReader.doc_field_length = _doc_field_length


def _avg_field_length(self, fieldname, default=None):
    """Whoosh scores each segment with the whole index's field length divided by that
    segment's document count: with two segments every average doubles, and a document ranks
    by the segment it landed in. Divide by the whole index's count."""
    if not self.schema[fieldname].scorable:
        return default
    top = self.get_parent()
    return top.field_length(fieldname) / (top.doc_count_all() or 1)


Searcher.avg_field_length = _avg_field_length


def _union_max_quality(self):
    """The best score a document can get from a union is the sum of its parts' best, not
    the largest of them: Whoosh's (used for an OR in segments under 5,000 documents) let
    top-N collection prune documents that matched several parts, which dropped a quarter
    of the true top 100 of `Raqqa OR Aleppo` in a two-segment index of 800 articles."""
    return sum(m.max_quality() for m in self._submatchers) * self._boost


ArrayUnionMatcher.max_quality = _union_max_quality
