"""Search requests: HTTP / CLI parameters checked and turned into a frozen SearchRequest.

Every bad value raises BadParameter naming the parameter, so the API answers 400, never 500.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache

from search import limits
from search.errors import BadParameter
from search.schema import FACETS

SORTS = ("relevance", "date", "-date")
INTERVALS = ("month", "year")
COLLAPSES = ("story",)  # collapse=story: one hit per story (search.stories)
COUNTS = ("articles", "stories")
MAX_MEMBERS = 100
MAX_PAGE = 10_000  # page * per_page reaches at most search.cursor.MAX_WINDOW hits
MAX_FACET_SIZE = 1000
MAX_FRAGMENTS = 10
FRAGMENT_SIZES = (20, 1000)
MAX_FILTER_VALUES = 50  # values of one facet filter
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@cache
def parameters(bounds: limits.Limits) -> dict[str, str]:
    """name -> help: the parameters of /search (and of /trends and /facets, which reuse them)."""
    return {
        "q": "query text (see the query syntax); empty browses everything",
        **{name: f"filter on {name}; repeat for several values (OR)" for name in FACETS},
        "from": "earliest publication date: YYYY, YYYY-MM or YYYY-MM-DD",
        "to": "latest publication date: YYYY, YYYY-MM or YYYY-MM-DD (inclusive)",
        "sort": "relevance (default), date (oldest first) or -date (newest first); undated last",
        "page": "page number, from 1, while page * per_page is at most 10,000; further, "
        "page on with cursor",
        "per_page": f"hits per page, 0 to {bounds.max_per_page} (default 10)",
        "facets": "comma-separated facets to count (default all; 'none' for none)",
        "facet_size": f"values per facet, 1 to {MAX_FACET_SIZE} (default 10)",
        "highlight": "true (default) or false",
        "fragments": f"body fragments per hit, 0 to {MAX_FRAGMENTS} (default 3, a setting)",
        "fragment_size": "characters per fragment, "
        f"{FRAGMENT_SIZES[0]} to {FRAGMENT_SIZES[1]} (default 160, a setting)",
        "collapse": "story: one hit per story (copies of one report across outlets), total "
        "and pages counting stories; each hit lists its story's other members",
        "members": f"with collapse=story, other members listed per hit, 0 to {MAX_MEMBERS} "
        "(default 5)",
        "count": "articles (default) or stories: what facet counts, the histogram and trends count",
    }


@dataclass(frozen=True)
class SearchRequest:
    """A checked search. Filters: facet -> accepted values (OR); facets AND together."""

    q: str = ""
    filters: tuple[tuple[str, tuple[str, ...]], ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = 10
    facets: tuple[str, ...] = FACETS
    facet_size: int = 10
    highlight: bool = True
    fragments: int = 3
    fragment_size: int = 160
    collapse: str = ""  # "story": one hit per story
    members: int = 5  # with collapse: other members listed per hit
    count: str = "articles"  # or "stories": what facets, histogram and trends count
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def by_story(self) -> bool:
        """Counts count stories."""
        return self.count == "stories"

    def to_json(self) -> dict:
        return {
            "q": self.q,
            "filters": {name: list(values) for name, values in self.filters},
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            "sort": self.sort,
            "page": self.page,
            "per_page": self.per_page,
            "facets": list(self.facets),
            "facet_size": self.facet_size,
            "collapse": self.collapse or None,
            "count": self.count,
        }


Params = Mapping[str, Sequence[str]]


def params_of(pairs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """The parameters of a query string (its name, value pairs): name -> values in order."""
    out: dict[str, list[str]] = {}
    for key, value in pairs:
        out.setdefault(key, []).append(value)
    return out


def _one(params: Params, name: str) -> str | None:
    values = params.get(name) or []
    if len(values) > 1:
        raise BadParameter(f"{name} given {len(values)} times; give it once", name)
    return values[0] if values else None


def integer(params: Params, name: str, default: int, low: int, high: int) -> int:
    raw = _one(params, name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadParameter(f"{name} must be a whole number, not {raw[:40]!r}", name) from None
    if not low <= value <= high:
        raise BadParameter(f"{name} must be between {low} and {high}, not {value}", name)
    return value


def choice(params: Params, name: str, default: str, allowed: Sequence[str]) -> str:
    raw = _one(params, name)
    if raw is None or raw == "":
        return default
    if raw not in allowed:
        raise BadParameter(f"{name} must be one of {', '.join(allowed)}, not {raw[:40]!r}", name)
    return raw


def boolean(params: Params, name: str, default: bool) -> bool:
    raw = _one(params, name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise BadParameter(f"{name} must be true or false, not {raw[:40]!r}", name)


def period(raw: str | None, name: str, end: bool) -> date | None:
    """`2017` / `2017-07` / `2017-07-11` -> the first (or, with `end`, the last) day."""
    if raw is None or raw == "":
        return None
    match = _DATE.match(raw.strip())
    if not match:
        raise BadParameter(
            f"{name} must be a date as YYYY, YYYY-MM or YYYY-MM-DD, not {raw[:40]!r}", name
        )
    year, month, day = int(match[1]), match[2], match[3]
    if year < 1:
        raise BadParameter(f"{name}: there is no year 0 ({raw!r})", name)
    if month is None:
        return date(year, 12, 31) if end else date(year, 1, 1)
    if not 1 <= int(month) <= 12:
        raise BadParameter(f"{name}: the month must be 01 to 12, not {month} ({raw!r})", name)
    last = calendar.monthrange(year, int(month))[1]
    if day is None:
        return date(year, int(month), last if end else 1)
    if not 1 <= int(day) <= last:
        month_name = calendar.month_name[int(month)]
        raise BadParameter(
            f"{name}: {month_name} {year} has {last} days, so the day must be 01 to {last}, "
            f"not {day} ({raw!r})",
            name,
        )
    return date(year, int(month), int(day))


def facet_list(params: Params) -> tuple[str, ...]:
    raw = _one(params, "facets")
    if raw is None or raw.strip() == "":
        return FACETS
    if raw.strip() == "none":
        return ()
    names = tuple(dict.fromkeys(n.strip() for n in raw.split(",") if n.strip()))
    unknown = [n for n in names if n not in FACETS]
    if unknown:
        raise BadParameter(
            f"unknown facet {unknown[0]!r}; facets are {', '.join(FACETS)}", "facets"
        )
    return names


def known_only(params: Params, allowed: Sequence[str]) -> None:
    """Refuse a parameter the route does not take (a typo would otherwise pass unseen).
    Names starting with `_` are left to clients, e.g. cache busters."""
    for name in params:
        if name not in allowed and not name.startswith("_"):
            raise BadParameter(f"unknown parameter {name!r}", name)


def parse_request(params: Params, allowed: Sequence[str] = ()) -> SearchRequest:
    """Check the parameters of a search. `allowed` names extra parameters a route takes."""
    bounds = limits.current()
    known_only(params, (*parameters(bounds), *allowed))
    q = _one(params, "q") or ""
    if len(q) > bounds.max_query_length:
        raise BadParameter(f"q is longer than {bounds.max_query_length} characters", "q")
    filters = []
    for name in FACETS:
        values = tuple(dict.fromkeys(v.strip() for v in params.get(name) or [] if v.strip()))
        if len(values) > MAX_FILTER_VALUES:
            raise BadParameter(f"at most {MAX_FILTER_VALUES} values for {name}", name)
        if values:
            filters.append((name, values))
    date_from = period(_one(params, "from"), "from", end=False)
    date_to = period(_one(params, "to"), "to", end=True)
    if date_from and date_to and date_to < date_from:
        raise BadParameter(f"to ({date_to}) is before from ({date_from})", "to")
    return SearchRequest(
        q=q,
        filters=tuple(filters),
        date_from=date_from,
        date_to=date_to,
        sort=choice(params, "sort", "relevance", SORTS),
        page=integer(params, "page", 1, 1, MAX_PAGE),
        per_page=integer(params, "per_page", 10, 0, bounds.max_per_page),
        facets=facet_list(params),
        facet_size=integer(params, "facet_size", 10, 1, MAX_FACET_SIZE),
        highlight=boolean(params, "highlight", True),
        fragments=integer(params, "fragments", bounds.fragments, 0, MAX_FRAGMENTS),
        fragment_size=integer(params, "fragment_size", bounds.fragment_size, *FRAGMENT_SIZES),
        collapse=choice(params, "collapse", "", COLLAPSES),
        members=integer(params, "members", 5, 0, MAX_MEMBERS),
        count=choice(params, "count", "articles", COUNTS),
        extra={name: _one(params, name) for name in allowed},
    )
