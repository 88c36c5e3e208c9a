"""The write routes: keys, statuses, limits, busy answers, in process where the settings
allow it; a real `search serve` for the query limits (read when search is imported) and for
visibility in every worker."""

from __future__ import annotations

import json
import shutil
import threading
import time

import httpx
import pytest

from search.locking import WriteLock
from tests.live import InProcess, Server

KEY = "test-key-0123456789"
AUTH = {"Authorization": f"Bearer {KEY}"}


LIMITS = {
    "SEARCH_API_KEY": KEY,
    "SEARCH_MAX_BODY_BYTES": "20000",
    "SEARCH_MAX_ARTICLES": "5",
    "SEARCH_MAX_FIELD_BYTES": "5000",
    "SEARCH_MAX_QUERY_LENGTH": "50",
    "SEARCH_MAX_PER_PAGE": "20",
    "SEARCH_MAX_CLAUSES": "4",
    "SEARCH_MAX_DEPTH": "2",
    "SEARCH_MAX_EXPANSION": "3",
}


@pytest.fixture(scope="module")
def limited(tmp_path_factory, seeds_index):
    """A server with the key and small limits, over its own copy of the seeds, that the tests
    of this module write to (each with ids of its own)."""
    copy = tmp_path_factory.mktemp("writes") / "ix"
    shutil.copytree(seeds_index, copy)
    live = Server(copy, env=LIMITS)
    yield live
    live.stop()


def article(doc_id: str, word: str = "", **fields) -> dict:
    return {
        "id": doc_id,
        "title": f"Report {doc_id}",
        "body": f"Daesh near Raqqa. {word}",
        **fields,
    }


def total(served, q: str) -> int:
    response = served.client.get("/search", params={"q": q, "facets": "none"})
    assert response.status_code == 200, response.text
    return response.json()["total"]


def error_of(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()["error"]


# --- keys -------------------------------------------------------------------------------------

WRITES = [
    ("POST", "/documents", {"json": article("k1")}),
    ("PUT", "/documents/k1", {"json": article("k1")}),
    ("DELETE", "/documents/k1", {}),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_without_a_configured_key_writes_are_refused_with_how_to_enable_them(
    index, method, path, body
):
    with InProcess(index) as served:
        for headers in ({}, AUTH):
            response = served.client.request(method, path, headers=headers, **body)
            assert "SEARCH_API_KEY" in error_of(response, 403)["message"]
        assert served.client.get("/documents/k1").status_code == 404


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_write_routes_need_the_right_key(limited, method, path, body):
    response = limited.client.request(method, path, **body)
    assert error_of(response, 401)["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"
    for wrong in ("Bearer nope", f"Bearer {KEY}x", f"Basic {KEY}", "Bearer"):
        response = limited.client.request(method, path, headers={"Authorization": wrong}, **body)
        assert response.status_code in (401, 403), wrong
        assert KEY not in response.text
    assert limited.client.get("/documents/k1").status_code == 404  # nothing was written


def test_a_read_key_guards_reads_but_not_health(index, monkeypatch):
    monkeypatch.setenv("SEARCH_API_KEY", KEY)
    monkeypatch.setenv("SEARCH_READ_KEY", "reader")
    with InProcess(index) as served:
        client = served.client
        assert error_of(client.get("/search"), 401)["code"] == "unauthorized"
        bad = {"Authorization": "Bearer nope"}
        assert error_of(client.get("/search", headers=bad), 403)["code"] == "forbidden"
        for key in ("reader", KEY):
            response = client.get("/search", headers={"Authorization": f"Bearer {key}"})
            assert response.status_code == 200
        assert client.get("/health").status_code == 200
        # the read key does not open the write routes
        reader = {"Authorization": "Bearer reader"}
        assert client.post("/documents", json=article("r"), headers=reader).status_code == 403


# --- statuses ---------------------------------------------------------------------------------


def test_post_put_delete_round_trip(limited):
    response = limited.client.post("/documents", json=[article("w1", "zorbling")], headers=AUTH)
    assert response.status_code == 200
    assert response.json() == {
        "created": 1,
        "replaced": 0,
        "errors": 0,
        "items": [{"index": 0, "id": "w1", "status": "created"}],
    }
    # a 2xx means committed: this worker sees it at once
    assert total(limited, "zorbling") == 1
    document = limited.client.get("/documents/w1").json()
    assert document["facets"]["faction"] == ["Islamic State"]
    assert document["facets"]["place"] == ["Raqqa"]

    response = limited.client.put("/documents/w1", json=article("w1", "quibbler"), headers=AUTH)
    assert (response.status_code, response.json()) == (200, {"id": "w1", "status": "replaced"})
    assert (total(limited, "zorbling"), total(limited, "quibbler")) == (0, 1)

    response = limited.client.put(
        "/documents/w2", json={"title": "Fresh", "body": "x"}, headers=AUTH
    )
    assert (response.status_code, response.json()) == (201, {"id": "w2", "status": "created"})

    for doc_id in ("w1", "w2"):
        response = limited.client.delete(f"/documents/{doc_id}", headers=AUTH)
        assert response.json() == {"id": doc_id, "status": "deleted"}
        assert limited.client.get(f"/documents/{doc_id}").status_code == 404
    assert error_of(limited.client.delete("/documents/w1", headers=AUTH), 404)["code"] == (
        "not_found"
    )
    assert total(limited, "quibbler") == 0


def test_a_bad_article_does_not_block_the_good_ones(limited):
    batch = [
        article("g1", "glimmerfen"),
        {"id": "g2", "titel": "typo"},
        {"id": "g3", "title": {"nested": 1}},
        article("g1", "again"),
        "not an object",
        {"id": "g4", "title": "x", "body": "y" * 6000},
        article("g5", "glimmerfen"),
    ]
    response = limited.client.post("/documents", json=batch, headers=AUTH)
    assert response.status_code == 413  # 7 articles: more than SEARCH_MAX_ARTICLES
    response = limited.client.post("/documents", json=batch[1:6], headers=AUTH)
    body = response.json()
    assert response.status_code == 200
    assert (body["created"], body["replaced"], body["errors"]) == (1, 0, 4)
    items = body["items"]
    assert [i["status"] for i in items] == ["error", "error", "created", "error", "error"]
    assert items[0]["error"]["param"] == "titel"
    assert items[1]["error"]["param"] == "title"
    assert items[3]["error"]["message"] == "expected a JSON object, got str"
    assert items[4]["error"]["param"] == "body"
    assert "5000 bytes" in items[4]["error"]["message"]
    assert limited.client.get("/documents/g1").status_code == 200


def test_an_id_repeated_in_one_request_is_an_error_for_the_repeat(limited):
    batch = [article("d1", "firstcopy"), article("d1", "secondcopy")]
    items = limited.client.post("/documents", json=batch, headers=AUTH).json()["items"]
    assert items[0]["status"] == "created"
    assert items[1]["error"]["param"] == "id"
    assert (total(limited, "firstcopy"), total(limited, "secondcopy")) == (1, 0)


def test_every_article_bad_is_422(limited):
    response = limited.client.post("/documents", json=[{"nope": 1}], headers=AUTH)
    assert response.status_code == 422
    assert response.json()["errors"] == 1


def test_ndjson_and_wrapped_arrays(limited):
    lines = "\n".join(json.dumps(article(f"n{i}", "ndjsonword")) for i in range(3)) + "\n"
    headers = {**AUTH, "Content-Type": "application/x-ndjson"}
    response = limited.client.post("/documents", content=lines, headers=headers)
    assert response.json()["created"] == 3
    wrapped = {"articles": [article("n3", "ndjsonword")]}
    assert limited.client.post("/documents", json=wrapped, headers=AUTH).json()["created"] == 1
    assert total(limited, "ndjsonword") == 4


@pytest.mark.parametrize(
    ("content", "content_type", "status", "fragment"),
    [
        (b'{"id": "x", "title": ', "application/json", 400, "invalid JSON"),
        (b"[" * 15000, "application/json", 400, "invalid JSON"),
        (b"\xff\xfe\x00", "application/json", 400, "not UTF-8"),
        (b"title=x", "application/x-www-form-urlencoded", 415, "application/json"),
        (b"{}\n{", "application/x-ndjson", 400, "line 2"),
        (b"[]", "application/json", 400, "no article"),
        (b"42", "application/json", 400, "expected a JSON object or array"),
    ],
)
def test_bodies_that_cannot_be_read(limited, content, content_type, status, fragment):
    headers = {**AUTH, "Content-Type": content_type}
    response = limited.client.post("/documents", content=content, headers=headers)
    assert fragment in error_of(response, status)["message"]


def test_put_takes_one_article_whose_id_agrees_with_the_path(limited):
    response = limited.client.put("/documents/p1", json=[article("p1")], headers=AUTH)
    assert error_of(response, 400)["param"] == "body"
    response = limited.client.put("/documents/p1", json=article("other"), headers=AUTH)
    assert error_of(response, 422)["param"] == "id"
    assert limited.client.get("/documents/p1").status_code == 404


# --- limits -----------------------------------------------------------------------------------


def test_body_limit_with_and_without_content_length(limited):
    big = json.dumps(article("big", "x " * 15000)).encode()
    response = limited.client.post(
        "/documents", content=big, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert "20000 bytes" in error_of(response, 413)["message"]

    def chunks():  # no Content-Length: the limit applies while reading
        for start in range(0, len(big), 4096):
            yield big[start : start + 4096]

    response = limited.client.post(
        "/documents", content=chunks(), headers={**AUTH, "Content-Type": "application/json"}
    )
    assert error_of(response, 413)["code"] == "too_large"
    assert limited.client.get("/documents/big").status_code == 404


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"q": "x" * 51}, "50 characters"),
        ({"per_page": "21"}, "per_page"),
        ({"q": "a b c d e"}, "at most 4"),
        ({"q": "((a OR (b)))"}, "at most 2 levels"),
        ({"q": "ra*"}, "more than 3"),
    ],
)
def test_query_limits_are_settings(limited, params, fragment):
    response = limited.client.get("/search", params=params)
    assert fragment in error_of(response, 400)["message"]


# --- busy -------------------------------------------------------------------------------------


def test_a_writer_holding_the_lock_too_long_gives_503_with_retry_after(index, monkeypatch):
    monkeypatch.setenv("SEARCH_API_KEY", KEY)
    monkeypatch.setenv("SEARCH_WRITE_WAIT", "0.3")
    lock = WriteLock(index)  # busy for this process's writer thread too (test_updates)
    with InProcess(index) as served:
        try:
            lock.acquire(1)
            response = served.client.post("/documents", json=article("b1"), headers=AUTH)
            assert error_of(response, 503)["code"] == "busy"
            assert int(response.headers["retry-after"]) >= 1
            lock.release()
            response = served.client.post("/documents", json=article("b1"), headers=AUTH)
            assert response.json()["created"] == 1
        finally:
            lock.release()


def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.005)


def test_a_full_write_queue_gives_503_and_loses_nothing_accepted(index, monkeypatch):
    for name, value in (("API_KEY", KEY), ("WRITE_QUEUE", "1"), ("WRITE_WAIT", "30")):
        monkeypatch.setenv(f"SEARCH_{name}", value)
    lock = WriteLock(index)
    answers: dict[str, httpx.Response] = {}
    with InProcess(index) as served:
        updater = served.app.state.updater
        accepted = []  # the requests the writer queue took, in order

        def submit(changes, submit=updater.submit):
            future = submit(changes)
            accepted.append(future)
            return future

        monkeypatch.setattr(updater, "submit", submit)

        def post(doc_id):
            answers[doc_id] = served.client.post("/documents", json=article(doc_id), headers=AUTH)

        threads = [threading.Thread(target=post, args=(doc_id,)) for doc_id in ("q1", "q2")]
        try:
            lock.acquire(1)
            threads[0].start()  # q1 is taken by the writer thread, which waits on the lock
            wait_until(lambda: len(accepted) == 1 and updater.depth == 0)
            threads[1].start()  # q2 waits in the queue
            wait_until(lambda: len(accepted) == 2 and updater.depth == 1)
            response = served.client.post("/documents", json=article("q3"), headers=AUTH)
            assert error_of(response, 503)["code"] == "busy"
            assert response.headers["retry-after"] == "1"
            lock.release()
            for thread in threads:
                thread.join(60)
            assert [answers[d].json()["created"] for d in ("q1", "q2")] == [1, 1]
            assert served.client.get("/documents/q3").status_code == 404
        finally:
            lock.release()


# --- visibility -------------------------------------------------------------------------------


def test_every_worker_sees_a_commit_within_a_second(index):
    live = Server(index, "--workers", "2", env={"SEARCH_API_KEY": KEY})
    try:

        def hits(word):  # a new connection each time, so both workers answer
            with httpx.Client(base_url=live.url, timeout=30) as client:
                return client.get("/search", params={"q": word, "facets": "none"}).json()["total"]

        for _ in range(20):  # both workers have a view of the index open
            hits("warmup")
        response = live.client.post("/documents", json=article("v1", "vizzleword"), headers=AUTH)
        assert response.json()["created"] == 1
        time.sleep(1.0)
        assert [hits("vizzleword") for _ in range(20)] == [1] * 20
        live.client.delete("/documents/v1", headers=AUTH)
        time.sleep(1.0)
        assert [hits("vizzleword") for _ in range(20)] == [0] * 20
    finally:
        live.stop()


def test_bearer_parsing_and_key_checks(limited):
    for header in (f"Bearer\t{KEY}", f"bearer {KEY}", f"Bearer   {KEY}"):
        response = limited.client.delete("/documents/none", headers={"Authorization": header})
        assert response.status_code == 404, header  # authorised; the document is not there
    response = limited.client.delete("/documents/none", headers={"Authorization": "Bearer\tx"})
    assert response.status_code == 403


def test_removing_the_index_folder_under_a_server_degrades_without_a_500(index, monkeypatch):
    monkeypatch.setenv("SEARCH_API_KEY", KEY)
    with InProcess(index) as served:
        assert served.client.get("/search", params={"q": "Raqqa"}).json()["total"] == 4
        shutil.rmtree(index)
        time.sleep(0.6)  # past the refresh interval: the server looks again
        for path in ("/health", "/stats", "/search"):
            assert served.client.get(path).status_code in (200, 503), path
        response = served.client.post("/documents", json=article("gone"), headers=AUTH)
        assert response.status_code in (200, 503)


def test_an_unreadable_date_is_a_warning_in_its_item_or_with_strict_an_error(limited):
    batch = [
        article("dt1", "datewarn", date="yesterday"),
        article("dt2", "datewarn", date="2017-02-30"),
        article("dt3", "datewarn", date="2017-02-28"),
    ]
    body = limited.client.post("/documents", json=batch, headers=AUTH).json()
    assert [i["status"] for i in body["items"]] == ["created"] * 3
    assert body["items"][0]["warnings"] == ["unrecognised date 'yesterday' left empty"]
    assert body["items"][1]["warnings"] == ["unrecognised date '2017-02-30' left empty"]
    assert "warnings" not in body["items"][2]

    strict = limited.client.post(
        "/documents", params={"strict": "true"}, json=batch[:2], headers=AUTH
    )
    assert strict.status_code == 422
    errors = [item["error"] for item in strict.json()["items"]]
    assert [e["param"] for e in errors] == ["date", "date"]
    assert errors[0]["message"] == "unrecognised date 'yesterday' left empty"

    put = limited.client.put("/documents/dt1", json=batch[0], headers=AUTH)
    assert put.json() == {
        "id": "dt1",
        "status": "replaced",
        "warnings": ["unrecognised date 'yesterday' left empty"],
    }
    refused = limited.client.put(
        "/documents/dt1", params={"strict": "1"}, json=batch[0], headers=AUTH
    )
    assert error_of(refused, 422)["param"] == "date"


def test_stats_count_the_values_of_live_documents_only(limited):
    before = limited.client.get("/stats").json()["facets"]["place"]
    added = limited.client.post(
        "/documents",
        json={"id": "st1", "title": "Zubrowkan report", "body": "Shelling in Kafr Nabudah."},
        headers=AUTH,
    )
    assert added.json()["items"][0]["status"] == "created"
    assert limited.client.get("/stats").json()["facets"]["place"] == before + 1
    limited.client.delete("/documents/st1", headers=AUTH)
    assert limited.client.get("/stats").json()["facets"]["place"] == before
