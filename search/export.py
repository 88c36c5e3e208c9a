"""`search export`: every live document as a JSON record that `search index` reads back into
the same document (the "tags" key is for readers; of it the indexer reads only "origin",
where the article was first read, which a restore keeps)."""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from whoosh.searching import Searcher

from search.generations import open_index
from search.schema import indexed_time
from search.stored import as_json

EXPORT_KEYS = (
    "id",
    "title",
    "body",
    "date",
    "source",
    "author",
    "url",
    "original_source",
    "original_date",
    "region",
    "theme",
    "report",
    "credit",
)
# The warning parse_record leaves for a date it cannot read (articles._date): exporting that
# text again gives back the same article, with the same warning.
_UNRECOGNISED_DATE = re.compile(r"^unrecognised date (?P<text>'.*'|\".*\") left empty$")


def by_id(searcher: Searcher) -> Iterator[dict]:
    """Stored fields of every live document, in id order (code points: Whoosh keeps the id
    terms sorted by their UTF-8 bytes, which is the same order). Reads one document at a
    time: an export of a large index never holds every body at once."""
    reader = searcher.reader()
    for term in reader.lexicon("id"):
        doc_id = term.decode("utf-8") if isinstance(term, bytes) else term
        for docnum in searcher.document_numbers(id=doc_id):  # deleted versions left out
            yield reader.stored_fields(docnum)


def to_record(stored: dict) -> dict:
    """The JSON record of one stored document: the fields `search index` reads (EXPORT_KEYS)
    from which it makes the same article again, and "tags", the stored tags, for readers
    (`search index` takes its "origin" as where the article was first read).

    Regions and themes are the declared ones only: the indexer infers the others again from
    the text. A document stored without tags (not written by this service) falls back on its
    facets."""
    fields = as_json(stored)
    tags, facets = fields["tags"], fields["facets"]
    indexed_at = indexed_time(stored.get("indexed_at"))
    record: dict[str, Any] = {"id": fields["id"], "title": fields["title"], "body": fields["body"]}
    if not tags:
        sources = facets["source"]
        record |= {
            "date": fields["date"],
            "source": sources[0] if sources else None,
            "author": facets["author"],
            "url": None,
            "original_source": sources[1] if len(sources) > 1 else None,
            "original_date": None,
            "region": facets["region"],
            "theme": facets["theme"],
            "report": facets["report"],
            "credit": None,
        }
        return {**record, "indexed_at": indexed_at, "tags": {}}
    return {
        **record,
        "date": tags.get("date") or fields["date"] or _unrecognised_date(tags),
        "source": tags.get("source"),
        "author": list(tags.get("authors") or []),
        "url": tags.get("url"),
        "original_source": tags.get("original_source"),
        "original_date": tags.get("original_date"),
        "region": list((tags.get("regions") or {}).get("declared") or []),
        "theme": list((tags.get("themes") or {}).get("declared") or []),
        "report": list(tags.get("reports") or []),
        "credit": tags.get("credit"),
        "indexed_at": indexed_at,
        "tags": tags,
    }


def _unrecognised_date(tags: dict) -> str | None:
    """The date text the article gave and the parser could not read, as its warning quotes it
    (at most 40 characters, which is all the warning would quote again)."""
    for warning in tags.get("warnings") or []:
        match = _UNRECOGNISED_DATE.match(warning)
        if match:
            try:
                text = ast.literal_eval(match["text"])
            except (ValueError, SyntaxError):
                continue
            if isinstance(text, str) and text:
                return text
    return None


def export_records(root: Path | str | None = None) -> Iterator[dict]:
    """Every document of the live index as a record for `search index` (see to_record), in
    id order. Raises IndexNotFoundError when there is no index."""
    with open_index(root).searcher() as searcher:
        for stored in by_id(searcher):
            yield to_record(stored)


def export_jsonl(root: Path | str | None, out: TextIO) -> int:
    """Write every document as one JSON line (readable by `search index dump.jsonl`); return
    how many."""
    count = 0
    for record in export_records(root):
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count
