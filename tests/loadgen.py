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
    """What the server acknowledged: each id's current unique word (None once deleted), every
    word it ever had, and the states an id may be in after a request that got no answer (the
    server was killed: the change may or may not have been committed)."""

    current: dict[str, str | None] = field(default_factory=dict)
    words: dict[str, list[str]] = field(default_factory=dict)
    unsure: dict[str, set[str | None]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, changes: list[tuple[str, str | None]], answered: bool) -> None:
        """Changes (id, new word or None for a deletion) of one request that was answered
        with success, or got no answer at all."""
        with self.lock:
            for doc_id, state in changes:
                if state is not None:
                    self.words.setdefault(doc_id, []).append(state)
                if answered:
                    self.current[doc_id] = state
                    self.unsure.pop(doc_id, None)
                else:
                    self.unsure.setdefault(doc_id, {self.current.get(doc_id)}).add(state)

    def acceptable(self, doc_id: str) -> set[str | None]:
        return self.unsure.get(doc_id) or {self.current.get(doc_id)}

    def live(self) -> dict[str, str]:
        """Ids certainly in the index, with their word."""
        with self.lock:
            return {d: w for d, w in self.current.items() if w is not None and d not in self.unsure}

    def present(self) -> set[str]:
        """Ids that must be in the index, whatever became of unanswered requests."""
        with self.lock:
            return {d for d in self.words if None not in self.acceptable(d)}


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
    only_add: bool = False,
) -> None:
    """POST batches of new articles, PUT replacements and DELETE own articles at random
    (`only_add`: POST only, so the document count only grows), recording in the ledger what
    the server acknowledged (and what got no answer)."""
    rng = random.Random(seed)
    mine: list[str] = []
    counter = 0
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=url, timeout=60, headers=headers) as client:
        while not stop.is_set():
            roll = rng.random()
            started = time.perf_counter()
            if only_add or roll < 0.6 or len(mine) < 3:
                changes = []
                for _ in range(rng.randint(1, 5)):
                    counter += 1
                    changes.append((f"{name}-{counter}", word(name, counter)))
                body = [article(d, w) for d, w in changes]
                method, path = "POST", "/documents"
                expected = {"items": [{"status": "created"} for _ in changes]}
            elif roll < 0.8:
                doc_id = rng.choice(mine)
                counter += 1
                changes = [(doc_id, word(name, counter))]
                method, path, body = "PUT", f"/documents/{doc_id}", article(*changes[0])
                expected = {"status": "replaced"}
            else:
                doc_id = mine.pop(rng.randrange(len(mine)))
                changes = [(doc_id, None)]
                method, path, body = "DELETE", f"/documents/{doc_id}", None
                expected = {"status": "deleted"}
            try:
                response = client.request(method, path, json=body)
            except httpx.HTTPError as error:
                ledger.record(changes, answered=False)
                if not tolerate_transport_errors:
                    tally.errors.append(f"write: {error!r}")
                continue
            tally.latencies.append((time.perf_counter() - started) * 1000)
            tally.count += 1
            if response.status_code not in (200, 201):
                tally.errors.append(f"write: {response.status_code} {response.text[:200]}")
                continue
            answer = response.json()
            if "items" in expected:
                answer = {"items": [{"status": i["status"]} for i in answer["items"]]}
            else:
                answer = {"status": answer["status"]}
            if answer != expected:
                tally.errors.append(f"write: answered {answer}, expected {expected}")
            ledger.record(changes, answered=True)
            mine.extend(doc_id for doc_id, state in changes if state and doc_id not in mine)


def run_threads(targets: list, seconds: float, stop: threading.Event) -> None:
    threads = [threading.Thread(target=t, daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(120)


def lost(client: httpx.Client, ledger: Ledger) -> list[str]:
    """Every way the server disagrees with the ledger: an article missing, or not in an
    acknowledged version, or found by a word of another version."""
    problems = []
    for doc_id, words in ledger.words.items():
        response = client.get(f"/documents/{doc_id}")
        if response.status_code == 404:
            state = None
        elif response.status_code == 200:
            body = response.json()["body"]
            state = next((w for w in words if w in body), "?")
        else:
            problems.append(f"{doc_id}: GET answers {response.status_code}")
            continue
        if state not in ledger.acceptable(doc_id):
            problems.append(f"{doc_id}: is {state}, expected one of {ledger.acceptable(doc_id)}")
        for unique in words:
            result = client.get("/search", params={"q": unique, "facets": "none"}).json()
            ids = [hit["id"] for hit in result["hits"]]
            expected = [doc_id] if unique == state else []
            if ids != expected:
                problems.append(f"{doc_id}: search {unique} finds {ids}, expected {expected}")
    return problems
