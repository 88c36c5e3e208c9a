"""Running as a service: settings from a file, health states, SIGTERM with writes in flight,
refusing an unreadable index, several `search serve` processes on one folder."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest
from starlette.testclient import TestClient

from search import api
from search.generations import current_generation, open_index
from search.locking import WriteLock, lock_holder
from tests import loadgen
from tests.live import ROOT, Server, run

KEY = "life-key"


# --- settings ---------------------------------------------------------------------------------


def test_settings_come_from_flags_env_file_and_defaults_with_keys_masked(tmp_path):
    config = tmp_path / "search.toml"
    config.write_text('port = 8123\nmax_per_page = 50\napi_key = "s3cret-key"\n')
    result = run("--config", config, "settings", "--json", env={"SEARCH_MAX_PER_PAGE": "40"})
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert (rows["port"]["value"], rows["port"]["source"]) == (8123, f"config {config}")
    assert (rows["max_per_page"]["value"], rows["max_per_page"]["source"]) == (
        40,
        "env SEARCH_MAX_PER_PAGE",
    )
    assert rows["workers"] == {
        "name": "workers",
        "env": "SEARCH_WORKERS",
        "value": 1,
        "source": "default",
    }
    assert rows["api_key"]["value"] == "********"
    assert "s3cret-key" not in result.stdout
    plain = run("--config", config, "settings")
    assert "s3cret-key" not in plain.stdout and "port" in plain.stdout


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("bogus = 1\n", "unknown setting 'bogus'"),
        ('port = "x"\n', "expected a whole number"),
        ("port = [\n", "config file"),
        ('log_format = "xml"\n', "must be one of plain, json"),
    ],
)
def test_a_bad_config_file_stops_serve_with_one_line(tmp_path, text, message):
    config = tmp_path / "bad.toml"
    config.write_text(text)
    result = run("--config", config, "serve", "--index", tmp_path / "ix")
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr


def test_serve_takes_its_settings_from_the_config_file(index, tmp_path):
    config = tmp_path / "search.toml"
    config.write_text(f'index = "{index}"\nfragments = 1\nmax_per_page = 2\n')
    live = Server(tmp_path / "unused", "--index", str(index), env={"SEARCH_CONFIG": str(config)})
    try:
        result = live.client.get("/search", params={"q": "Raqqa"}).json()
        assert all(len(hit["highlights"]["body"]) <= 1 for hit in result["hits"])
        assert live.client.get("/search", params={"per_page": "3"}).status_code == 400
    finally:
        live.stop()


# --- health -----------------------------------------------------------------------------------


def test_health_states(index, tmp_path, monkeypatch):
    with TestClient(api.create_app(index)) as client:
        client.app.state.ready.wait(30)
        body = client.get("/health").json()
        assert body["status"] == "ok" and body["writer"] == {"queue": 0, "lock_holder": None}

        lock = WriteLock(index)
        lock.acquire(1)
        assert client.get("/health").json()["writer"]["lock_holder"] == os.getpid()
        lock.release()

        client.app.state.ready.clear()
        response = client.get("/health")
        assert (response.status_code, response.json()["status"]) == (503, "starting")
        client.app.state.ready.set()

        monkeypatch.setattr(api.os, "access", lambda path, mode: False)
        response = client.get("/health")
        assert (response.status_code, response.json()["status"]) == (200, "degraded")
        assert "read-only" in response.json()["reasons"][0]
        monkeypatch.undo()

        shutil.rmtree(current_generation(index))
        time.sleep(0.6)  # past the refresh interval
        response = client.get("/health")
        assert (response.status_code, response.json()["status"]) == (200, "degraded")
        assert client.get("/search", params={"q": "Raqqa"}).json()["total"] == 4

        client.app.state.updater.close(1)
        response = client.get("/health")
        assert (response.status_code, response.json()["status"]) == (503, "stopping")

    with TestClient(api.create_app(tmp_path / "nothing")) as client:
        client.app.state.ready.wait(30)
        response = client.get("/health")
        assert (response.status_code, response.json()["status"]) == (503, "unavailable")


def test_lock_holder(tmp_path):
    assert lock_holder(tmp_path) is None
    lock = WriteLock(tmp_path)
    lock.acquire(1)
    try:
        assert lock_holder(tmp_path) == os.getpid()
    finally:
        lock.release()
    assert lock_holder(tmp_path) is None


# --- refusing to start ------------------------------------------------------------------------


def test_serve_refuses_an_unreadable_index_in_one_line(index):
    for toc in current_generation(index).glob("*.toc"):
        toc.write_bytes(b"garbage")
    result = run("serve", "--index", index, "--port", "1")
    assert result.returncode == 2
    assert result.stderr.startswith(f"search: error: cannot read the index in {index}")
    assert len(result.stderr.strip().splitlines()) == 1


# --- SIGTERM ----------------------------------------------------------------------------------


def test_sigterm_finishes_what_is_in_flight_and_loses_nothing_acknowledged(index):
    live = Server(index, "--workers", "2", env={"SEARCH_API_KEY": KEY})
    ledger, tally, stop = loadgen.Ledger(), loadgen.Tally(), threading.Event()
    writers = [
        threading.Thread(
            target=loadgen.writer, args=(live.url, KEY, stop, ledger, tally, f"t{i}", i, True)
        )
        for i in range(3)
    ]
    for thread in writers:
        thread.start()
    time.sleep(2.0)
    live.process.send_signal(signal.SIGTERM)
    try:
        code = live.process.wait(timeout=60)
    finally:
        stop.set()
        for thread in writers:
            thread.join(60)
    assert code == 0
    assert tally.count > 0
    assert tally.errors == []  # every answer was a success: nothing half done, no 5xx
    again = Server(index, env={"SEARCH_API_KEY": KEY})
    try:
        assert loadgen.lost(again.client, ledger) == []
    finally:
        again.stop()


# --- several servers on one folder ------------------------------------------------------------


def test_two_servers_on_one_index_folder_see_each_others_writes(index):
    first = Server(index, env={"SEARCH_API_KEY": KEY})
    second = Server(index, "--workers", "2", env={"SEARCH_API_KEY": KEY})
    auth = {"Authorization": f"Bearer {KEY}"}
    try:
        for n, (writer, reader) in enumerate(((first, second), (second, first))):
            word = loadgen.word("two", n)
            doc = loadgen.article(f"two-{n}", word)
            assert writer.client.post("/documents", json=doc, headers=auth).status_code == 200
            time.sleep(1.0)
            for _ in range(6):  # new connections: either worker of the reader
                with httpx.Client(base_url=reader.url) as client:
                    assert client.get("/search", params={"q": word}).json()["total"] == 1
    finally:
        first.stop()
        second.stop()


# --- snapshots and replicas -------------------------------------------------------------------


def on_disk(folder) -> int:
    with open_index(folder).searcher() as searcher:
        return searcher.doc_count()


def test_snapshot_while_the_server_writes_makes_a_replica_that_serves(index, tmp_path):
    live = Server(index, "--workers", "2", env={"SEARCH_API_KEY": KEY})
    ledger, tally, stop = loadgen.Ledger(), loadgen.Tally(), threading.Event()
    writer = threading.Thread(
        target=loadgen.writer,
        args=(live.url, KEY, stop, ledger, tally, "snap", 3),
        kwargs={"only_add": True},  # counts only grow: the copy's falls between two readings
    )
    try:
        writer.start()
        time.sleep(1.0)
        before = on_disk(index)  # not /stats: a worker's view may be up to 0.5 s old
        result = run("snapshot", tmp_path / "replica", "--index", index)
        after = on_disk(index)
        stop.set()
        writer.join(60)
        assert result.returncode == 0, result.stderr
        assert tally.errors == []
        check = run("check", "--index", tmp_path / "replica")
        assert check.returncode == 0, check.stdout + check.stderr
        copied = int(result.stdout.split()[2])  # "snapshot of N documents -> DIR"
        assert before <= copied <= after
        replica = Server(tmp_path / "replica")  # a read-only replica: no key, no writes
        try:
            assert replica.client.get("/stats").json()["documents"] == copied
            assert replica.client.get("/search", params={"q": "Raqqa"}).json()["total"] >= 4
        finally:
            replica.stop()
    finally:
        stop.set()
        live.stop()


def test_export_then_index_restores_every_document(index, tmp_path):
    dump = tmp_path / "dump.jsonl"
    with dump.open("w") as out:
        result = subprocess.run(
            [sys.executable, "-m", "search", "export", "--index", index],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
        )
    assert result.returncode == 0 and "exported 5 documents" in result.stderr
    assert run("index", dump, "--index", tmp_path / "restored", "-q").returncode == 0
    assert run("check", "--index", tmp_path / "restored").returncode == 0
    original = run("query", "Raqqa", "--index", index, "--json")
    restored = run("query", "Raqqa", "--index", tmp_path / "restored", "--json")
    hits = [json.loads(r.stdout)["hits"] for r in (original, restored)]
    assert [h["id"] for h in hits[0]] == [h["id"] for h in hits[1]]
    assert [h["tags"] for h in hits[0]] == [h["tags"] for h in hits[1]]
