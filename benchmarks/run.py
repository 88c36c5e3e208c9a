"""The archive-scale benchmark: this service against Whoosh used as its docs show, same run.

    python benchmarks/run.py --n 10000 --n 30000 --n 100000
    python benchmarks/run.py --n 300000 --service-only
    python benchmarks/run.py --growth      # results/run.md from every results/run-N.json

For each size it generates a corpus and 200 queries with ../shared/bench/make_corpus.py
(fixed seed) in --work, then measures:

- indexing, each build in a fresh process: `search index` (parse + tag + index) on every
  core, beside plain Whoosh on one core (benchmarks/whoosh_plain.py): docs/s (wall and CPU),
  index size, peak memory;
- search, top 10, three kinds: plain; every facet; every facet + snippets. The baseline of
  each kind is Whoosh as its documentation uses it (whoosh_plain.Baseline: a fresh searcher
  per request, `groupedby` counts, `results[:10]`, `highlights()` on those 10). Each query is
  run by the baseline, then by the service in process, then over HTTP (`search serve`, one
  worker), one after the other, so the three see the same load of this shared machine; every
  ratio compares the same queries. Then the same requests again (the answer cache);
- from `search serve` to its first answer, and that first request (cold);
- the resident memory of the one worker: after its first answer (the index loaded), after
  the queries, and its peak (VmHWM); bytes per article;
- requests/s of GET /search (every facet + snippets, distinct requests: pages 1 and 2 of the
  200 queries) with 8 clients on 1 and on 2 workers, each on a fresh server warmed up by every
  client sending every query once (each worker keeps caches of its own); the clients run in a
  process of their own (benchmarks/serving_load.py), whose CPU share is reported.

Writes benchmarks/results/run-N.json (the figures, and every time measured) and run-N.md,
and rewrites results/run.md: the growth table over every size measured, then each size's
tables. Run by hand; the tests never time anything.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import run_tables  # this folder: the Markdown of the results
import serving_load
import whoosh_plain

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
MAKE_CORPUS = ROOT.parent / "shared" / "bench" / "make_corpus.py"
KINDS = run_tables.KINDS


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


def probe(query: dict) -> dict:
    """The first request to a fresh server: a plain search that is none of the measured."""
    return params(query, "plain") | {"per_page": 3}


def warming(query: dict) -> dict:
    """A request that warms a server up without putting a measured one in its cache."""
    return params(query, KINDS[-1]) | {"per_page": 5}


# --- indexing, each build in its own process ------------------------------------------------


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
        docs = whoosh_plain.build(path, target)
    else:
        docs = build_ours(path, target, jobs=int(variant.split("-")[1]))
    seconds = time.perf_counter() - started
    mine = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = mine.ru_utime + mine.ru_stime + workers.ru_utime + workers.ru_stime
    size = sum(f.stat().st_size for f in target.rglob("*") if f.is_file())
    figures = {"docs": docs, "seconds": seconds, "cpu_seconds": cpu, "bytes": size}
    figures["parent_cpu_seconds"] = mine.ru_utime + mine.ru_stime  # the rest: the workers'
    figures |= {"peak_mib": mine.ru_maxrss / 1024, "worker_peak_mib": workers.ru_maxrss / 1024}
    print(json.dumps(figures))


def measure_build(variant: str, path: Path, target: Path) -> dict:
    if target.exists():
        shutil.rmtree(target)
    out = subprocess.run(
        [sys.executable, __file__, "--child", variant, "--corpus", path, "--target", target],
        check=True,
        capture_output=True,
        text=True,
    )
    figures = last_figures(out.stdout)
    figures["docs_per_s"] = figures["docs"] / figures["seconds"]
    print(f"  built {variant}: {figures['docs_per_s']:.0f} docs/s", file=sys.stderr)
    return figures


def last_figures(output: str) -> dict:
    """The last JSON line of a --child build's output (which may hold its log lines too)."""
    for line in reversed(output.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no figures in the output of the build")


def built(target: Path) -> bool:
    return target.is_dir() and any(target.iterdir())


def indexing(n: int, path: Path, args: argparse.Namespace) -> dict:
    """Build what is needed; with --reuse, an index already in --work is kept, and its build
    figures are carried from --build-log or the last results of that size (marked so)."""
    jobs = os.cpu_count() or 1
    targets = {f"ours-{jobs}": args.work / f"run-ours-{n}"}
    if not args.service_only:
        targets["plain"] = args.work / f"run-plain-{n}"
    previous = args.results / f"run-{n}.json"
    carried = json.loads(previous.read_text()).get("indexing", {}) if previous.exists() else {}
    for given in args.build_log or ():  # VARIANT=FILE: the JSON line a --child build printed
        variant, _, log = given.partition("=")
        figures = last_figures(Path(log).read_text())
        carried[variant] = figures | {"docs_per_s": figures["docs"] / figures["seconds"]}
    out = {}
    for variant, target in targets.items():
        if args.reuse and built(target):
            if variant in carried:
                out[variant] = carried[variant] | {"carried": True}
            continue
        out[variant] = measure_build(variant, path, target)
    if args.one_core_build and jobs > 1:
        scratch = Path(tempfile.mkdtemp(prefix="bench-ours-1-")) / "ix"
        out["ours-1"] = measure_build("ours-1", path, scratch)
        shutil.rmtree(scratch.parent)
    return out


# --- search ---------------------------------------------------------------------------------


def clocked(function: Callable[[], Any]) -> tuple[float, float]:
    """Wall and CPU time of one call, in ms."""
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def in_process(root: Path) -> Callable[[dict, str], Any]:
    """The service's search, in this process, as the app calls it."""
    from search import whoosh_ext
    from search.query import search
    from search.request import parse_request
    from search.service import Service

    whoosh_ext.install()  # as the app factory does
    service = Service(root)

    def run(query: dict, kind: str) -> Any:
        request = parse_request({k: [str(v)] for k, v in params(query, kind).items()})
        return search(service.view(), request)

    return run


def measure_search(n: int, measured: list[dict], args: argparse.Namespace) -> dict:
    """Each query of each kind by the baseline, in process and over HTTP, one after the other;
    every time measured (ms), and the serving figures of the one worker."""
    ours = in_process(args.work / f"run-ours-{n}")
    baseline = None if args.service_only else whoosh_plain.Baseline(args.work / f"run-plain-{n}")
    served = serving_load.Served(args.work / f"run-ours-{n}", 1, probe(measured[0]))
    out: dict = {
        "start": {
            "serve_to_first_answer_s": served.to_first_answer_s,
            "first_request_ms": served.first_request_ms,
        },
        "memory": {"after_load": served.memory()[0]},
        "baseline_every": args.baseline_every,
    }
    times: dict = {mode: {k: [] for k in KINDS} for mode in ("in_process", "http", "baseline")}
    cpu: dict = {mode: {k: [] for k in KINDS} for mode in ("in_process", "baseline")}
    try:
        # Warm-up, every query once (5 hits, so no measured answer comes from the answer
        # cache): page cache for both, decoded postings for the service. The server's times
        # of this first sight of each query are kept apart ("first sight").
        first = []
        for query in measured:
            ours(query, KINDS[-1])
            first.append(served.get(warming(query)))
            if baseline:
                baseline.search(query, KINDS[-1])
        out["first_sight"] = [round(t, 3) for t in first]
        for kind in KINDS:
            print(f"  {kind}", file=sys.stderr)
            for number, query in enumerate(measured):
                if baseline and number % args.baseline_every == 0:
                    wall, spent = clocked(partial(baseline.search, query, kind))
                    times["baseline"][kind].append(wall)
                    cpu["baseline"][kind].append(spent)
                wall, spent = clocked(partial(ours, query, kind))
                times["in_process"][kind].append(wall)
                cpu["in_process"][kind].append(spent)
                times["http"][kind].append(served.get(params(query, kind)))
        repeat = [params(q, KINDS[-1]) for q in measured]
        out["repeated"] = [served.get(p) for p in repeat]
        out["repeated_cache_hits"] = sum(map(served.cached, repeat)) / len(repeat)
        out["memory"]["after_queries"] = served.memory()[0]
    finally:
        served.stop()
    if not baseline:
        del times["baseline"], cpu["baseline"]
    return out | {"times": _rounded(times), "cpu": _rounded(cpu)}


def _rounded(series: dict) -> dict:
    return {mode: {k: [round(t, 3) for t in v] for k, v in d.items()} for mode, d in series.items()}


def measure_load(n: int, measured: list[dict], args: argparse.Namespace) -> dict:
    """8 clients, distinct requests (pages 1 and 2 of every query), 1 and 2 workers."""
    pages = [params(q, KINDS[-1]) | {"page": page} for page in (1, 2) for q in measured]
    warm = [warming(q) for q in measured]
    result = serving_load.throughput(args.work / f"run-ours-{n}", pages, warm, probe(measured[0]))
    for figures in result.values():
        if figures["failures"]:
            raise RuntimeError(f"{figures['failures']} requests failed under load")
    return result


def measure_start(n: int, measured: list[dict], args: argparse.Namespace, starts: int = 3) -> dict:
    """`starts` fresh servers (one worker) on the index already built: each one's time to its
    first answer, and its memory then."""
    runs = []
    for _ in range(starts):
        served = serving_load.Served(args.work / f"run-ours-{n}", 1, probe(measured[0]))
        try:
            runs.append(
                {
                    "serve_to_first_answer_s": served.to_first_answer_s,
                    "first_request_ms": served.first_request_ms,
                    "after_load": served.memory()[0],
                }
            )
        finally:
            served.stop()
        print(f"  first answer in {runs[-1]['serve_to_first_answer_s']:.2f} s", file=sys.stderr)
    return {"runs": runs}


def measured_again(n: int, args: argparse.Namespace, measure: Callable, store: Callable) -> None:
    """Measure one part again on the index in --work and `store` it in run-N.json with the
    date and the machine's load average meanwhile."""
    path = args.results / f"run-{n}.json"
    report = json.loads(path.read_text())
    load = os.getloadavg()[1]
    figures = measure(n, queries(args.queries, args.seed, args.work), args)
    stamp = {"load_average": [load, os.getloadavg()[1]]}
    stamp["date"] = datetime.now(UTC).isoformat(timespec="seconds")
    store(report, figures, stamp)
    path.write_text(json.dumps(report, indent=1) + "\n")


def store_load(report: dict, figures: dict, stamp: dict) -> None:
    report["throughput"] = figures
    report["throughput_load_average"] = stamp["load_average"]
    report["throughput_date"] = stamp["date"]


def store_start(report: dict, figures: dict, stamp: dict) -> None:
    report["start_again"] = figures | stamp


def run_size(n: int, args: argparse.Namespace) -> dict:
    path = corpus(n, args.seed, args.work)
    measured = queries(args.queries, args.seed, args.work)
    report: dict = {"articles": n, "queries": len(measured), "seed": args.seed}
    print(f"{n} articles: indexing", file=sys.stderr)
    report["indexing"] = indexing(n, path, args)
    print(f"{n} articles: search", file=sys.stderr)
    report["search"] = measure_search(n, measured, args)
    print(f"{n} articles: load", file=sys.stderr)
    report["throughput"] = measure_load(n, measured, args)
    return report


# --- the command ----------------------------------------------------------------------------


def write_growth(results: Path) -> None:
    """results/run.md: the growth table over every size measured, then each size's tables."""
    reports = [json.loads(p.read_text()) for p in results.glob("run-*.json")]
    reports = sorted((r for r in reports if "search" in r), key=lambda r: r["articles"])
    for report in reports:  # each size's own tables too, as this version of the script writes
        lines = run_tables.titled(report)
        (results / f"run-{report['articles']}.md").write_text("\n".join(lines) + "\n")
    text = "\n".join(run_tables.combined(reports)) + "\n"
    (results / "run.md").write_text(text)
    print(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    arg = parser.add_argument
    arg("--n", type=int, action="append", help="articles (repeatable)")
    arg("--seed", type=int, default=1)
    arg("--queries", type=int, default=200)
    arg("--work", type=Path, default=Path(tempfile.gettempdir()) / "search-bench")
    arg("--service-only", action="store_true", help="no plain Whoosh build nor baseline")
    arg("--reuse", action="store_true", help="keep the indexes already built in --work")
    arg(
        "--build-log",
        action="append",
        metavar="VARIANT=FILE",
        help="with --reuse: the figures of a build made by `run.py --child VARIANT` (plain, "
        "ours-2), from the JSON line it printed to FILE",
    )
    arg("--one-core-build", action="store_true", help="also build ours on one process")
    arg("--baseline-every", type=int, default=1, help="run the baseline on every Kth query")
    arg("--results", type=Path, default=HERE / "results", help="where results are written")
    arg("--growth", action="store_true", help="only rewrite results/run.md from results/")
    arg(
        "--load-only",
        action="store_true",
        help="measure requests/s again on the index in --work and replace them in the results",
    )
    arg(
        "--start-only",
        action="store_true",
        help="start 3 fresh servers on the index in --work: their first answers and memory "
        "replace those in the results",
    )
    arg("--child", help=argparse.SUPPRESS)
    arg("--corpus", type=Path, help=argparse.SUPPRESS)
    arg("--target", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_build(args.child, args.corpus, args.target)
        return
    if args.growth:
        write_growth(args.results)
        return
    args.work.mkdir(parents=True, exist_ok=True)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    args.results.mkdir(exist_ok=True)
    for n in args.n or [10000] if args.load_only else ():
        measured_again(n, args, measure_load, store_load)
    for n in args.n or [10000] if args.start_only else ():
        measured_again(n, args, measure_start, store_start)
    for n in args.n or [10000] if not (args.load_only or args.start_only) else ():
        date = datetime.now(UTC).isoformat(timespec="seconds")
        load = os.getloadavg()[1]  # a shared machine: how busy it was while measured
        report = run_size(n, args) | {"machine": machine, "date": date}
        report["load_average"] = [load, os.getloadavg()[1]]  # 5-minute, at start and end
        report["service_only"] = args.service_only
        (args.results / f"run-{n}.json").write_text(json.dumps(report, indent=1) + "\n")
        print("\n".join(run_tables.titled(report)) + "\n")
    write_growth(args.results)


if __name__ == "__main__":
    main()
