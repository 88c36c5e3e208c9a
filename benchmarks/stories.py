"""Stories: the groups found on FA-KES and on a generated corpus, what the thresholds miss,
the build-time cost of grouping and its memory per article.

    python benchmarks/stories.py [--n 10000] [--cost-n 3000] [--out benchmarks/results/stories.md]

- FA-KES (../shared/data/fa-kes/fakes.csv, read in place): groups, members, redundant copies;
  the pairs this script's own shingle comparison (5-word tuples, no hashing) finds at Jaccard
  >= 0.8 and whether each shares a story; the pairs sharing at least half of the shorter body
  that are not grouped, by why (what the thresholds miss).
- A generated corpus (../shared/bench/make_corpus.py, written to a temporary folder): its
  articles are independent (recombined seed sentences), so every group found is a false one.
- Cost: the same articles indexed serially in this process with grouping and without (the
  story writer's hook and the signer made no-ops), CPU time (time.process_time), alternated.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from search import generations, story_store, whoosh_ext  # noqa: E402
from search.files import read_paths  # noqa: E402
from search.index import write  # noqa: E402
from search.shingles import overlap, shingles  # noqa: E402
from search.stories import Signer  # noqa: E402

SHARED = ROOT.parent / "shared"
FAKES = SHARED / "data" / "fa-kes" / "fakes.csv"
MAKE_CORPUS = SHARED / "bench" / "make_corpus.py"


def own_shingles(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.casefold())
    return {tuple(words[i : i + 5]) for i in range(len(words) - 4)}


def build(paths: list[Path], root: Path, jobs: int | None = None) -> float:
    """Index `paths` into `root`; CPU seconds of this process (and its workers, when jobs>1)."""
    started = time.process_time()
    children = _children_cpu()
    _, items = read_paths(paths)
    write((item.article or item.problem for item in items), root, jobs=jobs)
    return time.process_time() - started + _children_cpu() - children


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def groups_of(root: Path) -> tuple[dict[str, list[str]], dict[str, str], float]:
    folder = generations.built_generation(root)
    state = story_store.load(folder, 10**9)
    assert state is not None
    members: dict[str, list[str]] = defaultdict(list)
    story = {}
    for doc_id, number in zip(state.ids.tolist(), state.story.tolist(), strict=True):
        name = state.names[number].decode()
        members[name].append(doc_id.decode())
        story[doc_id.decode()] = name
    per_article = sum(a.nbytes for a in state.arrays().values()) / max(len(state.ids), 1)
    return members, story, per_article


def fakes_report(work: Path) -> list[str]:
    root = work / "fakes"
    seconds = build([FAKES], root)
    members, story, per_article = groups_of(root)
    bodies = {d["id"]: d.get("body") or "" for d in generations.documents(root)}
    own = {k: own_shingles(v) for k, v in bodies.items()}
    grouped = [m for m in members.values() if len(m) > 1]
    close, close_split = 0, 0
    missed: dict[str, int] = defaultdict(int)
    examples: dict[str, tuple] = {}
    for a, b in itertools.combinations(sorted(own), 2):
        first, second = own[a], own[b]
        if not first or not second:
            continue
        shared = len(first & second)
        small, large = sorted((len(first), len(second)))
        if shared < 0.5 * small:
            continue
        jaccard = shared / (small + large - shared)
        if jaccard >= 0.8:
            close += 1
            close_split += story[a] != story[b]
        if story[a] == story[b]:
            continue
        if shared / small >= 0.8:
            why = "the shorter is >= 80% inside the longer, but < 50% of the longer is shared"
        else:
            why = "50-80% of the shorter is shared (Jaccard < 0.8)"
        missed[why] += 1
        examples.setdefault(why, (a, b, round(jaccard, 2), round(shared / small, 2)))
    lines = [
        f"FA-KES ({len(bodies)} articles indexed, {seconds:.1f} s CPU on every core):",
        "",
        f"- {len(grouped)} stories of 2 or more articles, {sum(len(m) for m in grouped)} "
        f"articles in them, {sum(len(m) - 1 for m in grouped)} redundant copies; largest "
        f"{max((len(m) for m in grouped), default=0)}",
        f"- pairs at Jaccard >= 0.8 (this script's own 5-word shingles): {close}, of which "
        f"not in one story: {close_split}",
        "- pairs sharing at least half of the shorter body but not grouped (what the "
        "thresholds miss):",
    ]
    for why, count in sorted(missed.items()):
        a, b, jaccard, contained = examples[why]
        lines.append(
            f"  - {why}: {count} (e.g. {a} / {b}: Jaccard {jaccard}, shorter shared {contained})"
        )
    if not missed:
        lines.append("  - none")
    lines.append(f"- story file: {per_article:.0f} bytes per article")
    return lines


def corpus_report(work: Path, n: int) -> tuple[list[str], Path]:
    corpus = work / f"corpus-{n}.jsonl"
    subprocess.run(
        [sys.executable, str(MAKE_CORPUS), "--n", str(n), "--seed", "1", "--out", str(corpus)],
        check=True,
    )
    root = work / "corpus"
    seconds = build([corpus], root)
    members, _, per_article = groups_of(root)
    grouped = [m for m in members.values() if len(m) > 1]
    lines = [
        f"Generated corpus ({n} independent articles, seed 1; {seconds:.1f} s CPU on every core):",
        "",
        f"- false groups: {len(grouped)} ({sum(len(m) for m in grouped)} articles)",
        f"- story file: {per_article:.0f} bytes per article",
    ]
    if grouped:
        wanted = {doc_id for group in grouped for doc_id in group}
        bodies = {
            d["id"]: shingles(d.get("body") or "")
            for d in generations.documents(root)
            if d["id"] in wanted
        }
        for group in grouped:
            found = overlap(bodies[group[0]], bodies[group[1]])
            lines.append(f"  - {', '.join(group)}: {found.to_json()}, shared {found.shared}")
    return lines, corpus


def cost_report(work: Path, corpus: Path, n: int, runs: int) -> list[str]:
    subset = work / f"cost-{n}.jsonl"
    with open(corpus, encoding="utf-8") as source, open(subset, "w", encoding="utf-8") as out:
        out.writelines(itertools.islice(source, n))
    original = (story_store.StoryWriter.before_toc, Signer.add)
    timings: dict[str, list[float]] = {"with": [], "without": []}
    for run in range(runs):
        for mode in ("without", "with"):
            if mode == "without":
                story_store.StoryWriter.before_toc = lambda self, segments: None  # type: ignore[method-assign]
                Signer.add = lambda self, *args: None  # type: ignore[method-assign]
            else:
                story_store.StoryWriter.before_toc, Signer.add = original  # type: ignore[method-assign]
            timings[mode].append(build([subset], work / f"cost-{mode}-{run}", jobs=1))
    story_store.StoryWriter.before_toc, Signer.add = original  # type: ignore[method-assign]
    best = {mode: min(values) for mode, values in timings.items()}
    extra = best["with"] / best["without"] - 1
    listed = {mode: ", ".join(f"{t:.1f}" for t in values) for mode, values in timings.items()}
    return [
        f"Build-time cost ({n} generated articles, one process, CPU seconds, best of {runs} "
        "alternated runs):",
        "",
        "| build | CPU s (runs) |",
        "| --- | ---: |",
        f"| without grouping | {best['without']:.1f} ({listed['without']}) |",
        f"| with grouping | {best['with']:.1f} ({listed['with']}) |",
        f"| cost | {extra * 100:+.1f}% |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="generated articles")
    parser.add_argument("--cost-n", type=int, default=3000, help="articles of the cost runs")
    parser.add_argument("--runs", type=int, default=3, help="cost runs of each build")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/stories.md")
    args = parser.parse_args()
    whoosh_ext.install()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        sections = [fakes_report(work)]
        lines, corpus = corpus_report(work, args.n)
        sections.append(lines)
        sections.append(cost_report(work, corpus, args.cost_n, args.runs))
    heading = (
        f"### Stories, {platform.machine()}, Python {platform.python_version()}, "
        f"{time.strftime('%Y-%m-%dT%H:%M:%S%z')}"
    )
    text = "\n\n".join([heading, *("\n".join(s) for s in sections)]) + "\n"
    args.out.write_text(text, encoding="utf-8")
    print(text)
    print(json.dumps({"written": str(args.out)}))


if __name__ == "__main__":
    main()
