"""Where a fresh build's time goes: the CPU of each stage per article, and the parallel build
beside plain Whoosh on one core, in the same run.

    python benchmarks/build_stages.py --n 10000      # corpus from run.py's --work folder

Stages, in process over the first --stages articles (CPU time): parse (the parent's part),
tag, to_document, Whoosh's add_document, the segment's finish (postings sorted and written),
and the stories' band keys. Then `search index` as run.py builds it (every core) and plain
Whoosh (benchmarks/whoosh_plain.py, one core), each in a fresh process as run.py measures
them (run.measure_build): wall time, the parent's CPU and the workers' CPU per article;
--pairs times (ours first in odd pairs, plain first in even ones), the figure being the
median of the pairs' ratios. The gap between the workers' CPU per article and the in-process
stages is what running in worker processes adds.

Writes benchmarks/results/build-stages-N.md. Run by hand on an idle machine.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

STAGES = ("parse", "tag", "to_document", "add_document", "finish", "stories")


def stages(corpus: Path, count: int) -> dict[str, float]:
    """CPU ms per article of each stage, in this process."""
    from whoosh import index as whoosh_index

    from search import files, whoosh_ext
    from search.analysis import fresh_spelling
    from search.schema import ArticleSchema, to_document
    from search.stories import Signer
    from search.tagging import tag

    whoosh_ext.install()
    spent = dict.fromkeys(STAGES, 0.0)
    with tempfile.TemporaryDirectory() as folder:
        sample = Path(folder) / "sample.jsonl"
        with corpus.open(encoding="utf-8") as lines:
            sample.write_text("".join(itertools.islice(lines, count)), encoding="utf-8")
        clock = time.process_time()
        articles = [item.article for item in files.read_paths([sample])[1] if item.article]
        spent["parse"] = time.process_time() - clock
        index = whoosh_index.create_in(folder, ArticleSchema())
        writer = whoosh_ext.unlocked_writer(index, limitmb=256)  # as a build's workers
        fresh_spelling(writer.schema)
        signer = Signer()
        for article in articles:
            clock = time.process_time()
            tagged = tag(article)
            now = time.process_time()
            spent["tag"] += now - clock
            document = to_document(tagged)
            clock = time.process_time()
            spent["to_document"] += clock - now
            writer.add_document(**document)
            now = time.process_time()
            spent["add_document"] += now - clock
            signer.add(article.id, article.body, article.date)
            spent["stories"] += time.process_time() - now
        clock = time.process_time()
        whoosh_ext.finish_segment(writer)
        now = time.process_time()
        spent["finish"] = now - clock
        signer.signed()
        spent["stories"] += time.process_time() - now
    return {stage: 1000 * seconds / len(articles) for stage, seconds in spent.items()}


def table(n: int, sample: int, per_stage: dict, pairs: list[dict]) -> str:
    total = sum(per_stage.values())
    lines = [
        f"# Where a build's time goes, {n:,} generated articles",
        "",
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores; "
        f"`python benchmarks/build_stages.py --n {n}`.",
        "",
        f"## Stages in one process, CPU per article (the first {sample:,} articles)",
        "",
        "| stage | ms | share |",
        "| --- | ---: | ---: |",
    ]
    for stage, ms in per_stage.items():
        lines.append(f"| {stage} | {ms:.2f} | {100 * ms / total:.0f}% |")
    lines += [f"| all | {total:.2f} | |", "", "## Builds, each in a fresh process", ""]
    lines += [
        f"Ours and plain Whoosh, {len(pairs)} times, ours first in odd pairs and plain first in "
        "even ones: this machine's speed drifts within minutes, so each pair is compared and "
        "the median ratio is the figure.",
        "",
        "| pair | build | docs/s (wall) | parent CPU ms/article | workers CPU ms/article "
        "| parent peak MiB |",
        "| ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for number, builds in enumerate(pairs, 1):
        for name, figures in builds.items():
            docs, parent = figures["docs"], figures["parent_cpu_seconds"]
            lines.append(
                f"| {number} | {name} | {figures['docs_per_s']:.1f} | "
                f"{1000 * parent / docs:.2f} | "
                f"{1000 * (figures['cpu_seconds'] - parent) / docs:.2f} | "
                f"{figures['peak_mib']:.0f} |"
            )
    ratios = [b["ours"]["docs_per_s"] / b["plain"]["docs_per_s"] for b in pairs]
    each = ", ".join(f"{r:.2f}x" for r in ratios)
    lines += [
        "",
        f"Ours on every core / plain Whoosh on one, each pair: {each}; "
        f"median {statistics.median(ratios):.2f}x docs/s.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--stages", type=int, default=2000, help="articles timed per stage")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "search-bench")
    parser.add_argument("--pairs", type=int, default=4, help="builds of ours and of plain")
    args = parser.parse_args()
    import run  # this folder

    args.work.mkdir(parents=True, exist_ok=True)
    corpus = run.corpus(args.n, 1, args.work)
    per_stage = stages(corpus, args.stages)
    ours = f"ours-{os.cpu_count() or 1}"
    pairs = []
    for number in range(args.pairs):
        builds = [("ours", ours), ("plain", "plain")]
        if number % 2:  # every other pair plain first: a drift in between favours neither
            builds.reverse()
        measured = {n: run.measure_build(v, corpus, args.work / f"stages-{n}") for n, v in builds}
        pairs.append({"ours": measured["ours"], "plain": measured["plain"]})
    text = table(args.n, args.stages, per_stage, pairs)
    (HERE / "results" / f"build-stages-{args.n}.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
