"""Where a document's tags came from: for each faction, place, country and operation, the
words the article wrote, read from the character spans the index keeps with each entity
token (search.highlight.stored_ranges), so nothing is tagged again to tell."""

from __future__ import annotations

from search import gazetteer
from search.highlight import stored_ranges

KINDS = ("faction", "place", "country", "operation")


def spellings(reader, docnum: int, stored: dict, facets: dict[str, list[str]]) -> dict:
    """kind -> tag -> the distinct words written for it, title first, then body; a tag
    without stored spans (an index built before them) is left out."""
    known = gazetteer.load()
    out: dict[str, dict[str, list[str]]] = {}
    for kind in KINDS:
        for name in facets.get(kind, []):
            entity = known.get(kind, name)
            if entity is None:
                continue
            words: list[str] = []
            for field in ("title", "body"):
                found = stored_ranges(reader, field, {entity.token}, [docnum])
                text = stored.get(field, "")
                for start, end in (found or {}).get(docnum, []):
                    if text[start:end] not in words:
                        words.append(text[start:end])
            if words:
                out.setdefault(kind, {})[name] = words
    return out
