"""Cursor paging (search.cursor): next_cursor / cursor= continue a search after its last hit,
in an order that articles added or deleted meanwhile do not disturb."""

from __future__ import annotations

import shutil

import pytest

from search.cursor import MAX_WINDOW
from tests.live import Server

KEY = "cursor-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


def _pages(client, params: dict, first_cursor: str | None = None) -> list[list[dict]]:
    """Every page of a search by cursor."""
    pages = []
    cursor = first_cursor
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        answer = client.get("/search", params=query)
        assert answer.status_code == 200, answer.text
        body = answer.json()
        pages.append(body["hits"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


@pytest.mark.parametrize("sort", ["relevance", "date", "-date"])
@pytest.mark.parametrize("q", ["", "Syria"])
def test_cursor_pages_are_the_numbered_pages(app, sort, q):
    """With nothing changing, paging by cursor gives what paging by number gives."""
    params = {"q": q, "sort": sort, "per_page": 2, "facets": "none"}
    by_cursor = [h["id"] for page in _pages(app.client, params) for h in page]
    total = app.client.get("/search", params=params).json()["total"]
    by_number = []
    for number in range(1, -(-total // 2) + 1):
        page = app.client.get("/search", params={**params, "page": number}).json()
        by_number += [h["id"] for h in page["hits"]]
    assert by_cursor == by_number
    assert len(set(by_cursor)) == total > 0


def test_the_last_page_has_no_next_cursor(app):
    body = app.client.get("/search", params={"per_page": 100}).json()
    assert body["total"] <= 100 and body["next_cursor"] is None


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "eyJzIjoxfQ"}, "cursor"),  # JSON, but not a cursor
        ({"page": MAX_WINDOW // 10 + 1, "per_page": 10}, "cursor"),
        ({"page": MAX_WINDOW // 100 + 1, "per_page": 100}, "cursor"),
    ],
)
def test_bad_cursors_and_pages_past_the_window_are_400s(app, params, param):
    answer = app.client.get("/search", params=params)
    assert answer.status_code == 400
    assert answer.json()["error"]["param"] == param


def test_a_cursor_belongs_to_its_search_and_excludes_a_page_number(app):
    first = app.client.get("/search", params={"q": "Syria", "per_page": 1}).json()
    cursor = first["next_cursor"]
    assert cursor
    other = app.client.get("/search", params={"q": "Raqqa", "per_page": 1, "cursor": cursor})
    assert other.status_code == 400 and "another search" in other.json()["error"]["message"]
    resorted = app.client.get("/search", params={"q": "Syria", "sort": "date", "cursor": cursor})
    assert resorted.status_code == 400
    paged = app.client.get("/search", params={"q": "Syria", "page": 2, "cursor": cursor})
    assert paged.status_code == 400 and paged.json()["error"]["param"] == "page"
    # the page size, facets and highlights may change between pages
    more = {"q": "Syria", "per_page": 3, "facets": "none", "highlight": "false", "cursor": cursor}
    assert app.client.get("/search", params=more).status_code == 200


@pytest.fixture
def fakes_server(fakes_index, tmp_path):
    copy = tmp_path / "ix"
    shutil.copytree(fakes_index, copy)
    live = Server(copy, env={"SEARCH_API_KEY": KEY})
    yield live
    live.stop()


def _article(number: int) -> dict:
    # dated across FA-KES's years, so they land between its articles in every order
    return {
        "id": f"posted-{number:02d}",
        "title": f"Shelling reported in Aleppo, report {number}",
        "body": "Government forces shelled eastern Aleppo; activists said civilians died.",
        "date": f"{2012 + number % 6}-{1 + number % 12:02d}-15",
    }


@pytest.mark.parametrize("sort", ["relevance", "-date", "date"])
def test_paging_while_another_client_posts_gives_each_article_once(fakes_server, sort):
    """Between every two pages another client posts an article (30 in all) and deletes an
    earlier posted one: every FA-KES article comes exactly once."""
    client = fakes_server.client
    params = {"q": "", "sort": sort, "per_page": 25, "facets": "none", "highlight": "false"}
    first = client.get("/search", params=params).json()
    total = first["total"]
    seen = [h["id"] for h in first["hits"]]
    cursor = first["next_cursor"]
    posted = 0
    while cursor:
        if posted < 30:
            answer = client.post("/documents", json=_article(posted), headers=AUTH)
            assert answer.status_code == 200, answer.text
            if posted % 3 == 2:  # and delete one posted before
                gone = client.delete(f"/documents/posted-{posted - 1:02d}", headers=AUTH)
                assert gone.status_code == 200
            posted += 1
        body = client.get("/search", params={**params, "cursor": cursor}).json()
        seen += [h["id"] for h in body["hits"]]
        cursor = body["next_cursor"]
    assert posted == 30
    originals = [i for i in seen if not i.startswith("posted-")]
    assert len(originals) == len(set(originals)) == total
    assert len(seen) == len(set(seen))  # a posted article, too, comes at most once
