"""Parse one article: a text file in one of the known shapes, or a JSON / CSV record.

Shapes of text file:
- Global Research repost: title, `By [Author](#)`, `Global Research, July 11, 2017`,
  `[South Front] 10 July 2017`, `Region:`, `Theme:`, `In-depth Report:`, body, boilerplate.
- A site template recognised by its chrome (RFE/RL): chrome lines dropped, title, body, credit.
- Anything else: the first non-empty line is the title, the rest the body.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from search.dates import find_date, parse_date
from search.text import clean, normalise, paragraphs


class ArticleError(ValueError):
    """An input that cannot become an article (no text, wrong types)."""


@dataclass(frozen=True)
class Article:
    """One parsed article, before tagging. Dates are None when the source gives none."""

    id: str
    title: str
    body: str
    date: dt.date | None = None
    source: str | None = None
    authors: tuple[str, ...] = ()
    url: str | None = None
    original_source: str | None = None
    original_date: dt.date | None = None
    regions: tuple[str, ...] = ()
    themes: tuple[str, ...] = ()
    reports: tuple[str, ...] = ()
    credit: str | None = None
    origin: str = ""
    warnings: tuple[str, ...] = field(default=(), compare=False)
    # Where the article was first read, as a record of `search export` says (its tags'
    # "origin"): a restore keeps it in the index, while `origin` names the dump's line.
    recorded_origin: str | None = None
    # When a record of `search export` says the article was first indexed (microseconds
    # since 1970 UTC): a restore keeps it, so "new since" does not list the whole archive.
    recorded_indexed_at: int | None = None


@dataclass(frozen=True)
class _Site:
    source: str
    markers: frozenset[str]
    chrome: frozenset[str]


@dataclass(frozen=True)
class _Rules:
    drop: re.Pattern[str]
    end: re.Pattern[str]
    credit: tuple[re.Pattern[str], ...]
    sites: tuple[_Site, ...]
    sources: Mapping[str, str]


def _any_of(patterns: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE)


def _source_key(name: str) -> str:
    return re.sub(r"[\s./\-_]+", "", name).casefold()


@cache
def rules() -> _Rules:
    """Boilerplate, chrome and source-name data, loaded once from search/data."""
    data_dir = resources.files("search") / "data"
    boiler = tomllib.loads((data_dir / "boilerplate.toml").read_text(encoding="utf-8"))
    names = tomllib.loads((data_dir / "sources.toml").read_text(encoding="utf-8"))
    sources = {}
    for canonical, spellings in names.items():
        for spelling in [canonical, *spellings]:
            sources[_source_key(spelling)] = canonical
    sites = tuple(
        _Site(
            source=site["source"],
            markers=frozenset(m.casefold() for m in site["markers"]),
            chrome=frozenset(c.casefold() for c in site["chrome"]),
        )
        for site in boiler.get("site", [])
    )
    return _Rules(
        drop=_any_of(boiler["drop"]),
        end=_any_of(boiler["end"]),
        credit=tuple(re.compile(p, re.IGNORECASE) for p in boiler["credit"]),
        sites=sites,
        sources=sources,
    )


def source_name(name: str | None) -> str | None:
    """The canonical display name of a source (`ahram` -> `Ahram Online`)."""
    if not name or not name.strip():
        return None
    name = " ".join(name.split())
    return rules().sources.get(_source_key(name), name)


# --- text files -------------------------------------------------------------------------------

_LINK_TEXTS = re.compile(r"\[([^\]\n]+)\]\([^)\n]*\)")
_BY = re.compile(r"^\**By\s+(?P<who>.+?)\**$", re.IGNORECASE)
_PUBLISHED = re.compile(
    r"^(?P<source>[A-Z][^,\[\]()]{1,60}),\s+(?P<date>[A-Z][a-z]+\.? \d{1,2},? \d{4})$"
)
_ORIGINAL = re.compile(r"^\[(?P<source>[^\]\n]+)\]\([^)\n]*\)\s*(?P<date>.*)$")
_LABELLED = re.compile(
    r"^(?P<label>Region|Theme|In-depth Report)s?:\s*(?P<value>.*)$", re.IGNORECASE
)
_LABEL_FIELDS = {"region": "regions", "theme": "themes", "in-depth report": "reports"}
_HEADER_WINDOW = 12  # header lines of a Global Research repost all sit in the first lines


def parse_text(text: str, article_id: str, origin: str = "") -> Article:
    """Parse the text of one article file (already decoded) into an Article."""
    # line for line: normalised text (Markdown kept, for header links) and cleaned text
    raw_lines = [line.strip() for line in normalise(text).split("\n")]
    cleaned = clean(text).split("\n")
    site = _site_of(cleaned)
    if site is not None:
        keep = [i for i, line in enumerate(cleaned) if line.casefold() not in site.chrome]
        raw_lines = [raw_lines[i] for i in keep]
        cleaned = [cleaned[i] for i in keep]
    if not any(cleaned):
        raise ArticleError("no text" if site is None else "nothing but site chrome")
    first = next(i for i, line in enumerate(cleaned) if line)
    fields: dict[str, Any] = {"title": cleaned[first], "source": site.source if site else None}
    body_start = _read_header(raw_lines, cleaned, first + 1, fields)
    body, credit = _body(cleaned[body_start:])
    if not fields["title"] and not body:
        raise ArticleError("no text")
    return Article(
        id=article_id,
        body=body,
        credit=credit,
        origin=origin,
        **{k: v for k, v in fields.items() if k != "source"},
        source=source_name(fields["source"]),
    )


def _site_of(lines: list[str]) -> _Site | None:
    head = {line.casefold() for line in lines[:_HEADER_WINDOW] if line}
    return next((site for site in rules().sites if site.markers & head), None)


def _list_value(raw: str) -> tuple[str, ...]:
    """`[A](#), [B](#)` or `A, B` -> ('A', 'B')."""
    links = _LINK_TEXTS.findall(raw)
    items = links if links else clean(raw).split(",")
    out = []
    for item in items:
        item = " ".join(clean(item).split()).strip("*")
        if item and item not in out:
            out.append(item)
    return tuple(out)


def _read_header(raw: list[str], cleaned: list[str], start: int, fields: dict[str, Any]) -> int:
    """Read Global Research header lines after the title; return where the body starts."""
    index, seen_header = start, False
    while index < len(raw) and index < start + _HEADER_WINDOW:
        line, text = raw[index], cleaned[index]
        if not line:
            index += 1
            continue
        if not _header_line(line, text, fields):
            break
        seen_header = True
        index += 1
    return index if seen_header else start


_DATE_LINE = 60  # characters: a date line after the title, not a sentence with a date


def _header_line(line: str, text: str, fields: dict[str, Any]) -> bool:
    if (match := _BY.match(line)) and _byline(match["who"]):
        fields["authors"] = _authors(match["who"])
    elif match := _PUBLISHED.match(text):
        fields["source"] = match["source"].strip()
        fields["date"] = find_date(match["date"])
    elif match := _ORIGINAL.match(line):
        fields["original_source"] = source_name(clean(match["source"]))
        fields["original_date"] = find_date(clean(match["date"])) if match["date"] else None
    elif match := _LABELLED.match(line):
        fields[_LABEL_FIELDS[match["label"].lower()]] = _list_value(match["value"])
    elif not fields.get("date") and len(text) <= _DATE_LINE and (day := parse_date(text)):
        fields["date"] = day  # a line that is only a date: "الثلاثاء 11 تموز 2017"
    else:
        return False
    return True


def _byline(who: str) -> bool:
    """`By [South Front](#)` or `By Jane Doe and John Roe`, not `By the time the SDF ...`."""
    if _LINK_TEXTS.search(who):
        return True
    words = who.split()
    return (
        len(words) <= 8
        and not who.rstrip().endswith((".", "!", "?", ","))
        and all(
            w[:1].isupper()
            or w in ("and", "de", "al", "el", "van", "von", "bin")
            or w.startswith("al-")
            for w in words
        )
    )


def _authors(raw: str) -> tuple[str, ...]:
    links = _LINK_TEXTS.findall(raw)
    names = links if links else re.split(r",\s*|\s+and\s+", clean(raw))
    return tuple(dict.fromkeys(n.strip(" *") for n in names if n.strip(" *")))


def _body(lines: list[str]) -> tuple[str, str | None]:
    """Drop boilerplate, cut the trailing appeal/disclaimer, lift out the agency credit."""
    rule = rules()
    kept: list[str] = []
    credit = None
    for line in lines:
        if rule.end.match(line):
            break
        if rule.drop.match(line):
            continue
        match = next((m for p in rule.credit if (m := p.match(line))), None)
        if match:
            credit = match.group(1)
            continue
        kept.append(line)
    return paragraphs(kept), credit


# --- records (JSON objects, CSV rows) -----------------------------------------------------------

# Field name -> accepted keys, in order of preference. Unknown keys are ignored.
RECORD_KEYS: dict[str, tuple[str, ...]] = {
    "id": ("id", "_id", "article_id", "unit_id", "uuid", "guid"),
    "title": ("title", "article_title", "headline", "name"),
    "body": ("body", "article_content", "content", "text", "article_body", "article"),
    "date": (
        "date",
        "published",
        "pubdate",
        "pub_date",
        "publication_date",
        "published_at",
        "datetime",
    ),
    "source": ("source", "publisher", "outlet", "site"),
    "author": ("author", "authors", "byline", "by"),
    "url": ("url", "link", "href"),
    "region": ("region", "regions"),
    "theme": ("theme", "themes"),
    "report": ("report", "reports", "in_depth_report"),
    "original_source": ("original_source",),
    "original_date": ("original_date",),
    "credit": ("credit",),
}


def record_value(record: Mapping[str, Any], name: str, columns: Mapping[str, str]) -> Any:
    """The value of a logical field in a record, by explicit column name or by the usual keys."""
    if name in columns:
        return record.get(columns[name])
    lowered = {str(k).strip().lower(): v for k, v in record.items()}
    for key in RECORD_KEYS[name]:
        if key in lowered and lowered[key] not in (None, ""):
            return lowered[key]
    return None


def _text(value: Any, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ArticleError(f"field {name!r} must be text, not {type(value).__name__}")
    try:
        value = str(value)
    except ValueError:  # an integer of more than 4,300 digits
        raise ArticleError(f"field {name!r} holds a number too long to be text") from None
    value = " ".join(clean(value).split())
    return value or None


def _texts(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return _list_value(value)
    if isinstance(value, list):
        return tuple(dict.fromkeys(t for v in value if (t := _text(v, name))))
    raise ArticleError(f"field {name!r} must be text or a list of text, not {type(value).__name__}")


def _date(value: Any, warnings: list[str]) -> dt.date | None:
    text = _text(value, "date")
    if text is None:
        return None
    parsed = parse_date(text)
    if parsed is None:
        warnings.append(f"unrecognised date {text[:40]!r} left empty")
    return parsed


def parse_record(
    record: Mapping[str, Any],
    default_id: str,
    origin: str = "",
    columns: Mapping[str, str] | None = None,
) -> Article:
    """Build an Article from a JSON object or CSV row.

    record: the mapping read from the file.
    default_id: the id used when the record has none.
    origin: where it came from (path and line), for messages.
    columns: explicit logical field -> column name, overriding the usual names.
    """
    if not isinstance(record, Mapping):
        raise ArticleError(f"expected an object, got {type(record).__name__}")
    columns = columns or {}

    def get(name: str) -> Any:
        return record_value(record, name, columns)

    raw_body = get("body")
    if raw_body is not None and not isinstance(raw_body, str):
        raise ArticleError(f"field 'body' must be text, not {type(raw_body).__name__}")
    body, credit = _body(clean(raw_body or "").split("\n"))
    title = _text(get("title"), "title")
    if not title and not body:
        raise ArticleError("no title and no body")
    if not title:
        title = _first_words(body)
    article_id = _text(get("id"), "id") or default_id
    warnings: list[str] = []
    return Article(
        id=article_id,
        title=title,
        body=body,
        date=_date(get("date"), warnings),
        source=source_name(_text(get("source"), "source")),
        authors=_texts(get("author"), "author"),
        url=_text(get("url"), "url"),
        original_source=source_name(_text(get("original_source"), "original_source")),
        original_date=parse_date(_text(get("original_date"), "original_date")),
        regions=_texts(get("region"), "region"),
        themes=_texts(get("theme"), "theme"),
        reports=_texts(get("report"), "report"),
        credit=_text(get("credit"), "credit") or credit,
        origin=origin,
        warnings=tuple(warnings),
    )


def _first_words(body: str, limit: int = 100) -> str:
    line = body.split("\n", 1)[0]
    if len(line) <= limit:
        return line
    return line[:limit].rsplit(" ", 1)[0] + "..."
