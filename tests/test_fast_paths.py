"""The fast paths give what the slow ones gave: highlights from stored spans, corrections
over several segments, answers from the cache."""

from __future__ import annotations

import difflib
import random

import pytest

from search import highlight, view_arrays
from search.articles import Article
from search.index import apply, write
from search.query import positive_terms, search
from search.request import parse_request
from search.schema import Change, to_document
from search.service import Service
from search.suggest import _alias_words, _close_alias, _closest_word, _unknown
from search.tagging import tag
from search.view import build, docnums, match
from tests.live import InProcess
from tests.test_writes import AUTH, KEY

QUERIES = ["Daesh", "Deir Ezzor", "Raqqa attack", '"Syrian army"', "ISIS OR Kurds", "air*"]


@pytest.mark.parametrize("q", QUERIES)
def test_stored_spans_are_the_analysed_matches(seeds_index, q):
    view = Service(seeds_index).view()
    searcher = view.searcher
    request = parse_request({"q": [q]})
    answer = search(view, request)
    assert answer["hits"], q
    terms = positive_terms(build(view, request)[0])
    numbers = [searcher.document_number(id=hit["id"]) for hit in answer["hits"]]
    for field in ("title", "body"):
        stored = highlight.stored_ranges(searcher.reader(), field, terms.get(field, set()), numbers)
        for docnum in numbers:
            fields = searcher.stored_fields(docnum)
            # analysed as indexed: with the mentions the tagger settled on for the article
            article = Article(id=fields["id"], title=fields["title"], body=fields["body"])
            text = tag(article).text(field)
            assert stored[docnum] == highlight.match_ranges(text, terms.get(field, set()))
    assert any(h["highlights"]["body"][0]["ranges"] for h in answer["hits"])


def test_corrections_over_several_segments(index):
    extra = Article(
        id="extra-1", title="Fighting near Kobane", body="The Peshmerga held the ridge.", origin="x"
    )
    apply([Change("extra-1", to_document(tag(extra)))], index)
    view = Service(index).view()
    reader = view.searcher.reader()
    assert len(list(reader.leaf_readers())) == 2
    assert _closest_word(reader, "peshmergs") == "peshmerga"  # from the second segment
    assert _closest_word(reader, "goverment") == "government"  # from the first
    answer = search(view, parse_request({"q": ["goverment"]}))
    assert answer["suggestion"]["q"] == "government"


def test_the_closest_alias_is_difflibs_over_every_alias():
    rng = random.Random(7)
    aliases = list(_alias_words())
    words = ["mosol", "aleppoo", "hezbolah", "al nusra frnt", "x", "zzzz", "حلبب", "dair ez zor"]
    for alias in rng.sample(aliases, 300):  # one letter changed, dropped or doubled
        i = rng.randrange(len(alias))
        words.append(alias[:i] + rng.choice(["", "e", alias[i] * 2]) + alias[i + 1 :])
    for word in words:
        close = difflib.get_close_matches(word, aliases, n=1, cutoff=0.8)
        assert _close_alias(word) == (_alias_words()[close[0]] if close else None), word
    assert _close_alias("mosol") == "Mosul"


def test_repeated_search_comes_from_the_cache_until_the_index_changes(index, monkeypatch):
    monkeypatch.setenv("SEARCH_API_KEY", KEY)
    with InProcess(index) as served:
        get = served.client.get
        first = get("/search", params={"q": "Daesh"})
        again = get("/search", params={"q": "Daesh"})
        assert first.headers["x-cache"] == "miss" and again.headers["x-cache"] == "hit"
        assert first.json() == again.json()
        assert get("/search", params={"q": "Daesh", "page": 2}).headers["x-cache"] == "miss"
        body = {"title": "Daesh near Raqqa", "body": "Daesh fighters were seen."}
        assert served.client.put("/documents/new-1", json=body, headers=AUTH).status_code == 201
        after = get("/search", params={"q": "Daesh"})
        assert after.headers["x-cache"] == "miss"
        assert after.json()["total"] == first.json()["total"] + 1


def test_no_cache_when_its_size_is_zero(index, monkeypatch):
    monkeypatch.setenv("SEARCH_CACHE_SIZE", "0")
    with InProcess(index) as served:
        for _ in range(2):
            assert served.client.get("/search", params={"q": "Daesh"}).headers["x-cache"] == "miss"


MATCH_QUERIES = [
    "Daesh",
    "Daesh AND Raqqa",
    "Daesh OR Kurds OR zzzz",
    "army NOT Daesh",
    "NOT Daesh",
    '"Syrian army"',
    '"fighters near"',  # phrases: checked against positions over arrays (scoring._phrase)
    '"the Syrian army and the"',
    '"the the"',
    'title:"Raqqa" OR "near Raqqa"',
    '"fighters zzzz"',
    '"in the" NOT "the Kurds"',
    "air*",
    "*",
    "region:Syria",
    "zzzz",
    "(Raqqa OR Aleppo) AND NOT (Daesh OR army)",
]


@pytest.mark.parametrize("q", MATCH_QUERIES)
@pytest.mark.parametrize("dates", [{}, {"from": ["2017-01-01"], "to": ["2017-12-31"]}])
def test_match_sets_are_whooshs_matches(index, q, dates):
    body = "Daesh fighters near Raqqa; the Syrian army and the Kurds in Aleppo."
    doc = Article(id="extra-2", title="Raqqa", body=body, origin="x")
    victim = next(iter(Service(index).view().searcher.documents()))["id"]
    apply([Change("extra-2", to_document(tag(doc))), Change(victim, None)], index)
    view = Service(index).view()
    assert view.searcher.reader().has_deletions()
    query, _ = build(view, parse_request({"q": [q], **dates}))
    expected = set(view.searcher.docs_for_query(query))
    assert set(docnums(view, query).tolist()) == expected
    scored = match(view, query, scored=True).scores
    for hit in view.searcher.search(query, limit=None):
        assert scored[hit.docnum] == pytest.approx(hit.score, rel=1e-9)


@pytest.mark.parametrize("whole", [0, 10**9])  # positions read per document asked; all kept
def test_phrase_positions_read_either_way_give_whooshs_matches(index, monkeypatch, whole):
    monkeypatch.setattr(view_arrays, "WHOLE", whole)
    view = Service(index).view()
    for q in ('"in the"', '"of the city"', '"the city of"', '"zzzz the"'):
        query, _ = build(view, parse_request({"q": [q]}))
        expected = set(view.searcher.docs_for_query(query))
        assert bool(expected) == ("zzzz" not in q), q
        assert set(docnums(view, query).tolist()) == expected


def test_segments_that_drew_the_same_random_id_are_told_apart(tmp_path):
    """Whoosh names segments with `random`: a seeded run draws the same name again, and the
    arrays of one index must not answer for another."""
    answers = {}
    for word in ("Raqqa", "Aleppo"):
        random.seed(16)
        article = Article(id=word, title=f"{word} today", body=f"News from {word}.", origin="x")
        write([article], tmp_path / word)
        view = Service(tmp_path / word).view()
        answers[word] = [hit["id"] for hit in search(view, parse_request({"q": ["Raqqa"]}))["hits"]]
        view.close()
    assert answers == {"Raqqa": ["Raqqa"], "Aleppo": []}


def test_did_you_mean_corrects_at_most_three_words_of_letters(seeds_index):
    reader = Service(seeds_index).view().searcher.reader()
    unknown = [w.text for w in _unknown(reader, "Mosol T72 x1b abc123 Raqqa zzzz qqqq wwww vvvv")]
    assert unknown == ["Mosol", "zzzz", "qqqq"]  # known words, numbers and codes left alone
    assert [w.text for w in _unknown(reader, "a" * 25 + " Aleppoo")] == ["Aleppoo"]
    assert [w.text for w in _unknown(reader, "Hezbolah Qamishlii-Amudda")] == [
        "Hezbolah",
        "Qamishlii-Amudda",
    ]
    answer = search(Service(seeds_index).view(), parse_request({"q": ["Mosol 1234567"]}))
    assert answer["suggestion"]["q"] == "Mosul 1234567"
