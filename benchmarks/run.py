"""The archive-scale benchmark: indexing and search against Whoosh used plainly, same run.

    python benchmarks/run.py --n 10000 --n 100000

For each size it generates a corpus and 220 queries with ../shared/bench/make_corpus.py
(fixed seed), then measures:

- indexing: `search index` (parse + tag + index) on one core and on every core, beside
  plain Whoosh (StemmingAnalyzer; id, title, body, date, and region and faction as sortable
  keywords from the generator's labels; no tagging), each in a fresh process: docs/s, index
  size, peak memory;
- search, top 10, three kinds: plain; every facet; every facet with highlighted snippets.
  Whoosh used plainly (a fresh searcher per request, `groupedby` facets, the default
  highlighter) is the baseline of each kind; then the service in process, and over HTTP
  (`search serve`, sequential requests), and the same request repeated (the answer cache).
  Whoosh's default highlighter takes 4 to 11 s a query on these long generated bodies, so the
  baseline runs every 5th query (40); each ratio compares medians over those same queries;
- from `search serve` to its first answer, and that first request (cold);
- GET /search (every facet + snippets) with 1 and 8 concurrent clients, on 1 and 2 workers,
  in requests/s; each run on a fresh server, so no answer comes from the cache;
- the memory of each worker after that load.

Prints Markdown tables and writes them, with the figures as JSON, to benchmarks/results/.
Medians and 95th percentiles; every time also as a ratio against the baseline measured in
the same run. Run by hand; the tests never time anything.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
MAKE_CORPUS = ROOT.parent / "shared" / "bench" / "make_corpus.py"
RESULTS = HERE / "results"
SAMPLE = 5  # the slow baseline runs every SAMPLE-th query
KINDS = ("plain", "every facet", "every facet + snippets")


# --- corpus and queries ---------------------------------------------------------------------


def generate(args: list, path: Path) -> Path:
    if not path.exists():
        subprocess.run([sys.executable, MAKE_CORPUS, *args, "--out", path], check=True)
    return path


def corpus(n: int, seed: int, work: Path) -> Path:
    return generate(["--n", str(n), "--seed", str(seed)], work / f"corpus-{n}-{seed}.jsonl")


def queries(count: int, seed: int, work: Path) -> list[dict]:
    path = generate(
        ["--queries", str(count), "--seed", str(seed)], work / f"q-{count}-{seed}.jsonl"
    )
    return [json.loads(line) for line in path.read_text().splitlines()]


def params(query: dict, kind: str) -> dict:
    """The GET /search parameters of a generated query, for one kind of search."""
    out = {"q": query["q"], "per_page": 10}
    filters = query["filters"]
    for name in ("region", "faction"):
        if name in filters:
            out[name] = filters[name]
    if "date_from" in filters:
        out["from"], out["to"] = filters["date_from"], filters["date_to"]
    if kind == "plain":
        out |= {"facets": "none", "highlight": "false"}
    elif kind == "every facet":
        out["highlight"] = "false"
    return out


# --- indexing, each build in its own process ------------------------------------------------


def build_plain(path: Path, target: Path) -> int:
    from whoosh import index as whoosh_index
    from whoosh.analysis import StemmingAnalyzer
    from whoosh.fields import DATETIME, ID, KEYWORD, TEXT, Schema

    schema = Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(analyzer=StemmingAnalyzer(), stored=True),
        body=TEXT(analyzer=StemmingAnalyzer(), stored=True),
        date=DATETIME(stored=True),
        # sortable, as ours are: groupedby then reads a column instead of un-inverting the
        # field at every fresh searcher (3.5 s a query at 10,000 articles)
        region=KEYWORD(stored=True, commas=True, sortable=True),
        faction=KEYWORD(stored=True, commas=True, sortable=True),
    )
    target.mkdir(parents=True)
    writer = whoosh_index.create_in(str(target), schema).writer(limitmb=256)
    count = 0
    with path.open(encoding="utf-8") as lines:
        for line in lines:
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
            count += 1
    writer.commit()
    return count


def build_ours(path: Path, target: Path, jobs: int) -> int:
    from search import whoosh_ext
    from search.files import read_paths
    from search.index import write

    whoosh_ext.install()  # as the CLI does
    _, items = read_paths([path])
    summary = write((i.article or i.problem for i in items), target, rebuild=True, jobs=jobs)
    return summary.indexed


def child_build(variant: str, path: Path, target: Path) -> None:
    """Build once in this process; print one JSON line of figures."""
    started = time.perf_counter()
    if variant == "plain":
        docs = build_plain(path, target)
    else:
        docs = build_ours(path, target, jobs=int(variant.split("-")[1]))
    seconds = time.perf_counter() - started
    size = sum(f.stat().st_size for f in target.rglob("*") if f.is_file())
    mine = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    figures = {"docs": docs, "seconds": seconds, "bytes": size, "peak_mib": mine}
    print(json.dumps(figures | {"worker_peak_mib": workers}))


def measure_build(variant: str, path: Path, target: Path) -> dict:
    if target.exists():
        shutil.rmtree(target)
    out = subprocess.run(
        [sys.executable, __file__, "--child", variant, "--corpus", path, "--target", target],
        check=True,
        capture_output=True,
        text=True,
    )
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    figures["docs_per_s"] = figures["docs"] / figures["seconds"]
    print(f"  built {variant}: {figures['docs_per_s']:.0f} docs/s", file=sys.stderr)
    return figures


# --- search ---------------------------------------------------------------------------------


def timed(function, items) -> list[float]:
    out = []
    for item in items:
        started = time.perf_counter()
        function(item)
        out.append((time.perf_counter() - started) * 1000)
    return out


def stats(times: list[float]) -> dict:
    """p50 and p95 of all the times, and p50 of the baseline's sample of the queries."""
    ordered = sorted(times)
    sample = times[::SAMPLE] if len(times) > SAMPLE else times
    return {
        "p50": statistics.median(ordered),
        "p95": ordered[max(0, int(len(ordered) * 0.95) - 1)],
        "sample_p50": statistics.median(sample),
        "sample_p95": sorted(sample)[max(0, int(len(sample) * 0.95) - 1)],
    }


def naive(ix, query: dict, kind: str) -> None:
    """Whoosh used plainly: fresh searcher, query parser, groupedby, default highlighter."""
    from whoosh import query as wq
    from whoosh.qparser import MultifieldParser

    with ix.searcher() as searcher:
        parts = [MultifieldParser(["title", "body"], ix.schema).parse(query["q"])]
        filters = query["filters"]
        for name in ("region", "faction"):
            if name in filters:
                parts.append(wq.Term(name, filters[name]))
        if "date_from" in filters:
            start = datetime.fromisoformat(filters["date_from"])
            end = datetime.fromisoformat(filters["date_to"])
            parts.append(wq.DateRange("date", start, end))
        facets = ["region", "faction"] if kind != "plain" else None
        results = searcher.search(wq.And(parts), limit=10, groupedby=facets)
        for name in facets or ():
            results.groups(name)
        for hit in results:
            hit.fields()
            if kind == "every facet + snippets":
                hit.highlights("body")


def in_process(root: Path, measured: list[dict]) -> dict:
    from search import whoosh_ext
    from search.query import search
    from search.request import parse_request
    from search.service import Service

    whoosh_ext.install()  # as the app factory does
    view = Service(root).view()
    out = {}
    for kind in KINDS:

        def request(q, kind=kind):
            return parse_request({k: [str(v)] for k, v in params(q, kind).items()})

        requests = [request(q) for q in measured]
        timed(lambda r: search(view, r), requests[1::10])  # warm-up, not measured
        out[kind] = stats(timed(lambda r: search(view, r), requests))
    return out


class Served:
    """`search serve` on an index, started and timed to its first answer."""

    def __init__(self, root: Path, workers: int, probe: dict) -> None:
        import httpx

        from tests.live import free_port

        self.port = free_port()
        command = [sys.executable, "-m", "search", "serve", "--index", str(root)]
        command += ["--port", str(self.port), "--workers", str(workers)]
        env = {**os.environ, "SEARCH_LOG_LEVEL": "warning"}
        started = time.perf_counter()
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, start_new_session=True
        )
        self.url = f"http://127.0.0.1:{self.port}"
        self.client = httpx.Client(base_url=self.url, timeout=120)
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("the server exited")
            try:
                sent = time.perf_counter()
                if self.client.get("/search", params=probe).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.02)
        now = time.perf_counter()
        self.to_first_answer = now - started
        self.first_request_ms = (now - sent) * 1000

    def worker_memory_mib(self) -> list[float]:
        """Peak resident memory (VmHWM) of each process serving."""
        pids = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids += [int(p) for p in children.read_text().split()] if children.exists() else []
        out = []
        for pid in pids:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    out.append(int(line.split()[1]) / 1024)
        return out

    def stop(self) -> None:
        self.client.close()
        self.process.terminate()
        self.process.wait(30)


def warming(query: dict) -> dict:
    """A request that warms the server up without putting a measured one in its cache."""
    return params(query, "every facet + snippets") | {"per_page": 5}


def over_http(root: Path, measured: list[dict]) -> dict:
    served = Served(root, 1, params(measured[0], "plain"))
    try:
        get = served.client.get
        out = {
            "serve_to_first_answer_s": served.to_first_answer,
            "first_request_ms": served.first_request_ms,
        }
        timed(lambda q: get("/search", params=warming(q)), measured[1::10])
        for kind in KINDS:
            out[kind] = stats(
                timed(lambda q, k=kind: get("/search", params=params(q, k)), measured)
            )
        repeat = KINDS[-1]
        out["repeated"] = stats(timed(lambda q: get("/search", params=params(q, repeat)), measured))
        hits = [get("/search", params=params(q, repeat)).headers.get("x-cache") for q in measured]
        out["repeated_cache_hits"] = hits.count("hit") / len(hits)
    finally:
        served.stop()
    return out


async def _load(url: str, requests: list[dict], clients: int) -> float:
    import httpx

    pending = iter(requests)
    async with httpx.AsyncClient(base_url=url, timeout=120) as client:

        async def one_client() -> None:
            for item in pending:
                (await client.get("/search", params=item)).raise_for_status()

        started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        return len(requests) / (time.perf_counter() - started)


def throughput(root: Path, measured: list[dict]) -> dict:
    requests = [params(q, KINDS[-1]) for q in measured]
    out = {}
    for workers in (1, 2):
        for clients in (1, 8):
            served = Served(root, workers, params(measured[0], "plain"))
            try:
                for q in measured[1::10]:  # warm-up: searcher, value arrays, page cache
                    served.client.get("/search", params=warming(q))
                rate = asyncio.run(_load(served.url, requests, clients))
                memory = served.worker_memory_mib()
            finally:
                served.stop()
            out[f"{workers}w-{clients}c"] = {"req_per_s": rate, "memory_mib": memory}
            print(f"  {workers} workers, {clients} clients: {rate:.1f} req/s", file=sys.stderr)
    return out


# --- the report -----------------------------------------------------------------------------


def run_size(n: int, args) -> dict:
    path = corpus(n, args.seed, args.work)
    measured = queries(args.queries, args.seed, args.work)
    plain_dir, ours_dir = args.work / f"run-plain-{n}", args.work / f"run-ours-{n}"
    report: dict = {"articles": n, "queries": len(measured)}
    print(f"{n} articles: indexing", file=sys.stderr)
    jobs = os.cpu_count() or 1
    builds = {"plain": measure_build("plain", path, plain_dir)}
    if jobs > 1 and not args.skip_one_core:
        scratch = Path(tempfile.mkdtemp(prefix="bench-ours-1-")) / "ix"
        builds["ours-1"] = measure_build("ours-1", path, scratch)
        shutil.rmtree(scratch.parent)
    builds[f"ours-{jobs}"] = measure_build(f"ours-{jobs}", path, ours_dir)
    report["indexing"] = builds

    from whoosh import index as whoosh_index

    print(f"{n} articles: search", file=sys.stderr)
    ix = whoosh_index.open_dir(str(plain_dir))
    baseline = {}
    for kind in KINDS:
        sample = measured[::SAMPLE]
        timed(lambda q, kind=kind: naive(ix, q, kind), measured[1::20])  # warm-up
        baseline[kind] = stats(timed(lambda q, kind=kind: naive(ix, q, kind), sample))
    report["search"] = {
        "naive": baseline,
        "in_process": in_process(ours_dir, measured),
        "http": over_http(ours_dir, measured),
    }
    print(f"{n} articles: load", file=sys.stderr)
    report["throughput"] = throughput(ours_dir, measured)
    return report


def markdown(report: dict) -> list[str]:
    n, builds = report["articles"], report["indexing"]
    plain = builds["plain"]["docs_per_s"]
    lines = [
        f"#### {n:,} articles: indexing",
        "",
        "| build | docs/s | vs plain | seconds | index MiB | peak MiB (main / worker) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    names = {"plain": "plain Whoosh (StemmingAnalyzer, no tagging)"}
    for variant, row in builds.items():
        name = names.get(variant) or f"`search index`, {variant.split('-')[1]} process(es)"
        lines.append(
            f"| {name} | {row['docs_per_s']:.0f} | {row['docs_per_s'] / plain:.2f}x | "
            f"{row['seconds']:.0f} | {row['bytes'] / 2**20:.0f} | "
            f"{row['peak_mib']:.0f} / {row['worker_peak_mib']:.0f} |"
        )
    search = report["search"]
    lines += [
        "",
        f"#### {n:,} articles: search, {report['queries']} queries, top 10, warm: p50 / p95 ms "
        f"(speed-up over Whoosh used plainly at p50 / p95, on the every-{SAMPLE}th-query "
        "sample it runs)",
        "",
        "| | " + " | ".join(KINDS) + " |",
        "| --- | " + " | ".join("---:" for _ in KINDS) + " |",
    ]
    base = search["naive"]

    def cell(row: dict, kind: str) -> str:
        if row is base[kind]:
            return f"{row['p50']:.1f} / {row['p95']:.1f}"
        # the ratio compares the same queries: the baseline's sample
        faster = base[kind]["p50"] / row["sample_p50"], base[kind]["p95"] / row["sample_p95"]
        return f"{row['p50']:.1f} / {row['p95']:.1f} ({faster[0]:.1f}x / {faster[1]:.1f}x)"

    labels = {
        "naive": f"Whoosh used plainly (fresh searcher, groupedby, default highlighter; "
        f"{report['queries'] // SAMPLE} queries)",
        "in_process": "this service, in process",
        "http": "this service over HTTP, 1 worker",
    }
    for mode, label in labels.items():
        lines.append(f"| {label} | " + " | ".join(cell(search[mode][k], k) for k in KINDS) + " |")
    http = search["http"]
    repeated = http["repeated"]
    lines += [
        f"| the same request repeated, over HTTP | | | {repeated['p50']:.1f} / "
        f"{repeated['p95']:.1f} |",
        "",
        f"From `search serve` to its first answer: {http['serve_to_first_answer_s']:.2f} s "
        f"(that first request: {http['first_request_ms']:.0f} ms).",
        "",
        "GET /search, every facet + snippets, requests/s (fresh server each, no cache hits):",
        "",
        "| workers | 1 client | 8 clients | peak MiB per process |",
        "| --- | ---: | ---: | ---: |",
    ]
    load = report["throughput"]
    for workers in (1, 2):
        one, eight = load[f"{workers}w-1c"], load[f"{workers}w-8c"]
        memory = ", ".join(f"{m:.0f}" for m in eight["memory_mib"])
        lines.append(
            f"| {workers} | {one['req_per_s']:.1f} | {eight['req_per_s']:.1f} | {memory} |"
        )
    scale = load["2w-8c"]["req_per_s"] / load["1w-8c"]["req_per_s"]
    lines += ["", f"2 workers serve {scale:.2f}x the requests/s of 1 worker with 8 clients."]
    return lines


def _titled(report: dict) -> list[str]:
    title = f"### {report['articles']:,} generated articles (seed {report['seed']}), "
    return [title + f"{report['machine']}, {report['date']}", "", *markdown(report)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, action="append", help="articles (repeatable)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "search-bench")
    parser.add_argument(
        "--skip-one-core", action="store_true", help="skip the one-process build of ours"
    )
    parser.add_argument(
        "--report", action="store_true", help="print the tables of the last results again"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--target", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_build(args.child, args.corpus, args.target)
        return
    if args.report:
        for n in args.n or [10000]:
            report = json.loads((RESULTS / f"run-{n}.json").read_text())
            print("\n".join(_titled(report)) + "\n")
        return
    args.work.mkdir(parents=True, exist_ok=True)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    date = datetime.now(UTC).isoformat(timespec="seconds")
    RESULTS.mkdir(exist_ok=True)
    for n in args.n or [10000]:
        report = run_size(n, args) | {"machine": machine, "date": date, "seed": args.seed}
        (RESULTS / f"run-{n}.json").write_text(json.dumps(report, indent=2) + "\n")
        lines = _titled(report)
        print("\n".join(lines) + "\n")
        (RESULTS / f"run-{n}.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
