"""A stored document read as JSON: the one reading of the fields the index stores, from which
every answer (hits, documents, similar articles), export and OpenSearch document is made."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from search.schema import FACETS


def values(field: str | None) -> list[str]:
    """The values of a stored facet field (comma-separated), in order."""
    return [v for v in (field or "").split(",") if v]


def day(value: Any) -> str | None:
    """A stored date as YYYY-MM-DD; None for an undated article."""
    return value.date().isoformat() if isinstance(value, datetime) else None


def as_json(stored: Mapping[str, Any]) -> dict[str, Any]:
    """id, title, body, date (YYYY-MM-DD or None), url (or None), facets (name -> values) and
    tags (the tags stored with the article, {} for a document stored without them)."""
    tags = stored.get("tags") or {}
    return {
        "id": stored["id"],
        "title": stored.get("title", ""),
        "body": stored.get("body", ""),
        "date": day(stored.get("date")),
        "url": tags.get("url"),
        "facets": {name: values(stored.get(name)) for name in FACETS},
        "tags": tags,
    }
