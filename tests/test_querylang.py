import dataclasses
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search import limits
from search.errors import QuerySyntaxError
from search.querylang import (
    FIELDS,
    All,
    And,
    Not,
    Or,
    Phrase,
    Word,
    parse,
    render,
)
from tests.properties import PROPERTY, parse_or_error

LIMITS = limits.current()
MAX_CLAUSES, MAX_DEPTH = LIMITS.max_clauses, LIMITS.max_depth
MAX_LENGTH = LIMITS.max_query_length


def longer(length: int) -> limits.Limits:
    """The limits in force with queries up to `length` characters."""
    return dataclasses.replace(LIMITS, max_query_length=length)


def strip(node):
    """The same tree with every offset set to 0, to compare trees parsed from other text."""
    if isinstance(node, Word | Phrase):
        return dataclasses.replace(node, start=0)
    if isinstance(node, Not):
        return Not(strip(node.node))
    if isinstance(node, And | Or):
        return type(node)(tuple(strip(n) for n in node.nodes))
    assert isinstance(node, All)
    return node


def W(text, field=None, prefix=False):
    return Word(text, 0, field, prefix)


def P(text, field=None):
    return Phrase(text, 0, field)


def syntax_error(text: str) -> QuerySyntaxError:
    with pytest.raises(QuerySyntaxError) as caught:
        parse(text)
    return caught.value


# --- trees ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("raqqa", W("raqqa")),
        ("raqqa offensive", And((W("raqqa"), W("offensive")))),
        ("raqqa AND offensive", And((W("raqqa"), W("offensive")))),
        ("a && b", And((W("a"), W("b")))),
        ('"tiger forces"', P("tiger forces")),
        ('"tiger forces" advance', And((P("tiger forces"), W("advance")))),
        ("mosul OR raqqa", Or((W("mosul"), W("raqqa")))),
        ("a || b", Or((W("a"), W("b")))),
        # OR binds looser than AND, on either side
        ("a OR b c", Or((W("a"), And((W("b"), W("c")))))),
        ("a b OR c", Or((And((W("a"), W("b"))), W("c")))),
        ("a b OR c d", Or((And((W("a"), W("b"))), And((W("c"), W("d")))))),
        ("(a OR b) c", And((Or((W("a"), W("b"))), W("c")))),
        ("a OR b OR c", Or((W("a"), W("b"), W("c")))),
        # operators only in capitals
        ("a or b", And((W("a"), W("or"), W("b")))),
        ("a and not b", And((W("a"), W("and"), W("not"), W("b")))),
        ("NOT raqqa", Not(W("raqqa"))),
        ("-raqqa", Not(W("raqqa"))),
        ("mosul NOT raqqa", And((W("mosul"), Not(W("raqqa"))))),
        ("mosul -raqqa", And((W("mosul"), Not(W("raqqa"))))),
        ('-"tiger forces"', Not(P("tiger forces"))),
        ("-(a b)", Not(And((W("a"), W("b"))))),
        ("NOT NOT a", Not(Not(W("a")))),
        ("NOT a OR b", Or((Not(W("a")), W("b")))),
        # a minus or plus that is not before a term is a word; a leading plus is dropped
        ("a - b", And((W("a"), W("-"), W("b")))),
        ("+a", W("a")),
        ("a-b", W("a-b")),
        ("faction:Hezbollah", W("Hezbollah", "faction")),
        ("TITLE:x", W("x", "title")),
        ('place:"Deir ez-Zor"', P("Deir ez-Zor", "place")),
        ("title:(a OR b)", Or((W("a", "title"), W("b", "title")))),
        ("body:(a -b)", And((W("a", "body"), Not(W("b", "body"))))),
        ("title:(NOT a)", Not(W("a", "title"))),
        ("negotiat*", W("negotiat", prefix=True)),
        ("source:glob*", W("glob", "source", prefix=True)),
        ("ab**", W("ab", prefix=True)),
        # backslash escapes
        (r"\"x", W('"x')),
        (r"\(x\)", W("(x)")),
        (r"x\:y", W("x:y")),
        (r"a\ b", W("a b")),
        (r"\-a", W("-a")),
        (r"a\\", W("a\\")),
        (r'"say \"no\""', P('say "no"')),
        (r'"back\\slash"', P("back\\slash")),
        # a colon that does not name a field is part of the word
        ("10:30", W("10:30")),
        ('""', P("")),
        # empty queries and a lone star: everything
        ("", All()),
        ("   ", All()),
        ("*", All()),
        ("title:*", All()),
        ("a *", And((W("a"), All()))),
        # redundant parentheses vanish
        ("((a))", W("a")),
    ],
)
def test_parse(text, tree):
    assert strip(parse(text)) == tree


def test_offsets_are_where_each_term_starts():
    tree = parse('mosul  -"a b" title:x yz*')
    assert tree == And(
        (
            Word("mosul", 0),
            Not(Phrase("a b", 8)),
            Word("x", 20, "title"),
            Word("yz", 22, prefix=True),
        )
    )


def test_fields_constant_names_every_field():
    assert set(FIELDS) == {
        "title",
        "body",
        "faction",
        "place",
        "province",
        "country",
        "region",
        "theme",
        "report",
        "source",
        "author",
        "side",
        "operation",
    }
    for name in FIELDS:
        assert parse(f"{name}:x") == Word("x", len(name) + 1, name)


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "offset", "message"),
    [
        ('"abc', 0, "unclosed quote"),
        ('mosul "tiger forces', 6, "unclosed quote"),
        (r'"abc\"', 0, "unclosed quote"),
        ("(a", 0, "unclosed '('"),
        ("x (a OR (b c)", 2, "unclosed '('"),
        ("a)", 1, "unexpected ')'"),
        ("(a) b)", 5, "unexpected ')'"),
        ("-)", 1, "unexpected ')'"),
        ("()", 0, "empty parentheses"),
        ("a ( )", 2, "empty parentheses"),
        ("a OR", 2, "OR needs a term after it"),
        ("a OR )", 2, "OR needs a term after it"),
        ("a OR OR b", 2, "OR needs a term after it"),
        ("(a OR) b", 3, "OR needs a term after it"),
        ("a AND", 2, "AND needs a term on each side"),
        ("AND a", 0, "AND needs a term on each side"),
        ("a AND OR b", 2, "AND needs a term on each side"),
        ("NOT", 0, "NOT needs a term after it"),
        ("a NOT", 2, "NOT needs a term after it"),
        ("a NOT OR b", 2, "NOT needs a term after it"),
        ("-OR b", 0, "- needs a term after it"),
        ("OR a", 0, "expected a word, a phrase or '('"),
        ("color:red", 0, "unknown field 'color'"),
        ("mosul Colour:red", 6, "unknown field 'Colour'"),
        ("http://example.org", 0, "unknown field 'http'"),
        ("title:)", 0, "title: needs a value"),
        ("a title:-b", 2, "title: needs a value"),
        ("title:body:x", 0, "title: needs a value"),
        ("title:(body:x)", 7, "a field inside a field"),
        ("a*b", 1, "only a trailing * is supported"),
        ("mosul ra*qqa*", 8, "only a trailing * is supported"),
        ("a*", 0, "a prefix needs at least 2 characters before *"),
        ("x a**", 2, "a prefix needs at least 2 characters before *"),
    ],
)
def test_syntax_errors_say_where_and_what(text, offset, message):
    error = syntax_error(text)
    assert error.extra["offset"] == offset
    assert error.message.startswith(message)
    assert error.message.endswith(f" at character {offset + 1}")  # people count from 1
    assert error.param == "q"
    assert error.to_json()["error"]["code"] == "query_syntax"


def test_error_text_is_the_offending_token():
    assert syntax_error("a OR").extra["text"] == "OR"
    assert syntax_error("mosul color:red").extra["text"] == "color"
    assert syntax_error('x "tiger forces').extra["text"] == '"tiger forces'


def test_field_with_no_value_at_the_end():
    error = syntax_error("mosul title:")
    assert error.extra["offset"] == 6
    assert error.message.startswith("title: needs a value")


def test_clause_limit():
    assert isinstance(parse(" ".join(["a"] * MAX_CLAUSES)), And)
    error = syntax_error(" ".join(["a"] * (MAX_CLAUSES + 1)))
    assert error.extra["offset"] == 2 * MAX_CLAUSES  # the first term over the limit
    assert error.message.startswith(f"too many terms (at most {MAX_CLAUSES})")


def test_clause_limit_counts_phrases_and_prefixes_but_not_operators():
    five = '"p q" ab* NOT x (a OR b)'  # five clauses
    text = " ".join([five] * (MAX_CLAUSES // 5) + ["c"] * (MAX_CLAUSES % 5))
    assert isinstance(parse(text), And)
    error = syntax_error(text + " last")
    assert error.extra["offset"] == len(text) + 1
    assert error.extra["text"] == "last"


def test_depth_limit_on_parentheses():
    deep = "(" * MAX_DEPTH + "a b" + ")" * MAX_DEPTH
    assert strip(parse(deep)) == And((W("a"), W("b")))
    error = syntax_error("(" * (MAX_DEPTH + 1) + "a" + ")" * (MAX_DEPTH + 1))
    assert error.extra["offset"] == MAX_DEPTH
    assert error.message.startswith(f"nested too deeply (at most {MAX_DEPTH} levels)")


def test_depth_limit_on_nots():
    assert strip(parse("NOT " * MAX_DEPTH + "a")) == Not(Not(Not(Not(Not(Not(Not(Not(W("a")))))))))
    error = syntax_error("NOT " * (MAX_DEPTH + 1) + "a")
    assert error.extra["offset"] == 4 * MAX_DEPTH
    error = syntax_error("-" * (MAX_DEPTH + 1) + "a")
    assert error.extra["offset"] == MAX_DEPTH


def test_depth_limit_counts_nots_and_parentheses_together():
    assert parse("-" * (MAX_DEPTH - 1) + "(a)")
    error = syntax_error("-" * MAX_DEPTH + "(a)")
    assert error.extra["offset"] == MAX_DEPTH
    assert error.extra["text"] == "("


def test_length_limit():
    assert parse("x" * MAX_LENGTH) == Word("x" * MAX_LENGTH, 0)
    error = syntax_error("x" * (MAX_LENGTH + 1))
    assert error.extra["offset"] == MAX_LENGTH
    assert error.message.startswith(f"query longer than {MAX_LENGTH} characters")


# --- render ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tree", "text"),
    [
        (All(), "*"),
        (W("raqqa"), "raqqa"),
        (W("x", "title"), "title:x"),
        (W("negotiat", prefix=True), "negotiat*"),
        (W("a b:c(d)"), r"a\ b\:c\(d\)"),
        (W("-a"), r"\-a"),
        (W("OR"), r"\OR"),
        (P('say "no"', "body"), r'body:"say \"no\""'),
        (Not(W("a")), "-a"),
        (And((W("a"), W("b"))), "a b"),
        (Or((W("a"), And((W("b"), W("c"))))), "a OR b c"),
    ],
)
def test_render(tree, text):
    assert render(tree) == text


ROUND_TRIPS = [
    "raqqa offensive",
    "a OR b c",
    "a b OR c d",
    "(a OR b) (c OR NOT d)",
    'mosul -"tiger forces" OR title:(x OR -y)',
    'faction:Hezbollah place:"Deir ez-Zor" source:glob*',
    r"\"x \(y\) a\:b a\ b \-c",
    r'"a \"quoted\" \\ phrase"',
    "a - b + c",
    "a -- b",
    "NOT NOT a",
    "NOT*",
    "*",
    "",
    "a *",
    "10:30 ü",
    "-" * (MAX_DEPTH - 1) + "(a OR b)",
]


@pytest.mark.parametrize("text", ROUND_TRIPS)
def test_render_round_trip(text):
    tree = parse(text)
    assert strip(parse(render(tree))) == strip(tree)


def test_render_round_trip_at_the_depth_limit():
    text = "-" * (MAX_DEPTH - 1) + "(a b OR c)"
    tree = parse(text)
    assert strip(parse(render(tree))) == strip(tree)


def test_render_round_trip_at_the_length_limit():
    text = "-" + "x" * (MAX_LENGTH - 1)
    tree = parse(text)
    assert strip(parse(render(tree))) == strip(tree)


@pytest.mark.parametrize(("text", "tree"), [(r"\AND", W("AND")), (r"ab\*", W("ab*"))])
def test_escaped_operator_and_star_are_literal(text, tree):
    assert strip(parse(text)) == tree
    assert strip(parse(render(tree))) == tree


# --- property -------------------------------------------------------------------------------

CHARS = [*'()"*:\\-+', " "]
WORDS = ["a", "b", "Z", "é", "mosul", "AND", "OR", "NOT", "title:", "faction:"]
LETTERS = st.sampled_from(["a", "b", "Z", "é", "mosul", "AND", "OR", "NOT"])
ESCAPES = st.sampled_from([r"\(", r"\)", r"\:", r"\-", r"\\", "\\ ", r"\"", r"\*", "-", ":", "*"])
WORD = st.lists(st.one_of(LETTERS, LETTERS, ESCAPES), min_size=1, max_size=4).map("".join)
INSIDE = st.sampled_from([" ", r"\"", "\\\\", "(", ":", "*"])
PHRASE = st.lists(st.one_of(LETTERS, INSIDE), max_size=4)
FIELD = st.sampled_from(["title", "body", "faction", "source", "color"])
ATOM = st.one_of(
    WORD,
    PHRASE.map(lambda chars: '"' + "".join(chars) + '"'),
    WORD.map(lambda word: word + "*"),
    st.tuples(FIELD, WORD).map(":".join),
)
# query-shaped text: terms combined with the operators, parentheses and fields
GRAMMAR = st.recursive(
    ATOM,
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).map(" ".join),
        st.lists(inner, min_size=2, max_size=3).map(" OR ".join),
        st.lists(inner, min_size=2, max_size=3).map(" AND ".join),
        inner.map("NOT ".__add__),
        inner.map("-".__add__),
        inner.map(lambda text: f"({text})"),
        st.tuples(FIELD, inner).map(lambda pair: f"{pair[0]}:({pair[1]})"),
    ),
    max_leaves=10,
)
NOISE = st.lists(st.sampled_from(CHARS + WORDS), max_size=40).map("".join)
MIXED = st.lists(st.one_of(GRAMMAR, st.sampled_from(CHARS + WORDS)), max_size=4).map(" ".join)


@settings(max_examples=200, deadline=1000, derandomize=True, database=None)
@given(st.one_of(NOISE, GRAMMAR, MIXED))
def test_parse_raises_only_syntax_errors_and_round_trips(text):
    try:
        tree = parse(text)
    except QuerySyntaxError as error:
        assert 0 <= error.extra["offset"] <= len(text)
        return
    assert strip(parse(render(tree))) == strip(tree)


def test_an_escaped_star_is_a_word_not_everything():
    assert parse(r"\*") == Word("*", 0)
    assert parse("*") == All()


# --- properties on any text ---------------------------------------------------------------

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
    with mock.patch.object(limits, "_current", longer(max(MAX_LENGTH, len(rendered)))):
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
    with mock.patch.object(limits, "_current", longer(len(rendered))):
        assert strip(parse(rendered)) == strip(tree)


@pytest.mark.parametrize("text", ["-", "+", " - ", "- +"])
def test_a_lone_sign_is_a_syntax_error_not_an_empty_search(text):
    error = syntax_error(text)
    assert error.message.startswith(f"{text.strip()[0]} needs a term right after it")
    assert error.extra["offset"] == text.index(text.strip()[0])


def test_an_escaped_sign_is_a_word():
    assert parse("\\-") == W("-")
