"""Run searches on a View (search.view): request -> Whoosh query and filters -> hits, facets,
highlights, suggestion; and the other reads of the API (a document, similar articles, a
facet's values, trends)."""

from __future__ import annotations

import html
import time
from typing import Any

import numpy as np
from whoosh import query as wq

from search import cursor, facets, highlight, ranking
from search.errors import NotFound
from search.readable import readable
from search.request import SearchRequest
from search.spellings import spellings
from search.stored import as_json
from search.story_view import collapsed
from search.suggest import suggestion
from search.trends import per_period
from search.view import View, build, match

FEW_HITS = 3  # fewer hits than this and the answer suggests another spelling


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
        "authors": tags["author"],  # the document's name and form
        "url": fields["url"],
        "tags": tags,
        "facets": tags,  # the document's name for the same lists
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


def search(view: View, request: SearchRequest, after: cursor.Cursor | None = None) -> dict:
    """Run a search and build the response of GET /search; `after`: continue from a cursor
    (search.cursor) instead of a page number."""
    started = time.perf_counter()
    cursor.check_window(request, after)
    searcher = view.searcher
    query, entities = build(view, request)
    relevance = request.sort == "relevance"
    # every match once, scored when ranked by relevance: total, facets, histogram, the page
    found = match(view, query, scored=relevance and request.per_page > 0)
    docs = found.mask
    total = int(docs.sum())
    terms = positive_terms(query)
    hits = []
    stories = view.stories
    found_stories = stories.distinct(docs)  # the stories among the matches
    page: list[tuple[int, float | None]] = []
    marks: list = []
    if request.collapse:  # one hit per story, its best-ranked member; paged by number
        total = found_stories
        offset = (request.page - 1) * request.per_page
        if request.per_page and offset < total:
            matched = np.flatnonzero(docs)
            key = ranking.keys(view.arrays, matched, found.scores, request.sort)
            picked = collapsed(view.arrays, matched, key, stories.group, offset, request.per_page)
            scores = found.scores
            page = [(d, float(scores[d]) if scores is not None else None) for d in picked.tolist()]
    elif request.per_page:
        marks = cursor.page(view, found, request, after)
        page = [(docnum, score) for docnum, score, _ in marks]
    numbers = [docnum for docnum, _ in page]
    spans = _spans(view, terms, numbers) if request.highlight and numbers else {}
    for docnum, score in page:
        stored = searcher.stored_fields(docnum)
        shown = round(score, 4) if relevance and score is not None else None
        ranges = {field: matched[docnum] for field, matched in spans.items()}
        hit = hit_json(stored, shown, terms, request, ranges)
        hit["story"] = stories.story_of(docnum)
        if request.collapse:
            hit["story"]["others"] = stories.others(docnum, request.members)
        hits.append(hit)
    answer = {
        "total": total,
        "took_ms": 0.0,
        "page": request.page,
        "per_page": request.per_page,
        "pages": -(-total // request.per_page) if request.per_page else 0,
        "stories": found_stories,
        "hits": hits,
        "next_cursor": cursor.next_cursor(marks, request, total, after),
        "facets": facet_counts(view, request, docs),
        "histogram": date_histogram(view, request, docs),
        "query": {**request.to_json(), "parsed": readable(query), "entities": entities},
        "suggestion": suggestion(view, request) if total < FEW_HITS and request.q else None,
    }
    answer["took_ms"] = round((time.perf_counter() - started) * 1000, 2)
    return answer


def _spans(view: View, terms: dict[str, set[str]], numbers: list[int]) -> dict:
    """field -> docnum -> matched character ranges of the page's hits, from the postings;
    a field without stored spans is left out (its highlights analyse the text)."""
    reader = view.searcher.reader()
    out = {}
    for field in ("title", "body"):
        found = highlight.stored_ranges(
            reader, field, terms.get(field, set()), numbers, view.arrays
        )
        if found is not None:
            out[field] = found
    return out


def facet_counts(view: View, request: SearchRequest, docs: np.ndarray) -> dict:
    """Disjunctive counts: a facet's counts ignore that facet's own filter. `docs`: the
    matches of the whole request (a mask)."""
    filtered = {name for name, _ in request.filters}
    out = {}
    for name in request.facets:
        among = match(view, build(view, request, skip=name)[0]).mask if name in filtered else docs
        out[name] = facets.ranked(view.count_by(name, among, request.by_story), request.facet_size)
    return out


def date_histogram(view: View, request: SearchRequest, docs: np.ndarray) -> dict:
    """Matching articles per month and per year, ignoring the from/to filter so a frontend
    can show the whole timeline and let the user pick a range. `docs`: the request's matches
    (a mask)."""
    if request.date_from or request.date_to:
        docs = match(view, build(view, request, skip="date")[0]).mask
    return {
        interval: facets.histogram(view.count_by(interval, docs, request.by_story))
        for interval in ("year", "month")
    }


# --- other reads --------------------------------------------------------------------------------


def document(view: View, doc_id: str) -> dict:
    """Every stored field and tag of one article; NotFound when the id is unknown."""
    docnum = view.searcher.document_number(id=doc_id)
    if docnum is None:
        raise NotFound(f"no document with id {doc_id!r}", "id")
    stored = view.searcher.stored_fields(docnum)
    fields = as_json(stored)
    return {
        "id": fields["id"],
        "title": fields["title"],
        "body": fields["body"],
        "title_html": html.escape(fields["title"]),
        "body_html": html.escape(fields["body"]),
        "date": fields["date"],
        **{k: v for k, v in fields["tags"].items() if k != "date"},
        "author": ", ".join(fields["facets"]["author"]) or None,  # a hit's name and form
        "facets": fields["facets"],
        "tags": fields["facets"],  # a hit's name for the same lists
        "spellings": spellings(view.searcher.reader(), docnum, stored, fields["facets"]),
        "story": view.stories.story_of(docnum),
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


def story(view: View, story_id: str, size: int) -> dict:
    """GET /stories/{id}: a story's members in date order (search.story_view)."""
    found = view.stories.story(story_id, size)
    if found is None:
        raise NotFound(f"no story with id {story_id!r}", "id")
    return found


def facet_values(view: View, request: SearchRequest, name: str, prefix: str, size: int) -> dict:
    """All values of one facet with counts among the matching articles, optionally by prefix."""
    query, _ = build(view, request, skip=name)
    counter = view.count_by(name, match(view, query).mask, request.by_story)
    return {"name": name, "prefix": prefix, **facets.ranked(counter, size, prefix)}


def trends(view: View, request: SearchRequest, facet: str, interval: str) -> dict:
    """Counts of each of the facet's top values per month or year among matching articles,
    every period from the first to the last (empty ones as 0)."""
    query, entities = build(view, request)
    docs = match(view, query).mask
    top = facets.ranked(view.count_by(facet, docs, request.by_story), request.facet_size)
    kept = [item["value"] for item in top["values"]]
    group = view.stories.group if request.by_story else None
    table, undated = per_period(view.arrays, docs, facet, interval, kept, group)
    return {
        "facet": facet,
        "interval": interval,
        "total": view.stories.distinct(docs) if request.by_story else int(docs.sum()),
        "undated": undated,
        "values": top["values"],
        "truncated": top["truncated"],
        "periods": [
            {
                "period": period,
                "total": table.get(period, {}).get("__total__", 0),
                "counts": {value: table.get(period, {}).get(value, 0) for value in kept},
            }
            for period in facets.periods(table)
        ],
        "query": {**request.to_json(), "parsed": readable(query), "entities": entities},
    }
