from datetime import date

import pytest

from search.articles import ArticleError, parse_record, parse_text, source_name

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
