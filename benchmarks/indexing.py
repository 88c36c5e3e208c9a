"""Indexing throughput: `search index` (parse + tag + index) against plain Whoosh.

    python benchmarks/indexing.py --n 10000 --runs 3

Generates a corpus with ../shared/bench/make_corpus.py (fixed seed), then indexes it with each
variant in a fresh process per run, and prints medians: docs/s, index size, peak memory, and
the ratio plain / ours (the cost of tagging and entity tokens). Plain Whoosh indexes the same
id, title and body with its StandardAnalyzer and no tagging. Results go to benchmarks/results/.
Run by hand; the tests never time anything.
"""

from __future__ import annotations

import argparse
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
MAKE_CORPUS = HERE.parent.parent / "shared" / "bench" / "make_corpus.py"
RESULTS = HERE / "results"


def corpus(n: int, seed: int, folder: Path) -> Path:
    path = folder / f"corpus-{n}-{seed}.jsonl"
    if not path.exists():
        subprocess.run(
            [sys.executable, MAKE_CORPUS, "--n", str(n), "--seed", str(seed), "--out", path],
            check=True,
        )
    return path


def index_ours(path: Path, target: Path) -> int:
    from search.files import read_paths
    from search.index import write

    _, items = read_paths([path])
    entries = (item.article or item.problem for item in items)
    summary = write(entries, target, rebuild=True)
    return summary.indexed + summary.replaced


def index_plain(path: Path, target: Path) -> int:
    from whoosh import index as whoosh_index
    from whoosh.analysis import StandardAnalyzer
    from whoosh.fields import ID, TEXT, Schema

    schema = Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(analyzer=StandardAnalyzer(), stored=True),
        body=TEXT(analyzer=StandardAnalyzer(), stored=True),
    )
    target.mkdir(parents=True)
    ix = whoosh_index.create_in(str(target), schema)
    writer = ix.writer(limitmb=256)
    count = 0
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            writer.add_document(id=record["id"], title=record["title"], body=record["body"])
            count += 1
    writer.commit()
    return count


def child(variant: str, path: Path) -> None:
    """Index once in this process and print one JSON line of figures."""
    target = Path(tempfile.mkdtemp(prefix=f"bench-{variant}-")) / "ix"
    started = time.perf_counter()
    docs = (index_ours if variant == "ours" else index_plain)(path, target)
    seconds = time.perf_counter() - started
    size = sum(f.stat().st_size for f in target.rglob("*") if f.is_file())
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    shutil.rmtree(target.parent)
    print(
        json.dumps({"docs": docs, "seconds": seconds, "bytes": size, "peak_mib": peak_kib / 1024})
    )


def measure(variant: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", variant, "--corpus", path],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10000, help="articles in the corpus")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3, help="runs per variant (median reported)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "search-bench")
    parser.add_argument("--child", choices=["ours", "plain"], help=argparse.SUPPRESS)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.corpus)
        return
    args.work.mkdir(parents=True, exist_ok=True)
    path = corpus(args.n, args.seed, args.work)
    runs: dict[str, list[dict]] = {"plain": [], "ours": []}
    for _ in range(args.runs):  # interleaved, so machine noise hits both alike
        for variant in runs:
            runs[variant].append(measure(variant, path))
            print(f"{variant}: {runs[variant][-1]}", file=sys.stderr)
    rows = {}
    for variant, results in runs.items():
        rows[variant] = {
            "docs": results[0]["docs"],
            "docs_per_s": statistics.median(r["docs"] / r["seconds"] for r in results),
            "seconds": statistics.median(r["seconds"] for r in results),
            "index_mib": statistics.median(r["bytes"] for r in results) / 2**20,
            "peak_mib": statistics.median(r["peak_mib"] for r in results),
        }
    ratio = rows["plain"]["docs_per_s"] / rows["ours"]["docs_per_s"]
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "corpus": {"articles": args.n, "seed": args.seed, "runs": args.runs},
        "results": rows,
        "plain_over_ours": ratio,
    }
    table = [
        f"Indexing {args.n} generated articles (seed {args.seed}), median of {args.runs} runs, "
        f"{report['machine']}, {report['date']}",
        "",
        "| variant | docs/s | seconds | index MiB | peak MiB |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    labels = {
        "plain": "plain Whoosh (StandardAnalyzer, no tagging)",
        "ours": "`search index` (parse + tag + entity tokens)",
    }
    for variant, row in rows.items():
        table.append(
            f"| {labels[variant]} | {row['docs_per_s']:.0f} | {row['seconds']:.1f} | "
            f"{row['index_mib']:.1f} | {row['peak_mib']:.0f} |"
        )
    table += ["", f"Plain Whoosh is {ratio:.2f}x as fast: that is the cost of tagging."]
    print("\n".join(table))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"indexing-{args.n}.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / f"indexing-{args.n}.md").write_text("\n".join(table) + "\n")


if __name__ == "__main__":
    main()
