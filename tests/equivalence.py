"""The read path over arrays against Whoosh's own answers, request by request (for
tests/test_scoring_equivalence.py and benchmarks/equivalence.py).

Whoosh's side: the request's Whoosh query scored by `Searcher.search(limit=None)` (its
matchers, its BM25F), ordered by score then id as the API promises; facet counts and the
histogram counted from each matching document's stored fields. The service's side: `search()`
as the API runs it. Compared: the total, every hit's id in order and its score (relative
1e-6; among hits whose scores tie within that, the order is by id on both sides), the facet
counts and the histogram.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

from search.query import search
from search.request import parse_request
from search.stored import as_json
from search.view import View, build

MAKE_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "bench" / "make_corpus.py"
RELATIVE = 1e-6


def generated_queries(count: int, seed: int, folder: Path) -> list[dict]:
    """The benchmark's generated queries (../shared/bench/make_corpus.py)."""
    path = folder / f"queries-{count}-{seed}.jsonl"
    if not path.exists():
        command = [sys.executable, MAKE_CORPUS, "--queries", str(count), "--seed", str(seed)]
        subprocess.run([*command, "--out", path], check=True)
    return [json.loads(line) for line in path.read_text().splitlines()]


def params(query: dict, sort: str = "relevance", per_page: int = 20) -> dict[str, list[str]]:
    """The GET /search parameters of a generated query (as benchmarks/run.py sends them)."""
    out = {"q": [query["q"]], "per_page": [str(per_page)], "sort": [sort]}
    filters = query.get("filters", {})
    for name in ("region", "faction"):
        if name in filters:
            out[name] = [filters[name]]
    if "date_from" in filters:
        out["from"], out["to"] = [filters["date_from"]], [filters["date_to"]]
    return out


def whoosh_answer(
    view: View, request, size: int, stored: dict[int, dict], counts: bool = True
) -> dict:
    """What Whoosh itself gives for the request: the ordered hits (id, score), the total,
    facet counts (each ignoring its own filter, as the API's) and the histogram (ignoring
    the dates). `stored`: docnum -> stored fields as JSON, filled as documents are read."""
    searcher = view.searcher

    def read(docnums) -> list[dict]:
        for docnum in docnums:
            if docnum not in stored:
                stored[docnum] = as_json(searcher.stored_fields(docnum))
        return [stored[d] for d in docnums]

    query, _ = build(view, request)
    scored = [(hit.score, hit.docnum) for hit in searcher.search(query, limit=None)]
    fields = dict(zip((d for _, d in scored), read([d for _, d in scored]), strict=True))
    if request.sort == "relevance":
        ordered = sorted(scored, key=lambda item: (-item[0], fields[item[1]]["id"]))
    else:  # by date, undated last either way, ids breaking ties
        newest = request.sort == "-date"

        def key(item):
            date, doc_id = fields[item[1]]["date"], fields[item[1]]["id"]
            return (date is None, _reverse(date) if newest and date else date or "", doc_id)

        ordered = sorted(scored, key=key)
    out = {"total": len(scored), "hits": [(fields[d]["id"], s) for s, d in ordered[:size]]}
    if not counts:
        return out
    filtered = {name for name, _ in request.filters}
    facets = {}
    everything = [d for _, d in scored]  # what docs_for_query(query) gives, in some order
    for name in request.facets:
        skip = build(view, request, skip=name)[0] if name in filtered else None
        matching = read(list(searcher.docs_for_query(skip)) if skip else everything)
        facets[name] = Counter(v for f in matching for v in f["facets"][name])
    undated = build(view, request, skip="date")[0] if request.date_from or request.date_to else None
    dated = read(list(searcher.docs_for_query(undated)) if undated else everything)
    dates = [f["date"] for f in dated if f["date"]]
    return out | {
        "facets": facets,
        "months": Counter(d[:7] for d in dates),
        "years": Counter(d[:4] for d in dates),
    }


def _reverse(date: str) -> str:
    """A key that sorts ISO dates newest first."""
    return "".join(chr(0x10FFFF - ord(c)) for c in date)


def differences(
    view: View, raw: dict[str, list[str]], stored: dict[int, dict], counts: bool = True
) -> list[str]:
    """How the service's answer to a request differs from Whoosh's (empty: none).
    `stored`: a cache of stored fields for the view (see whoosh_answer); without `counts`,
    only the total and the hits are compared (facets and the histogram do not depend on
    the order)."""
    request = parse_request(raw)
    ours = search(view, request)
    theirs = whoosh_answer(view, request, request.per_page, stored, counts)
    out = []
    if ours["total"] != theirs["total"]:
        out.append(f"total {ours['total']} != Whoosh's {theirs['total']}")
    got = [(hit["id"], hit["score"]) for hit in ours["hits"]]
    if [i for i, _ in got] != [i for i, _ in theirs["hits"]]:
        out.append(f"hits {[i for i, _ in got]} != Whoosh's {[i for i, _ in theirs['hits']]}")
    elif request.sort == "relevance":
        for (doc_id, score), (_, expected) in zip(got, theirs["hits"], strict=True):
            # the API rounds scores to 4 places
            if abs(score - round(expected, 4)) > max(RELATIVE * abs(expected), 1e-4):
                out.append(f"{doc_id}: score {score} != Whoosh's {expected}")
    for name, counted in theirs.get("facets", {}).items():
        found = {v["value"]: v["count"] for v in ours["facets"][name]["values"]}
        expected = dict(counted.most_common())
        if any(expected.get(value) != n for value, n in found.items()):
            out.append(f"facet {name}: {found} != Whoosh's {expected}")
        if not ours["facets"][name]["truncated"] and len(found) != len(expected):
            out.append(f"facet {name}: {len(found)} values != Whoosh's {len(expected)}")
    for interval in ("month", "year") if counts else ():
        expected = dict(theirs[f"{interval}s"])
        found = {b["value"]: b["count"] for b in ours["histogram"][interval] if b["count"]}
        if found != expected:
            out.append(f"{interval} histogram {found} != Whoosh's {expected}")
    return out
