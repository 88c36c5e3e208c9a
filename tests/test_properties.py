"""Hypothesis properties on hostile input (GitHub issue "Hostile input").

- the query language: any text parses or raises a QuerySyntaxError saying where; what parses
  renders back to the same tree; adversarial text terminates, parsed and compiled;
- prefix expansion never goes past MAX_EXPANSION words or facet values per prefix;
- article parsing returns an Article or raises ArticleError, whatever the text or record;
  tagging is deterministic;
- highlights of hostile bodies are HTML-safe and exact: only <mark> is markup, fragments are
  slices of the body at their offsets (with a newline shown as a space).

Every index here is small and built in well under a second.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import html
import json
import re
import tempfile
import threading
import unicodedata
from unittest import mock

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from search import compiler, index, querylang
from search.articles import Article, ArticleError, parse_record, parse_text
from search.compiler import MAX_EXPANSION, Compiler
from search.errors import QuerySyntaxError
from search.query import View, search
from search.querylang import MAX_LENGTH, And, Not, Or, Phrase, Word, parse, render
from search.request import SearchRequest
from search.tagging import tag
from tests.test_querylang import strip

# derandomized: the same examples on every run; deadline: a hang detector, nothing finer
PROPERTY = settings(
    derandomize=True,
    database=None,
    deadline=2000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)
# examples that build an index: a loaded machine must not turn a slow commit into a failure
WITH_INDEX = settings(PROPERTY, deadline=None)


def leaves(node) -> list[Word | Phrase]:
    if isinstance(node, Word | Phrase):
        return [node]
    if isinstance(node, Not):
        return leaves(node.node)
    if isinstance(node, And | Or):
        return [leaf for n in node.nodes for leaf in leaves(n)]
    return []


def parse_or_error(text: str):
    """The tree of `text`, or None after checking that its syntax error says where."""
    try:
        return parse(text)
    except QuerySyntaxError as error:
        assert 0 <= error.extra["offset"] <= len(text), (error.message, len(text))
        assert error.to_json()["error"]["code"] == "query_syntax"
        return None


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
        with index.open_index(root).searcher() as searcher:
            yield searcher


def compile_text(searcher, text: str):
    return Compiler(searcher).compile(parse(text)).query


# --- the query language: any text -----------------------------------------------------------

QUERY_PIECES = st.sampled_from(
    [
        *'*"():\\-+~ ',
        "\t",
        "\n",
        "\x00",
        "\u00a0",
        "\u2028",
        "\u0301",
        "é",
        "\u202e",
        "NOT ",
        "OR ",
        "AND ",
        "&&",
        "||",
        "title:",
        "source:",
        "Body:",
        "color:",
        "a",
        "ab",
        "zq",
        "Daesh",
        "10:30",
    ]
)
QUERYISH = st.lists(st.one_of(QUERY_PIECES, st.text(max_size=3)), max_size=80).map("".join)
ANY_QUERY = st.one_of(
    st.text(max_size=1200),  # all of Unicode but surrogates: controls, marks, astral planes
    QUERYISH,
    st.text(min_size=MAX_LENGTH - 2, max_size=MAX_LENGTH + 2),
)


@settings(PROPERTY, max_examples=300)
@given(ANY_QUERY)
def test_any_text_parses_or_says_where_it_fails_and_round_trips(text):
    tree = parse_or_error(text)
    if tree is None:
        return
    rendered = render(tree)
    # the tree must come back whatever the length of its rendering; that the rendering can
    # pass the length limit is test_render_may_pass_the_length_limit_and_still_round_trips
    with mock.patch.object(querylang, "MAX_LENGTH", max(MAX_LENGTH, len(rendered))):
        again = parse(rendered)
    assert strip(again) == strip(tree), rendered


@pytest.mark.parametrize(
    "text",
    ["x" * (MAX_LENGTH - 1) + ":", "source:(" + " ".join(["abcdefghijklmn"] * 64) + ")"],
    ids=["colon", "field-group"],
)
def test_render_may_pass_the_length_limit_and_still_round_trips(text):
    """MAX_LENGTH bounds what users send; render() escapes and repeats fields (documented)."""
    assert len(text) <= MAX_LENGTH
    tree = parse(text)
    rendered = render(tree)
    assert len(rendered) > MAX_LENGTH
    with mock.patch.object(querylang, "MAX_LENGTH", len(rendered)):
        assert strip(parse(rendered)) == strip(tree)


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
    with mock.patch.object(compiler, "MAX_EXPANSION", limit):
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


# --- articles -------------------------------------------------------------------------------

ARTICLE_PIECES = st.sampled_from(
    [
        "\x00",
        "\u200f",
        "\u202e",
        "\u202d",
        "\u2066",
        "\ufeff",
        "\r",
        "\r\n",
        "\n",
        "\u2028",
        "\x85",
        "\x0c",
        "\t",
        " ",
        "\u00a0",
        "مقاتلو داعش في الرقة",
        "דאעש",
        "Дейр-эз-Зор",
        "Deir ez-Zor",
        "Daesh",
        "ISIS",
        "IS",
        "e\u0301",
        "\u0301",
        "🇸🇾",
        "𓀀",
        "<script>",
        "By John Doe",
        "By [South Front](#)",
        "Global Research, July 11, 2017",
        "[South Front](#) 10 July 2017",
        "Region: Middle East",
        "Theme: Terrorism",
        "In-depth Report:",
        "**",
        "[x](",
        "RFE/RL",
        "Copyright",
    ]
)
WHITESPACE = st.text(alphabet=" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\u00a0\u2028\u2029\u3000\u200b")
ARTICLE_TEXT = st.one_of(
    st.text(),
    st.lists(st.one_of(ARTICLE_PIECES, st.text(max_size=6)), max_size=60).map("".join),
    WHITESPACE,
    st.text(alphabet=st.characters(exclude_characters="\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028")),
    # a very long single line, with no newline at all
    st.tuples(ARTICLE_PIECES, st.integers(500, 5000)).map(lambda p: p[0].strip() * p[1]),
)
_BIDI_AND_NUL = re.compile("[\x00\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def check_article(article: Article, article_id: str | None = None) -> None:
    assert isinstance(article, Article)
    assert article.id == article_id if article_id else isinstance(article.id, str) and article.id
    assert isinstance(article.title, str) and article.title
    assert isinstance(article.body, str)
    for text in (article.title, article.body):
        assert not _BIDI_AND_NUL.search(text), ascii(text[:80])
    tagged = tag(article).to_json()
    assert tag(article).to_json() == tagged
    assert tag(dataclasses.replace(article)).to_json() == tagged
    assert tag(copy.deepcopy(article)).to_json() == tagged
    json.dumps(tagged, allow_nan=False)  # stored with the document, answered as JSON


@settings(PROPERTY, max_examples=300)
@given(ARTICLE_TEXT)
def test_parse_text_returns_an_article_or_raises_article_error(text):
    try:
        article = parse_text(text, "id")
    except ArticleError:
        return
    check_article(article, "id")


RECORD_KEYS = st.sampled_from(
    [
        "title",
        "body",
        "date",
        "source",
        "author",
        "id",
        "url",
        "region",
        "theme",
        "report",
        "Title",
        " BODY ",
        "headline",
        "content",
        "published",
        "authors",
        "credit",
        "original_source",
    ]
)
RECORD_VALUES = st.one_of(
    st.text(),
    ARTICLE_TEXT,
    st.integers(),
    st.floats(),  # NaN and infinities too
    st.none(),
    st.booleans(),
    st.lists(st.text(), max_size=4),
    st.lists(st.one_of(st.text(), st.integers(), st.none(), st.floats()), max_size=4),
    st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=3),
    st.lists(st.dictionaries(st.text(max_size=2), st.integers(), max_size=2), max_size=2),
    st.text(alphabet="0123456789/-., TZJanFebMayOctuly:", max_size=25),  # date-shaped
)


@settings(PROPERTY, max_examples=300)
@given(st.dictionaries(RECORD_KEYS, RECORD_VALUES, max_size=8))
def test_parse_record_returns_an_article_or_raises_article_error(record):
    try:
        article = parse_record(record, "default")
    except ArticleError:
        return
    check_article(article)


@pytest.mark.parametrize("key", ["title", "id"])
def test_a_huge_integer_field_is_an_article_error(key):
    record = {"title": "t", "body": "b", key: 10**4300}
    with contextlib.suppress(ArticleError):
        parse_record(record, "id")


# --- highlights -----------------------------------------------------------------------------

QUERY_WORD = "zebra"
HIGHLIGHT_PIECES = st.sampled_from(
    [
        "<",
        ">",
        "&",
        '"',
        "'",
        "<script>alert(1)</script>",
        "</mark>",
        "<mark>",
        "&amp;",
        "&lt;",
        "&#x27;",
        "😀",
        "𓀀",
        "🇸🇾",
        "👩\u200d👩\u200d👧",
        "e\u0301",
        "\u0301",
        "\u0651",
        "ก\u0e31",
        "\u200f",
        "\u202e",
        "\x00",
        "\n",
        "\n\n",
        " ",
        "Daesh",
        "Raqqa",
        QUERY_WORD,
        "zebras",
        "مرحبا",
    ]
)
CHUNK = st.one_of(
    HIGHLIGHT_PIECES,
    st.text(max_size=8),
    st.text(alphabet=st.characters(categories=["Mn", "Mc", "Me"]), max_size=3),
)
TEXT_AROUND = st.lists(CHUNK, max_size=80).map("".join)
# the query word stands alone somewhere in each body
BODY = st.tuples(TEXT_AROUND, TEXT_AROUND).map(lambda p: f"{p[0]} {QUERY_WORD} {p[1]}")
TITLE = st.lists(CHUNK, max_size=8).map("".join)
HIGHLIGHT_QUERIES = st.sampled_from([QUERY_WORD, f"{QUERY_WORD} OR Daesh", f"{QUERY_WORD[:3]}*"])


def highlighted_hits(articles: list[Article], q: str, size: int, count: int) -> list[dict]:
    """Index the articles (a fresh index each time) and search them with highlights."""
    request = SearchRequest(q=q, facets=(), per_page=100, fragment_size=size, fragments=count)
    with tempfile.TemporaryDirectory() as root:
        index.write(articles, root)
        with index.open_index(root).searcher() as searcher:
            answer = search(View(searcher), request)
    assert answer["total"] == len(articles)
    return answer["hits"]


def without_marks(markup: str) -> str:
    return markup.replace("<mark>", "").replace("</mark>", "")


_SURROGATE = re.compile("[\ud800-\udfff]")


@settings(WITH_INDEX, max_examples=40)
@given(
    st.lists(BODY, min_size=1, max_size=5),
    st.lists(TITLE, min_size=5, max_size=5),
    HIGHLIGHT_QUERIES,
    st.integers(20, 200),
    st.integers(1, 5),
)
def test_highlights_are_escaped_and_fragments_are_slices(bodies, titles, q, size, count):
    articles = [Article(id=f"a{i}", title=titles[i], body=body) for i, body in enumerate(bodies)]
    by_id = {article.id: article for article in articles}
    for hit in highlighted_hits(articles, q, size, count):
        article = by_id[hit["id"]]
        title = hit["highlights"]["title"]
        assert html.unescape(hit["title_html"]) == article.title
        assert title["text"] == article.title and title["offset"] == 0
        fragments = hit["highlights"]["body"]
        assert 1 <= len(fragments) <= count
        for item in [title, *fragments]:
            bare = without_marks(item["html"])
            assert "<" not in bare and ">" not in bare, item["html"]
            assert html.unescape(bare) == item["text"]
        assert "<" not in hit["title_html"] and ">" not in hit["title_html"]
        body = article.body
        for fragment in fragments:
            text, offset = fragment["text"], fragment["offset"]
            text.encode("utf-8")
            assert not _SURROGATE.search(text)
            assert offset >= 0 and offset + len(text) <= len(body)
            original = body[offset : offset + len(text)]
            # highlight._cut turns a newline into a space (same length: ranges stay valid)
            assert original.replace("\n", " ") == text
            assert text in body.replace("\n", " ")
            if "\n" not in original:
                assert original == text
            for start, end in fragment["ranges"]:
                assert 0 <= start < end <= len(text)
                assert body[offset + start : offset + end].replace("\n", " ") == text[start:end]


def splits_a_mark_from_its_base(body: str, cut: int) -> bool:
    """Cutting `body` at `cut` leaves a combining mark on one side and the letter it sits on
    (not a space: a mark after a space is lone in the body already) on the other."""
    return (
        0 < cut < len(body)
        and unicodedata.category(body[cut]) in ("Mn", "Mc", "Me")
        and not body[cut - 1].isspace()
    )


# letters with their marks in a run without spaces after the word (a URL, Thai text)
CLUSTERS = st.sampled_from(["e\u0301", "a\u0301\u0323", "ก\u0e31", "ب\u0651", "क\u093f", "x"])
NO_SPACE_RUN = st.lists(CLUSTERS, min_size=1, max_size=120).map("".join)
BODY_WITH_MARKS = st.tuples(TEXT_AROUND, NO_SPACE_RUN, TEXT_AROUND).map(
    lambda p: f"{p[0]} {QUERY_WORD}/{p[1]} {p[2]}"
)


@settings(WITH_INDEX, max_examples=20)
@example(bodies=[f"{QUERY_WORD}/" + "e\u0301" * 30], size=21)
@given(st.lists(BODY_WITH_MARKS, min_size=1, max_size=3), st.integers(20, 60))
def test_fragments_never_split_a_combining_mark_from_its_letter(bodies, size):
    articles = [Article(id=f"a{i}", title="t", body=body) for i, body in enumerate(bodies)]
    by_id = {article.id: article for article in articles}
    for hit in highlighted_hits(articles, QUERY_WORD, size, 3):
        body = by_id[hit["id"]].body
        for fragment in hit["highlights"]["body"]:
            assert fragment["ranges"]  # the fragment is the one around the word
            start = fragment["offset"]
            end = start + len(fragment["text"])
            assert not splits_a_mark_from_its_base(body, start), ascii(body[start - 3 : start + 3])
            assert not splits_a_mark_from_its_base(body, end), ascii(body[end - 3 : end + 3])
