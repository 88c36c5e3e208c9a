"""query.py and suggest.py on small in-process indexes: the reads the API tests do not reach."""

from search.articles import Article
from search.index import write
from search.query import similar
from search.service import Service
from search.suggest import suggest


def test_similar_and_suggest_on_articles_without_body(tmp_path):
    write(
        [
            Article(id="a", title="Raqqa offensive begins", body=""),
            Article(id="b", title="Raqqa offensive stalls", body="SDF fighters near Raqqa."),
            Article(id="c", title="Mosul", body="Iraqi forces in Mosul."),
        ],
        tmp_path,
    )
    view = Service(tmp_path).view()
    assert [hit["id"] for hit in similar(view, "a")["hits"]][:1] == ["b"]
    assert suggest(view, "raq")["suggestions"][0] == {
        "text": "Raqqa",
        "kind": "place",
        "count": 2,
        "arabic": "الرقة",
    }


def test_suggest_counts_only_live_documents(tmp_path):
    write([Article(id="a", title="Raqqa", body="Raqqa")], tmp_path)
    write([Article(id="a", title="Mosul", body="Mosul")], tmp_path)  # replaces a
    view = Service(tmp_path).view()
    # (title words of replaced articles may linger until Whoosh merges their segment)
    assert [s for s in suggest(view, "raq")["suggestions"] if s["kind"] != "word"] == []
    assert suggest(view, "mos")["suggestions"][0]["count"] == 1
