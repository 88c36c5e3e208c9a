import json

import pytest

from search import intake
from search.errors import BadArticle, BadParameter, UnsupportedMediaType
from search.index import Change

NDJSON = "application/x-ndjson"


@pytest.fixture(autouse=True)
def default_field_limit(monkeypatch):
    monkeypatch.delenv("SEARCH_MAX_FIELD_BYTES", raising=False)


# --- records() --------------------------------------------------------------------------------


def test_json_object_is_one_record():
    body = json.dumps({"id": "a", "title": "T", "body": "B"}).encode()
    assert intake.records(body, "application/json") == [{"id": "a", "title": "T", "body": "B"}]


def test_missing_content_type_is_read_as_json():
    assert intake.records(b'{"id": "a"}', None) == [{"id": "a"}]


def test_json_array_is_its_records():
    body = b'[{"id": "a", "body": "x"}, {"id": "b", "body": "y"}]'
    assert intake.records(body, "application/json") == [
        {"id": "a", "body": "x"},
        {"id": "b", "body": "y"},
    ]


def test_json_object_holding_articles_is_its_records():
    body = b'{"articles": [{"id": "a", "body": "x"}, {"id": "b", "body": "y"}]}'
    assert intake.records(body, "application/json") == [
        {"id": "a", "body": "x"},
        {"id": "b", "body": "y"},
    ]


def test_content_type_with_charset_parameter():
    body = b'[{"id": "a", "body": "x"}]'
    assert intake.records(body, "application/json; charset=utf-8") == [{"id": "a", "body": "x"}]
    assert intake.records(body, "Application/JSON ; charset=UTF-8") == [{"id": "a", "body": "x"}]


def test_utf8_bom_is_accepted():
    body = "\ufeff".encode() + b'{"id": "a"}'
    assert intake.records(body, "application/json") == [{"id": "a"}]


def test_ndjson_one_object_per_line_blank_lines_skipped():
    body = b'\n{"id": "a", "body": "x"}\n\n   \n{"id": "b", "body": "y"}\n'
    assert intake.records(body, NDJSON) == [
        {"id": "a", "body": "x"},
        {"id": "b", "body": "y"},
    ]


@pytest.mark.parametrize("media", ["application/ndjson", "application/jsonl"])
def test_other_ndjson_media_types(media):
    assert intake.records(b'{"id": "a"}\n{"id": "b"}', media) == [{"id": "a"}, {"id": "b"}]


def test_ndjson_with_charset_parameter_and_crlf_lines():
    body = b'{"id": "a"}\r\n{"id": "b"}\r\n'
    assert intake.records(body, NDJSON + "; charset=utf-8") == [{"id": "a"}, {"id": "b"}]


def test_ndjson_bad_line_names_its_number():
    body = b'{"id": "a", "body": "x"}\n\n{"id": oops}\n{"id": "c"}\n'
    with pytest.raises(BadParameter) as caught:
        intake.records(body, NDJSON)
    assert "line 3" in caught.value.message
    assert caught.value.param == "body"
    assert caught.value.status == 400


def test_ndjson_deeply_nested_line_is_a_bad_parameter():
    body = b'{"id": "a"}\n' + b"[" * 100_000 + b"\n"
    with pytest.raises(BadParameter) as caught:
        intake.records(body, NDJSON)
    assert "line 2" in caught.value.message


@pytest.mark.parametrize(
    "media", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_other_media_types_are_unsupported(media):
    with pytest.raises(UnsupportedMediaType) as caught:
        intake.records(b'{"id": "a"}', media)
    assert caught.value.status == 415
    assert caught.value.code == "unsupported_media_type"


def test_non_utf8_body_is_a_bad_parameter():
    with pytest.raises(BadParameter) as caught:
        intake.records(b'{"title": "caf\xe9"}', "application/json")
    assert caught.value.status == 400
    assert caught.value.param == "body"
    assert "UTF-8" in caught.value.message


def test_non_utf8_ndjson_is_a_bad_parameter():
    with pytest.raises(BadParameter):
        intake.records(b'{"title": "\xff\xfe"}\n', NDJSON)


def test_invalid_json_is_a_bad_parameter_with_status_400():
    with pytest.raises(BadParameter) as caught:
        intake.records(b'{"id": "a",\n "body": }', "application/json")
    assert caught.value.status == 400
    assert caught.value.code == "bad_parameter"
    assert caught.value.param == "body"
    assert "invalid JSON" in caught.value.message
    assert "line 2" in caught.value.message


def test_empty_json_body_is_a_bad_parameter():
    with pytest.raises(BadParameter):
        intake.records(b"", "application/json")


@pytest.mark.parametrize("body", [b"42", b'"text"', b"null", b"true"])
def test_json_scalar_is_a_bad_parameter(body):
    with pytest.raises(BadParameter) as caught:
        intake.records(body, "application/json")
    assert "expected a JSON object or array" in caught.value.message


def test_deeply_nested_json_is_a_bad_parameter_not_recursion_error():
    with pytest.raises(BadParameter) as caught:
        intake.records(b"[" * 100_000, "application/json")
    assert caught.value.status == 400


def test_deeply_nested_closed_json_is_a_bad_parameter():
    with pytest.raises(BadParameter):
        intake.records(b"[" * 100_000 + b"]" * 100_000, "application/json")


# --- record() (the one article of a PUT) -------------------------------------------------------


def test_put_record_is_one_json_object():
    body = b'{"title": "T", "body": "B"}'
    assert intake.record(body, "application/json; charset=utf-8") == {"title": "T", "body": "B"}
    assert intake.record(body, None) == {"title": "T", "body": "B"}


@pytest.mark.parametrize("body", [b'[{"title": "T"}]', b"42", b"null"])
def test_put_record_that_is_not_an_object_is_a_bad_parameter(body):
    with pytest.raises(BadParameter) as caught:
        intake.record(body, "application/json")
    assert caught.value.param == "body"
    assert caught.value.status == 400


@pytest.mark.parametrize("media", [NDJSON, "text/plain"])
def test_put_record_takes_only_json(media):
    with pytest.raises(UnsupportedMediaType):
        intake.record(b'{"title": "T"}', media)


def test_put_record_invalid_or_deep_json_is_a_bad_parameter():
    with pytest.raises(BadParameter):
        intake.record(b'{"title": ', "application/json")
    with pytest.raises(BadParameter):
        intake.record(b"[" * 100_000, "application/json")
    with pytest.raises(BadParameter):
        intake.record(b'{"title": "\xff"}', "application/json")


# --- change() ---------------------------------------------------------------------------------


def test_good_record_gives_a_tagged_change():
    record = {"id": "art-1", "title": "News from Raqqa", "body": "Daesh fighters left Raqqa."}
    change = intake.change(record)
    assert isinstance(change, Change)
    assert change.id == "art-1"
    document = change.document
    assert document["id"] == "art-1"
    assert document["title"] == "News from Raqqa"
    assert document["body"] == "Daesh fighters left Raqqa."
    assert "Islamic State" in document["faction"].split(",")
    assert "Islamic State" in document["tags"]["factions"]
    assert document["tags"]["origin"] == "request"


def test_usual_alternative_keys_are_accepted():
    change = intake.change({"_id": "x", "headline": "H", "content": "Some text"})
    assert change.id == "x"
    assert change.document["title"] == "H"
    assert change.document["body"] == "Some text"


def test_record_without_id_gets_a_stable_content_id():
    record = {"title": "T", "body": "Daesh in Mosul"}
    first = intake.change(record)
    again = intake.change(dict(record))
    reordered = intake.change({"body": "Daesh in Mosul", "title": "T"})
    other = intake.change({"title": "T", "body": "Daesh in Raqqa"})
    assert first.id.startswith("doc-")
    assert first.id == again.id == reordered.id
    assert other.id.startswith("doc-")
    assert other.id != first.id
    assert first.document["id"] == first.id


def test_unknown_field_is_a_bad_article_naming_it():
    with pytest.raises(BadArticle) as caught:
        intake.change({"id": "a", "body": "text", "colour": "red"})
    assert caught.value.param == "colour"
    assert caught.value.status == 422
    assert caught.value.code == "bad_article"
    assert "colour" in caught.value.message


def test_field_names_are_matched_without_case():
    change = intake.change({"ID": "a", "Title": "T", "BODY": "text"})
    assert change.id == "a"
    assert change.document["title"] == "T"


def test_field_larger_than_the_limit_is_a_bad_article(monkeypatch):
    monkeypatch.setenv("SEARCH_MAX_FIELD_BYTES", "20")
    intake.change({"id": "a", "title": "short", "body": "x" * 20})  # at the limit: fine
    with pytest.raises(BadArticle) as caught:
        intake.change({"id": "a", "title": "short", "body": "x" * 21})
    assert caught.value.param == "body"
    assert caught.value.status == 422
    assert "20 bytes" in caught.value.message


def test_list_field_size_is_the_sum_of_its_items(monkeypatch):
    monkeypatch.setenv("SEARCH_MAX_FIELD_BYTES", "10")
    intake.change({"id": "a", "body": "text", "authors": ["abcde", "fghij"]})
    with pytest.raises(BadArticle) as caught:
        intake.change({"id": "a", "body": "text", "authors": ["abcde", "fghij", "k"]})
    assert caught.value.param == "authors"


def test_field_size_counts_utf8_bytes_not_characters(monkeypatch):
    monkeypatch.setenv("SEARCH_MAX_FIELD_BYTES", "10")
    intake.change({"id": "a", "body": "x", "title": "é" * 5})  # 5 characters, 10 bytes
    with pytest.raises(BadArticle) as caught:
        intake.change({"id": "a", "body": "x", "title": "é" * 6})  # 6 characters, 12 bytes
    assert caught.value.param == "title"
    with pytest.raises(BadArticle):
        intake.change({"id": "a", "body": "x", "title": "日本語の"})  # 4 characters, 12 bytes


def test_lone_surrogate_is_a_bad_article():
    with pytest.raises(BadArticle) as caught:
        intake.change({"id": "a", "title": "T", "body": "bad \ud800 text"})
    assert caught.value.param == "body"
    assert caught.value.status == 422


def test_lone_surrogate_in_a_list_is_a_bad_article():
    with pytest.raises(BadArticle) as caught:
        intake.change({"id": "a", "body": "text", "authors": ["ok", "\udfff"]})
    assert caught.value.param == "authors"


def test_title_that_is_an_object_is_a_bad_article():
    with pytest.raises(BadArticle) as caught:
        intake.change({"id": "a", "title": {"text": "T"}, "body": "text"})
    assert caught.value.param == "title"
    assert caught.value.status == 422


def test_body_that_is_a_list_is_a_bad_article():
    with pytest.raises(BadArticle) as caught:
        intake.change({"id": "a", "title": "T", "body": ["text"]})
    assert caught.value.param == "body"


def test_no_title_and_no_body_is_a_bad_article():
    with pytest.raises(BadArticle) as caught:
        intake.change({"id": "a", "source": "Somewhere"})
    assert "no title and no body" in caught.value.message
    with pytest.raises(BadArticle):
        intake.change({"id": "a", "title": "", "body": "   "})


def test_path_id_differing_from_body_id_is_a_bad_article():
    with pytest.raises(BadArticle) as caught:
        intake.change({"id": "other", "title": "T", "body": "text"}, path_id="mine")
    assert caught.value.param == "id"
    assert "other" in caught.value.message and "mine" in caught.value.message


def test_path_id_repeated_in_body_is_fine():
    change = intake.change({"id": "mine", "title": "T", "body": "text"}, path_id="mine")
    assert change.id == "mine"


def test_path_id_used_when_the_body_has_none():
    change = intake.change({"title": "T", "body": "text"}, path_id="mine")
    assert change.id == "mine"
    assert change.document["id"] == "mine"


def test_id_of_256_characters_is_fine_257_is_a_bad_article():
    assert intake.change({"id": "i" * 256, "body": "text"}).id == "i" * 256
    with pytest.raises(BadArticle) as caught:
        intake.change({"id": "i" * 257, "body": "text"})
    assert caught.value.param == "id"


def test_long_path_id_is_a_bad_article():
    with pytest.raises(BadArticle) as caught:
        intake.change({"body": "text"}, path_id="p" * 300)
    assert caught.value.param == "id"


@pytest.mark.parametrize("record", [["id", "a"], "text", 42, None])
def test_non_object_record_is_a_bad_article(record):
    with pytest.raises(BadArticle) as caught:
        intake.change(record)
    assert caught.value.status == 422
    assert "expected a JSON object" in caught.value.message


@pytest.mark.parametrize(
    "record",
    [
        {"title": {"text": "\ud800"}, "body": "text"},
        {"id": "a", "body": "text", "authors": [{"name": "\ud800"}]},
    ],
)
def test_lone_surrogate_nested_in_an_object_is_a_bad_article(record):
    with pytest.raises(BadArticle):
        intake.change(record)


@pytest.mark.parametrize("path_id", [" lead", "a  b", "**bold**", "[a](b)", "x\x01y", "tail "])
def test_a_path_id_must_already_be_clean(path_id):
    with pytest.raises(BadArticle) as caught:
        intake.change({"title": "t", "body": "b"}, path_id)
    assert caught.value.param == "id"
    assert intake.change({"title": "t", "body": "b"}, "plain id-1").id == "plain id-1"
