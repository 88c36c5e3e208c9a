"""Saved searches (search.saved, search.news): written with the key, on disk when answered,
listing what was indexed after a mark, and kept through restarts, rebuilds, snapshots and
an export and restore."""

from __future__ import annotations

import json

import feedparser
import pytest

from search.saved import FILE
from tests.live import Server, run

KEY = "saved-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
OLD_REPORT = {
    "id": "old-report",
    "title": "A 2013 report on Raqqa, filed today",
    "body": "Fighting in Raqqa in March 2013, as reported then.",
    "date": "2013-03-04",
}


@pytest.fixture
def live(index):
    server = Server(index, env={"SEARCH_API_KEY": KEY})
    yield server
    server.stop()


def _save(client, body: dict) -> dict:
    answer = client.post("/saved-searches", json=body, headers=AUTH)
    assert answer.status_code == 201, answer.text
    saved = answer.json()
    assert answer.headers["location"] == saved["url"]
    return saved


def test_writing_needs_the_key(live):
    body = {"name": "Raqqa", "q": "Raqqa"}
    assert live.client.post("/saved-searches", json=body).status_code == 401
    wrong = {"Authorization": "Bearer nope"}
    assert live.client.post("/saved-searches", json=body, headers=wrong).status_code == 403
    saved = _save(live.client, body)
    assert live.client.delete(f"/saved-searches/{saved['id']}").status_code == 401
    assert live.client.get("/saved-searches").json()["saved_searches"][0]["id"] == saved["id"]
    gone = live.client.delete(f"/saved-searches/{saved['id']}", headers=AUTH)
    assert gone.status_code == 200
    again = live.client.delete(f"/saved-searches/{saved['id']}", headers=AUTH)
    assert again.status_code == 404 and again.json()["error"]["param"] == "id"
    assert live.client.get(f"/saved-searches/{saved['id']}").status_code == 404


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"q": "Raqqa"}, "name"),
        ({"name": "", "q": "Raqqa"}, "name"),
        ({"name": "x", "colour": "red"}, "colour"),
        ({"name": "x", "faction": [1]}, "faction"),
        ({"name": "x", "q": "(Raqqa"}, "q"),
        ({"name": "x", "sort": "sideways"}, "sort"),
        (["not", "an", "object"], "body"),
    ],
)
def test_a_bad_saved_search_is_a_400_naming_it(live, body, param):
    answer = live.client.post("/saved-searches", json=body, headers=AUTH)
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == param


def test_new_lists_an_old_report_posted_after_saving_and_so_does_the_feed(live, index):
    client = live.client
    saved = _save(client, {"name": "Raqqa monitor", "q": "Raqqa", "country": "Syria"})
    assert saved["params"] == {"q": ["Raqqa"], "country": ["Syria"]}
    on_disk = json.loads((index / FILE).read_text(encoding="utf-8"))  # 201: on disk
    assert [s["id"] for s in on_disk["saved_searches"]] == [saved["id"]]
    empty = client.get(f"/saved-searches/{saved['id']}/new", params={"since": saved["since"]})
    assert empty.status_code == 200 and empty.json()["hits"] == []
    feed = client.get(saved["feed"].removeprefix(live.url))
    assert feed.status_code == 200
    before = feedparser.parse(feed.content)
    assert not before.bozo and before.feed.title == "Raqqa monitor"

    assert client.post("/documents", json=OLD_REPORT, headers=AUTH).status_code == 200
    # the worker that wrote looks at once: no waiting
    new = client.get(saved["new"].removeprefix(live.url)).json()
    assert [h["id"] for h in new["hits"]] == ["old-report"] and new["total"] == 1
    assert new["hits"][0]["date"] == "2013-03-04"
    after = feedparser.parse(client.get(saved["feed"].removeprefix(live.url)).content)
    assert not after.bozo
    assert after.entries[0].id == f"{live.url}/?doc=old-report"  # latest indexed first
    polled = client.get(
        saved["feed"].removeprefix(live.url), headers={"If-None-Match": feed.headers["etag"]}
    )
    assert polled.status_code == 200
    # the next token: nothing new since
    later = client.get(f"/saved-searches/{saved['id']}/new", params={"since": new["next"]})
    assert later.json()["hits"] == []
    same = client.get(
        saved["feed"].removeprefix(live.url), headers={"If-None-Match": polled.headers["etag"]}
    )
    assert same.status_code == 304


def test_new_pages_through_a_batch_with_next(live):
    client = live.client
    saved = _save(client, {"name": "Palmyra", "q": "Palmyra"})
    batch = [
        {"id": f"batch-{n}", "title": f"Palmyra {n}", "body": "Palmyra again."} for n in range(5)
    ]
    assert client.post("/documents", json=batch, headers=AUTH).status_code == 200
    seen, since = [], saved["since"]
    for _ in range(5):
        page = client.get(f"/saved-searches/{saved['id']}/new", params={"since": since, "size": 2})
        body = page.json()
        seen += [h["id"] for h in body["hits"]]
        since = body["next"]
        if not body["truncated"]:
            break
    assert seen == [f"batch-{n}" for n in range(5)]  # one commit: one stamp, ids in order
    bad = client.get(f"/saved-searches/{saved['id']}/new", params={"since": "garbage"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "since"


def test_saved_searches_survive_a_restart_a_rebuild_a_snapshot_and_a_restore(index, tmp_path):
    server = Server(index, env={"SEARCH_API_KEY": KEY})
    try:
        saved = _save(server.client, {"name": "Raqqa", "q": "Raqqa"})
        assert server.client.post("/documents", json=OLD_REPORT, headers=AUTH).status_code == 200
    finally:
        server.stop()
    server = Server(index, env={"SEARCH_API_KEY": KEY})
    try:  # a restart: the search, and what is new since it was saved
        assert server.client.get(f"/saved-searches/{saved['id']}").json()["name"] == "Raqqa"
        new = server.client.get(f"/saved-searches/{saved['id']}/new").json()
        assert [h["id"] for h in new["hits"]] == ["old-report"]
    finally:
        server.stop()
    snapshot = tmp_path / "snap"
    assert run("snapshot", snapshot, "--index", index).returncode == 0
    dump = run("export", "--index", index)
    saved_file = run("saved", "--index", index)
    assert dump.returncode == saved_file.returncode == 0
    assert run("index", "--rebuild", "seeds", "--index", index, "-q").returncode == 0
    (tmp_path / "dump.jsonl").write_text(dump.stdout, encoding="utf-8")
    (tmp_path / "saved.json").write_text(saved_file.stdout, encoding="utf-8")
    restored = tmp_path / "restored"
    assert run("index", tmp_path / "dump.jsonl", "--index", restored, "-q").returncode == 0
    assert run("saved", "--import", tmp_path / "saved.json", "--index", restored).returncode == 0
    server = Server(index)
    try:  # the rebuild read the seeds again: they were there before, they are not new
        new = server.client.get(f"/saved-searches/{saved['id']}/new").json()
        assert new["hits"] == [] and server.client.get("/search?q=Raqqa").json()["total"] > 0
    finally:
        server.stop()
    for folder in (index, snapshot, restored):
        listed = json.loads(run("saved", "--index", folder).stdout)["saved_searches"]
        assert [s["id"] for s in listed] == [saved["id"]], folder
    server = Server(restored)
    try:  # the restore keeps when each article was indexed: the old report is still new
        new = server.client.get(f"/saved-searches/{saved['id']}/new").json()
        assert [h["id"] for h in new["hits"]] == ["old-report"]
    finally:
        server.stop()
