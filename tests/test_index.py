from datetime import datetime

import pytest
from whoosh.filedb.filestore import RamStorage
from whoosh.query import Or, Term

from search import generations
from search.analysis import entity_tokens
from search.articles import Article, parse_text
from search.files import Problem
from search.generations import IndexNotFoundError, open_index
from search.index import write
from search.schema import ArticleSchema, to_document
from search.tagging import tag


def entity_query(text: str):
    return Or([Term(field, token) for token in entity_tokens(text) for field in ("title", "body")])


def search_ids(root, query) -> set[str]:
    with open_index(root).searcher() as searcher:
        return {hit["id"] for hit in searcher.search(query, limit=None)}


@pytest.fixture(scope="module")
def seed_index(tmp_path_factory, seed_paths):
    root = tmp_path_factory.mktemp("ix")
    articles = [parse_text(p.read_text(encoding="utf-8"), p.stem, str(p)) for p in seed_paths]
    summary = write(articles, root)
    assert (summary.indexed, summary.replaced, summary.skipped) == (5, 0, [])
    return root


def test_daesh_finds_all_five_seeds(seed_index):
    assert len(search_ids(seed_index, entity_query("Daesh"))) == 5


def test_deir_ezzor_finds_every_seed_naming_it(seed_index, seed_paths):
    spellings = ("Deir ez-Zor", "Deir Ezzor", "Deir al-Zour", "Deir ez Zor", "Dayr az-Zawr")
    naming = {
        p.stem for p in seed_paths if any(s in p.read_text(encoding="utf-8") for s in spellings)
    }
    assert naming == {
        "000_26f141be685b02d9",
        "001_ec32c9c98140bc5b",
        "003_6b8fefc9ed8c73f5",
        "004_bc0f7c810eb851fd",
    }
    assert search_ids(seed_index, entity_query("Deir Ezzor")) == naming


def test_stored_fields_and_facets_round_trip(seed_index):
    with open_index(seed_index).searcher() as searcher:
        doc = searcher.document(id="004_bc0f7c810eb851fd")
        assert doc["source"] == "RFE/RL"
        assert "date" not in doc and "year" not in doc  # no date in the file: none invented
        assert "Islamic State" in doc["faction"].split(",")
        assert doc["tags"]["credit"] == "With reporting by AP and AFP"
        first = searcher.document(id="000_26f141be685b02d9")
        assert first["date"] == datetime(2017, 7, 11)
        assert (first["year"], first["month"]) == ("2017", "2017-07")
        assert first["source"] == "Global Research,South Front"
        assert first["theme"] == "Terrorism,US NATO War Agenda"
        hits = searcher.search(Term("place", "Raqqa"), limit=None)
        assert {h["id"] for h in hits} >= {"001_ec32c9c98140bc5b", "004_bc0f7c810eb851fd"}


def _article(article_id, body, title="T"):
    return Article(id=article_id, title=title, body=body, origin=f"{article_id}.txt")


def test_indexing_again_replaces(tmp_path):
    write([_article("a", "Raqqa"), _article("b", "Mosul")], tmp_path)
    summary = write([_article("a", "Aleppo now"), _article("c", "Homs")], tmp_path)
    assert (summary.indexed, summary.replaced) == (1, 1)
    assert search_ids(tmp_path, Term("body", "aleppo")) == {"a"}
    assert search_ids(tmp_path, Term("body", "raqqa")) == set()
    with open_index(tmp_path).searcher() as searcher:
        assert searcher.doc_count() == 3


def test_duplicates_in_one_run(tmp_path):
    summary = write([_article("a", "one"), _article("a", "one"), _article("a", "two")], tmp_path)
    assert summary.indexed == 1
    assert [p.skipped for p in summary.problems] == [False, True]
    assert "other content" in summary.problems[1].message


def test_problems_pass_through(tmp_path):
    problem = Problem("x.txt", "empty file")
    summary = write([problem, None, _article("a", "b")], tmp_path)
    assert summary.skipped == [problem] and summary.indexed == 1
    assert "indexed 1, replaced 0, skipped 1" in summary.line()


def test_rebuild_swaps_generations_and_keeps_old_one_until_done(tmp_path):
    write([_article("old", "Raqqa")], tmp_path)
    first = generations.current_generation(tmp_path)
    reader = open_index(tmp_path).searcher()

    def articles():
        yield _article("new", "Mosul")
        # mid-rebuild, readers still see the old index
        assert search_ids(tmp_path, Term("id", "old")) == {"old"}
        yield _article("new2", "Homs")

    write(articles(), tmp_path, rebuild=True)
    assert generations.current_generation(tmp_path) != first
    assert search_ids(tmp_path, Term("id", "old")) == set()
    assert search_ids(tmp_path, Term("id", "new")) == {"new"}
    assert reader.document(id="old")["id"] == "old"  # an open reader keeps working
    reader.close()


def test_failed_rebuild_leaves_previous_index(tmp_path):
    write([_article("old", "Raqqa")], tmp_path)
    live = generations.current_generation(tmp_path)

    def broken():
        yield _article("new", "Mosul")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        write(broken(), tmp_path, rebuild=True)
    assert generations.current_generation(tmp_path) == live
    assert search_ids(tmp_path, Term("id", "old")) == {"old"}
    assert sorted(p.name for p in tmp_path.glob("gen-*")) == [live.name]


def test_missing_index(tmp_path):
    with pytest.raises(IndexNotFoundError, match="search index PATH"):
        open_index(tmp_path)


def test_in_memory_index_and_highlight_of_an_alias():
    storage = RamStorage()
    ix = storage.create_index(ArticleSchema())
    writer = ix.writer()
    article = _article("h", "Fighters of the Islamic State entered Raqqah.", title="Report")
    writer.add_document(**to_document(tag(article)))
    writer.commit()
    with ix.searcher() as searcher:
        hits = searcher.search(entity_query("Daesh"))
        assert len(hits) == 1
        # the entity token marks the words actually written, not the query's alias
        assert (
            hits[0].highlights("body") == 'of the <b class="match term0">Islamic State</b> entered'
        )


def test_env_var_sets_default_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("SEARCH_INDEX", str(tmp_path / "elsewhere"))
    assert generations.index_root() == tmp_path / "elsewhere"
    monkeypatch.delenv("SEARCH_INDEX")
    assert str(generations.index_root()) == "index"
