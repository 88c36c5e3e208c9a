"""Every match of a search as CSV or JSON lines, streamed: GET /search.csv, /search.jsonl and
`search query --format csv|jsonl`.

Memory stays flat whatever the size: the matches are held as document numbers only, in the
order of the request's `sort`, and documents are read and written BATCH at a time. The
export reads the view it began with to the end (the service keeps it open: Service.pin), so
a write meanwhile neither breaks nor shifts it: it is the index as it was at the start. No
searcher of its own: opening one would read much of the index into memory again.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence

import orjson

from search import cursor
from search.errors import BadParameter
from search.request import Params, SearchRequest, boolean
from search.schema import FACETS, indexed_time
from search.stored import as_json
from search.view import View, build, match

BATCH = 200  # documents read and written at a time
LIST_SEPARATOR = "|"  # between the values of one CSV cell (facet values hold no "|")
SCALARS = ("id", "title", "date", "source", "url")
LISTS = ("author", *(name for name in FACETS if name not in ("source", "author")))
DEFAULT_FIELDS = ("id", "title", "date", "source", "author", "url", *LISTS[1:])
EXTRA_FIELDS = ("sources", "indexed_at", "body")  # on request (fields=, body=true)
FIELDS = (*DEFAULT_FIELDS, *EXTRA_FIELDS)
FORMATS = ("csv", "jsonl")
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson"}
PARAMETERS = {
    "fields": f"comma-separated fields, of {', '.join(FIELDS)} (default all but "
    f"{', '.join(EXTRA_FIELDS)})",
    "body": "true: add the article's text (field body)",
}


def fields_of(params: Params) -> tuple[str, ...]:
    """The fields an export asks for: `fields=` (checked) and `body=true`."""
    raw = params.get("fields") or []
    if len(raw) > 1:
        raise BadParameter(f"fields given {len(raw)} times; give it once", "fields")
    chosen = DEFAULT_FIELDS
    if raw and raw[0].strip():
        chosen = tuple(dict.fromkeys(n.strip() for n in raw[0].split(",") if n.strip()))
        unknown = [n for n in chosen if n not in FIELDS]
        if unknown or not chosen:
            name = unknown[0] if unknown else raw[0]
            raise BadParameter(
                f"unknown field {name[:40]!r}; fields are {', '.join(FIELDS)}", "fields"
            )
    if boolean(params, "body", False) and "body" not in chosen:
        chosen = (*chosen, "body")
    return chosen


def record(stored: dict, fields: Sequence[str]) -> dict:
    """The exported fields of one stored document: lists for list fields."""
    data = as_json(stored)
    facets = data["facets"]
    every = {
        "id": data["id"],
        "title": data["title"],
        "date": data["date"],
        "source": (facets["source"] or [None])[0],
        "sources": facets["source"],
        "url": data["url"],
        "indexed_at": indexed_time(stored.get("indexed_at")),
        "body": data["body"],
        "author": facets["author"],
        **{name: facets[name] for name in LISTS[1:]},
    }
    return {name: every[name] for name in fields}


class Export:
    """The matches of one request over a view held for the whole export: check the request
    (a bad query raises here, before any byte is sent), then iterate the lines. `release`
    runs once the export ends, or fails here."""

    def __init__(
        self, view: View, request: SearchRequest, release: Callable[[], None] = lambda: None
    ) -> None:
        self.view = view
        self.release = release
        try:
            self.query, _ = build(view, request)
            self.sort = request.sort
            self.found = match(view, self.query, scored=self.sort == "relevance")
            self.total = int(self.found.mask.sum())
        except BaseException:
            release()
            raise

    def records(self, fields: Sequence[str]) -> Iterator[dict]:
        """Every match as a record, in order; the view is released at the end."""
        try:
            order = cursor.ordered(self.view, self.found, self.sort)  # 8 bytes a match
            del self.found  # the order holds the same numbers
            searcher = self.view.searcher
            for start in range(0, len(order), BATCH):
                for docnum in order[start : start + BATCH].tolist():
                    yield record(searcher.stored_fields(docnum), fields)
        finally:
            self.release()

    def lines(self, fields: Sequence[str], form: str) -> Iterator[bytes]:
        """The export as chunks of UTF-8: CSV with a header row, or one JSON object a line."""
        records = self.records(fields)
        if form == "jsonl":
            yield from _batched(orjson.dumps(r) + b"\n" for r in records)
            return
        yield csv_row(fields).encode("utf-8")
        yield from _batched(csv_row([_cell(r[name]) for name in fields]).encode() for r in records)


def csv_row(cells: Sequence[str]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(cells)
    return out.getvalue()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return LIST_SEPARATOR.join(value)
    return str(value)


def _batched(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """Chunks joined BATCH at a time: fewer, larger writes."""
    pending: list[bytes] = []
    for chunk in chunks:
        pending.append(chunk)
        if len(pending) >= BATCH:
            yield b"".join(pending)
            pending = []
    if pending:
        yield b"".join(pending)
