"""What the Hypothesis property tests share: their settings, and the check that a query either
parses or says where it fails."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

from search.errors import QuerySyntaxError
from search.querylang import parse

# derandomized: the same examples on every run; deadline: a hang detector, nothing finer
PROPERTY = settings(
    derandomize=True,
    database=None,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)
# examples that build an index: a loaded machine must not turn a slow commit into a failure
WITH_INDEX = settings(PROPERTY, deadline=None)


def parse_or_error(text: str):
    """The tree of `text`, or None after checking that its syntax error says where."""
    try:
        return parse(text)
    except QuerySyntaxError as error:
        assert 0 <= error.extra["offset"] <= len(text), (error.message, len(text))
        assert error.to_json()["error"]["code"] == "query_syntax"
        return None
