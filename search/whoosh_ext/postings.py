"""The document numbers of a posting list, a block at a time (for search.matchset).

Whoosh's public `Matcher.all_ids()` yields one number at a time through Python generators;
its own posting format (W3LeafMatcher) holds them in blocks of up to 128, which are taken
here whole: `_ids` (the block's numbers), `_i` (the position in it), `_read_ids()` (decode
the block) and `_next_block()`.
"""

from __future__ import annotations

from collections.abc import Iterable

from whoosh.codec.whoosh3 import W3LeafMatcher


def posting_ids(matcher, offset: int = 0) -> Iterable[int]:
    """The document numbers of `matcher` from its position on, plus `offset`; consumes it."""
    if not isinstance(matcher, W3LeafMatcher):
        return (docnum + offset for docnum in matcher.all_ids())
    out: list[int] = []
    while matcher.is_active():
        if matcher._ids is None:
            matcher._read_ids()
        block = matcher._ids[matcher._i :]
        out.extend(map(offset.__add__, block) if offset else block)
        matcher._next_block()
    return out
