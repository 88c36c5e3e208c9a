"""Searching while writing: `search serve --workers 2`, search latency idle and under writes.

    python benchmarks/live_writes.py                       # FA-KES (792 articles)
    python benchmarks/live_writes.py --index /tmp/search-bench/ours-10000

Copies (or first builds) an index, serves it with 2 workers, then alternates phases of the
same length: searching clients alone (idle), then the same searching clients beside writing
clients (POST batches of 1-5 articles, PUT replacements, DELETEs). Afterwards every
acknowledged change is checked by id and by a word only it contains, and the document count
must be exact. Prints searches/s, writes/s, p50 / p95 search latency in both phases, errors
and lost changes, and writes them to benchmarks/results/. Run by hand, not by the tests.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
sys.path.insert(0, str(ROOT))
from tests import loadgen  # noqa: E402
from tests.live import Server  # noqa: E402

FAKES = ROOT.parent / "shared" / "data" / "fa-kes" / "fakes.csv"
KEY = "benchmark-key"


def build(corpus: Path, folder: Path) -> None:
    command = [sys.executable, "-m", "search", "index", corpus, "--index", folder, "-q"]
    if subprocess.run(command, cwd=ROOT).returncode not in (0, 1):  # 1: some rows skipped
        sys.exit("building the index failed")


def phase(url: str, seconds: float, searchers: int, writers: int, ledger, name: str) -> dict:
    searches, writes, stop = loadgen.Tally(), loadgen.Tally(), threading.Event()
    targets = [
        lambda i=i: loadgen.searcher(url, stop, searches, seed=i) for i in range(searchers)
    ] + [
        lambda i=i: loadgen.writer(url, KEY, stop, ledger, writes, f"{name}w{i}", seed=i)
        for i in range(writers)
    ]
    loadgen.run_threads(targets, seconds, stop)
    return {"searches": searches, "writes": writes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, help="an index to copy (default: build FA-KES)")
    parser.add_argument("--seconds", type=float, default=15, help="length of each phase")
    parser.add_argument("--rounds", type=int, default=2, help="idle + writing rounds")
    parser.add_argument("--searchers", type=int, default=4)
    parser.add_argument("--writers", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "search-bench")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    source = args.index
    if source is None:
        source = args.work / "live-fakes"
        if not (source / "CURRENT").exists():
            build(FAKES, source)
    folder = Path(tempfile.mkdtemp(prefix="live-writes-")) / "ix"
    shutil.copytree(source, folder)
    live = Server(folder, "--workers", "2", env={"SEARCH_API_KEY": KEY})
    ledger = loadgen.Ledger()
    try:
        before = live.client.get("/stats").json()["documents"]
        for _ in range(20):  # warm both workers
            live.client.get("/search", params={"q": "Raqqa"})
        idle, busy = [], []
        for number in range(args.rounds):
            idle.append(phase(live.url, args.seconds, args.searchers, 0, ledger, f"i{number}"))
            busy.append(
                phase(live.url, args.seconds, args.searchers, args.writers, ledger, f"b{number}")
            )
            print(f"round {number + 1} of {args.rounds} done", file=sys.stderr)
        time.sleep(1.0)  # every worker re-reads the index within 0.5 s
        lost = loadgen.lost(live.client, ledger)
        after = live.client.get("/stats").json()["documents"]
        count_ok = after == before + len(ledger.live())
    finally:
        live.stop()
        shutil.rmtree(folder.parent, ignore_errors=True)

    def merged(phases: list[dict], kind: str) -> loadgen.Tally:
        out = loadgen.Tally()
        for p in phases:
            out.latencies += p[kind].latencies
            out.errors += p[kind].errors
            out.count += p[kind].count
        return out

    total_seconds = args.seconds * args.rounds
    rows = {}
    for label, phases in (("idle", idle), ("writing", busy)):
        searches, writes = merged(phases, "searches"), merged(phases, "writes")
        rows[label] = {
            "searches_per_s": searches.count / total_seconds,
            "search_p50_ms": searches.median(),
            "search_p95_ms": searches.p95(),
            "writes_per_s": writes.count / total_seconds,
            "write_p50_ms": writes.median(),
            "write_p95_ms": writes.p95(),
            "errors": len(searches.errors) + len(writes.errors),
        }
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "index": str(source),
        "documents_before": before,
        "clients": {"searchers": args.searchers, "writers": args.writers},
        "seconds_per_phase": args.seconds,
        "rounds": args.rounds,
        "results": rows,
        "articles_written": len(ledger.words),
        "lost": len(lost),
        "count_exact": count_ok,
    }
    idle_row, busy_row = rows["idle"], rows["writing"]
    table = [
        f"Searching while writing: `search serve --workers 2` over {before} articles "
        f"({source.name}), {args.searchers} searching and {args.writers} writing clients, "
        f"{args.rounds} x {args.seconds:.0f} s per phase, {report['machine']}, {report['date']}",
        "",
        "| phase | searches/s | search p50 ms | search p95 ms | writes/s | write p50 ms "
        "| write p95 ms | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, row in rows.items():
        table.append(
            f"| {label} | {row['searches_per_s']:.1f} | {row['search_p50_ms']:.1f} | "
            f"{row['search_p95_ms']:.1f} | {row['writes_per_s']:.1f} | "
            f"{row['write_p50_ms']:.1f} | {row['write_p95_ms']:.1f} | {row['errors']} |"
        )
    table += [
        "",
        f"Search p50 while writing is {busy_row['search_p50_ms'] / idle_row['search_p50_ms']:.2f}x "
        f"idle, p95 {busy_row['search_p95_ms'] / idle_row['search_p95_ms']:.2f}x. "
        f"{len(ledger.words)} articles written; lost: {len(lost)}; "
        f"document count exact: {'yes' if count_ok else 'NO'}.",
    ]
    print("\n".join(table))
    for problem in lost[:20]:
        print(problem, file=sys.stderr)
    RESULTS.mkdir(exist_ok=True)
    name = f"live-writes-{source.name}"
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text("\n".join(table) + "\n")


if __name__ == "__main__":
    main()
