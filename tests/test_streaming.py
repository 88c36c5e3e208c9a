"""Whole-result export (search.streaming): GET /search.csv and /search.jsonl and
`search query --format`, every match streamed with memory that does not grow with the
documents."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from search.generations import open_index
from search.request import parse_request
from search.streaming import DEFAULT_FIELDS, LIST_SEPARATOR, LISTS, Export
from search.view import View
from tests.live import InProcess, run

SHARED = Path(__file__).resolve().parents[2] / "shared"
MAKE_CORPUS = SHARED / "bench" / "make_corpus.py"


@pytest.fixture(scope="module")
def fakes(fakes_index):
    with InProcess(fakes_index) as served:
        yield served


def _csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_of_everything_has_one_row_per_article(fakes):
    total = fakes.client.get("/search", params={"per_page": 0}).json()["total"]
    answer = fakes.client.get("/search.csv", params={"q": ""})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = _csv(answer.text)
    assert len(rows) == total == int(answer.headers["x-total-count"]) > 700
    assert list(rows[0]) == list(DEFAULT_FIELDS)
    assert len({row["id"] for row in rows}) == total
    for row in rows[:: total // 8]:  # each cell holds the document's values, in order
        document = fakes.client.get(f"/documents/{row['id']}").json()
        assert row["title"] == document["title"]
        for name in LISTS:
            cell = row[name].split(LIST_SEPARATOR) if row[name] else []
            assert cell == document["facets"][name]


def _every_hit(client, params: dict) -> list[str]:
    found, cursor = [], None
    while True:
        query = {**params, "per_page": 100, **({"cursor": cursor} if cursor else {})}
        body = client.get("/search", params=query).json()
        found += [h["id"] for h in body["hits"]]
        cursor = body["next_cursor"]
        if not cursor:
            return found


@pytest.mark.parametrize("sort", ["relevance", "-date"])
def test_jsonl_gives_every_hit_in_the_order_of_the_search(fakes, sort):
    params = {"q": "Aleppo", "sort": sort}
    answer = fakes.client.get("/search.jsonl", params=params)
    assert answer.status_code == 200
    records = [json.loads(line) for line in answer.text.splitlines()]
    hits = _every_hit(fakes.client, params)
    assert len(hits) > 100
    # the same articles; among equal keys (a day, a score) in index order
    assert sorted(r["id"] for r in records) == sorted(hits)
    if sort == "-date":
        dates = [r["date"] or "" for r in records]
        assert dates == sorted(dates, reverse=True)
    assert all(isinstance(r["faction"], list) for r in records)


def test_fields_and_body_choose_the_columns(fakes):
    answer = fakes.client.get(
        "/search.jsonl", params={"q": "Aleppo", "fields": "id,date,indexed_at", "body": "true"}
    )
    first = json.loads(answer.text.splitlines()[0])
    assert list(first) == ["id", "date", "indexed_at", "body"]
    assert first["body"] and first["indexed_at"].endswith("+00:00")


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"fields": "id,nope"}, "fields"),
        ({"body": "perhaps"}, "body"),
        ({"q": "(Aleppo"}, "q"),
        ({"cursor": "x"}, "cursor"),  # not a parameter of an export
    ],
)
def test_bad_export_parameters_are_400s_before_any_row(fakes, params, param):
    for route in ("/search.csv", "/search.jsonl"):
        answer = fakes.client.get(route, params=params)
        assert answer.status_code == 400
        assert answer.json()["error"]["param"] == param


def test_the_cli_prints_the_same_export(fakes, fakes_index):
    result = run("query", "Aleppo", "--format", "csv", "--index", fakes_index)
    assert result.returncode == 0, result.stderr
    served = fakes.client.get("/search.csv", params={"q": "Aleppo"}).text
    assert result.stdout.replace("\r\n", "\n") == served.replace("\r\n", "\n")
    lines = run("query", "--format", "jsonl", "--fields", "id", "--index", fakes_index)
    total = fakes.client.get("/search", params={"per_page": 0}).json()["total"]
    assert [list(json.loads(line)) for line in lines.stdout.splitlines()] == [["id"]] * total
    bad = run("query", "x", "--format", "csv", "--fields", "nope", "--index", fakes_index)
    assert bad.returncode == 2 and "unknown field 'nope'" in bad.stderr


@pytest.fixture(scope="module")
def corpus_5k(tmp_path_factory) -> Path:
    """5,000 generated articles (bodies cut to 600 characters: the export's memory is
    what is measured, not the tagger's time) indexed by the CLI."""
    if not MAKE_CORPUS.exists():
        pytest.skip(f"{MAKE_CORPUS} is not here")
    folder = tmp_path_factory.mktemp("c5k")
    raw = folder / "raw.jsonl"
    subprocess.run(
        [sys.executable, MAKE_CORPUS, "--n", "5000", "--seed", "1", "--out", raw], check=True
    )
    short = folder / "articles.jsonl"
    with raw.open(encoding="utf-8") as source, short.open("w", encoding="utf-8") as out:
        for line in source:
            record = json.loads(line)
            record["body"] = record["body"][:600]
            out.write(json.dumps(record) + "\n")
    result = run("index", short, "--index", folder / "ix", "-q")
    assert result.returncode == 0, result.stderr
    return folder / "ix"


def _export_peak(root: Path, q: str) -> tuple[int, int, int]:
    """(matches, bytes written, peak bytes allocated) of exporting a search with bodies,
    measured after a first export has opened what the view reads lazily (as a serving
    view has, after its first requests)."""
    view = View(open_index(root).searcher())
    try:
        fields = (*DEFAULT_FIELDS, "body")
        for _ in Export(view, parse_request({"q": [q]})).lines(fields, "csv"):
            pass
        tracemalloc.start()
        try:
            exported = Export(view, parse_request({"q": [q]}))
            size = sum(len(chunk) for chunk in exported.lines(fields, "csv"))
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        return exported.total, size, peak
    finally:
        view.close()


def test_memory_stays_flat_from_fakes_to_5k(fakes_index, corpus_5k):
    small = _export_peak(fakes_index, "")
    large = _export_peak(corpus_5k, "")
    assert large[0] == 5_000 and small[0] > 700
    # The documents pass through a batch at a time: what stays is the matches' document
    # numbers (a few hundred bytes a match at most), never their text.
    growth = (large[2] - small[2]) / (large[0] - small[0])
    assert growth < 512, f"{growth:.0f} bytes more per match"
    assert large[2] < large[1] / 2
