"""A Whoosh query evaluated over arrays: which documents match, and with `scored` their
BM25F scores, as Whoosh computes them.

Each node gives a mask over the searcher's documents and, when scored, a score array (0
where it does not match). The arithmetic is Whoosh's, operation for operation:

- a term: BM25F, `idf * ((tf * (K1 + 1)) / (tf + K1 * ((1 - B) + B * fl / avgfl)))`, with
  the idf, average length, B and K1 of Whoosh's own scorer for the term (whoosh.scoring),
  the weights of the postings and the lengths of the documents; a field that is not
  scorable scores the weight; a boost multiplies;
- AND and OR add their parts' scores (Whoosh's intersection and union matchers); a NOT
  inside them scores 1 (its inverse matcher's weight); everything scores its boost;
- a date range scores its boost (Whoosh's numeric ranges score constantly);
- a phrase (words next to each other, in order: Whoosh's slop 1) is checked against the
  positions of its words in the documents holding them all, and scores the sum of its
  words' scores, as Whoosh's span matcher does (the intersection of its terms' matchers);
- anything else is asked of Whoosh's own matcher, segment by segment.

Sums may be added in another order than Whoosh's matcher tree, so a score may differ from
Whoosh's in its last bits (tests/test_fast_paths.py compares scores to 1e-9 relative,
tests/test_scoring_equivalence.py whole answers to 1e-6).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from whoosh import query as wq
from whoosh.scoring import BM25FScorer, WeightScorer
from whoosh.searching import Searcher

from search.view_arrays import UNDATED, ViewArrays


@dataclass
class Match:
    mask: np.ndarray  # bool, one per document of the searcher
    scores: np.ndarray | None  # float64, 0 where the mask is False; None when not scored


def evaluate(arrays: ViewArrays, searcher: Searcher, query: wq.Query, scored: bool) -> Match:
    """The documents `query` matches, deleted ones excluded, with scores if `scored`."""
    found = _node(arrays, searcher, query, scored)
    found.mask &= arrays.live
    if found.scores is not None:
        found.scores[~found.mask] = 0.0
    return found


def _empty(arrays: ViewArrays, scored: bool) -> Match:
    return Match(np.zeros(arrays.size, bool), np.zeros(arrays.size) if scored else None)


def _node(arrays: ViewArrays, searcher: Searcher, query: wq.Query, scored: bool) -> Match:
    if query is wq.NullQuery or isinstance(query, type(wq.NullQuery)):
        return _empty(arrays, scored)
    if isinstance(query, wq.Term):
        return _term(arrays, searcher, query, scored)
    if isinstance(query, wq.Every) and not query.fieldname:
        mask = arrays.live.copy()
        return Match(mask, mask * float(query.boost) if scored else None)
    if isinstance(query, wq.Not):
        inner = _node(arrays, searcher, query.query, False)
        mask = arrays.live & ~inner.mask
        return Match(mask, mask * 1.0 if scored else None)
    if type(query) is wq.Or and not query.scale:  # not a subclass with another scoring
        return _combine(arrays, searcher, query, scored, np.logical_or)
    if type(query) is wq.And:
        return _combine(arrays, searcher, query, scored, np.logical_and)
    if isinstance(query, wq.DateRange) and query.fieldname == "date" and query.constantscore:
        return _dates(arrays, query, scored)
    if type(query) is wq.Phrase and query.slop == 1 and len(query.words) > 1:
        return _phrase(arrays, searcher, query, scored)
    return _whoosh(arrays, searcher, query, scored)


def _combine(arrays, searcher, query: wq.CompoundQuery, scored: bool, join) -> Match:
    parts = query.subqueries
    if not parts:
        return _empty(arrays, scored)
    found = [_node(arrays, searcher, q, scored) for q in parts]
    mask = found[0].mask.copy()
    for other in found[1:]:
        join(mask, other.mask, out=mask)
    scores = None
    if scored:
        scores = np.zeros(arrays.size)
        for other in found:
            scores += other.scores  # 0 where the part does not match
        scores[~mask] = 0.0
        if query.boost != 1.0:
            scores *= query.boost
    return Match(mask, scores)


def _term(arrays: ViewArrays, searcher: Searcher, query: wq.Term, scored: bool) -> Match:
    schema = searcher.schema
    out = _empty(arrays, scored)
    if query.fieldname not in schema:
        return out
    field = schema[query.fieldname]
    try:
        btext = field.to_bytes(query.text)
    except ValueError:
        return out
    docs, weights = arrays.postings(query.fieldname, btext)
    out.mask[docs] = True
    if not scored or not len(docs):
        return out
    scorer = searcher.weighting.scorer(searcher, query.fieldname, btext)
    tf = weights.astype(np.float64)
    if isinstance(scorer, BM25FScorer):
        idf, avgfl, b, k1 = scorer.idf, scorer.avgfl, scorer.B, scorer.K1
        fl = arrays.lengths(query.fieldname)[docs]
        score = idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * fl / avgfl)))
    elif isinstance(scorer, WeightScorer):
        score = tf
    else:  # another weighting model: Whoosh's own scorer
        return _whoosh(arrays, searcher, query, scored)
    if query.boost != 1.0:
        score = score * query.boost
    assert out.scores is not None
    out.scores[docs] = score
    return out


def _phrase(arrays: ViewArrays, searcher: Searcher, query: wq.Phrase, scored: bool) -> Match:
    name, words = query.fieldname, query.words
    if name not in searcher.schema:
        return _empty(arrays, scored)
    field = searcher.schema[name]
    if not field.format or not field.format.supports("positions"):
        return _whoosh(arrays, searcher, query, scored)  # Whoosh's answer, or its error
    try:
        btexts = [field.to_bytes(word) for word in words]
    except ValueError:
        return _empty(arrays, scored)
    # The documents holding every word, scored as Whoosh's intersection of the words' term
    # matchers (inside its span matcher) scores them; then narrowed to where they stand in a row.
    terms = wq.And([wq.Term(name, word) for word in words])
    together = _combine(arrays, searcher, terms, scored, np.logical_and)
    candidates = np.flatnonzero(together.mask)
    # Where the phrase would start, per occurrence of each word: (document << 32 | position
    # - i + len(words)); a phrase stands where every word puts it. Each word's positions
    # are read only in the documents the words before it left standing, the rarest first.
    order = sorted(range(len(words)), key=lambda i: searcher.doc_frequency(name, words[i]))
    starts = None
    for i in order:
        if not len(candidates):
            break
        found = arrays.positions(name, btexts[i], candidates)
        if found is None:
            return _whoosh(arrays, searcher, query, scored)
        found += len(words) - i  # ascending: documents ascending, positions within each
        starts = found if starts is None else _common(starts, found)
        documents = starts >> 32
        first = np.ones(len(documents), bool)  # the first of each document's run
        first[1:] = documents[1:] != documents[:-1]
        candidates = documents[first]
    mask = np.zeros(arrays.size, bool)
    mask[candidates] = True
    scores = together.scores
    if scores is not None:
        scores[~mask] = 0.0
        if query.boost != 1.0:
            scores *= query.boost
    return Match(mask, scores)


def _common(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The values in both of two ascending arrays of distinct values (a binary search each:
    np.intersect1d sorts both again)."""
    at = np.searchsorted(b, a)
    inside = at < len(b)
    inside[inside] = b[at[inside]] == a[inside]
    return a[inside]


def _dates(arrays: ViewArrays, query: wq.DateRange, scored: bool) -> Match:
    # DateRange holds its ends as Whoosh's longs, which the raw date column holds too
    dates = arrays.dates()
    mask = dates != np.uint64(UNDATED)
    if query.start is not None:
        low = np.uint64(query.start)
        mask &= (dates > low) if query.startexcl else (dates >= low)
    if query.end is not None:
        high = np.uint64(query.end)
        mask &= (dates < high) if query.endexcl else (dates <= high)
    return Match(mask, mask * float(query.boost) if scored else None)


def _whoosh(arrays: ViewArrays, searcher: Searcher, query: wq.Query, scored: bool) -> Match:
    """Whoosh's own matcher, segment by segment."""
    out = _empty(arrays, scored)
    context = searcher.context() if scored else searcher.boolean_context()
    for sub, offset in searcher.leaf_searchers():
        matcher = query.matcher(sub, context)
        docs, scores = [], []
        while matcher.is_active():
            docs.append(matcher.id())
            if scored:
                scores.append(matcher.score())
            matcher.next()
        at = np.array(docs, np.int64) + offset
        out.mask[at] = True
        if out.scores is not None:
            out.scores[at] = scores
    return out
