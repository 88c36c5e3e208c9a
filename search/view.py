"""A View: one searcher and what is derived from it (its arrays, stories, recent answers),
reused across requests until the index changes (see service.py); and the Whoosh query of a
request, with the documents it matches, as a mask over the searcher's documents."""

from __future__ import annotations

import logging
from collections import Counter, OrderedDict
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from whoosh import query as wq
from whoosh.searching import Searcher

from search import facets, segment_arrays
from search.compiler import Compiler, resolve_facet_values
from search.querylang import parse
from search.request import SearchRequest
from search.schema import FACETS
from search.scoring import Match, evaluate
from search.story_store import load as load_stories
from search.story_view import StoryView
from search.view_arrays import ViewArrays

log = logging.getLogger(__name__)


class View:
    """A searcher and what is derived from it, valid until the index changes."""

    def __init__(self, searcher: Searcher, cache_size: int = 0, folder: Path | None = None) -> None:
        """`folder`: the generation folder, where the stories of the searcher's commit are."""
        self.searcher = searcher
        self._folder = folder
        self._stories: StoryView | None = None
        self.arrays = ViewArrays(searcher)
        self._totals: dict[str, Counter[str]] = {}
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
            self._stories = StoryView(self.searcher, self.arrays, state)
        return self._stories

    def count_by(self, field: str, mask: np.ndarray, stories: bool) -> Counter[str]:
        """count(), or with `stories` the stories among the documents per value."""
        if stories:
            return self.stories.count(self.arrays.facet(field), mask)
        return self.count(field, mask)

    def totals(self, field: str) -> Counter[str]:
        """Live documents per value of a facet in the whole index, computed once."""
        if field not in self._totals:
            self._totals[field] = self.count(field, self.arrays.live)
        return self._totals[field]

    def count(self, field: str, mask: np.ndarray) -> Counter[str]:
        """Documents per value of a facet among those of `mask` (a boolean per document)."""
        return facets.count(self.arrays.facet(field), mask)

    def warm(self) -> None:
        """Read what every search needs before the first one asks: first what a plain search
        reads (field lengths, dates, the order of the ids, stories), so a first request
        made meanwhile is not kept waiting behind the facets, then the facet entries."""
        for field in ("title", "body"):
            self.arrays.lengths(field)
        self.arrays.dates()
        self.arrays.id_rank()
        self.stories.distinct(self.arrays.live)
        for field in (*FACETS, "year", "month"):
            self.arrays.facet(field)
        self.arrays.codes("month")
        self.arrays.codes("year")
        try:  # what was read of segments without a sidecar is kept for the next start
            segment_arrays.save_every(self.searcher.reader())
        except Exception:  # a cache: a failure to write it costs the next start time only
            log.exception("segment sidecars not written")

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


def match(view: View, query: wq.Query, scored: bool = False) -> Match:
    """The live documents `query` matches, as a mask (and scores when `scored`)."""
    return evaluate(view.arrays, view.searcher, query, scored)


def docnums(view: View, query: wq.Query) -> np.ndarray:
    """The document numbers `query` matches, ascending (int64)."""
    return np.flatnonzero(match(view, query).mask)
