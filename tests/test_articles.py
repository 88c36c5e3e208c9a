import contextlib
import copy
import dataclasses
import json
import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from search.articles import Article, ArticleError, parse_record, parse_text, source_name
from search.tagging import tag
from tests.properties import PROPERTY

GLOBAL_RESEARCH = """

Video: ISIS\u2019 Territory Is Shrinking

By [South Front](#)

Global Research, July 11, 2017

[South Front](#) 10 July 2017

Region: [Middle East & North Africa](#)

Theme: [Terrorism](#), [US NATO War Agenda](#)

In-depth Report: [IRAQ REPORT](#), [SYRIA](#)

The Syrian Army\u00a0advanced on \u201cSukhna\u201d. See [the map](http://example.org/map).

Second paragraph.

If you're able, and if you like our content and approach, please support the project. PayPal: x@y.z

Featured image is a screenshot from the video above

The original source of this article is [South Front](#)
Copyright \u00a9 [South Front](#), [South Front](#), 2017

Disclaimer: The contents of this article are of sole responsibility of the author(s).
"""

RFERL = """Accessibility links

Breaking News

U.S.-Backed Forces Advance Against IS In East Syria

Share

U.S.-backed fighters launched a new offensive on September 9 against IS.

Print

It has become the latest epicenter of the war against IS.

With reporting by AP and AFP
"""


def test_global_research_shape():
    article = parse_text(GLOBAL_RESEARCH, "gr", "gr.txt")
    assert article.title == "Video: ISIS' Territory Is Shrinking"
    assert article.authors == ("South Front",)
    assert article.source == "Global Research"
    assert article.date == date(2017, 7, 11)
    assert article.original_source == "South Front"
    assert article.original_date == date(2017, 7, 10)
    assert article.regions == ("Middle East & North Africa",)
    assert article.themes == ("Terrorism", "US NATO War Agenda")
    assert article.reports == ("IRAQ REPORT", "SYRIA")
    assert article.body == 'The Syrian Army advanced on "Sukhna". See the map.\n\nSecond paragraph.'
    assert article.credit is None


@pytest.mark.parametrize(
    "boilerplate", ["PayPal", "Featured image", "original source", "Copyright", "Disclaimer"]
)
def test_global_research_boilerplate_is_not_body(boilerplate):
    assert boilerplate not in parse_text(GLOBAL_RESEARCH, "gr").body


def test_original_source_without_date():
    text = GLOBAL_RESEARCH.replace("[South Front](#) 10 July 2017", "[South Front](#)")
    article = parse_text(text, "gr")
    assert article.original_source == "South Front"
    assert article.original_date is None
    assert article.body.startswith("The Syrian Army")


def test_rferl_shape_drops_chrome_and_keeps_credit():
    article = parse_text(RFERL, "rferl")
    assert article.title == "U.S.-Backed Forces Advance Against IS In East Syria"
    assert article.source == "RFE/RL"
    assert article.credit == "With reporting by AP and AFP"
    assert article.date is None  # "September 9" has no year: never guessed
    assert article.body == (
        "U.S.-backed fighters launched a new offensive on September 9 against IS.\n\n"
        "It has become the latest epicenter of the war against IS."
    )


def test_any_other_text_file():
    article = parse_text("\n\n  A plain title  \nfirst line\nsecond line\n", "plain")
    assert article.title == "A plain title"
    assert article.body == "first line\n\nsecond line"
    assert article.date is None and article.source is None


def test_empty_text_is_an_error():
    with pytest.raises(ArticleError):
        parse_text(" \n\u00a0\n", "empty")


def test_record_with_usual_fields_and_unknown_ones():
    article = parse_record(
        {
            "id": 17,
            "title": "Raqqa \u201cfalls\u201d",
            "body": "Text about [Raqqa](#).",
            "date": "2017-10-17",
            "source": "reuters",
            "author": ["A. Writer", "B. Writer"],
            "url": "https://example.org/a",
            "region": "Middle East & North Africa",
            "theme": ["Terrorism"],
            "factions": ["ignored extra"],
            "nested": {"ignored": True},
        },
        "fallback",
    )
    assert article.id == "17"
    assert article.title == 'Raqqa "falls"'
    assert article.body == "Text about Raqqa."
    assert article.date == date(2017, 10, 17)
    assert article.source == "Reuters"
    assert article.authors == ("A. Writer", "B. Writer")
    assert article.regions == ("Middle East & North Africa",)
    assert article.themes == ("Terrorism",)


def test_record_csv_column_names_and_explicit_mapping():
    row = {
        "unit_id": "9",
        "article_title": "T",
        "article_content": "B",
        "date": "4/5/17",
        "source": "ahram",
    }
    article = parse_record(row, "x")
    assert (article.id, article.title, article.body, article.date) == (
        "9",
        "T",
        "B",
        date(2017, 4, 5),
    )
    assert article.source == "Ahram Online"
    mapped = parse_record({"h": "Head", "t": "Text"}, "x", columns={"title": "h", "body": "t"})
    assert (mapped.title, mapped.body) == ("Head", "Text")


def test_record_bad_date_is_null_with_warning():
    article = parse_record({"title": "T", "body": "B", "date": "sometime in 2017"}, "x")
    assert article.date is None
    assert article.warnings and "unrecognised date" in article.warnings[0]


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"title": "", "body": ""}, "no title and no body"),
        ({"title": {"a": 1}, "body": "x"}, "field 'title' must be text"),
        ({"title": "t", "body": ["x"]}, "field 'body' must be text"),
        (["not", "an", "object"], "expected an object"),
    ],
)
def test_record_errors_name_the_field(record, message):
    with pytest.raises(ArticleError, match=message):
        parse_record(record, "x")


def test_record_without_title_takes_first_words():
    article = parse_record({"body": "One line of text.\nMore."}, "x")
    assert article.title == "One line of text."


def test_source_names():
    assert source_name("alalam") == "Al-Alam"
    assert source_name("Radio Free Europe/Radio Liberty") == "RFE/RL"
    assert source_name("Unknown  Outlet") == "Unknown Outlet"
    assert source_name("  ") is None


def test_a_file_of_site_chrome_only_is_an_error():
    with pytest.raises(ArticleError, match="nothing but site chrome"):
        parse_text("Accessibility links\n\nBreaking News\n", "chrome")
    article = parse_text("\fAccessibility links\u2028Breaking News\n\nTitle\nBody", "ff")
    assert (article.title, article.body, article.source) == ("Title", "Body", "RFE/RL")


def test_a_sentence_starting_with_by_is_body_not_byline():
    text = "Title\nBy the time the SDF reached Raqqa, ISIS had fled.\nMore."
    article = parse_text(text, "by")
    assert article.authors == ()
    assert article.body.startswith("By the time the SDF reached Raqqa")
    named = parse_text(
        "Title\nBy Jane Doe and John al-Roe\n\nGlobal Research, July 11, 2017\nB", "n"
    )
    assert named.authors == ("Jane Doe", "John al-Roe")


# --- properties on any text or record ----------------------------------------------------

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
