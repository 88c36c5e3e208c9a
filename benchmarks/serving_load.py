"""`search serve` for benchmarks/run.py: started and timed to its first answer, its memory,
and requests/s under concurrent clients.

The load generator runs in a process of its own (this file run as a script): 8 client
threads, each with one keep-alive connection (the standard library's http.client, so a
request costs the client little), take the next distinct request from a shared list. It
reports the CPU time it used itself, so the share of the 2 cores it took from the server is
in the results beside the requests/s.

The warm-up before it is sent whole by every client (`--each`). Each worker keeps its own
caches (decoded postings, a phrase word's positions); the workers share the clients'
connections evenly (search/sockets.py), so every worker then has seen every query, as a
server does after a while, and one that never saw a query does not pay it in the measured
pass while a single worker, warmed on all of them, does not.

    python benchmarks/serving_load.py URL CLIENTS [--each] < requests.json
"""

from __future__ import annotations

import http.client
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MEMORY_FIELDS = ("VmRSS", "VmHWM", "RssAnon", "RssFile")


def memory_mib(pid: int) -> dict[str, float]:
    """Resident memory of a process in MiB: now (VmRSS, split into anonymous and file-backed,
    e.g. memory-mapped files the page cache shares between workers) and its peak (VmHWM)."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in MEMORY_FIELDS:
            out[name] = int(value.split()[0]) / 1024
    return out


def workers_of(pid: int) -> list[int]:
    """The serving processes: the server itself with one worker, else its worker children
    (not multiprocessing's resource tracker)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    out = []
    for child in children.read_text().split() if children.exists() else []:
        command = Path(f"/proc/{child}/cmdline").read_bytes()
        if b"resource_tracker" not in command:
            out.append(int(child))
    return out or [pid]


class Served:
    """`search serve` on an index, started and timed to its first answer."""

    def __init__(self, root: Path, workers: int, probe: dict) -> None:
        import httpx

        sys.path.insert(0, str(ROOT))
        from tests.live import free_port

        self.port = free_port()
        command = [sys.executable, "-m", "search", "serve", "--index", str(root)]
        command += ["--port", str(self.port), "--workers", str(workers)]
        env = {**os.environ, "SEARCH_LOG_LEVEL": "warning"}
        started = time.perf_counter()
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        self.client = httpx.Client(base_url=self.url, timeout=300)
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited ({' '.join(command)})")
            try:
                sent = time.perf_counter()
                if self.client.get("/search", params=probe).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.02)
        now = time.perf_counter()
        self.to_first_answer_s = now - started
        self.first_request_ms = (now - sent) * 1000

    def get(self, params: dict) -> float:
        """One GET /search; its wall time in ms."""
        started = time.perf_counter()
        self.client.get("/search", params=params).raise_for_status()
        return (time.perf_counter() - started) * 1000

    def cached(self, params: dict) -> bool:
        return self.client.get("/search", params=params).headers.get("x-cache") == "hit"

    def memory(self) -> list[dict[str, float]]:
        """The memory of each serving process."""
        return [memory_mib(pid) for pid in workers_of(self.process.pid)]

    def stop(self) -> None:
        self.client.close()
        self.process.terminate()
        self.process.wait(60)


def load(url: str, requests: list[dict], clients: int, each: bool = False) -> dict:
    """Run the load generator in its own process; its figures. `each`: every client sends
    every request, instead of each taking the next one left."""
    out = subprocess.run(
        [sys.executable, __file__, url, str(clients), *(["--each"] if each else [])],
        input=json.dumps(requests),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def throughput(root: Path, requests: list[dict], warming: list[dict], probe: dict) -> dict:
    """GET /search with 8 clients on 1 and then 2 workers, each on a fresh server (so no
    answer comes from a cache); `warming` first, sent whole by every client, not measured."""
    out = {}
    for workers in (1, 2):
        served = Served(root, workers, probe)
        try:
            load(served.url, warming, 8, each=True)
            figures = load(served.url, requests, 8)
            figures["memory"] = served.memory()
            figures["warm_up"] = "every client"
        finally:
            served.stop()
        out[f"{workers}w"] = figures
        print(
            f"  {workers} worker(s), 8 clients: {figures['req_per_s']:.1f} req/s", file=sys.stderr
        )
    return out


def _generate(url: str, requests: list[dict], clients: int, each: bool = False) -> dict:
    """The load generator: `clients` threads over one shared list of requests (with `each`,
    every thread over the whole list)."""
    parts = urlsplit(url)
    pending = iter(requests)
    lock = threading.Lock()
    failures: list[int] = []

    def client() -> None:
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=300)
        mine = iter(requests) if each else pending
        while True:
            with lock:
                item = next(mine, None)
            if item is None:
                break
            connection.request("GET", "/search?" + urlencode(item))
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                failures.append(response.status)
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    cpu = time.process_time()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    sent = len(requests) * (clients if each else 1)
    return {
        "requests": sent,
        "clients": clients,
        "seconds": wall,
        "req_per_s": sent / wall,
        "failures": len(failures),
        "client_cpu_share": cpu / wall,  # of one core
        "client_peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


if __name__ == "__main__":
    each = "--each" in sys.argv[3:]
    print(json.dumps(_generate(sys.argv[1], json.load(sys.stdin), int(sys.argv[2]), each)))
