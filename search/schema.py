"""What a document of the index is: the facet names, the Whoosh schema, the document of a
tagged article, and a change to make to the index.

Nothing here writes: the query language, requests and the API's checks read the facet names
from here without loading the writer (search.index) or its processes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, STORED, SchemaClass

from search.analysis import ArticleText, text_analyzer

if TYPE_CHECKING:
    from search.tagging import Tagged

FACETS = (
    "region",
    "theme",
    "report",
    "source",
    "author",
    "faction",
    "place",
    "province",
    "country",
    "side",
    "operation",
)
# facets whose values are the tagger's entity names (the others come from the article)
ENTITY_FACETS = ("faction", "place", "province", "country", "side", "operation")


def _facet() -> KEYWORD:
    return KEYWORD(stored=True, commas=True, sortable=True, scorable=False)


class ArticleSchema(SchemaClass):
    """One document per article. Facet fields hold canonical names, comma-separated."""

    # sortable: a column of ids, read at once per searcher to map documents to their stories
    id = ID(stored=True, unique=True, sortable=True)
    # spelling=True also keeps the unstemmed words (spell_title, spell_body): "did you mean"
    # suggestions and prefix expansion work on real words, not stems.
    # chars=True keeps each occurrence's character span in the postings: highlights are
    # read from there instead of analysing the stored text again.
    title = ArticleText(
        analyzer=text_analyzer(), stored=True, field_boost=2.0, spelling=True, chars=True
    )
    body = ArticleText(analyzer=text_analyzer(), stored=True, spelling=True, chars=True)
    date = DATETIME(stored=True, sortable=True)
    year = KEYWORD(stored=True, sortable=True)
    month = KEYWORD(stored=True, sortable=True)  # "2017-07"
    region = _facet()
    theme = _facet()
    report = _facet()
    source = _facet()
    author = _facet()
    faction = _facet()
    place = _facet()
    province = _facet()
    country = _facet()
    side = _facet()  # sides of the war the article shows acting (tagging.SIDES)
    operation = _facet()  # named military operations (Euphrates Shield ...)
    tags = STORED()  # Tagged.to_json(): declared and inferred values apart, mention counts
    # When the document was written, in microseconds since 1970 UTC: "new since" reads it
    # (an old report indexed today is new). Stamped under the write lock (see stamp).
    # Read from its column only: shift_step=0 indexes one term per document, not Whoosh's
    # 16 range-query tiers (a build spent a sixth of its terms on them).
    indexed_at = NUMERIC(int, bits=64, stored=True, sortable=True, signed=False, shift_step=0)


def _keywords(values: Iterable[str | None]) -> str:
    # Commas separate values in a KEYWORD field, so a comma inside a value becomes a space.
    unique = dict.fromkeys(" ".join(v.replace(",", " ").split()) for v in values if v)
    return ",".join(v for v in unique if v)


def stamp() -> int:
    """Now, as an `indexed_at` value (microseconds since 1970 UTC). Writers stamp documents
    while holding the write lock, so every document a reader cannot see yet has a later stamp
    than every document it can: a "new since" token never passes over one."""
    return time.time_ns() // 1000


def indexed_time(value: int | None) -> str | None:
    """An `indexed_at` value as ISO 8601 UTC (to the microsecond); None for none."""
    if value is None:
        return None
    return datetime.fromtimestamp(value / 1_000_000, UTC).isoformat(timespec="microseconds")


def to_document(tagged: Tagged) -> dict[str, Any]:
    """The Whoosh fields of a tagged article, stamped now (or when a restored export says
    it was first indexed)."""
    article = tagged.article
    stored = tagged.to_json()
    del stored["id"], stored["title"]
    if article.recorded_origin is not None:  # restored from `search export`: as first read
        stored["origin"] = article.recorded_origin
    doc: dict[str, Any] = {
        "id": article.id,
        # Indexed with the tagger's mentions; stored as the plain text.
        "title": tagged.text("title"),
        "_stored_title": article.title,
        "body": tagged.text("body"),
        "_stored_body": article.body,
        "source": _keywords([article.source, article.original_source]),
        "author": _keywords(article.authors),
        "report": _keywords(article.reports),
        "region": _keywords(tagged.regions),
        "theme": _keywords(tagged.themes),
        "tags": stored,
        "indexed_at": article.recorded_indexed_at or stamp(),
    }
    for facet in ENTITY_FACETS:
        doc[facet] = _keywords(tagged.names(facet))
    if article.date:
        doc["date"] = datetime(article.date.year, article.date.month, article.date.day)
        doc["year"] = f"{article.date.year:04d}"
        doc["month"] = f"{article.date.year:04d}-{article.date.month:02d}"
    return {name: value for name, value in doc.items() if value != ""}


@dataclass
class Change:
    """One change of a live update: put `document` under `id`, or delete `id` (document None)."""

    id: str
    document: dict | None
    warnings: tuple[str, ...] = ()  # what was left out of a posted article (an unread date)
