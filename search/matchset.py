"""Every document a query matches, as a set: posting lists read a block at a time and
combined with set operations, which run in C.

Whoosh's `docs_for_query` walks its matcher tree one document at a time in Python: on a
large index, a query matching most of it spends much of its time there before any counting
starts. Terms, AND, OR, NOT and everything-queries are computed here; any other
query (phrases, date ranges) is asked of Whoosh, so the answer is always Whoosh's answer.
"""

from __future__ import annotations

from collections.abc import Callable

from whoosh import query as wq
from whoosh.searching import Searcher

from search.whoosh_ext import posting_ids


def matching(searcher: Searcher, query: wq.Query, live: Callable[[], set[int]]) -> set[int]:
    """The live documents `query` matches. `live()`: the set of live document numbers
    (cached by the caller: deleted documents keep their postings until a merge)."""
    found = _match(searcher, query, live)
    if searcher.reader().has_deletions():
        found &= live()
    return found


def _match(searcher: Searcher, query: wq.Query, live) -> set[int]:
    if isinstance(query, type(wq.NullQuery)):
        return set()
    if isinstance(query, wq.Term):
        return term_docs(searcher, query.fieldname, query.text)
    if isinstance(query, wq.Every) and not query.fieldname:
        return set(live())
    if isinstance(query, wq.Not):
        return live() - _match(searcher, query.query, live)
    if isinstance(query, wq.Or) and getattr(query, "minmatch", 0) <= 1:
        out: set[int] = set()
        for child in query.subqueries:
            out |= _match(searcher, child, live)
        return out
    if isinstance(query, wq.And):
        positive = [q for q in query.subqueries if not isinstance(q, wq.Not)]
        negative = [q.query for q in query.subqueries if isinstance(q, wq.Not)]
        sets = sorted((_match(searcher, q, live) for q in positive), key=len)
        out = set(sets[0]) if sets else set(live())
        for other in sets[1:]:
            out &= other
        for child in negative:
            if not out:
                break
            out -= _match(searcher, child, live)
        return out
    if isinstance(query, wq.AndNot):
        return _match(searcher, query.a, live) - _match(searcher, query.b, live)
    return set(searcher.docs_for_query(query))


def term_docs(searcher: Searcher, field: str, text: str) -> set[int]:
    """Documents (deleted ones too) whose postings hold the term, segment by segment."""
    out: set[int] = set()
    for leaf, offset in searcher.reader().leaf_readers():
        if (field, text) not in leaf:
            continue
        out.update(posting_ids(leaf.postings(field, text), offset))
    return out
