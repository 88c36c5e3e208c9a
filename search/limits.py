"""The limits of requests and the defaults they may change, read from the settings once.

A process reads them the first time it needs them (the app factory asks at its start, before
the first request) and keeps them in one frozen Limits: every query, request and posted
article of that process is checked against the same values.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from search import settings


@dataclass(frozen=True)
class Limits:
    """One value per setting of the same name (see search.settings)."""

    max_query_length: int  # characters of query text
    max_clauses: int  # words, phrases and prefixes in one query
    max_depth: int  # nested parentheses and NOTs
    max_expansion: int  # words and facet values the prefixes of one query expand to
    max_per_page: int  # hits per page
    max_body_bytes: int  # a request body
    max_articles: int  # articles in one POST /documents
    max_field_bytes: int  # one field of a posted article, in UTF-8
    fragments: int  # body fragments per hit when a request does not say
    fragment_size: int  # characters per fragment when a request does not say

    @classmethod
    def from_settings(cls) -> Limits:
        """The values of the settings now (SettingError for a bad one)."""
        return cls(**{field.name: settings.integer(field.name) for field in fields(cls)})


_current: Limits | None = None


def current() -> Limits:
    """The limits of this process: read from the settings the first time they are asked for,
    then the same object."""
    global _current
    if _current is None:
        _current = Limits.from_settings()
    return _current
