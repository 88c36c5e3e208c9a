"""What a followed search shows: the articles indexed since a mark ("new since"), the latest
mark of the index, and the entries of a feed, read from a View."""

from __future__ import annotations

import weakref
from dataclasses import replace

import numpy as np

from search import query
from search.feeds import Entry, snippet
from search.request import SearchRequest
from search.saved import Since
from search.view import View, build, match

_LATEST: weakref.WeakKeyDictionary[View, int] = weakref.WeakKeyDictionary()
MAX_NEW = 1000  # articles in one answer of /new


def latest(view: View) -> Since:
    """The mark of everything this view shows: its latest `indexed_at`. Documents are stamped
    under the write lock, so any the view does not show yet will be stamped later."""
    stamp = _LATEST.get(view)
    if stamp is None:
        stamps = view.arrays.numeric("indexed_at")[view.arrays.live]
        stamp = int(stamps.max()) if len(stamps) else 0
        _LATEST[view] = stamp
    return Since(stamp)


def indexed_order(view: View, request: SearchRequest, since: Since | None) -> list[tuple]:
    """(indexed_at, id, docnum) of the matches indexed after `since` (all with None), oldest
    first, ids breaking ties."""
    compiled, _ = build(view, request)
    stamps = view.arrays.numeric("indexed_at")
    docs = np.flatnonzero(match(view, compiled).mask)
    if since is not None:  # only those stamped at or after the mark can be new
        docs = docs[stamps[docs] >= since.stamp]
    found = []
    for docnum in docs.tolist():
        stamp, doc_id = int(stamps[docnum]), view.arrays.id_of(docnum)
        if since is None or since.is_new(stamp, doc_id):
            found.append((stamp, doc_id, docnum))
    found.sort()
    return found


def new_since(view: View, request: SearchRequest, since: Since, size: int) -> dict:
    """The answer of /saved-searches/{id}/new: the first `size` matches indexed after
    `since`, oldest first, and the `next` token to ask with next time."""
    found = indexed_order(view, request, since)
    shown = found[:size]
    if len(found) > size:
        stamp, doc_id, _ = shown[-1]
        mark = Since(stamp, doc_id)
    else:
        newest = latest(view)
        mark = newest if newest.stamp >= since.stamp else since
    compiled, _ = build(view, request)
    terms = query.positive_terms(compiled)
    hits = []
    for stamp, _, docnum in shown:
        stored = view.searcher.stored_fields(docnum)
        hit = query.hit_json(stored, None, terms, request)
        hit["indexed_at"] = stamp
        hits.append(hit)
    return {
        "since": since.encode(),
        "next": mark.encode(),
        "total": len(found),
        "truncated": len(found) > size,
        "hits": hits,
    }


def entries(view: View, request: SearchRequest, by_indexed: bool, size: int) -> tuple[Entry, ...]:
    """The entries of a feed: the request's first `size` hits (by its sort), or with
    `by_indexed` the `size` latest indexed (a saved search's feed: what arrived last first,
    whatever its date)."""
    if by_indexed:
        found = indexed_order(view, request, None)[-size:][::-1]
        compiled, _ = build(view, request)
        terms = query.positive_terms(compiled)
        hits = []
        for stamp, _, docnum in found:
            hit = query.hit_json(view.searcher.stored_fields(docnum), None, terms, request)
            hits.append((hit, stamp))
    else:
        light = replace(request, per_page=size, facets=(), page=1)
        answer = query.search(view, light)
        numbers = {h["id"]: h for h in answer["hits"]}
        stamps = _stamps(view, list(numbers))
        hits = [(hit, stamps.get(doc_id, 0)) for doc_id, hit in numbers.items()]
    return tuple(_entry(hit, stamp) for hit, stamp in hits)


def _stamps(view: View, doc_ids: list[str]) -> dict[str, int]:
    column = view.searcher.reader().column_reader("indexed_at")
    out = {}
    for doc_id in doc_ids:
        docnum = view.searcher.document_number(id=doc_id)
        if docnum is not None:
            out[doc_id] = column[docnum]
    return out


def _entry(hit: dict, stamp: int) -> Entry:
    fragments = (hit.get("highlights") or {}).get("body") or []
    return Entry(
        id=hit["id"],
        title=hit["title"],
        date=hit["date"],
        indexed_at=stamp,
        url=hit["url"],
        source=hit["source"],
        snippet=snippet(fragments),
    )
