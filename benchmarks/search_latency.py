"""Search latency: the service (in process and over HTTP) against plain Whoosh, same queries.

    python benchmarks/search_latency.py --n 10000

Builds (once, cached in --work) an index of a generated corpus with `search index` and a
plain Whoosh index of the same articles (StandardAnalyzer; region and faction as KEYWORD
fields taken from the generator's labels). Then runs the generator's queries, warm, each as a
faceted (region + faction), highlighted top-10 search:

- plain Whoosh, used naively: a fresh searcher per query, `groupedby` facets, the default
  highlighter over each hit's stored body;
- the service in process (query.search on a reused View);
- the service over HTTP (`search serve`, one worker), sequential requests;
- the service over HTTP with every facet and the date histogram (what a frontend asks).

Prints p50 / p95 per mode and the ratio of each median to plain Whoosh's. Run by hand.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
from benchmarks.indexing import MAKE_CORPUS, corpus  # noqa: E402


def queries(count: int, seed: int, folder: Path) -> list[dict]:
    path = folder / f"queries-{count}-{seed}.jsonl"
    if not path.exists():
        subprocess.run(
            [
                sys.executable,
                MAKE_CORPUS,
                "--queries",
                str(count),
                "--seed",
                str(seed),
                "--out",
                path,
            ],
            check=True,
        )
    return [json.loads(line) for line in path.read_text().splitlines()]


def params(query: dict, facets: str) -> dict:
    out = {"q": query["q"], "facets": facets, "per_page": 10}
    filters = query["filters"]
    for name in ("region", "faction"):
        if name in filters:
            out[name] = filters[name]
    if "date_from" in filters:
        out["from"], out["to"] = filters["date_from"], filters["date_to"]
    return out


def build_ours(path: Path, target: Path) -> None:
    if not (target / "CURRENT").exists():
        subprocess.run(
            [sys.executable, "-m", "search", "index", path, "--index", target, "--rebuild", "-q"],
            cwd=ROOT,
            check=False,
        )


def build_plain(path: Path, target: Path) -> None:
    from whoosh import index as whoosh_index
    from whoosh.analysis import StandardAnalyzer
    from whoosh.fields import DATETIME, ID, KEYWORD, TEXT, Schema

    if target.exists():
        return
    schema = Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(analyzer=StandardAnalyzer(), stored=True),
        body=TEXT(analyzer=StandardAnalyzer(), stored=True),
        region=KEYWORD(stored=True, commas=True),
        faction=KEYWORD(stored=True, commas=True),
        date=DATETIME(stored=True),
    )
    target.mkdir(parents=True)
    ix = whoosh_index.create_in(str(target), schema)
    writer = ix.writer(limitmb=256)
    from datetime import datetime

    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        doc = {
            "id": record["id"],
            "title": record["title"],
            "body": record["body"],
            "region": record.get("region") or "",
            "faction": ",".join(record.get("factions", [])),
        }
        if record.get("date"):
            doc["date"] = datetime.fromisoformat(record["date"])
        writer.add_document(**doc)
    writer.commit()


def plain_search(ix, query: dict) -> None:
    from datetime import datetime

    from whoosh import query as wq
    from whoosh.qparser import MultifieldParser

    with ix.searcher() as searcher:  # naive: a fresh searcher per request
        parsed = MultifieldParser(["title", "body"], ix.schema).parse(query["q"])
        filters = query["filters"]
        parts = [parsed]
        for name in ("region", "faction"):
            if name in filters:
                parts.append(wq.Term(name, filters[name]))
        if "date_from" in filters:
            parts.append(
                wq.DateRange(
                    "date",
                    datetime.fromisoformat(filters["date_from"]),
                    datetime.fromisoformat(filters["date_to"]),
                )
            )
        results = searcher.search(wq.And(parts), limit=10, groupedby=["region", "faction"])
        for name in ("region", "faction"):
            results.groups(name)
        for hit in results:
            hit.highlights("body")


def timed(function, items) -> list[float]:
    out = []
    for item in items:
        started = time.perf_counter()
        function(item)
        out.append((time.perf_counter() - started) * 1000)
    return out


def summary(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95) - 1]


def run(corpus_path: Path, label: str, work: Path, qs: list[dict]) -> list[tuple]:
    import httpx
    from whoosh import index as whoosh_index

    from search.query import search
    from search.request import parse_request
    from search.service import Service
    from tests.live import Server

    ours_dir, plain_dir = work / f"ours-{label}", work / f"plain-{label}"
    build_ours(corpus_path, ours_dir)
    build_plain(corpus_path, plain_dir)
    plain_ix = whoosh_index.open_dir(str(plain_dir))
    view = Service(ours_dir).view()
    two = [params(q, "region,faction") for q in qs]
    every = [params(q, "") for q in qs]
    requests = [parse_request({k: [str(v)] for k, v in p.items()}) for p in two]
    rows = []
    # warm-up: one pass each, not measured
    timed(lambda q: plain_search(plain_ix, q), qs[:20])
    timed(lambda r: search(view, r), requests[:20])
    rows.append(("plain Whoosh (naive)", *summary(timed(lambda q: plain_search(plain_ix, q), qs))))
    rows.append(("service, in process", *summary(timed(lambda r: search(view, r), requests))))
    server = Server(ours_dir)
    try:
        client = server.client
        first = time.perf_counter()
        client.get("/search", params=two[0])
        cold = (time.perf_counter() - first) * 1000
        timed(lambda p: client.get("/search", params=p), two[:20])
        rows.append(
            ("service over HTTP", *summary(timed(lambda p: client.get("/search", params=p), two)))
        )
        rows.append(
            (
                "service over HTTP, every facet + histogram",
                *summary(timed(lambda p: client.get("/search", params=p), every)),
            )
        )
        rows.append(("service over HTTP, first request after start", cold, cold))
    finally:
        server.stop()
    assert httpx  # imported for the server client
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "search-bench")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    qs = queries(args.queries, args.seed, args.work)
    seeds = args.work / "seeds.jsonl"
    if not seeds.exists():
        from search.files import read_paths

        _, items = read_paths([ROOT / "seeds"])
        lines = [
            json.dumps(
                {
                    "id": i.article.id,
                    "title": i.article.title,
                    "body": i.article.body,
                    "date": i.article.date.isoformat() if i.article.date else None,
                    "region": (i.article.regions or [""])[0],
                }
            )
            for i in items
            if i.article
        ]
        seeds.write_text("\n".join(lines) + "\n")
    tables = [("5 seed articles", run(seeds, "seeds", args.work, qs))]
    big = corpus(args.n, args.seed, args.work)
    tables.append((f"{args.n} generated articles", run(big, str(args.n), args.work, qs)))
    out = []
    for title, rows in tables:
        base = rows[0][1]
        out += [
            f"### {title}, {len(qs)} queries, top 10, region + faction facets, highlights",
            "",
            "| mode | p50 ms | p95 ms | p50 vs plain |",
            "| --- | ---: | ---: | ---: |",
        ]
        out += [
            f"| {name} | {p50:.1f} | {p95:.1f} | {p50 / base:.2f}x |" for name, p50, p95 in rows
        ]
        out.append("")
    print("\n".join(out))
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / f"search-{args.n}.md").write_text("\n".join(out))


if __name__ == "__main__":
    main()
