from search.text import clean, normalise, strip_markdown


def test_normalise_quotes_spaces_and_controls():
    raw = "\u201cHe said\u201d \u2018ISIS\u2019\u00a0fighters\u200b \ufeff\x00Raqqa\u2011city\r"
    assert normalise(raw) == "\"He said\" 'ISIS' fighters Raqqa-city"


def test_normalise_is_nfc():
    decomposed = "Ha\u0304lab"  # a + combining macron
    assert normalise(decomposed) == "H\u0101lab"


def test_markdown_links_become_their_text():
    assert strip_markdown("By [South Front](#) and [AP](https://ap.org)") == "By South Front and AP"
    assert (
        strip_markdown("via: <http://southfront.org/donate/>")
        == "via: http://southfront.org/donate/"
    )
    assert strip_markdown("Articles by: **[South Front](#)**") == "Articles by: South Front"


def test_clean_keeps_lines_and_collapses_spaces():
    assert clean("  a   b \n\n c\u00a0\u00a0d ") == "a b\n\nc d"


def test_cleaning_cleaned_text_changes_nothing():
    once = clean("Nested [[a](b)](c) **__x__** and [link](http://x)")
    assert once == "Nested a x and link"
    assert clean(once) == once
