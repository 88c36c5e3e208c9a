"""Atom feeds of searches (search.feeds): GET /search.atom read back by feedparser, as a feed
reader reads it, and its validators: a repeat poll of an unchanged search gets 304."""

from __future__ import annotations

import feedparser
import pytest

from tests.live import InProcess

KEY = "feed-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


@pytest.fixture
def served(index, monkeypatch):
    monkeypatch.setenv("SEARCH_API_KEY", KEY)
    with InProcess(index) as app:
        yield app


def _feed(client, params: dict):
    answer = client.get("/search.atom", params=params)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(answer.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return answer, parsed


def test_a_query_with_control_characters_is_still_a_feed(app):
    _, parsed = _feed(app.client, {"q": "Raqqa \x15\x0b", "from": "2017-01-01"})
    assert "Raqqa" in parsed.feed.title


def test_feedparser_reads_a_search_as_atom(app):
    answer, parsed = _feed(app.client, {"q": "Raqqa"})
    hits = app.client.get("/search", params={"q": "Raqqa", "sort": "-date", "per_page": 50})
    expected = hits.json()["hits"]
    assert parsed.version == "atom10"
    assert [e.id for e in parsed.entries] == [f"{app.url}/?doc={h['id']}" for h in expected]
    assert expected, "the seeds mention Raqqa"
    for entry, hit in zip(parsed.entries, expected, strict=True):
        assert entry.title == hit["title"]
        assert entry.link == f"{app.url}/?doc={hit['id']}"
        related = [link.href for link in entry.links if link.rel == "related"]
        assert related == ([hit["url"]] if hit["url"] else [])
        assert entry.author == (hit["source"] or "unknown source")
        if hit["date"]:
            assert entry.updated.startswith(hit["date"])
        assert "<" not in entry.summary  # a snippet as text, never markup
    assert parsed.feed.updated
    assert any(link.rel == "self" for link in parsed.feed.links)


def test_a_feed_takes_the_parameters_of_search(app):
    _, everything = _feed(app.client, {"q": ""})
    _, dated = _feed(app.client, {"q": "", "sort": "date", "per_page": 2})
    assert len(dated.entries) == 2 < len(everything.entries)
    total = app.client.get("/search", params={"country": "Iraq"}).json()["total"]
    _, filtered = _feed(app.client, {"country": "Iraq"})
    assert len(filtered.entries) == total
    bad = app.client.get("/search.atom", params={"sort": "sideways"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "sort"


def test_a_repeat_poll_gets_304(app):
    first, _ = _feed(app.client, {"q": "Raqqa"})
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    again = app.client.get("/search.atom", params={"q": "Raqqa"}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag and not again.content
    since = {"If-Modified-Since": modified}
    assert app.client.get("/search.atom", params={"q": "Raqqa"}, headers=since).status_code == 304
    other = app.client.get("/search.atom", params={"q": "Raqqa"}, headers={"If-None-Match": '"x"'})
    assert other.status_code == 200
    # another search is another feed
    assert _feed(app.client, {"q": "Mosul"})[0].headers["etag"] != etag


def test_validators_change_when_entries_change_and_only_then(served):
    client = served.client
    first, _ = _feed(client, {"q": "Raqqa"})
    unrelated = {"id": "elsewhere", "title": "Rain in Oslo", "body": "Weather report for Oslo."}
    assert client.post("/documents", json=unrelated, headers=AUTH).status_code == 200
    second, _ = _feed(client, {"q": "Raqqa"})
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers["last-modified"] == first.headers["last-modified"]
    article = {
        "id": "raqqa-new",
        "title": "Raqqa <b>& news</b>",
        "body": "Fighting near Raqqa <script>alert(1)</script> went on.",
        "date": "2030-01-01",
        "url": "https://example.org/raqqa",
        "source": "Example Wire",
    }
    assert client.post("/documents", json=article, headers=AUTH).status_code == 200
    third, parsed = _feed(client, {"q": "Raqqa"})
    assert third.headers["etag"] != first.headers["etag"]
    newest = parsed.entries[0]
    assert newest.title == "Raqqa <b>& news</b>"  # escaped in the XML, read back as written
    assert newest.author == "Example Wire"
    assert [link.href for link in newest.links if link.rel == "related"] == [article["url"]]
    assert "alert(1)" in newest.summary and newest.summary_detail.type == "text/plain"
    stale = client.get(
        "/search.atom", params={"q": "Raqqa"}, headers={"If-None-Match": first.headers["etag"]}
    )
    assert stale.status_code == 200
