"""Tagging and indexing speed, in process, of this tree or another checkout (CPU seconds, so
other work on a shared machine disturbs it less than wall time).

    python benchmarks/tagging_speed.py                      # this tree
    git worktree add /tmp/before REV
    python benchmarks/tagging_speed.py --tree /tmp/before   # the same articles, older code

It generates N articles with ../shared/bench/make_corpus.py (seed 1), then for each of
--runs rounds times tag() alone and tag() + to_document() + a Whoosh writer into RamStorage,
and prints the median and best articles per second.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAKE_CORPUS = ROOT.parent / "shared" / "bench" / "make_corpus.py"


def corpus(n: int) -> list[dict]:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "corpus.jsonl"
        subprocess.run(
            [sys.executable, str(MAKE_CORPUS), "--n", str(n), "--seed", "1", "--out", str(out)],
            check=True,
        )
        return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


@dataclass(frozen=True)
class Tree:
    """What the benchmarks call of a checkout, whatever its layout, and its articles."""

    articles: list
    tag: Callable
    to_document: Callable
    new_writer: Callable  # a Whoosh writer of the tree's schema into RamStorage
    clear_cache: Callable  # the gazetteer's cache of texts already read


def load(tree: Path, rows: list[dict]) -> Tree:
    """Import `tree`'s code (first on sys.path), parse `rows` and load the gazetteer."""
    sys.path.insert(0, str(tree))
    from whoosh.filedb.filestore import RamStorage

    from search import gazetteer
    from search.articles import parse_record
    from search.tagging import tag

    if (tree / "search" / "schema.py").exists():  # the layout of the tree measured
        from search.schema import ArticleSchema, to_document
    else:
        from search.index import ArticleSchema, to_document  # type: ignore[attr-defined]
    try:
        from search import whoosh_ext

        whoosh_ext.install()
    except ImportError:
        pass
    articles = [parse_record(row, str(i), f"bench:{i}", {}) for i, row in enumerate(rows)]
    gazetteer.load()
    return Tree(
        articles,
        tag,
        to_document,
        lambda: RamStorage().create_index(ArticleSchema()).writer(),
        gazetteer.find.cache_clear,
    )


def measure(tree: Path, rows: list[dict], runs: int) -> dict[str, list[float]]:
    code = load(tree, rows)
    tag, to_document, articles = code.tag, code.to_document, code.articles
    print(f"code from {Path(sys.modules[tag.__module__].__file__ or '').parent}")
    out: dict[str, list[float]] = {"tag": [], "tag+index": []}
    for _ in range(runs):
        code.clear_cache()
        start = time.process_time()
        for article in articles:
            tag(article)
        out["tag"].append(len(articles) / (time.process_time() - start))
        code.clear_cache()
        writer = code.new_writer()
        start = time.process_time()
        for article in articles:
            writer.add_document(**to_document(tag(article)))
        writer.commit()
        out["tag+index"].append(len(articles) / (time.process_time() - start))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", type=Path, default=ROOT, help="checkout to measure")
    parser.add_argument("--n", type=int, default=600, help="articles (default 600)")
    parser.add_argument("--runs", type=int, default=3, help="rounds (default 3)")
    args = parser.parse_args()
    figures = measure(args.tree.resolve(), corpus(args.n), args.runs)
    for name, rates in figures.items():
        print(
            f"{args.tree}: {name}: median {statistics.median(rates):.0f} articles/s, "
            f"best {max(rates):.0f} ({args.runs} runs of {args.n})"
        )


if __name__ == "__main__":
    main()
