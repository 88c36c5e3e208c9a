"""Articles posted to the API: request bodies turned into checked index changes.

Each article is parsed and tagged exactly as `search index` does with a JSON record; what the
API adds is strictness (unknown fields and oversized fields are errors naming the field)
and a per-article answer, so one bad article never blocks the good ones beside it.
"""

from __future__ import annotations

import hashlib
import json
import re

from search import limits
from search.articles import RECORD_KEYS, ArticleError, parse_record
from search.errors import BadArticle, BadParameter, UnsupportedMediaType
from search.files import MAX_ID_LENGTH, json_records, loads
from search.schema import Change, to_document
from search.tagging import tag
from search.text import clean

JSON_TYPES = ("application/json",)
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")
FIELD_OF = {key: name for name, keys in RECORD_KEYS.items() for key in keys}  # alias -> field
LIST_FIELDS = frozenset({"author", "region", "theme", "report"})
_FIELD = re.compile(r"field '(\w+)'")


def _media(content_type: str | None, accepted: tuple[str, ...]) -> str:
    media = (content_type or "application/json").split(";")[0].strip().lower()
    if media not in accepted:
        wanted = (
            "application/json"
            if accepted == JSON_TYPES
            else "application/json or " + NDJSON_TYPES[0]
        )
        raise UnsupportedMediaType(f"cannot read {media}: send Content-Type: {wanted}")
    return media


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BadParameter(f"body is not UTF-8 (byte {error.start})", "body") from None


def _json(text: str) -> object:
    data, problem, line = loads(text)
    if problem:
        raise BadParameter(f"{problem}{f' on line {line}' if line else ''}", "body")
    return data


def record(body: bytes, content_type: str | None) -> object:
    """The one article of a PUT body: a JSON object."""
    _media(content_type, JSON_TYPES)
    data = _json(_text(body))
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise BadParameter(f"PUT takes one article as a JSON object, not {kind}", "body")
    return data


def records(body: bytes, content_type: str | None) -> list:
    """The articles of a POST body: JSON (an object, an array, or {"articles": [...]}) or
    NDJSON, one object per line. Raises BadParameter (400) or UnsupportedMediaType (415)."""
    media = _media(content_type, JSON_TYPES + NDJSON_TYPES)
    text = _text(body)
    if media in NDJSON_TYPES:
        out = []
        for number, line in enumerate(text.split("\n"), start=1):
            if line.strip():
                data, problem, _ = loads(line)
                if problem:
                    raise BadParameter(f"line {number}: {problem}", "body")
                out.append(data)
        return out
    data = _json(text)
    found = json_records(data)
    if found is None:
        raise BadParameter(f"expected a JSON object or array, got {type(data).__name__}", "body")
    return found


def change(record: object, path_id: str | None = None, strict: bool = False) -> Change:
    """The index change for one posted article. Raises BadArticle naming the field at fault.
    path_id: the id from PUT /documents/{id}; the body may repeat it but not contradict it.
    strict: a warning (a date that cannot be read, stored empty) is an error instead."""
    if not isinstance(record, dict):
        raise BadArticle(f"expected a JSON object, got {type(record).__name__}")
    limit = limits.current().max_field_bytes
    for key, value in record.items():
        name = FIELD_OF.get(str(key).strip().lower())
        if name is None:
            fields = ", ".join(sorted(RECORD_KEYS))
            raise BadArticle(f"unknown field {key!r}; fields are {fields}", str(key))
        _check_type(str(key), name, value)
        try:
            size = _size(value)
        except UnicodeEncodeError:
            message = f"field {key!r} holds a lone surrogate, which is not text"
            raise BadArticle(message, str(key)) from None
        if size > limit:
            raise BadArticle(f"field {key!r} is larger than {limit} bytes", str(key))
    if path_id is not None and path_id != " ".join(clean(path_id).split()):
        # a body id is cleaned like any text; a path id must already be clean, or an export
        # would restore it under another id
        message = (
            "the id in the path has spaces at its ends or twice, control characters or Markdown"
        )
        raise BadArticle(message, "id")
    default_id = path_id or "doc-" + _digest(record)
    try:
        article = parse_record(record, default_id, origin="request")
    except ArticleError as error:
        found = _FIELD.search(str(error))
        raise BadArticle(str(error), _posted_key(record, found[1] if found else "body")) from None
    if path_id is not None and article.id != path_id:
        raise BadArticle(
            f"id {article.id!r} in the body differs from {path_id!r} in the path", "id"
        )
    if len(article.id) > MAX_ID_LENGTH:
        raise BadArticle(f"id must be 1 to {MAX_ID_LENGTH} characters", "id")
    if strict and article.warnings:
        raise BadArticle(article.warnings[0], _posted_key(record, "date"))
    return Change(article.id, to_document(tag(article)), article.warnings)


def _check_type(key: str, name: str, value: object) -> None:
    """JSON types as the OpenAPI description declares them: text or null; an id may be a
    whole number; author, region, theme and report may be lists of text."""
    if value is None or isinstance(value, str):
        if name == "id" and value is not None and not value.strip():
            raise BadArticle("field 'id' must not be empty", key)
        return
    if name == "id" and isinstance(value, int) and not isinstance(value, bool):
        return
    if name in LIST_FIELDS and isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return
        raise BadArticle(f"field {key!r} must be a list of text", key)
    kind = "text or a list of text" if name in LIST_FIELDS else "text"
    raise BadArticle(f"field {key!r} must be {kind}, not {type(value).__name__}", key)


def _posted_key(record: dict, name: str) -> str:
    """The key the client used for a logical field (e.g. "headline" for title)."""
    keys = RECORD_KEYS.get(name, ())
    return next((str(k) for k in record if str(k).strip().lower() in keys), name)


def _size(value: object) -> int:
    """UTF-8 bytes of a field's text; UnicodeEncodeError for text that is not Unicode."""
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, list):
        return sum(_size(v) for v in value)
    if isinstance(value, dict):  # not a valid field, but its text must be checked too
        return sum(_size(k) + _size(v) for k, v in value.items())
    return 0


def _digest(record: dict) -> str:
    text = json.dumps(record, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:16]
