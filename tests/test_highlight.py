import html
import re
import tempfile
import unicodedata

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from search import generations, index
from search.articles import Article
from search.highlight import Fragment, fragments, match_ranges, whole
from search.query import search
from search.request import SearchRequest
from search.view import View
from tests.properties import WITH_INDEX

RAQQA = {"place:raqqa"}


def marked(text: str, ranges) -> list[str]:
    return [text[start:end] for start, end in ranges]


def filler(count: int, first: int = 0) -> str:
    """Words that match nothing: w000 w001 ..."""
    return " ".join(f"w{i:03d}" for i in range(first, first + count))


# --- match_ranges ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "terms", "ranges"),
    [
        ("Fighters fought; the fighting", {"fight", "fighter"}, [(0, 8), (21, 29)]),
        ("Daesh fighters attacked", {"faction:islamic-state"}, [(0, 5)]),
        ("Daesh fighters attacked", {"fighter"}, [(6, 14)]),
        ("Daesh fighters attacked", {"fighters"}, []),  # terms are stems
        ("the Islamic State group", {"faction:islamic-state"}, [(4, 17)]),
        ("Deir ez-Zor was shelled", {"place:deir-ez-zor"}, [(0, 11)]),
        # acronyms as written: IS marks, "is" does not
        ("IS said it is over", {"faction:islamic-state"}, [(0, 2)]),
        ("ISIS and Daesh and IS", {"faction:islamic-state"}, [(0, 4), (9, 14), (19, 21)]),
        # a unit's mention also carries its parent's token
        ("Tiger Forces advanced", {"faction:syrian-government-forces"}, [(0, 12)]),
        # folded: case and diacritics
        ("Ḥalab and ALEPPO", {"halab", "aleppo"}, [(0, 5), (10, 16)]),
        ("Raqqa&Mosul", {"place:raqqa", "place:mosul"}, [(0, 5), (6, 11)]),
        ("", RAQQA, []),
        ("Raqqa", set(), []),
        ("nothing here", RAQQA, []),
    ],
)
def test_match_ranges(text, terms, ranges):
    assert match_ranges(text, terms) == ranges


def test_entity_token_marks_the_words_written():
    text = "Daesh fighters attacked"
    assert marked(text, match_ranges(text, {"faction:islamic-state"})) == ["Daesh"]
    text = "Shells fell on Deir al-Zour and on the province of Deir Ezzor."
    assert marked(text, match_ranges(text, {"place:deir-ez-zor"})) == ["Deir al-Zour"]
    governorate = {"place:deir-ez-zor-governorate"}
    assert marked(text, match_ranges(text, governorate)) == ["province of Deir Ezzor"]


@pytest.mark.parametrize(
    ("text", "terms", "ranges"),
    [
        # an entity span and the words inside it: one range, not three overlapping ones
        ("the Islamic State group", {"faction:islamic-state", "islam", "state"}, [(4, 17)]),
        ("Deir ez-Zor province", {"place:deir-ez-zor-governorate", "provinc"}, [(0, 20)]),
        # a unit and its parent share a span
        ("Tiger Forces", {"faction:tiger-forces", "faction:syrian-government-forces"}, [(0, 12)]),
        # separate words stay separate
        ("Islamic State fighters", {"faction:islamic-state", "fighter"}, [(0, 13), (14, 22)]),
    ],
)
def test_overlapping_spans_are_merged(text, terms, ranges):
    assert match_ranges(text, terms) == ranges


# --- whole and Fragment.html ----------------------------------------------------------------


def test_whole_is_the_whole_text_with_its_matches():
    assert whole("Daesh leaves Raqqa", RAQQA) == Fragment("Daesh leaves Raqqa", 0, ((13, 18),))
    assert whole("Daesh leaves Raqqa", set()) == Fragment("Daesh leaves Raqqa", 0, ())


def only_marks_are_tags(markup: str, text: str) -> None:
    bare = re.sub(r"</?mark>", "", markup)
    assert "<" not in bare and ">" not in bare
    assert html.unescape(bare) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "<script>alert(1)</script> Raqqa",
            "&lt;script&gt;alert(1)&lt;/script&gt; <mark>Raqqa</mark>",
        ),
        (
            'Raqqa <img src=x onerror="alert(1)"> & Raqqa',
            "<mark>Raqqa</mark> &lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; "
            "<mark>Raqqa</mark>",
        ),
        ("R&D in Raqqa&Mosul", "R&amp;D in <mark>Raqqa</mark>&amp;Mosul"),
        ("<b>Raqqa</b>", "&lt;b&gt;<mark>Raqqa</mark>&lt;/b&gt;"),
        ("no match <i>", "no match &lt;i&gt;"),
    ],
)
def test_html_escapes_the_article_text(text, expected):
    fragment = whole(text, RAQQA)
    assert fragment.html == expected
    only_marks_are_tags(fragment.html, text)


def test_html_escapes_inside_a_mark():
    text = "A <b>&'Raqqa\"</b> z"
    fragment = Fragment(text, 0, ((2, 17),))
    assert fragment.html == "A <mark>&lt;b&gt;&amp;&#x27;Raqqa&quot;&lt;/b&gt;</mark> z"
    only_marks_are_tags(fragment.html, text)


def test_html_marks_an_apostrophe_alias_escaped():
    fragment = whole("Da'esh came", {"faction:islamic-state"})
    assert fragment.ranges == ((0, 6),)
    assert fragment.html == "<mark>Da&#x27;esh</mark> came"


def test_html_of_ranges_at_both_ends():
    assert Fragment("ab cd", 0, ((0, 2), (3, 5))).html == "<mark>ab</mark> <mark>cd</mark>"
    assert Fragment("", 0, ()).html == ""


def test_to_json():
    fragment = Fragment("x < Raqqa", 7, ((4, 9),))
    assert fragment.to_json() == {
        "html": "x &lt; <mark>Raqqa</mark>",
        "text": "x < Raqqa",
        "offset": 7,
        "ranges": [[4, 9]],
    }


# --- fragments ------------------------------------------------------------------------------

# one lone Raqqa, a cluster of three (with a newline after it), another lone one
TEXT = (
    filler(30)
    + " Raqqa "
    + filler(40, 30)
    + " Raqqa was hit; Raqqa burned, Raqqa fell.\nThen "
    + filler(40, 70)
    + " Raqqa "
    + filler(30, 110)
)
LONE_1, CLUSTER, LONE_2 = 150, (356, 371, 385), 602


def test_the_text_under_test():
    assert [m.start() for m in re.finditer("Raqqa", TEXT)] == [LONE_1, *CLUSTER, LONE_2]


def starts(found: list[Fragment]) -> list[list[int]]:
    """Where each fragment's matches start in the whole text."""
    return [[f.offset + start for start, _ in f.ranges] for f in found]


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (1, [list(CLUSTER)]),  # the densest first
        (2, [[LONE_1], list(CLUSTER)]),  # then, of equals, the earlier; in text order
        (3, [[LONE_1], list(CLUSTER), [LONE_2]]),
        (10, [[LONE_1], list(CLUSTER), [LONE_2]]),
    ],
)
def test_fragments_pick_the_densest_matches_in_text_order(count, expected):
    found = fragments(TEXT, RAQQA, count=count, size=80)
    assert starts(found) == expected


@pytest.mark.parametrize("size", [20, 40, 80, 160, 400])
@pytest.mark.parametrize("count", [1, 2, 3, 5])
def test_fragments_are_consistent_with_the_text(count, size):
    found = fragments(TEXT, RAQQA, count=count, size=size)
    assert 1 <= len(found) <= count
    offsets = [f.offset for f in found]
    assert offsets == sorted(set(offsets))
    for fragment in found:
        assert len(fragment.text) <= size + size // 4 + 20  # "about size"
        assert "\n" not in fragment.text
        original = TEXT[fragment.offset : fragment.offset + len(fragment.text)]
        assert original.replace("\n", " ") == fragment.text
        assert fragment.ranges
        for start, end in fragment.ranges:
            assert fragment.text[start:end] == "Raqqa"
            assert TEXT[fragment.offset + start : fragment.offset + end] == "Raqqa"
        assert fragment.html.count("<mark>Raqqa</mark>") == len(fragment.ranges)
    # every match shows in some fragment when there is room for them all
    if count >= 3 and size >= 80:
        assert sorted(s for group in starts(found) for s in group) == [LONE_1, *CLUSTER, LONE_2]


def test_fragment_around_a_lone_match_keeps_to_size_and_word_boundaries():
    for size in (40, 80, 160):
        for fragment in fragments(TEXT, RAQQA, count=3, size=size):
            if len(fragment.ranges) == 1:
                assert len(fragment.text) <= size
            begin, end = fragment.offset, fragment.offset + len(fragment.text)
            assert begin == 0 or TEXT[begin - 1] == " "
            assert end == len(TEXT) or TEXT[end] == " "


def test_fragment_starts_a_little_before_its_first_match():
    (fragment,) = fragments(TEXT, RAQQA, count=1, size=80)
    assert (
        fragment.text
        == "w066 w067 w068 w069 Raqqa was hit; Raqqa burned, Raqqa fell. Then w070 w071"
    )
    assert fragment.offset == TEXT.index("w066")
    assert fragment.ranges == ((20, 25), (35, 40), (49, 54))
    assert fragment.html.startswith("w066 w067 w068 w069 <mark>Raqqa</mark> was hit; <mark>")


def test_no_match_gives_the_opening_of_the_text():
    text = "word " * 100
    assert fragments(text, RAQQA, count=3, size=50) == [Fragment("word " * 9 + "word", 0, ())]
    assert fragments("Short\ntext.", RAQQA) == [Fragment("Short text.", 0, ())]
    assert fragments("Short text.", set()) == [Fragment("Short text.", 0, ())]


@pytest.mark.parametrize(
    ("text", "terms", "count"),
    [(TEXT, RAQQA, 0), ("no match", RAQQA, 0), ("", RAQQA, 3), ("", set(), 3)],
)
def test_nothing_to_show(text, terms, count):
    assert fragments(text, terms, count=count) == []


def test_a_short_text_is_one_fragment_with_every_match():
    text = "Daesh left Raqqa; Raqqa celebrated."
    assert fragments(text, RAQQA | {"faction:islamic-state"}) == [
        Fragment(text, 0, ((0, 5), (11, 16), (18, 23)))
    ]


def test_every_match_shown_in_a_fragment_is_marked():
    text = "Raqqa w " + " ".join(["Raqqa"] * 8)
    (fragment,) = fragments(text, RAQQA, count=1, size=47)
    assert fragment.offset == 0
    assert marked(fragment.text, fragment.ranges) == ["Raqqa"] * 9


def test_fragment_does_not_start_inside_the_first_word():
    text = "Shelling hit Raqqa, then Raqqa again and later Raqqa and Raqqa."
    (fragment,) = fragments(text, RAQQA, count=1, size=40)
    assert fragment.offset == 0
    assert fragment.text.startswith("Shelling hit Raqqa")


def test_fragments_never_repeat_text():
    text = " ".join(["Raqqa"] + ["filler"] * 20 + ["Raqqa", "Raqqa"] + ["filler"] * 30 + ["Raqqa"])
    found = fragments(text, RAQQA, count=3, size=120)
    for first, second in zip(found, found[1:], strict=False):
        assert first.offset + len(first.text) <= second.offset


# --- properties on hostile bodies, through search answers -------------------------------

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
        with generations.open_index(root).searcher() as searcher:
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
