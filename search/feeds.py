"""Atom 1.0 feeds of searches (GET /search.atom, GET /saved-searches/{id}.atom).

feedgen writes the XML: it escapes text, orders the elements as RFC 4287 wants and gives
every date a zone, which is all a hand-written template would get wrong in time. The feed's
validators (ETag, Last-Modified, the feed's `updated`) are computed from its entries alone,
before any XML is written: a reader polling an unchanged search gets 304 cheaply.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import quote

from feedgen.entry import FeedEntry
from feedgen.feed import FeedGenerator

from search.schema import indexed_time

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # an empty feed's `updated`: stable, so its ETag is
ENTRIES = 50  # entries of a feed unless per_page says


@dataclass(frozen=True)
class Entry:
    """One article of a feed."""

    id: str
    title: str
    date: str | None  # YYYY-MM-DD
    indexed_at: int  # microseconds since 1970 UTC
    url: str | None
    source: str | None
    snippet: str


@dataclass(frozen=True)
class Feed:
    """A feed's identity and entries: `key` says which search it is (the request as text)."""

    title: str
    key: str
    self_url: str
    page_url: str
    base_url: str  # the service's root, ending in "/"
    entries: tuple[Entry, ...]

    @property
    def updated(self) -> datetime:
        """When an entry was last written: the latest `indexed_at` of the entries."""
        latest = max((e.indexed_at for e in self.entries), default=None)
        return _moment(latest) if latest is not None else EPOCH

    @property
    def etag(self) -> str:
        """Changes when, and only when, the entries (or which search this is) change."""
        digest = hashlib.sha256(self.key.encode())
        for entry in self.entries:
            digest.update(f"\0{entry.id}\0{entry.indexed_at}".encode())
        return f'"{digest.hexdigest()[:32]}"'

    @property
    def last_modified(self) -> str:
        return format_datetime(self.updated.replace(microsecond=0), usegmt=True)


class _Entry(FeedEntry):
    """feedgen 1.0 drops the `rel` and `type` of an entry's links (a loop variable reused in
    FeedEntry.atom_entry): they are put back on the elements it wrote, in the same order."""

    def atom_entry(self, extensions: bool = True):
        entry = super().atom_entry(extensions)
        elements = [e for e in entry if isinstance(e.tag, str) and e.tag.endswith("link")]
        for element, link in zip(elements, self.link() or [], strict=True):
            for name in ("rel", "type"):
                if link.get(name):
                    element.attrib[name] = link[name]
        return entry


def not_modified(feed: Feed, if_none_match: str | None, if_modified_since: str | None) -> bool:
    """Whether a conditional GET may be answered 304: If-None-Match when sent (it wins), else
    If-Modified-Since."""
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or feed.etag in tags
    if if_modified_since is not None:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return feed.updated.replace(microsecond=0) <= since
    return False


def entry_id(base_url: str, doc_id: str) -> str:
    """A stable id for an article: its document view's address on this service."""
    return f"{base_url}?doc={quote(doc_id, safe='')}"


def atom(feed: Feed) -> bytes:
    """The feed as Atom 1.0 XML (UTF-8)."""
    generator = FeedGenerator()
    generator.id(feed.self_url)
    generator.title(xml_text(feed.title) or "search")
    generator.updated(feed.updated)
    generator.link(href=feed.self_url, rel="self", type="application/atom+xml")
    generator.link(href=feed.page_url, rel="alternate", type="text/html")
    generator.author({"name": "search"})
    generator.generator("search")
    for item in feed.entries:
        entry = generator.add_entry(_Entry(), order="append")
        entry.id(entry_id(feed.base_url, item.id))
        entry.title(xml_text(item.title) or xml_text(item.id))
        indexed = _moment(item.indexed_at)
        entry.updated(_day(item.date) if item.date else indexed)
        if item.date:
            entry.published(_day(item.date))
        entry.link(href=entry_id(feed.base_url, item.id), rel="alternate", type="text/html")
        if item.url:
            entry.link(href=item.url, rel="related")
        entry.author({"name": xml_text(item.source or "") or "unknown source"})
        if item.snippet:
            entry.summary(xml_text(item.snippet), type="text")
    return generator.atom_str(pretty=False)


# What XML 1.0 cannot hold: control characters other than tab, newline and return, and
# the two non-characters; an article or a query may carry them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """`text` without what XML cannot hold, each replaced by a space."""
    return _NOT_XML.sub(" ", text)


def snippet(fragments: Sequence[dict]) -> str:
    """A hit's body fragments as one plain text (the feed escapes it)."""
    return " … ".join(f["text"].strip() for f in fragments if f.get("text", "").strip())


def _moment(micros: int) -> datetime:
    text = indexed_time(micros)
    assert text is not None
    return datetime.fromisoformat(text)


def _day(text: str) -> datetime:
    day = date.fromisoformat(text)
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
