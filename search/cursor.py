"""Hits in one total order, and cursors into it (search_after).

A search's hits are ordered by their sort key, then by id: relevance is the score (highest
first), `date` and `-date` the publication date (undated last either way). Ids break every
tie, so the order does not depend on where documents sit in the index (document numbers
change when segments merge). A cursor names the last hit of a page by its key and id; the
next page is the hits after it in that order. Articles added or deleted meanwhile move no
other article across the cursor: paging on, each article present throughout comes exactly
once. (Relevance scores depend on the whole index, so a page may shift a little when many
articles arrive; the date orders do not.)

Page numbers go as far as MAX_WINDOW hits; past it, a cursor.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import orjson
from whoosh import query as wq
from whoosh.reading import IndexReader

from search.errors import BadParameter
from search.request import SearchRequest
from search.view import View

MAX_WINDOW = 10_000  # hits reachable by page number (page * per_page); beyond, a cursor
_UNDATED = 2**64 - 1  # what Whoosh's raw date column holds for a document without a date

Key = tuple  # (-score,) for relevance; (undated, date or -date) for the date orders


@dataclass(frozen=True)
class Cursor:
    """Where a page ended: the order, the last hit's key and id, and which search it is."""

    sort: str
    key: Key
    id: str
    search: str  # digest of the search it belongs to (see fingerprint)

    def encode(self) -> str:
        raw = orjson.dumps({"s": self.sort, "k": list(self.key), "i": self.id, "f": self.search})
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def fingerprint(request: SearchRequest) -> str:
    """What a cursor must agree with: the query, filters, dates and order (not the page, the
    page size, facets or highlights, which may change between pages)."""
    text = orjson.dumps(
        [request.q, request.filters, str(request.date_from), str(request.date_to), request.sort]
    )
    return hashlib.sha256(text).hexdigest()[:16]


def decode(token: str, request: SearchRequest) -> Cursor:
    """The cursor of `token` for this request; BadParameter naming `cursor` when it is not
    one, or belongs to another search or order."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = orjson.loads(raw)
        sort, key, doc_id, search = data["s"], tuple(data["k"]), data["i"], data["f"]
        if not (isinstance(doc_id, str) and isinstance(search, str) and isinstance(sort, str)):
            raise ValueError
        if not all(isinstance(k, int | float) and not isinstance(k, bool) for k in key):
            raise ValueError
        if len(key) != (1 if sort == "relevance" else 2):
            raise ValueError
    except (ValueError, TypeError, KeyError, orjson.JSONDecodeError):
        raise BadParameter(
            "cursor is not a cursor of this service: pass the next_cursor of an answer",
            "cursor",
        ) from None
    if sort != request.sort or search != fingerprint(request):
        raise BadParameter(
            "cursor belongs to another search: keep q, the filters, from, to and sort "
            "as they were when it was given",
            "cursor",
        )
    return Cursor(sort, key, doc_id, search)


def check_window(request: SearchRequest, cursor: Cursor | None) -> None:
    """Page numbers reach MAX_WINDOW hits; a cursor goes on from page 1 of its own."""
    if cursor is not None and request.page != 1:
        raise BadParameter("give cursor or page, not both: a cursor is its own page 1", "page")
    if cursor is not None and request.collapse:
        raise BadParameter("collapse=story pages by page number, not by cursor", "cursor")
    if request.page * request.per_page > MAX_WINDOW:
        raise BadParameter(
            f"page {request.page} of {request.per_page} goes past hit {MAX_WINDOW}, the last "
            "a page number reaches: page on with cursor (the next_cursor of each answer)",
            "cursor",
        )


# --- ids by document number, read once per segment -------------------------------------------

_SEGMENT_IDS: dict[str, list[str]] = {}  # segment id -> its documents' ids (deleted ones too)
_VIEW_IDS: weakref.WeakKeyDictionary[View, list[str]] = weakref.WeakKeyDictionary()


def ids(view: View) -> list[str]:
    """The id of every document number of the view (deleted ones included). Segments never
    change once written, so each one's ids are read once and reused by later views."""
    found = _VIEW_IDS.get(view)
    if found is not None:
        return found
    reader = view.searcher.reader()
    out: list[str] = [""] * reader.doc_count_all()
    seen = set()
    for leaf, offset in reader.leaf_readers():
        segment = leaf.segment().segment_id() if hasattr(leaf, "segment") else None
        local = _SEGMENT_IDS.get(segment) if segment else None
        if local is None:
            local = _read_ids(leaf)
            if segment:
                _SEGMENT_IDS[segment] = local
        if segment:
            seen.add(segment)
        out[offset : offset + len(local)] = local
    for stale in set(_SEGMENT_IDS) - seen:  # merged away
        del _SEGMENT_IDS[stale]
    _VIEW_IDS[view] = out
    return out


def _read_ids(leaf: IndexReader) -> list[str]:
    """One segment's ids by document number, from the id terms' statistics: an id's last
    posting is its live document (a replaced version earlier in the segment is deleted, and
    deleted documents are never hits)."""
    out = [""] * leaf.doc_count_all()
    for term, info in leaf.iter_field("id"):
        out[info.max_id()] = term.decode("utf-8") if isinstance(term, bytes) else term
    return out


# --- the order -------------------------------------------------------------------------------


def keyed(view: View, query: wq.Query, docs: Iterable[int], sort: str) -> Iterator[tuple]:
    """(key, docnum, score) of every match: `docs` for the date orders; for relevance the
    matches Whoosh scores (the same documents)."""
    searcher = view.searcher
    if sort == "relevance":
        results = searcher.search(query, limit=None)
        for score, docnum in results.top_n:
            yield (-score,), docnum, score
        return
    column = searcher.reader().column_reader("date", translate=False)
    sign = -1 if sort == "-date" else 1
    for docnum in docs:
        value = column[docnum]
        key = (1, 0) if value == _UNDATED else (0, sign * value)
        yield key, docnum, None


def _top(view: View, query: wq.Query, size: int) -> list[tuple] | None:
    """The `size` best by relevance, as keyed() gives them, when Whoosh's top-N (which skips
    what cannot make it) settles them: None when the last of them ties with the next, whose
    ids must then decide."""
    top = view.searcher.search(query, limit=size + 1).top_n
    if len(top) > size and top[size - 1][0] == top[size][0]:
        return None
    return [((-score,), docnum, score) for score, docnum in top[:size]]


def page(
    view: View,
    query: wq.Query,
    docs: set[int],
    request: SearchRequest,
    after: Cursor | None = None,
) -> list[tuple[int, float | None, Cursor]]:
    """The hits of the request's page (or of the page after `after`) in order, each as
    (docnum, score, its cursor)."""
    names = ids(view)
    offset = 0 if after is not None else (request.page - 1) * request.per_page
    top = None
    if after is None and request.sort == "relevance" and not isinstance(query, wq.Every):
        top = _top(view, query, offset + request.per_page)
    entries: Iterable[tuple] = top if top is not None else keyed(view, query, docs, request.sort)
    if after is not None:
        mark = (after.key, after.id)
        entries = (e for e in entries if (e[0], names[e[1]]) > mark)
    wanted = heapq.nsmallest(offset + request.per_page, entries, key=lambda e: (e[0], names[e[1]]))
    search = fingerprint(request)
    return [
        (docnum, score, Cursor(request.sort, key, names[docnum], search))
        for key, docnum, score in wanted[offset:]
    ]


def ordered(view: View, query: wq.Query, docs: set[int], sort: str) -> list[int]:
    """Every match's document number in the order of `sort`, ties in index order (an
    export: one view throughout). Held as plain integers, a few dozen bytes a match."""
    if sort == "relevance":
        return [docnum for _, docnum in view.searcher.search(query, limit=None).top_n]
    column = view.searcher.reader().column_reader("date", translate=False)
    newest_first = sort == "-date"
    packed = []
    for docnum in docs:
        value = column[docnum]
        dated = _UNDATED - value if newest_first else value
        rank = 2**65 if value == _UNDATED else dated  # undated last either way
        packed.append(rank << 32 | docnum)
    packed.sort()
    return [number & 0xFFFFFFFF for number in packed]


def next_cursor(
    hits: list[tuple[int, float | None, Cursor]],
    request: SearchRequest,
    total: int,
    after: Cursor | None,
) -> str | None:
    """The cursor of the page's last hit, when more hits may follow it."""
    if not hits or len(hits) < request.per_page:
        return None
    if after is None and request.page * request.per_page >= total:
        return None
    return hits[-1][2].encode()
