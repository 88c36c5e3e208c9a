"""HTML-safe highlights: fragments of stored text with <mark> around matched words only.

Matches come from the character spans the index stores with each posting (or, for an index
without them, from analysing the stored text again), so an entity token
(`faction:islamic-state`) marks the words the article wrote (`Daesh`). Every fragment is
returned as HTML (article text escaped) and as data: its plain text, its offset in the field,
and the matched ranges within it.
"""

from __future__ import annotations

import html
import unicodedata
from dataclasses import dataclass

from search.analysis import text_analyzer

_ANALYZER = text_analyzer()


@dataclass(frozen=True)
class Fragment:
    text: str
    offset: int  # where the fragment starts in the field's text
    ranges: tuple[tuple[int, int], ...]  # matched [start, end) within `text`

    @property
    def html(self) -> str:
        out, position = [], 0
        for start, end in self.ranges:
            out.append(html.escape(self.text[position:start]))
            out.append(f"<mark>{html.escape(self.text[start:end])}</mark>")
            position = end
        out.append(html.escape(self.text[position:]))
        return "".join(out)

    def to_json(self) -> dict:
        return {
            "html": self.html,
            "text": self.text,
            "offset": self.offset,
            "ranges": [list(r) for r in self.ranges],
        }


def match_ranges(text: str, terms: set[str]) -> list[tuple[int, int]]:
    """Character ranges of the tokens of `text` that are among `terms`, merged (for an
    index without stored character spans)."""
    if not terms or not text:
        return []
    return merge(
        (token.startchar, token.endchar)
        for token in _ANALYZER(text, chars=True, mode="index", removestops=False)
        if token.text in terms
    )


def stored_ranges(
    reader, field: str, terms: set[str], docnums: list[int], arrays=None
) -> dict[int, list] | None:
    """docnum -> merged character ranges of `terms` in `field`, read from the postings'
    stored spans: with `arrays` (search.view_arrays), the block of each document read
    straight; otherwise one posting cursor per term walks the (few) documents in order.
    None when the field keeps no spans (an index built before they were stored)."""
    if not reader.schema[field].format.supports("characters"):
        return None
    spans: dict[int, list[tuple[int, int]]] = {docnum: [] for docnum in docnums}
    wanted = sorted(spans)
    for text in terms:
        found = arrays.spans(field, text.encode("utf-8"), wanted) if arrays else None
        if found is not None:
            for docnum, ranges in found.items():
                spans[docnum] += ranges
            continue
        if (field, text) not in reader:
            continue
        cursor = reader.postings(field, text)
        for docnum in wanted:
            if not cursor.is_active():
                break
            if cursor.id() < docnum:
                cursor.skip_to(docnum)
                if not cursor.is_active():
                    break
            if cursor.id() == docnum:
                spans[docnum] += [(s, e) for _, s, e in cursor.value_as("characters")]
    return {docnum: merge(found) for docnum, found in spans.items()}


def merge(spans) -> list[tuple[int, int]]:
    """Sorted, overlapping spans joined."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def whole(text: str, terms: set[str], ranges=None) -> Fragment:
    """The whole text (a title) with its matches (`ranges` when known, else found)."""
    return Fragment(text, 0, tuple(match_ranges(text, terms) if ranges is None else ranges))


def fragments(
    text: str, terms: set[str], count: int = 3, size: int = 160, ranges=None
) -> list[Fragment]:
    """Up to `count` fragments of about `size` characters around the densest matches, in text
    order. With no match, the opening of the text, so a hit always shows something.
    `ranges`: the matches when known (stored_ranges), else they are found in the text."""
    if ranges is None:
        ranges = match_ranges(text, terms)
    if not ranges:
        return [_cut(text, 0, size, [], [])] if text and count else []
    windows = []
    for index, (start, _) in enumerate(ranges):
        inside = [r for r in ranges[index:] if r[1] <= start + size]
        windows.append((len(inside), -start, start, inside))
    chosen: list[Fragment] = []
    for _, _, start, inside in sorted(windows, reverse=True):
        if len(chosen) >= count:
            break
        fragment = _cut(text, start, size, inside, ranges)
        end = fragment.offset + len(fragment.text)
        if all(end <= f.offset or fragment.offset >= f.offset + len(f.text) for f in chosen):
            chosen.append(fragment)  # fragments never repeat text
    return sorted(chosen, key=lambda f: f.offset)


def _grapheme_end(text: str, end: int) -> int:
    """Move a cut forward past what belongs to the character before it: combining marks,
    joiners and variation selectors, and the second half of a flag (regional indicators
    pair up)."""
    while end < len(text) and (
        unicodedata.category(text[end]) in ("Mn", "Mc", "Me") or text[end] in "\u200d\ufe0e\ufe0f"
    ):
        end += 1
    indicators = 0
    while end - indicators > 0 and "\U0001f1e6" <= text[end - indicators - 1] <= "\U0001f1ff":
        indicators += 1
    if indicators % 2 and end < len(text) and "\U0001f1e6" <= text[end] <= "\U0001f1ff":
        end += 1
    return end


def _cut(text: str, first_match: int, size: int, inside, ranges) -> Fragment:
    """A fragment starting a little before its first match, cut at word boundaries; every
    match that falls inside it is marked (`ranges`: all matches of the text)."""
    start = max(0, first_match - size // 4)
    if start:
        space = text.rfind(" ", 0, start)
        # start after a space close by, at the text's start, or at the match: never mid-word
        if space < 0:
            start = 0
        elif start - space < 20:
            start = space + 1
        else:
            start = first_match
    end = min(len(text), start + size)
    last_match_end = max((e for _, e in inside), default=0)
    end = max(end, last_match_end)
    if end < len(text):
        space = text.rfind(" ", last_match_end, end)
        end = space if space > start else _grapheme_end(text, end)
    piece = text[start:end].replace("\n", " ")  # same length: ranges stay valid
    ranges = tuple((s - start, e - start) for s, e in ranges if s >= start and e <= end)
    return Fragment(piece, start, ranges)
