import pickle

from search import gazetteer
from search.analysis import entity_tokens, text_analyzer


def tokens(text, mode="index"):
    return [
        (t.text, t.pos, t.startchar, t.endchar)
        for t in text_analyzer()(text, positions=True, chars=True, mode=mode)
    ]


def test_words_are_folded_and_stemmed_with_entity_tokens_at_the_alias():
    text = "Fighters of Daesh entered Raqqah."
    assert tokens(text) == [
        ("fighter", 0, 0, 8),
        ("of", 1, 9, 11),
        ("daesh", 2, 12, 17),
        ("faction:islamic-state", 2, 12, 17),
        ("enter", 3, 18, 25),
        ("raqqah", 4, 26, 32),
        ("place:raqqa", 4, 26, 32),
    ]


def test_multi_word_alias_spans_all_its_words_at_the_first_position():
    text = "the Islamic State group"
    assert ("faction:islamic-state", 1, 4, 17) in tokens(text)
    assert [t for t in tokens(text) if not t[0].startswith("faction:")] == [
        ("the", 0, 0, 3),
        ("islam", 1, 4, 11),
        ("state", 2, 12, 17),
        ("group", 3, 18, 23),
    ]


def test_unit_token_and_its_parent_token():
    gaz = gazetteer.load()
    tiger = gaz.get("faction", "Tiger Forces").token
    government = gaz.get("faction", "Syrian government forces").token
    entity = [t for t in tokens("The Tiger Forces advanced") if ":" in t[0]]
    assert entity == [(tiger, 1, 4, 16), (government, 1, 4, 16)]


def test_query_mode_has_no_entity_tokens():
    assert [t[0] for t in tokens("Daesh in Raqqa", mode="query")] == ["daesh", "in", "raqqa"]


def test_diacritics_and_case_fold():
    assert [t[0] for t in tokens("\u1e24alab CAF\u00c9", mode="query")] == ["halab", "cafe"]


def test_analyzer_pickles_for_the_schema():
    analyzer = pickle.loads(pickle.dumps(text_analyzer()))
    assert analyzer == text_analyzer()
    assert [t.text for t in analyzer("Kurdish forces", mode="query")] == ["kurdish", "forc"]


def test_entity_tokens_of_a_query():
    assert entity_tokens("Daesh near Raqqah") == [
        "faction:islamic-state",
        "place:raqqa",
        "place:raqqa-governorate",
    ]
    assert entity_tokens("Raqqa province") == ["place:raqqa-governorate"]
    assert entity_tokens("is it raining") == []
    assert entity_tokens("isis") == ["faction:islamic-state"]


def test_english_stems_are_nltk_s_for_every_word_of_fa_kes_and_the_encyclopedia(fakes_csv):
    """StemFilter uses Whoosh's port of nltk's Snowball (nltk costs a third of a second to
    import); an index built with nltk's must be searched with the same stems."""
    from nltk.stem.snowball import SnowballStemmer

    from search.analysis import LONGEST_STEMMED, StemFilter
    from search.arabic import is_arabic
    from search.words import fold, word_spans

    texts = [fakes_csv.read_text(encoding="utf-8", errors="replace")]
    texts += [p.read_text(encoding="utf-8") for p in sorted(fakes_csv.parents[1].rglob("*.md"))]
    words = {fold(text[s:e]) for text in texts for s, e in word_spans(text)}
    words = {w for w in words if 2 < len(w) <= LONGEST_STEMMED and not is_arabic(w)}
    assert len(words) > 20_000
    ours, nltk = StemFilter(), SnowballStemmer("english")
    differ = [w for w in sorted(words) if ours.stem(w) != nltk.stem(w)]
    assert differ == [], differ[:20]


def test_a_crafted_word_is_left_as_written_and_arabic_still_stems():
    from search.analysis import StemFilter

    stemmer = StemFilter()
    crafted = "ay" * 50_000  # Whoosh's Snowball rebuilds the word at each "ay"
    assert stemmer.stem(crafted) == crafted
    assert stemmer.stem("fighters") == "fighter"
    assert stemmer.stem("والمقاتلين") != "والمقاتلين"


def test_indexing_a_text_field_gives_whooshs_postings_byte_for_byte(fakes_csv):
    """ArticleText.index skips Whoosh's Token path (ArticleAnalyzer.postings); what it gives
    must be what Characters.word_values gives through the analyzer: the words, counts,
    weights (the title's boost too), encoded positions and characters, and spelling words;
    for tagged text (mentions settled by the tagger) and plain text, English and Arabic."""
    from whoosh.fields import TEXT

    from search import files
    from search.articles import Article
    from search.schema import ArticleSchema, to_document
    from search.tagging import tag
    from tests.live import ROOT
    from tests.test_arabic import ARTICLES

    schema = ArticleSchema()
    _, items = files.read_paths([fakes_csv, *sorted((ROOT / "seeds").glob("*"))])
    articles = [item.article for item in items if item.article]
    assert len(articles) > 800
    articles += [Article(id=a["id"], title=a["title"], body=a["body"]) for a in ARTICLES]
    compared = 0
    for article in articles:
        document = to_document(tag(article))
        for name in ("title", "body"):
            field = schema[name]
            for value in (document[name], str(document[name])):  # tagged, then plain
                ours = sorted(field.index(value))
                our_words = field._last[1]
                whoosh_words: set[str] = set()
                whooshs = sorted(TEXT.index(field, value, words=whoosh_words))
                assert ours == whooshs, article.id
                assert our_words == whoosh_words, article.id
                compared += len(ours)
    assert compared > 100_000
