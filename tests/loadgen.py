"""Searching and writing clients against a live server, and a check that nothing acknowledged
was lost. Used by the load and crash tests and by benchmarks/live_writes.py."""

from __future__ import annotations

import random
import statistics
import threading
import time
from dataclasses import dataclass, field

import httpx

QUERIES = [
    "Raqqa",
    "Daesh",
    "Deir Ezzor",
    "Mosul -Raqqa",
    "faction:SDF",
    '"Syrian Army"',
    "airstrike*",
    "",
    "Aleppo OR Idlib",
    "oil",
]


def word(prefix: str, number: int) -> str:
    """A made-up word no article contains: letters only, so it is one token, and it ends in
    'x' so that stemming leaves it whole."""
    letters = ""
    while True:
        number, digit = divmod(number, 26)
        letters += chr(ord("a") + digit)
        if not number:
            break
    return f"zq{prefix}{letters}x"


@dataclass
class Ledger:
    """What the server acknowledged: each id's current unique word (None once deleted) and
    every word it ever had."""

    current: dict[str, str | None] = field(default_factory=dict)
    words: dict[str, list[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, doc_id: str, unique: str) -> None:
        with self.lock:
            self.current[doc_id] = unique
            self.words.setdefault(doc_id, []).append(unique)

    def delete(self, doc_id: str) -> None:
        with self.lock:
            self.current[doc_id] = None

    def live(self) -> dict[str, str]:
        with self.lock:
            return {d: w for d, w in self.current.items() if w is not None}


@dataclass
class Tally:
    """Latencies (ms) and outcomes of one kind of request."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    count: int = 0

    def median(self) -> float:
        return statistics.median(self.latencies) if self.latencies else 0.0

    def p95(self) -> float:
        if len(self.latencies) < 2:
            return self.median()
        return statistics.quantiles(self.latencies, n=20)[-1]


def article(doc_id: str, unique: str) -> dict:
    return {
        "id": doc_id,
        "title": f"Clashes near Deir Ezzor, report {doc_id}",
        "body": f"Daesh fighters attacked SDF positions near Raqqa. {unique} was the code word.",
        "date": "2024-03-01",
        "source": "Load Test Wire",
    }


def searcher(url: str, stop: threading.Event, tally: Tally, seed: int, headers=None) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=url, timeout=60, headers=headers) as client:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                response = client.get("/search", params={"q": rng.choice(QUERIES)})
            except httpx.HTTPError as error:
                tally.errors.append(f"search: {error!r}")
                continue
            tally.latencies.append((time.perf_counter() - started) * 1000)
            tally.count += 1
            if response.status_code != 200:
                tally.errors.append(f"search: {response.status_code} {response.text[:200]}")


def writer(
    url: str,
    key: str,
    stop: threading.Event,
    ledger: Ledger,
    tally: Tally,
    name: str,
    seed: int,
    tolerate_transport_errors: bool = False,
) -> None:
    """POST batches of new articles, PUT replacements and DELETE own articles at random,
    recording in the ledger only what the server acknowledged."""
    rng = random.Random(seed)
    mine: list[str] = []
    counter = 0
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, timeout=60, headers=headers) as client:
        while not stop.is_set():
            roll = rng.random()
            started = time.perf_counter()
            try:
                if roll < 0.6 or len(mine) < 3:
                    batch = []
                    for _ in range(rng.randint(1, 5)):
                        counter += 1
                        batch.append((f"{name}-{counter}", word(name, counter)))
                    body = [article(d, w) for d, w in batch]
                    response = client.post("/documents", json=body)
                    if response.status_code == 200:
                        statuses = [item["status"] for item in response.json()["items"]]
                        if statuses != ["created"] * len(batch):
                            tally.errors.append(f"post: statuses {statuses}")
                        for doc_id, unique in batch:
                            ledger.put(doc_id, unique)
                            mine.append(doc_id)
                elif roll < 0.8:
                    doc_id = rng.choice(mine)
                    counter += 1
                    unique = word(name, counter)
                    response = client.put(f"/documents/{doc_id}", json=article(doc_id, unique))
                    if response.status_code == 200:
                        ledger.put(doc_id, unique)
                else:
                    doc_id = mine.pop(rng.randrange(len(mine)))
                    response = client.delete(f"/documents/{doc_id}")
                    if response.status_code == 200:
                        ledger.delete(doc_id)
            except httpx.HTTPError as error:
                if not tolerate_transport_errors:
                    tally.errors.append(f"write: {error!r}")
                continue
            tally.latencies.append((time.perf_counter() - started) * 1000)
            tally.count += 1
            if response.status_code != 200:
                tally.errors.append(f"write: {response.status_code} {response.text[:200]}")


def run_threads(targets: list, seconds: float, stop: threading.Event) -> None:
    threads = [threading.Thread(target=t, daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(120)


def lost(client: httpx.Client, ledger: Ledger) -> list[str]:
    """Every way the server disagrees with the ledger: a live article missing by id or by its
    word, a replaced word still found, a deleted article still there."""
    problems = []
    for doc_id, words in ledger.words.items():
        current = ledger.current[doc_id]
        response = client.get(f"/documents/{doc_id}")
        if current is None:
            if response.status_code != 404:
                problems.append(f"{doc_id}: deleted but GET answers {response.status_code}")
        elif response.status_code != 200 or current not in response.json()["body"]:
            problems.append(f"{doc_id}: GET answers {response.status_code}, not its last version")
        for unique in words:
            result = client.get("/search", params={"q": unique, "facets": "none"}).json()
            ids = [hit["id"] for hit in result["hits"]]
            expected = [doc_id] if unique == current else []
            if ids != expected:
                problems.append(f"{doc_id}: search {unique} finds {ids}, expected {expected}")
    return problems
