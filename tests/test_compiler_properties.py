"""Hypothesis properties of query compilation on hostile input, over a small index holding
prefixes at, under and over the expansion limit:

- adversarial query text terminates, parsed and compiled;
- prefix expansion never goes past MAX_EXPANSION words or facet values per prefix, and the
  prefixes of one query share that budget;
- there is no fuzzy operator: a tilde is text.

The index is small and built in well under a second.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
from dataclasses import replace
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search import generations, index, limits
from search.articles import Article
from search.compiler import Compiler
from search.errors import QuerySyntaxError
from search.querylang import And, Not, Or, Phrase, Word, parse
from tests.properties import PROPERTY, parse_or_error

LIMITS = limits.current()
MAX_EXPANSION, MAX_LENGTH = LIMITS.max_expansion, LIMITS.max_query_length


def leaves(node) -> list[Word | Phrase]:
    if isinstance(node, Word | Phrase):
        return [node]
    if isinstance(node, Not):
        return leaves(node.node)
    if isinstance(node, And | Or):
        return [leaf for n in node.nodes for leaf in leaves(n)]
    return []


# --- a small index: prefixes at, under and over the expansion limit -------------------------

PREFIX_AT_LIMIT = "zqk"  # exactly MAX_EXPANSION words start with it
PREFIX_OVER_LIMIT = "zqm"  # one more
WORDS = [f"{PREFIX_AT_LIMIT}{i:03d}" for i in range(MAX_EXPANSION)] + [
    f"{PREFIX_OVER_LIMIT}{i:03d}" for i in range(MAX_EXPANSION + 1)
]
# source values: wire-a-* exactly MAX_EXPANSION (as original sources), wire-b-* one more
SOURCES = [f"wire-b-{i:03d}" for i in range(MAX_EXPANSION + 1)]
ORIGINAL_SOURCES = [f"wire-a-{i:03d}" for i in range(MAX_EXPANSION)]


@pytest.fixture(scope="module")
def searcher():
    articles = [
        Article(
            id=f"wire{i}",
            title=f"Wire story {i}",
            body="Daesh fighters near Raqqa; the offensive began.",
            source=source,
            original_source=ORIGINAL_SOURCES[i] if i < len(ORIGINAL_SOURCES) else None,
        )
        for i, source in enumerate(SOURCES)
    ]
    articles.append(Article(id="zq", title="Made-up words", body=" ".join(WORDS)))
    with tempfile.TemporaryDirectory() as root:
        index.write(articles, root)
        with generations.open_index(root).searcher() as searcher:
            yield searcher


def compile_text(searcher, text: str):
    return Compiler(searcher).compile(parse(text)).query


# --- the query language: adversarial text terminates ----------------------------------------

HOSTILE_PIECES = [
    "*",
    '"',
    "(",
    ")",
    ":",
    "\\",
    "-",
    "+",
    "NOT ",
    "OR",
    "OR ",
    "AND ",
    " ",
    "a ",
    "a",
    "ab* ",
    "ab*",
    "title:",
    "source:",
    "\\\\",
    "\\(",
    "Daesh ",
    "(a OR ",
    "-(",
]
# long runs of one piece, mixed with others, cut at, just under and past the length limit
RUN = st.tuples(st.sampled_from(HOSTILE_PIECES), st.integers(1, 1100)).map(lambda p: p[0] * p[1])
HOSTILE_QUERY = st.lists(
    st.one_of(RUN, st.sampled_from(HOSTILE_PIECES)), min_size=1, max_size=8
).map("".join)
SIZED = st.tuples(
    HOSTILE_QUERY, st.sampled_from([MAX_LENGTH - 1, MAX_LENGTH, MAX_LENGTH + 1, MAX_LENGTH + 500])
).map(lambda pair: (pair[0] * (pair[1] // len(pair[0]) + 1))[: pair[1]])


@settings(PROPERTY, max_examples=200)
@given(st.one_of(SIZED, HOSTILE_QUERY))
def test_adversarial_queries_terminate(searcher, text):
    tree = parse_or_error(text)
    if tree is not None:
        try:
            compile_text(searcher, text)
        except QuerySyntaxError as error:  # a prefix over the expansion limit
            assert 0 <= error.extra["offset"] <= len(text)


def finishes(function, seconds: float = 30.0):
    """Run `function` in a thread: a hang fails the test instead of stopping the run."""
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["value"] = function()
        except BaseException as error:  # re-raised below, in the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


WORST_CASES = [
    "(" * 1000,
    "(" * 8 + "a" + ")" * 991,
    ")" * 1000,
    "\\" * 1000,
    "\\" * 999,
    '"' * 999,
    '"' * 1000,
    "*" * 1000,
    "ab" + "*" * 998,
    ":" * 1000,
    "1:" * 500,
    "title:" * 166,
    "-" * 999 + "a",
    "NOT " * 250 + "a",
    "NOT " * 249 + "a",
    "a " * 500,
    "a* " * 333,
    "a OR " * 200,
    "(a OR " * 166,
    "x" * 1000,
    "x" * 2000,
    "a " * 5000,  # thousands of terms, far past the length limit
    "Daesh " * 166,
    f"{PREFIX_AT_LIMIT}* " * 64,  # 64 prefixes of MAX_EXPANSION words each
    f"source:{ORIGINAL_SOURCES[0][:6]}* " * 64,
]


@pytest.mark.parametrize("text", WORST_CASES, ids=[f"{t[:8]!r}x{len(t)}" for t in WORST_CASES])
def test_worst_case_queries_terminate(searcher, text):
    def parse_and_compile():
        if parse_or_error(text) is not None:
            with contextlib.suppress(QuerySyntaxError):  # e.g. too many prefix terms in all
                compile_text(searcher, text)

    finishes(parse_and_compile)


def test_prefixes_share_one_expansion_budget(searcher):
    """Each prefix alone is within the limit; together they are not."""
    text = " OR ".join([f"{PREFIX_AT_LIMIT}*"] * 2)
    with pytest.raises(QuerySyntaxError, match="together") as caught:
        compile_text(searcher, text)
    assert caught.value.extra["offset"] == text.rindex(PREFIX_AT_LIMIT)
    assert compile_text(searcher, f"{PREFIX_AT_LIMIT}*") is not None


def test_a_prefix_that_folds_to_nothing_is_refused(searcher):
    with pytest.raises(QuerySyntaxError, match="2 letters"):
        compile_text(searcher, "\u0301\u0301*")


# --- prefix expansion -----------------------------------------------------------------------


def prefix_terms(query) -> dict[str, set[str]]:
    """field -> the term texts of a compiled query."""
    out: dict[str, set[str]] = {}
    for field, text in query.all_terms():
        out.setdefault(field, set()).add(text)
    return out


def test_the_index_under_test(searcher):
    reader = searcher.reader()
    assert len(list(reader.expand_prefix("spell_body", PREFIX_AT_LIMIT))) == MAX_EXPANSION
    assert len(list(reader.expand_prefix("spell_body", PREFIX_OVER_LIMIT))) == MAX_EXPANSION + 1
    assert len(list(reader.lexicon("source"))) == 2 * MAX_EXPANSION + 1


@pytest.mark.parametrize(
    ("text", "offset", "written", "message"),
    [
        ("zq*", 0, "zq*", f"zq* matches more than {MAX_EXPANSION} words"),
        ("body:zq*", 5, "zq*", f"zq* matches more than {MAX_EXPANSION} words"),
        (f"{PREFIX_OVER_LIMIT}*", 0, f"{PREFIX_OVER_LIMIT}*", "matches more than"),
        (f"raqqa OR {PREFIX_OVER_LIMIT}*", 9, f"{PREFIX_OVER_LIMIT}*", "matches more than"),
        ("source:wire*", 7, "wire*", f"source:wire* matches more than {MAX_EXPANSION} values"),
        ("source:wire-b*", 7, "wire-b*", f"matches more than {MAX_EXPANSION} values"),
        ("x -SOURCE:WIRE*", 10, "WIRE*", f"matches more than {MAX_EXPANSION} values"),
    ],
)
def test_a_prefix_over_the_limit_is_a_syntax_error_naming_it(
    searcher, text, offset, written, message
):
    with pytest.raises(QuerySyntaxError) as caught:
        compile_text(searcher, text)
    error = caught.value
    assert message in error.message
    assert str(MAX_EXPANSION) in error.message
    assert error.extra == {"offset": offset, "text": written}


@pytest.mark.parametrize(
    ("text", "fields"),
    [
        (f"{PREFIX_AT_LIMIT}*", {"title", "body"}),
        (f"body:{PREFIX_AT_LIMIT}*", {"body"}),
        ("source:wire-a*", {"source"}),
    ],
)
def test_a_prefix_at_the_limit_compiles_to_at_most_that_many_terms(searcher, text, fields):
    terms = prefix_terms(compile_text(searcher, text))
    assert set(terms) == fields
    for texts in terms.values():
        assert len(texts) == MAX_EXPANSION


PREFIX_FIELDS = st.sampled_from([None, "title", "body", "source", "author", "faction"])
PREFIX_TEXT = st.text(alphabet="zqkm0w-ae", min_size=2, max_size=4)


@settings(PROPERTY, max_examples=200)
@given(
    st.lists(st.tuples(PREFIX_FIELDS, PREFIX_TEXT), min_size=1, max_size=3),
    st.sampled_from([1, 7, 100, MAX_EXPANSION]),
)
def test_a_prefix_that_compiles_expands_to_at_most_the_limit(searcher, prefixes, limit):
    text = " OR ".join(f"{field}:{value}*" if field else f"{value}*" for field, value in prefixes)
    tree = parse_or_error(text)  # `--*` is NOT NOT *, `source:-a*` a syntax error
    if tree is None:
        return
    with mock.patch.object(limits, "_current", replace(LIMITS, max_expansion=limit)):
        try:
            query = Compiler(searcher).compile(tree).query
        except QuerySyntaxError as error:
            assert f"matches more than {limit} " in error.message
            assert 0 <= error.extra["offset"] < len(text)
            return
    # each prefix brings at most `limit` words per field, and a word one stem
    for field, texts in prefix_terms(query).items():
        count = sum(field in ((f,) if f else ("title", "body")) for f, _ in prefixes)
        assert len(texts) <= limit * count, (field, len(texts))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("~", ["~"]),
        ("word~2", ["word~2"]),
        ("raqqa~", ["raqqa~"]),
        ("~raqqa", ["~raqqa"]),
        ("title:word~2", ["word~2"]),
        ("a ~ b", ["a", "~", "b"]),
        ('"tiger forces"~3', ["tiger forces", "~3"]),
        ("zq~*", ["zq~"]),
    ],
)
def test_there_is_no_fuzzy_operator_a_tilde_is_text(searcher, text, words):
    tree = parse(text)
    assert [leaf.text for leaf in leaves(tree)] == words
    compile_text(searcher, text)
