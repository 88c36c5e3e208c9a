"""A View: one searcher and what is derived from it (facet value arrays, live documents, recent
answers), reused across requests until the index changes (see service.py); and the Whoosh
query of a request, with the documents it matches, as a set."""

from __future__ import annotations

from collections import Counter, OrderedDict
from datetime import datetime, timedelta
from pathlib import Path

from whoosh import query as wq
from whoosh.searching import Searcher

from search import facets, matchset
from search.compiler import Compiler, resolve_facet_values
from search.querylang import parse
from search.request import SearchRequest
from search.story_store import load as load_stories
from search.story_view import StoryView


class View:
    """A searcher and what is derived from it, valid until the index changes."""

    def __init__(self, searcher: Searcher, cache_size: int = 0, folder: Path | None = None) -> None:
        """`folder`: the generation folder, where the stories of the searcher's commit are."""
        self.searcher = searcher
        self._folder = folder
        self._stories: StoryView | None = None
        self.values = facets.ValueArrays(searcher)
        self._totals: dict[str, Counter[str]] = {}
        self._live: set[int] | None = None
        # Recent answers, by request: a frontend asks the same thing again (back button,
        # paging back, another user). Kept per View, so a change of the index empties it.
        self._recent: OrderedDict = OrderedDict()
        self._cache_size = cache_size

    def recall(self, key):
        """The answer remembered for `key`, or None."""
        found = self._recent.get(key)
        if found is not None:
            self._recent.move_to_end(key)
        return found

    def remember(self, key, answer) -> None:
        """Keep `answer` for `key`, forgetting the least recently used beyond cache_size."""
        if self._cache_size:
            self._recent[key] = answer
            self._recent.move_to_end(key)
            while len(self._recent) > self._cache_size:
                self._recent.popitem(last=False)

    @property
    def stories(self) -> StoryView:
        """The stories of the documents, read once (search.story_view)."""
        if self._stories is None:
            generation = self.searcher.reader().generation()
            folder = self._folder
            state = load_stories(folder, generation, signatures=False) if folder else None
            self._stories = StoryView(self.searcher, state)
        return self._stories

    def count_by(self, field: str, docs: set[int], stories: bool) -> Counter[str]:
        """count(), or with `stories` the stories among `docs` per value."""
        if stories:
            return self.stories.count(self.values(field), docs)
        return self.count(field, docs)

    def totals(self, field: str) -> Counter[str]:
        """Live documents per value of a facet in the whole index, computed once."""
        if field not in self._totals:
            self._totals[field] = facets.count(self.values(field), self.live())
        return self._totals[field]

    def live(self) -> set[int]:
        """The document numbers not deleted, computed once."""
        if self._live is None:
            self._live = set(self.searcher.reader().all_doc_ids())
        return self._live

    def count(self, field: str, docs: set[int]) -> Counter[str]:
        """Values of a facet among `docs`. When they are most of the index, the totals less
        the count of the rest: a broad query costs at most half the index."""
        if len(docs) * 2 <= len(self.live()):
            return facets.count(self.values(field), docs)
        return self.totals(field) - facets.count(self.values(field), self.live() - docs)

    def close(self) -> None:
        self.searcher.close()


def build(view: View, request: SearchRequest, skip: str | None = None) -> tuple[wq.Query, list]:
    """The query of a request with every filter, except the facet `skip` (for disjunctive
    counts) or the dates when skip == "date"."""
    compiled = Compiler(view.searcher).compile(parse(request.q))
    parts = [compiled.query]
    reader = view.searcher.reader()
    for facet, values in request.filters:
        if facet == skip:
            continue
        names = [n for v in values for n in resolve_facet_values(reader, facet, v)]
        parts.append(wq.Or([wq.Term(facet, n) for n in names]) if names else wq.NullQuery)
    if skip != "date" and (request.date_from or request.date_to):
        start = _datetime(request.date_from)
        end = _datetime(request.date_to, end=True)
        parts.append(wq.DateRange("date", start, end))
    parts = [p for p in parts if not isinstance(p, wq.Every)] or [wq.Every()]
    return (parts[0] if len(parts) == 1 else wq.And(parts)), compiled.entities


def _datetime(day, end: bool = False):
    if day is None:
        return None
    moment = datetime(day.year, day.month, day.day)
    return moment + timedelta(days=1, microseconds=-1) if end else moment


def docnums(view: View, query: wq.Query) -> set[int]:
    return matchset.matching(view.searcher, query, view.live)
