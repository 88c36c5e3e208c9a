"""The cost of request logs and metrics on search latency, and export / restore times.

    python benchmarks/observability.py --index /tmp/search-bench/ours-10000

Serves the same index twice, one worker each: as `search serve` does (request logs to a file,
Prometheus metrics) and the bare API (`search.api:create_app`, no logs, no metrics). Sends
the same queries to both, alternating, and prints p50 / p95 and the ratio. Then times
`search export` of the index and `search index` of the dump into a new folder (the restore),
and `search check` of the result. Writes benchmarks/results/observability-*.md and .json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
sys.path.insert(0, str(ROOT))
from tests.live import free_port  # noqa: E402
from tests.loadgen import QUERIES  # noqa: E402


def start(index: Path, bare: bool, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "SEARCH_INDEX": str(index), "SEARCH_LOG_LEVEL": "info"}
    if bare:
        command = [sys.executable, "-m", "uvicorn", "search.api:create_app", "--factory"]
        command += ["--port", str(port), "--log-level", "warning", "--no-access-log"]
    else:
        command = [sys.executable, "-m", "search", "serve", "--port", str(port)]
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(url + "/health", timeout=5)
            return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def timed(command: list, **kwargs) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=False, **kwargs)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, required=True, help="an index folder")
    parser.add_argument("--rounds", type=int, default=20, help="passes over the queries")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="observability-"))
    servers = {
        "bare API": start(args.index, True, work / "bare.log"),
        "search serve (logs + metrics)": start(args.index, False, work / "serve.log"),
    }
    times: dict[str, list[float]] = {name: [] for name in servers}
    clients = {name: httpx.Client(base_url=url, timeout=60) for name, (_, url) in servers.items()}
    try:
        for client in clients.values():  # warm
            for q in QUERIES:
                client.get("/search", params={"q": q})
        for _ in range(args.rounds):
            for q in QUERIES:
                for name, client in clients.items():  # alternate: noise hits both alike
                    started = time.perf_counter()
                    client.get("/search", params={"q": q})
                    times[name].append((time.perf_counter() - started) * 1000)
    finally:
        for client in clients.values():
            client.close()
        for process, _ in servers.values():
            process.terminate()
            process.wait()
    dump = work / "dump.jsonl"
    with dump.open("w") as out:
        export_s = timed(
            [sys.executable, "-m", "search", "export", "--index", args.index], stdout=out
        )
    restored = work / "restored"
    restore_s = timed(
        [sys.executable, "-m", "search", "index", dump, "--index", restored, "-q"],
        capture_output=True,
    )
    check_s = timed(
        [sys.executable, "-m", "search", "check", "--index", restored], capture_output=True
    )
    documents = sum(1 for _ in dump.open())
    rows = {
        name: {
            "p50_ms": statistics.median(values),
            "p95_ms": statistics.quantiles(values, n=20)[-1],
            "requests": len(values),
        }
        for name, values in times.items()
    }
    names = list(rows)
    ratio = rows[names[1]]["p50_ms"] / rows[names[0]]["p50_ms"]
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "index": str(args.index),
        "search": rows,
        "logs_and_metrics_over_bare_p50": ratio,
        "export_seconds": export_s,
        "restore_seconds": restore_s,
        "check_seconds": check_s,
        "documents": documents,
        "dump_mib": dump.stat().st_size / 2**20,
    }
    table = [
        f"Request logs and metrics, one worker, {args.index.name} ({documents} articles), "
        f"{report['machine']}, {report['date']}",
        "",
        "| server | search p50 ms | p95 ms | requests |",
        "| --- | ---: | ---: | ---: |",
        *(
            f"| {n} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['requests']} |"
            for n, r in rows.items()
        ),
        "",
        f"Logs and metrics cost {100 * (ratio - 1):+.1f}% at p50 (ratio {ratio:.3f}).",
        f"Export: {export_s:.1f} s ({report['dump_mib']:.0f} MiB); restore with "
        f"`search index`: {restore_s:.1f} s ({documents / restore_s:.0f} docs/s); "
        f"`search check` of the result: {check_s:.1f} s.",
    ]
    print("\n".join(table))
    RESULTS.mkdir(exist_ok=True)
    name = f"observability-{args.index.name}"
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text("\n".join(table) + "\n")


if __name__ == "__main__":
    main()
