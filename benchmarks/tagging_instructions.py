"""Instructions per article of tagging, and of tagging + indexing, for this tree or another
checkout, counted by valgrind's callgrind: a count does not move with the machine's load, as
CPU time does on a shared machine (benchmarks/tagging_speed.py gives the times).

    python benchmarks/tagging_instructions.py                     # this tree
    git worktree add /tmp/before REV
    python benchmarks/tagging_instructions.py --tree /tmp/before  # the same articles

Each figure is (count with N articles - count with none) / N, so start-up (imports, the
gazetteer) is left out. Needs valgrind (Debian: apt-get install valgrind); a run of 300
articles takes a few minutes.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import tagging_speed  # this folder: the loading of a checkout and its articles

ROOT = Path(__file__).resolve().parents[1]
MAKE_CORPUS = tagging_speed.MAKE_CORPUS


def child(tree: Path, corpus: Path, n: int, mode: str) -> None:
    """Tag (and with mode "index", index into RamStorage) the first n articles."""
    rows = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines()]
    code = tagging_speed.load(tree, rows)
    code.tag(code.articles[0])  # whatever is made on first use, made in both counts
    code.clear_cache()
    writer = code.new_writer()
    for article in code.articles[:n]:
        tagged = code.tag(article)
        if mode == "index":
            writer.add_document(**code.to_document(tagged))
    if n and mode == "index":
        writer.commit()


def count(tree: Path, corpus: Path, n: int, mode: str) -> int:
    command = [sys.executable, __file__, "--child", str(n), mode, "--tree", str(tree)]
    command += ["--corpus", str(corpus)]
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"no count from valgrind: {done.stderr[-500:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tree", type=Path, default=ROOT, help="checkout to measure")
    parser.add_argument("--n", type=int, default=300, help="articles (default 300)")
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    tree = args.tree.resolve()
    if args.child:
        child(tree, args.corpus, int(args.child[0]), args.child[1])
        return
    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder) / "corpus.jsonl"
        make = [sys.executable, str(MAKE_CORPUS), "--n", str(args.n), "--seed", "1"]
        subprocess.run([*make, "--out", str(corpus)], check=True, capture_output=True)
        for mode, name in (("tag", "tag"), ("index", "tag+index")):
            base, full = count(tree, corpus, 0, mode), count(tree, corpus, args.n, mode)
            per_article = (full - base) / args.n / 1e6
            print(f"{tree}: {name}: {per_article:.2f} M instructions per article ({args.n})")


if __name__ == "__main__":
    main()
