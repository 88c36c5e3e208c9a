"""A build on every core (search.segments) gives the index a build on one core gives."""

from __future__ import annotations

import pytest

from search import segments
from search.files import read_paths
from search.generations import current_generation, documents
from search.index import write
from search.query import search
from search.request import parse_request
from search.service import Service

QUERIES = ["Daesh", "Deir Ezzor", "chemical attack", "army", "Raqqa OR Aleppo", '"White Helmets"']


def build(path, root, jobs):
    _, items = read_paths([path])
    return write((i.article or i.problem for i in items), root, rebuild=True, jobs=jobs)


@pytest.fixture(scope="module")
def builds(fakes_csv, tmp_path_factory):
    out = {}
    for jobs in (1, 2):
        root = tmp_path_factory.mktemp(f"jobs{jobs}") / "ix"
        out[jobs] = (root, build(fakes_csv, root, jobs))
    return out


def test_same_documents_and_problems(builds):
    (one, serial), (two, parallel) = builds[1], builds[2]
    assert parallel.indexed == serial.indexed > segments.START
    assert [str(p) for p in parallel.problems] == [str(p) for p in serial.problems]
    # the same but for when each was indexed (two builds, two times)
    by_id = [
        {doc["id"]: {k: v for k, v in doc.items() if k != "indexed_at"} for doc in documents(root)}
        for root in (one, two)
    ]
    assert by_id[0] == by_id[1]


def test_one_segment_per_worker_and_the_same_words(builds):
    readers = [Service(root).view().searcher.reader() for root, _ in builds.values()]
    assert [len(list(r.leaf_readers())) for r in readers] == [1, 2]
    for field in ("title", "body", "spell_title", "spell_body", "faction", "place", "month"):
        assert set(readers[0].lexicon(field)) == set(readers[1].lexicon(field)), field


@pytest.mark.parametrize("q", QUERIES)
def test_same_answers(builds, q):
    views = [Service(root).view() for root, _ in builds.values()]
    request = parse_request({"q": [q], "per_page": ["100"]})
    one, two = (search(view, request) for view in views)
    assert one["total"] == two["total"] > 0
    assert one["facets"] == two["facets"] and one["histogram"] == two["histogram"]
    # equal scores may rank in another order: compare scores, and each hit both have
    assert sorted(h["score"] for h in one["hits"]) == sorted(h["score"] for h in two["hits"])
    seconds = {h["id"]: h for h in two["hits"]}
    for hit in one["hits"]:
        if hit["id"] in seconds:
            assert hit == seconds[hit["id"]]


def test_a_failing_worker_fails_the_build_and_the_live_index_stays(index, fakes_csv, monkeypatch):
    live = current_generation(index)
    before = sorted(doc["id"] for doc in documents(index))
    real = segments.tag

    def broken(article):
        if article.id.endswith("7"):
            raise RuntimeError("the tagger broke")
        return real(article)

    monkeypatch.setattr(segments, "tag", broken)  # the forked workers inherit it
    with pytest.raises(segments.WorkerFailed, match="the tagger broke"):
        build(fakes_csv, index, jobs=2)
    assert current_generation(index) == live
    assert sorted(doc["id"] for doc in documents(index)) == before
    assert [p.name for p in index.glob("gen-*")] == [live.name]
