"""Crashes: kill -9 of the server during writes and of `search index` in mid-corpus, several
times; the index must open, answer, hold everything acknowledged, and take the next run."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

from search.generations import current_generation, open_index
from tests import loadgen
from tests.live import ROOT, Server

KEY = "crash-test-key"
KILLS = int(os.environ.get("CRASH_TEST_KILLS", "3"))


def stored_ids(folder) -> list[str]:
    """Every document id in the index as a new process would open it."""
    with open_index(folder).searcher() as searcher:
        return [fields["id"] for fields in searcher.all_stored_fields()]


def test_kill_9_of_the_server_during_writes_loses_nothing_acknowledged(index):
    ledger = loadgen.Ledger()
    rng = random.Random(7)
    for kill in range(KILLS):
        live = Server(index, "--workers", "2", env={"SEARCH_API_KEY": KEY})
        stop, tally = threading.Event(), loadgen.Tally()
        writers = [
            threading.Thread(
                target=loadgen.writer,
                args=(live.url, KEY, stop, ledger, tally, f"k{kill}w{i}", kill * 10 + i, True),
            )
            for i in range(3)
        ]
        for thread in writers:
            thread.start()
        time.sleep(rng.uniform(1.0, 2.5))
        live.kill()  # SIGKILL to the supervisor and both workers, mid-write
        stop.set()
        for thread in writers:
            thread.join(60)
        assert tally.count > 0, "no write was acknowledged before the kill"
        assert tally.errors == []
        # opened afresh from disk: every acknowledged version is there, each id once
        ids = stored_ids(index)
        assert len(ids) == len(set(ids))
        assert ledger.present() <= set(ids)
    # the next run serves and writes normally, and agrees with everything acknowledged
    live = Server(index, env={"SEARCH_API_KEY": KEY})
    try:
        assert loadgen.lost(live.client, ledger) == []
        response = live.client.post(
            "/documents",
            json=loadgen.article("after", "zqafterx"),
            headers={"Authorization": f"Bearer {KEY}"},
        )
        assert response.json()["created"] == 1
        assert live.client.get("/search", params={"q": "zqafterx"}).json()["total"] == 1
    finally:
        live.stop()


def corpus(path, count: int) -> list[str]:
    ids = [f"bulk-{n:04d}" for n in range(count)]
    with path.open("w") as handle:
        for n, doc_id in enumerate(ids):
            handle.write(json.dumps(loadgen.article(doc_id, loadgen.word("bulk", n))) + "\n")
    return ids


def start_indexing(path, index, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "search", "-v", "index", path, "--index", index, *extra],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "SEARCH_COMMIT_DOCS": "25", "SEARCH_COMMIT_SECONDS": "60"},
    )


def kill_after_commits(process: subprocess.Popen, commits: int) -> int:
    """Let `search index` report `commits` commits, kill it, and return the documents its last
    reported commit holds."""
    committed = 0
    seen = 0
    for line in process.stderr:
        found = re.search(r"committed (\d+) documents", line)
        if found:
            committed, seen = int(found[1]), seen + 1
            if seen == commits:
                break
    process.send_signal(signal.SIGKILL)
    process.wait()
    return committed


def test_kill_9_of_search_index_keeps_every_commit(index, tmp_path):
    seeds = stored_ids(index)
    path = tmp_path / "bulk.jsonl"
    ids = corpus(path, 400)
    for kill in range(KILLS):
        process = start_indexing(path, index)
        committed = kill_after_commits(process, commits=kill + 1)
        assert committed >= 25
        present = set(stored_ids(index))
        # the file is read in order, so a commit of N documents holds its first N
        assert set(ids[:committed]) <= present
        assert len(present) == len(stored_ids(index))  # no id twice
    result = subprocess.run(
        [sys.executable, "-m", "search", "index", path, "--index", index, "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(stored_ids(index)) == sorted([*ids, *seeds])
    # no leftovers of the killed runs beside the live index's segments
    folder = current_generation(index)
    assert not [p for p in folder.iterdir() if p.suffix == ".tmp" or p.is_dir()]


def test_kill_9_of_a_rebuild_leaves_the_previous_index_live(index, tmp_path):
    before = sorted(stored_ids(index))
    generation = current_generation(index)
    big, small = tmp_path / "big.jsonl", tmp_path / "small.jsonl"
    corpus(big, 5000)
    corpus(small, 400)
    for _ in range(2):
        process = start_indexing(big, index, "--rebuild")
        deadline = time.monotonic() + 30
        while len(list(index.glob("gen-*"))) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)  # the new generation exists: the build has begun
        time.sleep(0.5)
        assert process.poll() is None, "the rebuild ended before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert current_generation(index) == generation
        assert sorted(stored_ids(index)) == before
    result = subprocess.run(
        [sys.executable, "-m", "search", "index", small, "--index", index, "--rebuild", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert len(stored_ids(index)) == 400
    # killed builds' folders are gone once a build completes
    assert len(list(index.glob("gen-*"))) <= 2
