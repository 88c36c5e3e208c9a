from dataclasses import replace

import pytest

from search import intake, limits
from search.errors import BadArticle, BadParameter, UnsupportedMediaType
from search.schema import Change

NDJSON = "application/x-ndjson"


# --- records() --------------------------------------------------------------------------------

A = {"id": "a", "body": "x"}
B = {"id": "b", "body": "y"}


@pytest.mark.parametrize(
    ("body", "media", "expected"),
    [
        pytest.param(
            b'{"id": "a", "title": "T", "body": "B"}',
            "application/json",
            [{"id": "a", "title": "T", "body": "B"}],
            id="one-object",
        ),
        pytest.param(b'{"id": "a"}', None, [{"id": "a"}], id="no-content-type-is-json"),
        pytest.param(
            b'[{"id": "a", "body": "x"}, {"id": "b", "body": "y"}]',
            "application/json",
            [A, B],
            id="array",
        ),
        pytest.param(
            b'{"articles": [{"id": "a", "body": "x"}, {"id": "b", "body": "y"}]}',
            "application/json",
            [A, B],
            id="object-holding-articles",
        ),
        pytest.param(
            b'[{"id": "a", "body": "x"}]', "application/json; charset=utf-8", [A], id="charset"
        ),
        pytest.param(
            b'[{"id": "a", "body": "x"}]',
            "Application/JSON ; charset=UTF-8",
            [A],
            id="charset-any-case",
        ),
        pytest.param(
            "\ufeff".encode() + b'{"id": "a"}', "application/json", [{"id": "a"}], id="utf8-bom"
        ),
        pytest.param(
            b'\n{"id": "a", "body": "x"}\n\n   \n{"id": "b", "body": "y"}\n',
            NDJSON,
            [A, B],
            id="ndjson-blank-lines-skipped",
        ),
        pytest.param(
            b'{"id": "a"}\n{"id": "b"}',
            "application/ndjson",
            [{"id": "a"}, {"id": "b"}],
            id="application/ndjson",
        ),
        pytest.param(
            b'{"id": "a"}\n{"id": "b"}',
            "application/jsonl",
            [{"id": "a"}, {"id": "b"}],
            id="application/jsonl",
        ),
        pytest.param(
            b'{"id": "a"}\r\n{"id": "b"}\r\n',
            NDJSON + "; charset=utf-8",
            [{"id": "a"}, {"id": "b"}],
            id="ndjson-charset-crlf",
        ),
    ],
)
def test_records(body, media, expected):
    assert intake.records(body, media) == expected


@pytest.mark.parametrize(
    "media", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_other_media_types_are_unsupported(media):
    with pytest.raises(UnsupportedMediaType) as caught:
        intake.records(b'{"id": "a"}', media)
    assert caught.value.status == 415
    assert caught.value.code == "unsupported_media_type"


DEEP = b"[" * 100_000  # past any recursion limit: a bad parameter, not a RecursionError


@pytest.mark.parametrize(
    ("body", "media", "message"),
    [
        pytest.param(
            b'{"id": "a",\n "body": }', "application/json", ["invalid JSON", "line 2"], id="json"
        ),
        pytest.param(b"", "application/json", ["invalid JSON"], id="empty"),
        pytest.param(b"42", "application/json", ["expected a JSON object or array"], id="int"),
        pytest.param(b'"text"', "application/json", ["expected a JSON object or array"], id="str"),
        pytest.param(b"null", "application/json", ["expected a JSON object or array"], id="null"),
        pytest.param(b"true", "application/json", ["expected a JSON object or array"], id="bool"),
        pytest.param(b'{"title": "caf\xe9"}', "application/json", ["UTF-8"], id="not-utf8"),
        pytest.param(b'{"title": "\xff\xfe"}\n', NDJSON, ["UTF-8"], id="ndjson-not-utf8"),
        pytest.param(DEEP, "application/json", ["nested too deeply"], id="deep"),
        pytest.param(
            DEEP + b"]" * 100_000, "application/json", ["nested too deeply"], id="deep-closed"
        ),
        pytest.param(
            b'{"id": "a", "body": "x"}\n\n{"id": oops}\n{"id": "c"}\n',
            NDJSON,
            ["line 3"],
            id="ndjson-bad-line-by-number",
        ),
        pytest.param(b'{"id": "a"}\n' + DEEP + b"\n", NDJSON, ["line 2"], id="ndjson-deep-line"),
    ],
)
def test_an_unreadable_body_is_a_bad_parameter_400(body, media, message):
    with pytest.raises(BadParameter) as caught:
        intake.records(body, media)
    error = caught.value
    assert (error.status, error.code, error.param) == (400, "bad_parameter", "body")
    for fragment in message:
        assert fragment in error.message


# --- record() (the one article of a PUT) -------------------------------------------------------


def test_put_record_is_one_json_object():
    body = b'{"title": "T", "body": "B"}'
    assert intake.record(body, "application/json; charset=utf-8") == {"title": "T", "body": "B"}
    assert intake.record(body, None) == {"title": "T", "body": "B"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'[{"title": "T"}]', "as a JSON object, not list"),
        (b"42", "as a JSON object, not int"),
        (b"null", "as a JSON object, not NoneType"),
        (b'{"title": ', "invalid JSON"),
        (DEEP, "nested too deeply"),
        (b'{"title": "\xff"}', "not UTF-8"),
    ],
)
def test_a_put_body_that_is_not_one_json_object_is_a_bad_parameter_400(body, message):
    with pytest.raises(BadParameter) as caught:
        intake.record(body, "application/json")
    assert (caught.value.status, caught.value.param) == (400, "body")
    assert message in caught.value.message


@pytest.mark.parametrize("media", [NDJSON, "text/plain"])
def test_put_record_takes_only_json(media):
    with pytest.raises(UnsupportedMediaType):
        intake.record(b'{"title": "T"}', media)


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


def test_field_names_are_matched_without_case():
    change = intake.change({"ID": "a", "Title": "T", "BODY": "text"})
    assert change.id == "a"
    assert change.document["title"] == "T"


@pytest.mark.parametrize(
    ("record", "path_id", "expected"),
    [
        pytest.param(
            {"id": "mine", "title": "T", "body": "text"}, "mine", "mine", id="path-id-too"
        ),
        pytest.param({"title": "T", "body": "text"}, "mine", "mine", id="path-id-only"),
        pytest.param({"title": "t", "body": "b"}, "plain id-1", "plain id-1", id="plain-path-id"),
        pytest.param({"id": "i" * 256, "body": "text"}, None, "i" * 256, id="id-of-256"),
    ],
)
def test_the_id_of_a_change(record, path_id, expected):
    change = intake.change(record, path_id)
    assert change.id == change.document["id"] == expected


# (limit, a record at it, one over it, the field named): sizes are UTF-8 bytes, a list's the sum
@pytest.mark.parametrize(
    ("limit", "fits", "over", "param"),
    [
        pytest.param(
            20,
            {"id": "a", "title": "short", "body": "x" * 20},
            {"id": "a", "title": "short", "body": "x" * 21},
            "body",
            id="text",
        ),
        pytest.param(
            10,
            {"id": "a", "body": "text", "authors": ["abcde", "fghij"]},
            {"id": "a", "body": "text", "authors": ["abcde", "fghij", "k"]},
            "authors",
            id="list",
        ),
        pytest.param(
            10,
            {"id": "a", "body": "x", "title": "é" * 5},  # 5 characters, 10 bytes
            {"id": "a", "body": "x", "title": "é" * 6},  # 6 characters, 12 bytes
            "title",
            id="bytes-not-characters",
        ),
        pytest.param(
            10,
            {"id": "a", "body": "x", "title": "日本語"},  # 3 characters, 9 bytes
            {"id": "a", "body": "x", "title": "日本語の"},  # 4 characters, 12 bytes
            "title",
            id="three-byte-characters",
        ),
    ],
)
def test_a_field_larger_than_the_limit_is_a_bad_article(monkeypatch, limit, fits, over, param):
    monkeypatch.setattr(limits, "_current", replace(limits.current(), max_field_bytes=limit))
    intake.change(fits)
    with pytest.raises(BadArticle) as caught:
        intake.change(over)
    assert (caught.value.status, caught.value.param) == (422, param)
    assert f"{limit} bytes" in caught.value.message


NOT_TEXT = "\ud800"  # a lone surrogate


@pytest.mark.parametrize(
    ("record", "path_id", "param", "message"),
    [
        pytest.param(
            {"id": "a", "body": "text", "colour": "red"}, None, "colour", ["colour"], id="unknown"
        ),
        pytest.param(
            {"id": "a", "title": "T", "body": f"bad {NOT_TEXT} text"},
            None,
            "body",
            ["lone surrogate"],
            id="lone-surrogate",
        ),
        pytest.param(
            {"id": "a", "body": "text", "authors": ["ok", "\udfff"]},
            None,
            "authors",
            ["lone surrogate"],
            id="lone-surrogate-in-a-list",
        ),
        pytest.param(
            {"title": {"text": NOT_TEXT}, "body": "text"},
            None,
            "title",
            ["must be text"],
            id="lone-surrogate-in-an-object",
        ),
        pytest.param(
            {"id": "a", "body": "text", "authors": [{"name": NOT_TEXT}]},
            None,
            "authors",
            ["list of text"],
            id="lone-surrogate-in-an-object-in-a-list",
        ),
        pytest.param(
            {"id": "a", "title": {"text": "T"}, "body": "text"},
            None,
            "title",
            ["must be text, not dict"],
            id="title-an-object",
        ),
        pytest.param(
            {"id": "a", "title": "T", "body": ["text"]},
            None,
            "body",
            ["must be text, not list"],
            id="body-a-list",
        ),
        pytest.param(
            {"id": "a", "source": "Somewhere"},
            None,
            "body",
            ["no title and no body"],
            id="no-title-no-body",
        ),
        pytest.param(
            {"id": "a", "title": "", "body": "   "},
            None,
            "body",
            ["no title and no body"],
            id="blank-title-and-body",
        ),
        pytest.param(
            {"id": "other", "title": "T", "body": "text"},
            "mine",
            "id",
            ["other", "mine"],
            id="path-id-differs",
        ),
        pytest.param(
            {"id": "i" * 257, "body": "text"}, None, "id", ["1 to 256 characters"], id="id-of-257"
        ),
        pytest.param({"body": "text"}, "p" * 300, "id", ["1 to 256"], id="long-path-id"),
        *(
            pytest.param(record, None, None, ["expected a JSON object"], id=f"record-{kind}")
            for record, kind in (
                (["id", "a"], "list"),
                ("text", "str"),
                (42, "int"),
                (None, "null"),
            )
        ),
        *(
            pytest.param(
                {"title": "t", "body": "b"}, path_id, "id", ["id in the path"], id=repr(path_id)
            )
            for path_id in (" lead", "a  b", "**bold**", "[a](b)", "x\x01y", "tail ")
        ),
    ],
)
def test_a_bad_article_is_422_naming_its_field(record, path_id, param, message):
    with pytest.raises(BadArticle) as caught:
        intake.change(record, path_id)
    error = caught.value
    assert (error.status, error.code, error.param) == (422, "bad_article", param)
    for fragment in message:
        assert fragment in error.message
