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
from dataclasses import dataclass

import numpy as np
import orjson

from search import ranking
from search.errors import BadParameter
from search.request import SearchRequest
from search.scoring import Match
from search.view import View
from search.view_arrays import UNDATED as _UNDATED

MAX_WINDOW = 10_000  # hits reachable by page number (page * per_page); beyond, a cursor

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
        if sort != "relevance" and not _date_key(sort, key):
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


def _date_key(sort: str, key: Key) -> bool:
    """Whether a date order's key is one cursor_key can have written."""
    undated, value = key
    sign = 1 if sort == "date" else -1
    return undated in (0, 1) and isinstance(value, int) and 0 <= sign * value < _UNDATED


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


# --- the order -------------------------------------------------------------------------------


def page(
    view: View,
    found: Match,
    request: SearchRequest,
    after: Cursor | None = None,
) -> list[tuple[int, float | None, Cursor]]:
    """The hits of the request's page (or of the page after `after`) in order, each as
    (docnum, score, its cursor). `found`: the request's matches, scored for relevance."""
    arrays = view.arrays
    docs = np.flatnonzero(found.mask)
    key = ranking.keys(arrays, docs, found.scores, request.sort)
    offset = 0 if after is not None else (request.page - 1) * request.per_page
    if after is not None:
        mark = ranking.key_of_cursor(after.sort, after.key)
        later = ranking.after(arrays, docs, key, mark, after.id)
        docs, key = docs[later], key[later]
    wanted = ranking.best(arrays, docs, key, offset + request.per_page)[offset:]
    search = fingerprint(request)
    out = []
    for at in wanted.tolist():
        docnum = int(docs[at])
        score = float(found.scores[docnum]) if found.scores is not None else None
        mark = ranking.cursor_key(request.sort, key[at])
        out.append((docnum, score, Cursor(request.sort, mark, arrays.id_of(docnum), search)))
    return out


def ordered(view: View, found: Match, sort: str) -> np.ndarray:
    """Every match's document number in the order of `sort` (an export: one view
    throughout), as an array of 8 bytes a match."""
    docs = np.flatnonzero(found.mask)
    return ranking.ordered(view.arrays, docs, ranking.keys(view.arrays, docs, found.scores, sort))


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
