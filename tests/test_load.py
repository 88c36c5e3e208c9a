"""Load: searching and writing clients together against `search serve --workers 2`, then every
acknowledged change is checked; and `search index` running beside the server's writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import httpx

from tests import loadgen
from tests.live import ROOT, Server

KEY = "load-test-key"
SECONDS = float(os.environ.get("LOAD_TEST_SECONDS", "8"))


def documents(client: httpx.Client) -> int:
    return client.get("/stats").json()["documents"]


def test_searches_and_writes_together_lose_nothing(index):
    live = Server(index, "--workers", "2", env={"SEARCH_API_KEY": KEY})
    try:
        before = documents(live.client)
        ledger = loadgen.Ledger()
        searches, writes = loadgen.Tally(), loadgen.Tally()
        stop = threading.Event()
        targets = [
            lambda i=i: loadgen.searcher(live.url, stop, searches, seed=i) for i in range(3)
        ] + [
            lambda i=i: loadgen.writer(live.url, KEY, stop, ledger, writes, f"w{i}", seed=i)
            for i in range(3)
        ]
        loadgen.run_threads(targets, SECONDS, stop)
        print(
            f"\n{searches.count} searches ({searches.count / SECONDS:.0f}/s, "
            f"p50 {searches.median():.0f} ms, p95 {searches.p95():.0f} ms), "
            f"{writes.count} writes ({writes.count / SECONDS:.0f}/s), "
            f"{len(ledger.words)} articles"
        )
        assert searches.errors == [] and writes.errors == []
        assert searches.count > 0 and writes.count > 0
        # each worker re-reads the index within 0.5 s; a fresh connection may reach either
        with httpx.Client(base_url=live.url, timeout=60) as client:
            threading.Event().wait(1.0)
            assert loadgen.lost(client, ledger) == []
            for _ in range(4):
                assert documents(client) == before + len(ledger.live())
    finally:
        live.stop()


def test_search_index_beside_the_servers_writes(index, tmp_path):
    corpus = tmp_path / "batch.jsonl"
    ids = [f"cli-{n}" for n in range(120)]
    with corpus.open("w") as handle:
        for n, doc_id in enumerate(ids):
            handle.write(json.dumps(loadgen.article(doc_id, loadgen.word("cli", n))) + "\n")
    env = {"SEARCH_API_KEY": KEY, "SEARCH_COMMIT_DOCS": "20", "SEARCH_COMMIT_SECONDS": "0.3"}
    live = Server(index, env=env)
    try:
        ledger, writes, stop = loadgen.Ledger(), loadgen.Tally(), threading.Event()
        thread = threading.Thread(
            target=loadgen.writer, args=(live.url, KEY, stop, ledger, writes, "srv", 1)
        )
        thread.start()
        result = subprocess.run(
            [sys.executable, "-m", "search", "index", corpus, "--index", index, "-q"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            timeout=300,
        )
        stop.set()
        thread.join(60)
        assert result.returncode == 0, result.stderr
        assert writes.errors == [] and writes.count > 0
        threading.Event().wait(1.0)
        assert loadgen.lost(live.client, ledger) == []
        for doc_id in ids:
            assert live.client.get(f"/documents/{doc_id}").status_code == 200
        assert documents(live.client) == 5 + len(ids) + len(ledger.live())
    finally:
        live.stop()
