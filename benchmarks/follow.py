"""Export throughput and the cost of a feed poll, in process, in CPU time.

    python benchmarks/follow.py --index /tmp/search-bench/ours-10000
    python benchmarks/follow.py --n 10000          # generates and indexes the corpus first

For the index given (or built from ../shared/bench/make_corpus.py --n N --seed 1), reports:
- export: articles/s of GET /search.csv and /search.jsonl's work (every match of `q=` and of
  `q=army`, default fields, then with bodies), CPU seconds, and the tracemalloc peak;
- feed: CPU ms per poll of /search.atom?q=Raqqa (50 entries) answered in full, and answered
  304 from its ETag; medians over 20 polls through the application in process, with the
  view's cache (repeat polls while the index is unchanged) and without (the first poll
  after each change).
Run by hand, not by the tests.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
from search import whoosh_ext  # noqa: E402
from search.generations import open_index  # noqa: E402
from search.request import parse_request  # noqa: E402
from search.streaming import DEFAULT_FIELDS, Export  # noqa: E402
from search.view import View  # noqa: E402
from tests.live import InProcess  # noqa: E402

MAKE_CORPUS = ROOT.parent / "shared" / "bench" / "make_corpus.py"


def build(n: int, folder: Path) -> Path:
    corpus = folder / f"corpus-{n}.jsonl"
    subprocess.run(
        [sys.executable, MAKE_CORPUS, "--n", str(n), "--seed", "1", "--out", corpus], check=True
    )
    index = folder / f"ix-{n}"
    subprocess.run(
        [sys.executable, "-m", "search", "index", corpus, "--index", index, "-q"],
        cwd=ROOT,
        check=True,
    )
    return index


def export(view: View, q: str, fields: tuple[str, ...], form: str) -> tuple[int, float, int, int]:
    """(articles, CPU seconds, bytes, peak bytes) of one export."""
    tracemalloc.start()
    started = time.process_time()
    exported = Export(view, parse_request({"q": [q]}))
    size = sum(len(chunk) for chunk in exported.lines(fields, form))
    seconds = time.process_time() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return exported.total, seconds, size, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path)
    parser.add_argument("--n", type=int, default=10_000)
    args = parser.parse_args()
    whoosh_ext.install()
    with tempfile.TemporaryDirectory() as temp:
        index = args.index or build(args.n, Path(temp))
        view = View(open_index(index).searcher())
        export(view, "", DEFAULT_FIELDS, "csv")  # warm: what a serving view has read already
        print("export (tracemalloc on: figures are slower than untraced)")
        for q, fields, form in (
            ("", DEFAULT_FIELDS, "csv"),
            ("", DEFAULT_FIELDS, "jsonl"),
            ("", (*DEFAULT_FIELDS, "body"), "csv"),
            ("army", DEFAULT_FIELDS, "jsonl"),
        ):
            total, seconds, size, peak = export(view, q, fields, form)
            body = " +body" if "body" in fields else ""
            print(
                f"  q={q!r:8} {form:5}{body:6} {total:6} articles  {total / seconds:7.0f}/s CPU"
                f"  {size / 2**20:6.1f} MiB out  peak {peak / 2**20:5.1f} MiB"
            )
        view.close()
        for cache in ("256", "0"):  # 0: every poll after a change of the index
            os.environ["SEARCH_CACHE_SIZE"] = cache
            with InProcess(index) as app:
                poll(app, cache)


def poll(app: InProcess, cache: str) -> None:
    params = {"q": "Raqqa"}
    first = app.client.get("/search.atom", params=params)
    etag = first.headers["etag"]
    full, cached = [], []
    for _ in range(20):
        started = time.process_time()
        assert app.client.get("/search.atom", params=params).status_code == 200
        full.append(time.process_time() - started)
        started = time.process_time()
        again = app.client.get("/search.atom", params=params, headers={"If-None-Match": etag})
        assert again.status_code == 304
        cached.append(time.process_time() - started)
    print(
        f"feed /search.atom?q=Raqqa, SEARCH_CACHE_SIZE={cache}: "
        f"{statistics.median(full) * 1000:.1f} ms CPU a poll answered in full "
        f"({len(first.content) // 1024} KiB), {statistics.median(cached) * 1000:.1f} ms "
        "answered 304"
    )


if __name__ == "__main__":
    main()
