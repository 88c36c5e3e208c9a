"""An index built before today's schema (no side, no operation facet) is refused with a
message saying how to rebuild it, rather than failing document by document."""

import pytest
from whoosh import index as whoosh_index

from search.generations import IndexOutdatedError, open_live
from search.schema import ArticleSchema


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        (("side", "operation"), r"no operation, side\): rebuild it"),
        # built before documents recorded when they were indexed ("new since" reads it)
        (("indexed_at",), r"no indexed_at\): rebuild it"),
    ],
)
def test_an_index_without_todays_fields_is_refused(tmp_path, missing, message):
    schema = ArticleSchema()
    for field in missing:
        schema.remove(field)
    folder = tmp_path / "gen-000001"
    folder.mkdir()
    whoosh_index.create_in(str(folder), schema)
    (tmp_path / "CURRENT").write_text("gen-000001", encoding="utf-8")
    with pytest.raises(IndexOutdatedError, match=message):
        open_live(tmp_path)
