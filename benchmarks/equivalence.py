"""The read path over arrays against Whoosh's own answers at archive scale: every generated
benchmark query, by relevance, date and -date (tests/equivalence.py says what is compared).

    python benchmarks/equivalence.py --index /tmp/search-bench/run-ours-10000

Prints how many requests agree and every difference; writes
benchmarks/results/equivalence-<articles>.md. Exits 1 when any request differs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from search import whoosh_ext  # noqa: E402
from search.service import Service  # noqa: E402
from tests.equivalence import differences, generated_queries, params  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    whoosh_ext.install()
    queries = generated_queries(args.queries, args.seed, Path(tempfile.gettempdir()))
    view = Service(args.index).view()
    articles = view.arrays.live_count
    started = time.perf_counter()
    agree, wrong, stored = 0, [], {}
    for sort in ("relevance", "date", "-date"):
        for query in queries:
            found = differences(view, params(query, sort), stored)
            if found:
                wrong.append(f"- `{query['q']}` ({sort}): " + "; ".join(found))
            else:
                agree += 1
    seconds = time.perf_counter() - started
    lines = [
        f"### Equivalence with Whoosh at {articles:,} articles "
        f"({datetime.now(UTC).date().isoformat()})",
        "",
        f"{agree} of {agree + len(wrong)} requests ({len(queries)} generated queries by "
        "relevance, date and -date; top 20, every facet, the histogram) answer as Whoosh's "
        f"own scoring and counting does ({seconds:.0f} s).",
        *(["", "Differences:", "", *wrong] if wrong else []),
    ]
    print("\n".join(lines))
    (HERE / "results" / f"equivalence-{articles}.md").write_text("\n".join(lines) + "\n")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
