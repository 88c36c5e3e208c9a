"""Run searches: request -> Whoosh query and filters -> hits, facets, highlights, suggestion.

A View is one searcher with its facet value arrays; it is reused across requests until the
index changes (see service.py).
"""

from __future__ import annotations

import difflib
import html
import time
from collections import Counter, OrderedDict
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from whoosh import query as wq
from whoosh import sorting
from whoosh.searching import Searcher

from search import arabic, facets, gazetteer, highlight, matchset
from search.compiler import Compiler, resolve_facet_values, stems, term_text
from search.errors import NotFound
from search.querylang import And, Node, Or, Word, parse
from search.request import SearchRequest
from search.stored import as_json

FEW_HITS = 3  # fewer hits than this and the answer suggests another spelling
_UNDATED = 2**64 - 1  # what Whoosh's date column holds for a document without a date


class View:
    """A searcher and what is derived from it, valid until the index changes."""

    def __init__(self, searcher: Searcher, cache_size: int = 0) -> None:
        self.searcher = searcher
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


# --- query building ----------------------------------------------------------------------------


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


def _sort(sort: str):
    if sort == "relevance":
        return None
    newest_first = sort == "-date"

    def key(value: int) -> tuple[int, int]:
        if value == _UNDATED:
            return (1, 0)  # undated last, in both directions
        return (0, -value if newest_first else value)

    return sorting.TranslateFacet(key, sorting.FieldFacet("date"))


# --- results ------------------------------------------------------------------------------------


def positive_terms(query: wq.Query) -> dict[str, set[str]]:
    """field -> term texts the query looks for, leaving out NOT branches: what to highlight."""
    out: dict[str, set[str]] = {}
    stack = [query]
    while stack:
        node = stack.pop()
        if isinstance(node, wq.Not):
            continue
        if isinstance(node, wq.Term):
            out.setdefault(node.fieldname, set()).add(node.text)
        elif isinstance(node, wq.Phrase):
            out.setdefault(node.fieldname, set()).update(node.words)
        else:
            stack.extend(node.children())
    return out


def hit_json(stored: dict, score: float | None, terms, request: SearchRequest, ranges=None) -> dict:
    """One hit of the answer. `ranges`: field -> its matched character ranges, when the
    index stored them (see highlight.stored_ranges)."""
    ranges = ranges or {}
    fields = as_json(stored)
    title, body, tags = fields["title"], fields["body"], fields["facets"]
    hit: dict[str, Any] = {
        "id": fields["id"],
        "score": score,
        "title": title,
        "title_html": html.escape(title),
        "date": fields["date"],
        "source": (tags["source"] or [None])[0],
        "author": ", ".join(tags["author"]) or None,
        "url": fields["url"],
        "tags": tags,
    }
    if request.highlight:
        hit["highlights"] = {
            "title": highlight.whole(
                title, terms.get("title", set()), ranges.get("title")
            ).to_json(),
            "body": [
                f.to_json()
                for f in highlight.fragments(
                    body,
                    terms.get("body", set()),
                    request.fragments,
                    request.fragment_size,
                    ranges.get("body"),
                )
            ],
        }
    return hit


def search(view: View, request: SearchRequest) -> dict:
    """Run a search and build the response of GET /search."""
    started = time.perf_counter()
    searcher = view.searcher
    query, entities = build(view, request)
    docs = docnums(view, query)  # every match, unscored, once: total, facets, histogram
    total = len(docs)
    terms = positive_terms(query)
    relevance = request.sort == "relevance"
    hits = []
    offset = (request.page - 1) * request.per_page
    if request.per_page and offset < total:
        # search() rather than search_page(): the latter counts every match a second time
        results = searcher.search(
            query, limit=offset + request.per_page, sortedby=_sort(request.sort)
        )
        page = range(offset, min(offset + request.per_page, results.scored_length()))
        numbers = [results.docnum(index) for index in page]
        spans = _spans(searcher, terms, numbers) if request.highlight else {}
        for index, docnum in zip(page, numbers, strict=True):
            stored = searcher.stored_fields(docnum)
            score = round(results.score(index), 4) if relevance else None
            ranges = {field: found[docnum] for field, found in spans.items()}
            hits.append(hit_json(stored, score, terms, request, ranges))
    answer = {
        "total": total,
        "took_ms": 0.0,
        "page": request.page,
        "per_page": request.per_page,
        "pages": -(-total // request.per_page) if request.per_page else 0,
        "hits": hits,
        "facets": facet_counts(view, request, docs),
        "histogram": date_histogram(view, request, docs),
        "query": {**request.to_json(), "parsed": str(query), "entities": entities},
        "suggestion": suggestion(view, request) if total < FEW_HITS and request.q else None,
    }
    answer["took_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return answer


def _spans(searcher: Searcher, terms: dict[str, set[str]], numbers: list[int]) -> dict:
    """field -> docnum -> matched character ranges of the page's hits, from the postings;
    a field without stored spans is left out (its highlights analyse the text)."""
    reader = searcher.reader()
    out = {}
    for field in ("title", "body"):
        found = highlight.stored_ranges(reader, field, terms.get(field, set()), numbers)
        if found is not None:
            out[field] = found
    return out


def docnums(view: View, query: wq.Query) -> set[int]:
    return matchset.matching(view.searcher, query, view.live)


def facet_counts(view: View, request: SearchRequest, docs: set[int]) -> dict:
    """Disjunctive counts: a facet's counts ignore that facet's own filter. `docs`: the
    matches of the whole request."""
    filtered = {name for name, _ in request.filters}
    out = {}
    for name in request.facets:
        among = docnums(view, build(view, request, skip=name)[0]) if name in filtered else docs
        out[name] = facets.ranked(view.count(name, among), request.facet_size)
    return out


def date_histogram(view: View, request: SearchRequest, docs: set[int]) -> dict:
    """Matching articles per month and per year, ignoring the from/to filter so a frontend
    can show the whole timeline and let the user pick a range. `docs`: the request's matches."""
    if request.date_from or request.date_to:
        docs = docnums(view, build(view, request, skip="date")[0])
    return {
        interval: facets.histogram(view.count(interval, docs)) for interval in ("year", "month")
    }


# --- suggestion ---------------------------------------------------------------------------------


@cache
def _alias_words() -> dict[str, str]:
    """folded alias -> the canonical name to suggest (`mosol` is close to `mosul` -> Mosul)."""
    gaz = gazetteer.load()
    out = {}
    for kind in ("faction", "place"):
        for alias in gaz.matchers[kind].aliases():
            if alias.exact is None:
                out.setdefault(" ".join(alias.keys), alias.entity.name)
    return out


def _words(node: Node) -> list[Word]:
    if isinstance(node, Word):
        return [node] if node.field is None and not node.prefix else []
    if isinstance(node, (And, Or)):
        return [w for n in node.nodes for w in _words(n)]
    return []  # NOT branches, phrases, everything: nothing to correct


def suggestion(view: View, request: SearchRequest) -> dict | None:
    """'Did you mean': unknown words replaced by the closest place or faction name, else by
    the closest word of the index vocabulary. None when nothing better is found."""
    reader = view.searcher.reader()
    words = _words(parse(request.q))
    text, changed = request.q, False
    for word in sorted(words, key=lambda w: -w.start):
        known = any(reader.doc_frequency("body", s) for s in stems(word.text))
        written = request.q[word.start : word.start + len(word.text)] == word.text
        if known or len(word.text) < 3 or not written:  # escaped words are left alone
            continue
        folded = gazetteer.fold(word.text)
        close = difflib.get_close_matches(folded, _alias_words(), n=1, cutoff=0.8)
        if close:
            better = _alias_words()[close[0]]
        else:
            better = _closest_word(reader, folded)
            if better is None:
                continue
        text = text[: word.start] + better + text[word.start + len(word.text) :]
        changed = True
    if not changed:
        return None
    query, _ = build(
        view,
        SearchRequest(
            q=text, filters=request.filters, date_from=request.date_from, date_to=request.date_to
        ),
    )
    return {"q": text, "total": len(docnums(view, query))}


def _closest_word(reader, word: str) -> str | None:
    """The index word within two edits of `word`, most frequent first, as Whoosh's
    corrector ranks them. Asked of each segment: Whoosh's multi-segment reader has no
    automaton and measures the distance to every word of the lexicon (a second per query
    at 10,000 articles in two segments)."""
    found = set()
    for leaf, _ in reader.leaf_readers():
        found.update(leaf.terms_within("body", word, 2))
    found = {w for w in found if ":" not in w and w != word}
    if not found:
        return None
    return min(found, key=lambda w: (-(reader.frequency("body", w) or 1), w))


# --- other reads --------------------------------------------------------------------------------


def document(view: View, doc_id: str) -> dict:
    """Every stored field and tag of one article; NotFound when the id is unknown."""
    stored = view.searcher.document(id=doc_id)
    if stored is None:
        raise NotFound(f"no document with id {doc_id!r}", "id")
    fields = as_json(stored)
    return {
        "id": fields["id"],
        "title": fields["title"],
        "body": fields["body"],
        "title_html": html.escape(fields["title"]),
        "body_html": html.escape(fields["body"]),
        "date": fields["date"],
        **{k: v for k, v in fields["tags"].items() if k != "date"},
        "facets": fields["facets"],
    }


def similar(view: View, doc_id: str, size: int = 10) -> dict:
    """More like this: articles sharing the document's most telling words and entities."""
    searcher = view.searcher
    docnum = searcher.document_number(id=doc_id)
    if docnum is None:
        raise NotFound(f"no document with id {doc_id!r}", "id")
    stored = searcher.stored_fields(docnum)
    text = f"{stored.get('title', '')}\n{stored.get('body', '')}"
    results = searcher.more_like(docnum, "body", text=text, top=size, numterms=12)
    hits = []
    for hit in results:
        fields = as_json(hit.fields())
        hits.append(
            {
                "id": fields["id"],
                "score": round(hit.score, 4),
                "title": fields["title"],
                "date": fields["date"],
                "source": (fields["facets"]["source"] or [None])[0],
            }
        )
    return {"id": doc_id, "hits": hits}


def facet_values(view: View, request: SearchRequest, name: str, prefix: str, size: int) -> dict:
    """All values of one facet with counts among the matching articles, optionally by prefix."""
    query, _ = build(view, request, skip=name)
    counter = view.count(name, docnums(view, query))
    return {"name": name, "prefix": prefix, **facets.ranked(counter, size, prefix)}


def trends(view: View, request: SearchRequest, facet: str, interval: str) -> dict:
    """Counts of each of the facet's top values per month or year among matching articles."""
    query, entities = build(view, request)
    docs = docnums(view, query)
    values, periods = view.values(facet), view.values(interval)
    top = facets.ranked(view.count(facet, docs), request.facet_size)
    keep = {item["value"] for item in top["values"]}
    table: dict[str, Counter[str]] = {}
    undated = 0
    for docnum in docs:
        period = periods[docnum]
        if not period:
            undated += 1
            continue
        row = table.setdefault(period[0], Counter())
        row["__total__"] += 1
        row.update(v for v in values[docnum] if v in keep)
    return {
        "facet": facet,
        "interval": interval,
        "total": len(docs),
        "undated": undated,
        "values": top["values"],
        "truncated": top["truncated"],
        "periods": [
            {
                "period": period,
                "total": row.pop("__total__"),
                "counts": {item["value"]: row.get(item["value"], 0) for item in top["values"]},
            }
            for period, row in sorted(table.items())
        ],
        "query": {**request.to_json(), "parsed": str(query), "entities": entities},
    }


def _completes(entity: gazetteer.Entity, wanted: str) -> bool:
    """True when the folded prefix `wanted` begins the entity's name, or its Arabic name
    (with or without the article: حل and الرق both complete)."""
    if gazetteer.fold(entity.name).startswith(wanted):
        return True
    if not entity.arabic:
        return False
    arabic_name = gazetteer.fold(entity.arabic)
    return arabic_name.startswith(wanted) or arabic.match_key(arabic_name).startswith(wanted)


def suggest(view: View, text: str, size: int = 10) -> dict:
    """Completions for a search box: faction and place names, then title words."""
    wanted = gazetteer.fold(text.strip())
    out: list[dict] = []
    if not wanted:
        return {"q": text, "suggestions": []}
    for kind in ("faction", "place"):
        counter = view.totals(kind)
        for entity in gazetteer.load().entities[kind].values():
            if _completes(entity, wanted) and counter.get(entity.name):
                item = {"text": entity.name, "kind": kind, "count": counter[entity.name]}
                if entity.arabic:
                    item["arabic"] = entity.arabic
                out.append(item)
    out.sort(key=lambda s: (-s["count"], s["text"]))
    reader = view.searcher.reader()
    words = []
    for term in reader.expand_prefix("spell_title", wanted):
        word = term_text(term)
        if ":" not in word:
            # The spelling lexicon only says a word occurs: count the titles with its stem.
            count = max((reader.doc_frequency("title", s) for s in stems(word)), default=0)
            words.append({"text": word, "kind": "word", "count": count})
    words.sort(key=lambda s: (-s["count"], s["text"]))
    seen = {s["text"].casefold() for s in out}
    out += [w for w in words if w["text"] not in seen]
    return {"q": text, "suggestions": out[:size]}
