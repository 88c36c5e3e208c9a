"""The OpenAPI 3.1 description of the API, built from the same parameter tables the code checks."""

from __future__ import annotations

from functools import cache
from typing import Any

from search import __version__, limits
from search.articles import RECORD_KEYS
from search.intake import LIST_FIELDS
from search.request import (
    COLLAPSES,
    COUNTS,
    FRAGMENT_SIZES,
    INTERVALS,
    MAX_FACET_SIZE,
    MAX_FRAGMENTS,
    MAX_MEMBERS,
    MAX_PAGE,
    SORTS,
    parameters,
)
from search.schema import FACETS

_STRING = {"type": "string"}
_INT = {"type": "integer"}
_NULLABLE_STRING = {"type": ["string", "null"]}

ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "param"],
            "properties": {
                "code": _STRING,
                "message": _STRING,
                "param": _NULLABLE_STRING,
                "offset": {**_INT, "description": "query syntax errors: character offset"},
                "text": {**_STRING, "description": "query syntax errors: the offending text"},
            },
        }
    },
}
FRAGMENT = {
    "type": "object",
    "required": ["html", "text", "offset", "ranges"],
    "properties": {
        "html": {**_STRING, "description": "article text HTML-escaped, matches in <mark>"},
        "text": _STRING,
        "offset": _INT,
        "ranges": {"type": "array", "items": {"type": "array", "items": _INT}},
    },
}
FACET: dict[str, Any] = {
    "type": "object",
    "required": ["values", "truncated"],
    "properties": {
        "values": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["value", "count"],
                "properties": {"value": _STRING, "count": _INT},
            },
        },
        "truncated": {"type": "boolean"},
    },
}
TAGS = {"type": "object", "properties": {n: {"type": "array", "items": _STRING} for n in FACETS}}
_BRIEF_REQUIRED = ["id", "date", "source"]
_BRIEF_PROPERTIES: dict[str, Any] = {
    "id": _STRING,
    "date": {**_NULLABLE_STRING, "format": "date"},
    "source": _NULLABLE_STRING,
}
BRIEF = {"type": "object", "required": _BRIEF_REQUIRED, "properties": _BRIEF_PROPERTIES}
_STORY_REQUIRED = ["id", "size", "first"]
_STORY_PROPERTIES: dict[str, Any] = {
    "id": {**_STRING, "description": "stable: it stays as copies join or leave"},
    "size": {**_INT, "description": "articles in the story"},
    "first": {**BRIEF, "description": "the earliest member (then the lowest id)"},
}
STORY = {
    "type": "object",
    "description": "the copies of one report across outlets (grouped at index time)",
    "required": _STORY_REQUIRED,
    "properties": {
        **_STORY_PROPERTIES,
        "others": {
            "type": "array",
            "items": BRIEF,
            "description": "with collapse=story: the other members in date order, up to members",
        },
    },
}
MEMBER = {
    "type": "object",
    "required": [*_BRIEF_REQUIRED, "title", "first", "jaccard", "in_first", "first_in_it"],
    "properties": {
        **_BRIEF_PROPERTIES,
        "title": _NULLABLE_STRING,
        "first": {"type": "boolean"},
        "jaccard": {
            "type": "number",
            "description": "Jaccard of the 5-word shingles with the first",
        },
        "in_first": {"type": "number", "description": "share of its shingles in the first"},
        "first_in_it": {"type": "number", "description": "share of the first's shingles in it"},
    },
}
STORY_PAGE = {
    "type": "object",
    "required": [*_STORY_REQUIRED, "requested", "members", "truncated"],
    "properties": {
        **_STORY_PROPERTIES,
        "requested": {**_STRING, "description": "the id asked for (a merged story's old id)"},
        "members": {"type": "array", "items": MEMBER},
        "truncated": {"type": "boolean"},
    },
}
HIT = {
    "type": "object",
    "required": ["id", "score", "title", "date", "source", "author", "url", "tags"],
    "properties": {
        "id": _STRING,
        "score": {"type": ["number", "null"]},
        "title": _STRING,
        "title_html": {**_STRING, "description": "the title HTML-escaped"},
        "date": {**_NULLABLE_STRING, "format": "date"},
        "source": _NULLABLE_STRING,
        "author": _NULLABLE_STRING,
        "authors": {"type": "array", "items": _STRING, "description": "as documents name it"},
        "url": _NULLABLE_STRING,
        "tags": TAGS,
        "facets": {**TAGS, "description": "the same as tags, as documents name it"},
        "story": STORY,
        "highlights": {
            "type": "object",
            "properties": {"title": FRAGMENT, "body": {"type": "array", "items": FRAGMENT}},
        },
    },
}
HISTOGRAM = {"type": "array", "items": FACET["properties"]["values"]["items"]}
SEARCH = {
    "type": "object",
    "required": ["total", "took_ms", "page", "per_page", "hits", "facets", "query"],
    "properties": {
        "total": _INT,
        "took_ms": {"type": "number"},
        "page": _INT,
        "per_page": _INT,
        "pages": _INT,
        "stories": {**_INT, "description": "stories among the matches"},
        "hits": {"type": "array", "items": HIT},
        "next_cursor": {
            **_NULLABLE_STRING,
            "description": "pass as cursor= for the hits after this page; null on the last",
        },
        "facets": {"type": "object", "additionalProperties": FACET},
        "histogram": {"type": "object", "properties": {"year": HISTOGRAM, "month": HISTOGRAM}},
        "query": {"type": "object"},
        "suggestion": {
            "type": ["object", "null"],
            "properties": {"q": _STRING, "total": _INT},
        },
    },
}
OBJECT = {"type": "object"}
GEO = {
    "type": "object",
    "required": ["type", "features", "places", "located", "unlocated"],
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "id", "geometry", "properties"],
                "properties": {
                    "type": {"type": "string", "enum": ["Feature"]},
                    "id": _STRING,
                    "geometry": {
                        "type": "object",
                        "properties": {
                            "type": {"type": "string", "enum": ["Point"]},
                            "coordinates": {
                                "type": "array",
                                "items": {"type": "number"},
                                "description": "longitude, latitude",
                            },
                        },
                    },
                    "properties": {
                        "type": "object",
                        "required": ["place", "count", "stories", "source"],
                        "properties": {
                            "place": _STRING,
                            "count": {**_INT, "description": "articles (stories with count)"},
                            "stories": {**_INT, "description": "stories: copies count once"},
                            "kind": _NULLABLE_STRING,
                            "province": _NULLABLE_STRING,
                            "country": _NULLABLE_STRING,
                            "source": {**_STRING, "description": "where the point came from"},
                        },
                    },
                },
            },
        },
        "places": {**_INT, "description": "places the matching articles name"},
        "located": {**_INT, "description": "of those, places with a point (the features)"},
        "unlocated": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"place": _STRING, "count": _INT},
            },
        },
        "query": OBJECT,
    },
}
_TEXT_OR_NULL = {"type": ["string", "null"]}
_LIST = {"anyOf": [_TEXT_OR_NULL, {"type": "array", "items": _STRING}]}
_FIELD_SCHEMAS = {
    "id": {"anyOf": [{"type": "string", "minLength": 1, "maxLength": 256}, {"type": "integer"}]},
    **{name: _LIST for name in LIST_FIELDS},
}


def _article() -> dict:
    properties = {}
    for name, keys in RECORD_KEYS.items():
        schema = _FIELD_SCHEMAS.get(name, _TEXT_OR_NULL)
        for key in keys:
            note = {} if key == name else {"description": f"another name for {name}"}
            properties[key] = {**schema, **note}
    return {
        "type": "object",
        "description": "An article as `search index` reads a JSON record. Other fields are "
        "errors; an article needs a title or a body. Without an id, one is made from a hash "
        "of the content.",
        "properties": properties,
        "additionalProperties": False,
    }


ARTICLE = _article()
# In a batch each article is checked on its own: a bad one is refused in its item of the answer
# while the others are written, so the batch itself takes any item.
BATCH_BODY = {
    "type": "array",
    "items": {"anyOf": [ARTICLE, {"description": "anything else: refused for that item alone"}]},
}
WRITTEN = {
    "type": "object",
    "required": ["id", "status"],
    "properties": {
        "id": _STRING,
        "status": {"type": "string", "enum": ["created", "replaced", "deleted"]},
        "warnings": {"type": "array", "items": _STRING},
    },
}
BATCH = {
    "type": "object",
    "required": ["created", "replaced", "errors", "items"],
    "properties": {
        "created": _INT,
        "replaced": _INT,
        "errors": _INT,
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["index", "id", "status"],
                "properties": {
                    "index": {**_INT, "description": "position of the article in the request"},
                    "id": _NULLABLE_STRING,
                    "status": {"type": "string", "enum": ["created", "replaced", "error"]},
                    "error": ERROR["properties"]["error"],
                    "warnings": {
                        "type": "array",
                        "items": _STRING,
                        "description": "what was left out of the article (an unread date); "
                        "with strict=true each is an error instead",
                    },
                },
            },
        },
    },
}
WRITE_ERRORS = (400, 401, 403, 413, 415, 503)


def _param(name: str, help_text: str, schema: dict, where: str = "query") -> dict:
    out: dict[str, Any] = {"name": name, "in": where, "description": help_text, "schema": schema}
    if where == "path":
        out["required"] = True
    return out


_EMPTY = {"type": "string", "maxLength": 0, "description": "empty: the default"}
# YYYY, YYYY-MM or YYYY-MM-DD; a day the month lacks (2017-02-30) is still refused
DATE_PATTERN = r"^\s*([0-9]{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?)?\s*$"


def _number(low: int, high: int) -> dict:
    """A whole-number parameter; sent empty (as HTML forms do) it takes its default."""
    return {"anyOf": [{"type": "integer", "minimum": low, "maximum": high}, _EMPTY]}


def _choice(values) -> dict:
    return {"type": "string", "enum": [*values, ""]}


def _search_params() -> list[dict]:
    bounds = limits.current()
    schemas = {
        "sort": _choice(SORTS),
        "page": _number(1, MAX_PAGE),
        "per_page": _number(0, bounds.max_per_page),
        "facet_size": _number(1, MAX_FACET_SIZE),
        "fragments": _number(0, MAX_FRAGMENTS),
        "fragment_size": _number(*FRAGMENT_SIZES),
        "highlight": {"anyOf": [{"type": "boolean"}, _EMPTY]},
        "q": {"type": "string", "maxLength": bounds.max_query_length},
        "from": {"type": "string", "pattern": DATE_PATTERN},
        "to": {"type": "string", "pattern": DATE_PATTERN},
        "collapse": _choice(COLLAPSES),
        "members": _number(0, MAX_MEMBERS),
        "count": _choice(COUNTS),
    }
    out = []
    for name, help_text in parameters(bounds).items():
        schema = schemas.get(name, _STRING)
        if name in FACETS:
            schema = {"type": "array", "items": _STRING}
            out.append({**_param(name, help_text, schema), "style": "form", "explode": True})
        else:
            out.append(_param(name, help_text, schema))
    return out


def _responses(ok: dict, *errors: int) -> dict:
    out = {"200": {"description": "OK", "content": {"application/json": {"schema": ok}}}}
    for status in errors:
        out[str(status)] = {
            "description": "Error",
            "content": {"application/json": {"schema": ERROR}},
        }
    return out


def _get(summary: str, params: list[dict], ok: dict, *errors: int) -> dict:
    return {"get": {"summary": summary, "parameters": params, "responses": _responses(ok, *errors)}}


def _write(summary: str, params: list[dict], body: dict | None, responses: dict) -> dict:
    out = {"summary": summary, "parameters": params, "responses": responses}
    out["security"] = [{"apiKey": []}]
    if body is not None:
        out["requestBody"] = {"required": True, "content": body}
    return out


def _write_responses(ok: dict[str, dict], *errors: int) -> dict:
    out = {
        status: {"description": "Committed", "content": {"application/json": {"schema": schema}}}
        for status, schema in ok.items()
    }
    return {**out, **{k: v for k, v in _responses(OBJECT, *errors).items() if k != "200"}}


@cache
def spec() -> dict:
    doc_id = _param("id", "document id", _STRING, "path")

    strict = _param(
        "strict",
        "true: a warning about an article (a date that cannot be read) makes it an error",
        {"type": "boolean"},
    )

    def size(default: int, high: int) -> dict:
        return _param("size", f"how many (default {default})", _number(1, high))

    paths = {
        "/search": _get("Search articles", [*_search_params(), CURSOR], SEARCH, 400, 503),
        **_follow_paths(),
        "/documents": {
            "post": _write(
                "Add or replace articles: one, an array, or NDJSON; a 200 lists each one's "
                "status, and a bad article does not block the others",
                [strict],
                {
                    "application/json": {"schema": {"oneOf": [ARTICLE, BATCH_BODY]}},
                    "application/x-ndjson": {
                        "schema": {**BATCH_BODY, "description": "one article per line"}
                    },
                },
                _write_responses({"200": BATCH, "422": BATCH}, *WRITE_ERRORS),
            )
        },
        "/documents/{id}": {
            **_get("One article with every field and tag", [doc_id], OBJECT, 404, 503),
            "put": _write(
                "Add or replace one article under this id",
                [doc_id, strict],
                {"application/json": {"schema": ARTICLE}},
                _write_responses({"200": WRITTEN, "201": WRITTEN}, *WRITE_ERRORS, 404, 422),
            ),
            "delete": _write(
                "Delete one article",
                [doc_id],
                None,
                _write_responses({"200": WRITTEN}, *WRITE_ERRORS, 404),
            ),
        },
        "/documents/{id}/similar": _get(
            "Articles like this one", [doc_id, size(10, 100)], OBJECT, 400, 404, 503
        ),
        "/stories/{id}": _get(
            "A story: its members in date order, the first, how much each differs from it",
            [_param("id", "story id", _STRING, "path"), size(100, 1000)],
            STORY_PAGE,
            400,
            404,
            503,
        ),
        "/facets/{name}": _get(
            "Values of one facet with counts among matching articles",
            [
                _param("name", "facet", {"type": "string", "enum": list(FACETS)}, "path"),
                _param("prefix", "only values starting with this (any case)", _STRING),
                size(100, 1000),
                *[p for p in _search_params() if p["name"] != "facet_size"],
            ],
            OBJECT,
            400,
            404,
            503,
        ),
        "/suggest": _get(
            "Completions for a search box",
            [_param("q", "what was typed", {"type": "string", "maxLength": 100}), size(10, 50)],
            OBJECT,
            400,
            503,
        ),
        "/trends": _get(
            "A facet's value counts per period among matching articles",
            [
                _param("facet", "facet to count (default faction)", _choice(FACETS)),
                _param("interval", "month (default) or year", _choice(INTERVALS)),
                *_search_params(),
            ],
            OBJECT,
            400,
            503,
        ),
        "/geo": _get(
            "The places of the matching articles as a GeoJSON FeatureCollection: a Point "
            "per located place with its count; places without a point in `unlocated`",
            _search_params(),
            GEO,
            400,
            503,
        ),
        "/stats": _get("Index statistics", [], OBJECT, 400, 503),
        "/health": _get("Index state: 200 when searchable, 503 when not", [], OBJECT, 503),
        "/openapi.json": _get("This description", [], OBJECT),
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics: requests by route and status, latency, "
                "documents, index size, segments, last commit age, write queue depth",
                "parameters": [],
                "responses": {
                    "200": {
                        "description": "Prometheus text format",
                        "content": {"text/plain": {"schema": _STRING}},
                    }
                },
            }
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "search: conflict-news archive search",
            "version": __version__,
            "description": "Faceted, highlighted full-text search over tagged articles.",
        },
        "paths": paths,
        "components": {
            "schemas": {
                "Error": ERROR,
                "Search": SEARCH,
                "Hit": HIT,
                "Article": ARTICLE,
                "Story": STORY_PAGE,
            },
            "securitySchemes": {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "SEARCH_API_KEY for writes; SEARCH_READ_KEY, when set, "
                    "for reads",
                }
            },
        },
    }


# --- following a search and taking its results away (search/follow.py) ---------------------

CURSOR = _param(
    "cursor",
    "continue after the last hit of a page: its next_cursor (search_after; the same q, "
    f"filters, dates and sort). Page numbers reach {MAX_PAGE} hits of page * per_page",
    _STRING,
)
SAVED = {
    "type": "object",
    "required": ["id", "name", "params", "created", "since", "url", "feed", "new", "search"],
    "properties": {
        "id": _STRING,
        "name": _STRING,
        "params": {"type": "object", "additionalProperties": {"type": "array", "items": _STRING}},
        "created": _STRING,
        "since": {**_STRING, "description": "token: everything indexed later is new"},
        "url": _STRING,
        "feed": {**_STRING, "description": "its Atom feed"},
        "new": {**_STRING, "description": "what arrived since it was saved"},
        "search": {**_STRING, "description": "the same search on GET /search"},
    },
}
NEW = {
    "type": "object",
    "required": ["id", "name", "since", "next", "total", "truncated", "hits"],
    "properties": {
        "id": _STRING,
        "name": _STRING,
        "since": _STRING,
        "next": {**_STRING, "description": "token to ask with next time"},
        "total": _INT,
        "truncated": {"type": "boolean"},
        "hits": {"type": "array", "items": HIT},
    },
}


def _document(summary: str, params: list[dict], media: str, *errors: int) -> dict:
    """A GET answering another format than JSON (errors stay JSON)."""
    responses = _responses(OBJECT, *errors)
    responses["200"] = {"description": "OK", "content": {media: {"schema": _STRING}}}
    if media == "application/atom+xml":
        responses["304"] = {"description": "Not Modified: the ETag or date sent is current"}
    return {"get": {"summary": summary, "parameters": params, "responses": responses}}


def _saved_body() -> dict:
    bounds = limits.current()
    text_or_list = {"anyOf": [_STRING, {"type": "array", "items": _STRING}]}
    properties: dict[str, Any] = {"name": {"type": "string", "minLength": 1, "maxLength": 200}}
    for name in parameters(bounds):
        if name != "page":
            properties[name] = text_or_list
    properties["q"] = {"type": "string", "maxLength": bounds.max_query_length}
    return {
        "type": "object",
        "required": ["name"],
        "properties": properties,
        "additionalProperties": False,
        "description": "a name and any parameters of GET /search",
    }


def _follow_paths() -> dict:
    from search.streaming import FIELDS, PARAMETERS

    saved_id = _param("id", "saved search id", _STRING, "path")
    export = [
        *_search_params(),
        _param("fields", PARAMETERS["fields"], _STRING),
        _param("body", PARAMETERS["body"], {"anyOf": [{"type": "boolean"}, _EMPTY]}),
    ]
    return {
        "/search.atom": _document(
            "The search's first hits as an Atom feed, newest first by default; a repeat poll "
            "with If-None-Match or If-Modified-Since gets 304 while its entries are unchanged",
            _search_params(),
            "application/atom+xml",
            400,
            503,
        ),
        "/search.csv": _document(
            f"Every match as CSV (fields {', '.join(FIELDS[:6])} and each tag; several values "
            "of a cell joined by |), streamed",
            export,
            "text/csv",
            400,
            503,
        ),
        "/search.jsonl": _document(
            "Every match as one JSON object a line, streamed",
            export,
            "application/x-ndjson",
            400,
            503,
        ),
        "/saved-searches": {
            **_get(
                "Every saved search",
                [],
                {"type": "object", "properties": {"saved_searches": {"type": "array"}}},
                400,
                503,
            ),
            "post": _write(
                "Save a search: a name and parameters of /search; 201 with its feed and a "
                "since token",
                [],
                {"application/json": {"schema": _saved_body()}},
                {
                    **_write_responses({"201": SAVED}, 400, 401, 403, 413, 503),
                },
            ),
        },
        "/saved-searches/{id}": {
            **_get("One saved search", [saved_id], SAVED, 400, 404, 503),
            "delete": _write(
                "Delete a saved search",
                [saved_id],
                None,
                _write_responses({"200": OBJECT}, 400, 401, 403, 404),
            ),
        },
        "/saved-searches/{id}.atom": _document(
            "A saved search's feed: its matches, latest indexed first",
            [saved_id, _param("per_page", "entries (default 50)", _number(1, 100))],
            "application/atom+xml",
            400,
            404,
            503,
        ),
        "/saved-searches/{id}/new": _get(
            "A saved search's matches indexed after `since` (its creation by default), "
            "oldest first, with the token to ask with next time",
            [
                saved_id,
                _param("since", "a since or next token", _STRING),
                _param("size", "at most this many (default 100)", _number(1, 1000)),
            ],
            NEW,
            400,
            404,
            503,
        ),
    }
