"""The Markdown of benchmarks/run.py's results: each size's tables, and how each figure grows
with the archive over every size measured (README-ready)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable

KINDS = ("plain", "every facet", "every facet + snippets")
MODES = {
    "baseline": "plain Whoosh as its docs show (fresh searcher, groupedby counts, "
    "`results[:10]`, `highlights()` on those 10)",
    "in_process": "this service, in process",
    "http": "this service over HTTP, 1 worker",
}


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * 0.95) - 1)]


def sample(values: list[float], every: int) -> list[float]:
    """The values of the queries the baseline also ran (every `every`th one)."""
    return values[::every]


def figures(report: dict) -> dict[str, float | None]:
    """Every figure of one size by name, derived from the raw times of the report."""
    n, search = report["articles"], report["search"]
    times, every = search["times"], search["baseline_every"]
    out: dict[str, float | None] = {}
    for mode in MODES:
        for kind in KINDS:
            values = times.get(mode, {}).get(kind)
            out[f"{mode} {kind} p50"] = statistics.median(values) if values else None
            out[f"{mode} {kind} p95"] = p95(values) if values else None
            base = times.get("baseline", {}).get(kind)
            if mode == "baseline" or not base or not values:
                continue
            same = sample(values, every)
            out[f"{mode} {kind} x p50"] = statistics.median(base) / statistics.median(same)
            out[f"{mode} {kind} x p95"] = p95(base) / p95(same)
    cpu = search["cpu"]
    for kind in KINDS:
        if "baseline" in cpu:
            same = sample(cpu["in_process"][kind], every)
            ratio = statistics.median(cpu["baseline"][kind]) / statistics.median(same)
            out[f"cpu {kind} x p50"] = ratio
    first = search.get("first_sight")
    out["first sight p50"] = statistics.median(first) if first else None
    out["first sight p95"] = p95(first) if first else None
    out["repeated p50"] = statistics.median(search["repeated"])
    out["repeated p95"] = p95(search["repeated"])
    start, loaded = search["start"], search["memory"]["after_load"]
    if "start_again" in report:  # measured again apart: the median of its fresh starts
        runs = report["start_again"]["runs"]
        start = sorted(runs, key=lambda r: r["serve_to_first_answer_s"])[len(runs) // 2]
        loaded = start["after_load"]
    out["serve to first answer s"] = start["serve_to_first_answer_s"]
    out["first request ms"] = start["first_request_ms"]
    after = search["memory"]["after_queries"]
    out["VmRSS after load MiB"] = loaded["VmRSS"]
    out["VmRSS after queries MiB"] = after["VmRSS"]
    out["VmHWM MiB"] = after["VmHWM"]
    out["bytes per article"] = after["VmRSS"] * 2**20 / n
    load = report["throughput"]
    out["req/s 1 worker"] = load["1w"]["req_per_s"]
    out["req/s 2 workers"] = load["2w"]["req_per_s"]
    out["2 workers / 1"] = load["2w"]["req_per_s"] / load["1w"]["req_per_s"]
    builds = report["indexing"]
    ours_jobs = sorted((int(k.split("-")[1]), k) for k in builds if k.startswith("ours-"))
    ours = builds[ours_jobs[-1][1]] if ours_jobs else None  # the build on the most cores
    plain = builds.get("plain")
    out["build docs/s"] = ours["docs_per_s"] if ours else None
    out["plain build docs/s"] = plain["docs_per_s"] if plain else None
    out["build / plain"] = ours["docs_per_s"] / plain["docs_per_s"] if ours and plain else None
    out["index MiB"] = ours["bytes"] / 2**20 if ours else None
    return out


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _x(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}x" if value < 100 else f"{value:,.0f}x"


def indexing_table(report: dict) -> list[str]:
    builds = report["indexing"]
    plain = builds.get("plain", {}).get("docs_per_s")
    lines = [
        "| build | docs/s | vs plain | seconds | docs per CPU s | index MiB | peak MiB "
        "(main / workers) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for variant, row in builds.items():
        name = "plain Whoosh, 1 core (StemmingAnalyzer, no tagging)"
        if variant != "plain":
            name = f"`search index`, {variant.split('-')[1]} process(es)"
        if row.get("carried"):
            name += " (built earlier: --reuse)"
        versus = f"{row['docs_per_s'] / plain:.2f}x" if plain else ""
        per_cpu = row["docs"] / row["cpu_seconds"] if row.get("cpu_seconds") else None
        lines.append(
            f"| {name} | {row['docs_per_s']:.0f} | {versus} | {row['seconds']:.0f} | "
            f"{'' if per_cpu is None else f'{per_cpu:.0f}'} | {row['bytes'] / 2**20:.0f} | "
            f"{row['peak_mib']:.0f} / {row['worker_peak_mib']:.0f} |"
        )
    return lines


def search_table(report: dict, got: dict[str, float | None]) -> list[str]:
    every = report["search"]["baseline_every"]
    lines = [
        "| | " + " | ".join(KINDS) + " |",
        "| --- | " + " | ".join("---:" for _ in KINDS) + " |",
    ]
    for mode, label in MODES.items():
        if got[f"{mode} plain p50"] is None:
            continue
        cells = []
        for kind in KINDS:
            cell = f"{_ms(got[f'{mode} {kind} p50'])} / {_ms(got[f'{mode} {kind} p95'])}"
            if got.get(f"{mode} {kind} x p50") is not None:
                cell += f" ({_x(got[f'{mode} {kind} x p50'])} / {_x(got[f'{mode} {kind} x p95'])})"
            cells.append(cell)
        if mode == "baseline" and every > 1:
            label += f", every {every}th query"
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    if got.get("first sight p50") is not None:
        first = f"{_ms(got['first sight p50'])} / {_ms(got['first sight p95'])}"
        label = "this service over HTTP, each query's first sight (warm-up pass, 5 hits)"
        lines.append(f"| {label} | | | {first} |")
    repeated = f"{_ms(got['repeated p50'])} / {_ms(got['repeated p95'])}"
    lines.append(f"| the same request repeated, over HTTP | | | {repeated} |")
    if got.get("cpu plain x p50") is not None:
        ratios = " / ".join(_x(got[f"cpu {kind} x p50"]) for kind in KINDS)
        lines += [
            "",
            f"In CPU time (this process's), in process against the baseline at "
            f"p50: {ratios} ({', '.join(KINDS)}).",
        ]
    hits = report["search"]["repeated_cache_hits"]
    lines += ["", f"The repeated requests were answered from the cache {hits:.0%} of the time."]
    return lines


def serving_lines(report: dict, got: dict[str, float | None]) -> list[str]:
    n = report["articles"]
    after = report["search"]["memory"]["after_queries"]
    load = report["throughput"]
    warmed = (
        " after each client sent every query once (so every worker has seen each)"
        if load["2w"].get("warm_up") == "every client"
        else " after the clients shared one pass over the queries"
    )
    lines = [
        f"From `search serve` to its first answer: {got['serve to first answer s']:.2f} s "
        f"(that first request: {got['first request ms']:.0f} ms).",
        "",
        "| one worker's resident memory | MiB |",
        "| --- | ---: |",
        f"| VmRSS after its first answer (the index loaded) | {got['VmRSS after load MiB']:.0f} |",
        "| VmRSS after the measured requests (anonymous / file-backed) | "
        f"{after['VmRSS']:.0f} ({after['RssAnon']:.0f} / {after['RssFile']:.0f}) |",
        f"| VmHWM, its peak | {after['VmHWM']:.0f} |",
        "",
        f"That is {got['bytes per article']:,.0f} bytes of resident memory per article "
        f"({n:,} articles; the interpreter and libraries included).",
        "",
        "GET /search, every facet + snippets, 8 clients, distinct requests (pages 1 and 2 of "
        f"each query, so no answer from the cache), a fresh server each, measured{warmed}:",
        "",
        "| workers | requests/s | load generator CPU (of a core) | VmRSS / VmHWM MiB per worker |",
        "| --- | ---: | ---: | ---: |",
    ]
    for workers in (1, 2):
        row = load[f"{workers}w"]
        memory = ", ".join(f"{m['VmRSS']:.0f} / {m['VmHWM']:.0f}" for m in row["memory"])
        lines.append(
            f"| {workers} | {row['req_per_s']:.1f} | {row['client_cpu_share']:.1%} | {memory} |"
        )
    lines += ["", f"2 workers serve {got['2 workers / 1']:.2f}x the requests/s of 1."]
    return lines + _start_again(report) + _busy_load(report)


def _start_again(report: dict) -> list[str]:
    """When the start was measured again apart (run.py --start-only)."""
    if "start_again" not in report:
        return []
    again = report["start_again"]
    each = ", ".join(f"{r['serve_to_first_answer_s']:.2f}" for r in again["runs"])
    start, end = again["load_average"]
    return [
        "",
        f"The start and the memory after it measured again on {again['date']} "
        f"(`run.py --start-only`): the median of {len(again['runs'])} fresh starts ({each} s), "
        f"the machine's load average {start:.1f} at the start, {end:.1f} at the end.",
    ]


def _busy_load(report: dict) -> list[str]:
    """When requests/s were measured again apart (run.py --load-only)."""
    if "throughput_date" not in report:
        return []
    start, end = report["throughput_load_average"]
    return [
        "",
        f"Requests/s measured again on {report['throughput_date']} (`run.py --load-only`), "
        f"the machine's load average {start:.1f} at the start, {end:.1f} at the end.",
    ]


def _busy(report: dict) -> list[str]:
    """The machine's 5-minute load average at the start and the end of the run, if known."""
    if "load_average" not in report:
        return []
    start, end = report["load_average"]
    return [
        f"Load average of the machine (2 cores): {start:.1f} at the start, {end:.1f} at the end.",
        "",
    ]


def titled(report: dict) -> list[str]:
    n = report["articles"]
    got = figures(report)
    lines = [
        f"### {n:,} generated articles (seed {report['seed']}), {report['machine']}, "
        f"{report['date']}",
        "",
        *_busy(report),
        f"#### {n:,} articles: indexing",
        "",
        *indexing_table(report),
        "",
        f"#### {n:,} articles: search, {report['queries']} queries, top 10, warm: p50 / p95 ms"
        + (
            ""
            if got["baseline plain p50"] is None
            else " (speed-up over plain Whoosh at p50 / p95, same queries, same run)"
        ),
        "",
        *search_table(report, got),
        "",
        f"#### {n:,} articles: serving",
        "",
        *serving_lines(report, got),
    ]
    return lines


SHORT = {
    "baseline": "plain Whoosh",
    "in_process": "service in process",
    "http": "service over HTTP",
}
_count: Callable[[float], str] = "{:,.0f}".format
_ratio: Callable[[float], str] = "{:.2f}x".format
# the rows of the growth table: a label, the figures in its cells, how they are shown
GROWTH: list[tuple[str, tuple[str, ...], Callable[[float], str]]] = [
    (
        "build docs/s: `search index` (all cores) / plain Whoosh (1 core)",
        ("build docs/s", "plain build docs/s"),
        _count,
    ),
    ("build: `search index` / plain Whoosh", ("build / plain",), _ratio),
    ("index MiB", ("index MiB",), _count),
    *[
        (f"{SHORT[mode]}, {kind}: p50 / p95 ms", (f"{mode} {kind} p50", f"{mode} {kind} p95"), _ms)
        for mode in MODES
        for kind in KINDS
    ],
    *[
        (
            f"speed-up over HTTP against plain Whoosh, {kind}: p50 / p95",
            (f"http {kind} x p50", f"http {kind} x p95"),
            _x,
        )
        for kind in KINDS
    ],
    ("the same request repeated over HTTP: p50 / p95 ms", ("repeated p50", "repeated p95"), _ms),
    ("`search serve` to its first answer, s", ("serve to first answer s",), "{:.2f}".format),
    ("that first request, ms", ("first request ms",), _ms),
    (
        "one worker's VmRSS after load / after the requests / VmHWM, MiB",
        ("VmRSS after load MiB", "VmRSS after queries MiB", "VmHWM MiB"),
        _count,
    ),
    (
        "resident bytes per article (VmRSS after the requests / articles)",
        ("bytes per article",),
        _count,
    ),
    (
        "requests/s, 8 clients: 1 / 2 workers",
        ("req/s 1 worker", "req/s 2 workers"),
        "{:.1f}".format,
    ),
    ("requests/s: 2 workers / 1", ("2 workers / 1",), _ratio),
]


def growth(reports: list[dict]) -> list[str]:
    """One row per figure, one column per size, and how much it grows for 10x articles."""
    sizes = [r["articles"] for r in reports]
    got = [figures(r) for r in reports]
    lines = [
        "| figure | " + " | ".join(f"{n:,}" for n in sizes) + " | for 10x articles |",
        "| --- | " + " | ".join("---:" for _ in sizes) + " | ---: |",
    ]
    for label, names, show in GROWTH:
        if all(g.get(name) is None for g in got for name in names):
            continue
        cells = [
            " / ".join("" if g.get(k) is None else show(g[k] or 0) for k in names) for g in got
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {_per_ten(sizes, got, names)} |")
    rss = [(r["articles"], r["search"]["memory"]["after_queries"]["VmRSS"]) for r in reports]
    steps = [
        f"{(m1 - m0) * 2**20 / (n1 - n0):,.0f} ({n0:,} to {n1:,})"
        for (n0, m0), (n1, m1) in zip(rss, rss[1:], strict=False)
    ]
    if steps:
        lines += ["", "Resident memory added per article between sizes: " + "; ".join(steps) + "."]
    return lines


def _per_ten(sizes: list[int], got: list[dict], names: tuple[str, ...]) -> str:
    """How many times each figure grows for 10x articles, from the smallest size to the
    largest that has it (1.00x: flat; 10.0x: linear)."""
    out = []
    for name in names:
        known = [(n, g[name]) for n, g in zip(sizes, got, strict=True) if g.get(name)]
        if len(known) < 2:
            return ""
        (n0, v0), (n1, v1) = known[0], known[-1]
        out.append(f"{(v1 / v0) ** (1 / math.log10(n1 / n0)):.2f}x")
    return " / ".join(out)


def combined(reports: list[dict]) -> list[str]:
    """The README-ready file: the growth table, then each size's tables."""
    if not reports:
        return ["No results yet: run benchmarks/run.py first."]
    last = reports[-1]
    lines = [
        "## Benchmarks",
        "",
        f"Generated archives (../shared/bench/make_corpus.py, seed {last['seed']}), "
        f"{last['machine']}. Made by `python benchmarks/run.py` (see its docstring for what "
        "is measured and how); times in ms unless named.",
        "",
        "### How each figure grows with the archive",
        "",
        *growth(reports),
    ]
    for report in reports:
        lines += ["", *titled(report)]
    return lines
