"""The stories of one searcher's documents, as arrays: a story number per document number,
so that collapsing hits and counting stories are array work (search.view keeps one).

A document the story file does not list (an index built before stories) is a story of its
own, named as a new story of that article would be.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from whoosh.searching import Searcher

from search import facets, ranking, shingles
from search.stored import values
from search.stories import StoryState, day_of, story_name
from search.view_arrays import Facet, ViewArrays


class StoryView:
    """docnum -> story, and what the API says of a story."""

    def __init__(self, searcher: Searcher, arrays: ViewArrays, state: StoryState | None) -> None:
        self.searcher = searcher
        self.state = state or StoryState.empty()
        keys = arrays.ids()  # docnum -> id (deleted documents too)
        count = len(self.state.names)
        rows = np.full(len(keys), -1, np.int64)
        if len(self.state.ids) and len(keys):
            at = np.searchsorted(self.state.ids, keys).clip(0, len(self.state.ids) - 1)
            rows = np.where(self.state.ids[at] == keys, at, -1)
        self.rows = rows.astype(np.int32)
        groups = count + np.arange(len(keys), dtype=np.int64)  # its own, unless the file says
        if len(self.state.ids):
            groups = np.where(rows >= 0, self.state.story[rows.clip(0)], groups)
        self.group = groups.astype(np.int64)
        self.docnum_of_row = np.full(len(self.state.ids), -1, np.int32)
        known = np.flatnonzero((rows >= 0) & arrays.live)
        self.docnum_of_row[rows[known]] = known

    # --- counting ---------------------------------------------------------------------------

    def distinct(self, mask: np.ndarray) -> int:
        """How many stories the documents of `mask` belong to."""
        return int(np.count_nonzero(np.bincount(self.group[mask])))

    def count(self, facet: Facet, mask: np.ndarray) -> Counter[str]:
        """Per value of a facet, the stories among the documents of `mask` with a member
        carrying it."""
        kept = mask[facet.docs]
        width = max(len(facet.names), 1)
        pairs = np.unique(self.group[facet.docs[kept]] * width + facet.codes[kept])
        return facets.count_codes(facet, np.bincount(pairs % width, minlength=len(facet.names)))

    # --- a story ------------------------------------------------------------------------------

    def story_of(self, docnum: int) -> dict[str, Any]:
        """{id, size, first: {id, date, source}} of a document's story."""
        row = int(self.rows[docnum])
        if row < 0:
            doc_id = self.searcher.stored_fields(docnum)["id"]
            return {
                "id": story_name(doc_id).decode(),
                "size": 1,
                "first": self._brief_doc(docnum),
            }
        story = int(self.state.story[row])
        return self._summary(story)

    def _summary(self, story: int) -> dict[str, Any]:
        first = int(self.state.first[story])
        return {
            "id": self.state.names[story].decode(),
            "size": int(self.state.size[story]),
            "first": self._brief_row(first),
        }

    def others(self, docnum: int, limit: int) -> list[dict]:
        """The other members of a document's story, in date order, at most `limit`."""
        row = int(self.rows[docnum])
        if row < 0 or limit <= 0:
            return []
        members = self.state.members(int(self.state.story[row]))
        return [self._brief_row(int(r)) for r in members if r != row][:limit]

    def story(self, name: str, limit: int) -> dict[str, Any] | None:
        """GET /stories/{id}: the members in date order, each with how much it differs from
        the first; None when no story has that id."""
        story = self.state.resolve(name)
        if story is None:
            return self._lone(name)
        rows = self.state.members(story)
        first_row = int(self.state.first[story])
        first_text = shingles.shingles(self._body(first_row))
        members = []
        for row in rows[:limit]:
            brief = self._brief_row(int(row), title=True)
            found = shingles.overlap(shingles.shingles(self._body(int(row))), first_text)
            own = shingles.shingles(self._body(int(row)))
            members.append(
                {
                    **brief,
                    "first": int(row) == first_row,
                    "jaccard": round(found.jaccard, 4),
                    "in_first": round(shingles.share(own, first_text), 4),
                    "first_in_it": round(shingles.share(first_text, own), 4),
                }
            )
        return {
            **self._summary(story),
            "requested": name,
            "members": members,
            "truncated": len(rows) > limit,
        }

    def _lone(self, name: str) -> dict[str, Any] | None:
        """A document the story file does not list is a story of its own: found by name."""
        reader = self.searcher.reader()
        for docnum in np.flatnonzero(self.rows < 0).tolist():
            if reader.is_deleted(docnum):
                continue
            if story_name(self.searcher.stored_fields(docnum)["id"]).decode() == name:
                brief = self._brief_doc(docnum, title=True)
                member = {**brief, "first": True, "jaccard": 1.0, "in_first": 1.0}
                member["first_in_it"] = 1.0
                return {
                    "id": name,
                    "size": 1,
                    "first": self._brief_doc(docnum),
                    "requested": name,
                    "members": [member],
                    "truncated": False,
                }
        return None

    def _body(self, row: int) -> str:
        docnum = int(self.docnum_of_row[row])
        if docnum < 0:
            return ""
        return self.searcher.stored_fields(docnum).get("body") or ""

    def _brief_row(self, row: int, title: bool = False) -> dict[str, Any]:
        docnum = int(self.docnum_of_row[row])
        if docnum >= 0:
            return self._brief_doc(docnum, title)
        day = day_of(int(self.state.days[row]))
        brief: dict[str, Any] = {
            "id": self.state.ids[row].decode(),
            "date": day.isoformat() if day else None,
            "source": None,
        }
        return {**brief, "title": None} if title else brief

    def _brief_doc(self, docnum: int, title: bool = False) -> dict[str, Any]:
        stored = self.searcher.stored_fields(docnum)
        date = stored.get("date")
        brief: dict[str, Any] = {
            "id": stored["id"],
            "date": date.date().isoformat() if date is not None else None,
            "source": next(iter(values(stored.get("source"))), None),
        }
        return {**brief, "title": stored.get("title", "")} if title else brief


def collapsed(
    arrays: ViewArrays, docs: np.ndarray, key: np.ndarray, group: np.ndarray, start: int, size: int
) -> np.ndarray:
    """Hits start..start+size of the order of `docs` (by `key`, then id, search.ranking)
    with one hit per story, its best-ranked member: their document numbers."""
    ranked = ranking.ordered(arrays, docs, key)
    _, first = np.unique(group[ranked], return_index=True)
    return ranked[np.sort(first)][start : start + size]
