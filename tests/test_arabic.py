"""Arabic script: the same factions and places as English, in one index with English articles.

The Arabic items are written for these tests in the style of SANA, the Syrian Observatory and
Iraqi outlets, with the traps: names with clitics (بحلب, وبغداد) and with diacritics (حَلَب),
names that begin with a clitic's letter (بغداد), words that begin with ال and are not names
(البابا is not الباب, الحلبي is not حلب).
"""

from __future__ import annotations

import json

import pytest

from search import arabic, gazetteer
from search.analysis import text_analyzer
from search.articles import Article
from search.tagging import tag
from tests.live import InProcess, run

ARTICLES = [
    {
        "id": "ar-aleppo",
        "title": "غارات روسية على أحياء حلب الشرقية",
        "body": "قصفت الطائرات الروسية أحياءً في مدينة حَلَب الشرقية يوم الثلاثاء، وقال المرصد"
        " السوري لحقوق الإنسان إن الغاراتِ استهدفت حي الشعار. وتقدمت قوات النظام في ريف إدلب.",
        "date": "11 تموز 2017",
    },
    {
        "id": "ar-raqqa",
        "title": "قسد تسيطر على أحياء جديدة في الرقة",
        "body": "أعلنت قوات سوريا الديمقراطية سيطرتها على حي جديد في مدينة الرقة بعد معارك مع"
        " تنظيم داعش، بدعم من طيران التحالف الدولي، واشتباكات عنيفة بالرقة حتى المساء.",
        "date": "١٢ آب ٢٠١٧",
    },
    {
        "id": "ar-nusra",
        "title": "جبهة النصرة تهاجم مواقع للجيش في إدلب",
        "body": "شنت جبهة النصرة هجوماً على مواقع الجيش العربي السوري قرب بلدة خان شيخون في ريف"
        " إدلب الجنوبي.",
        "date": "2017-04-02",
    },
    {
        "id": "ar-mosul",
        "title": "الحشد الشعبي يتقدم غرب الموصل",
        "body": "تقدمت قوات الحشد الشعبي والقوات العراقية في أحياء غرب الموصل، وقطعت الطريق بين"
        " الموصل وبغداد أمام عناصر داعش.",
    },
    {
        "id": "ar-trap",
        "title": "البابا يدعو إلى السلام",
        "body": "دعا البابا فرنسيس في الفاتيكان إلى وقف الحروب، وقال الحلبي إن الأمل باقٍ.",
    },
    {
        "id": "en-aleppo",
        "title": "Russian jets pound eastern Aleppo",
        "body": "Russian warplanes struck eastern Aleppo on Tuesday, the Observatory said.",
    },
    {
        "id": "en-raqqa",
        "title": "SDF advances in Raqqa",
        "body": "The Syrian Democratic Forces took a new district of Raqqa from Daesh.",
    },
    {
        "id": "en-nusra",
        "title": "Nusra Front attacks army posts in Idlib",
        "body": "Jabhat al-Nusra fighters attacked Syrian army positions near Khan Sheikhoun in"
        " Idlib province.",
    },
]


def tags_of(item: dict) -> dict[str, tuple[str, ...]]:
    tagged = tag(Article(id=item["id"], title=item["title"], body=item["body"]))
    return {facet: tagged.names(facet) for facet in ("faction", "place", "province", "country")}


@pytest.mark.parametrize(
    ("written", "folded"),
    [
        ("حَلَب", "حلب"),  # diacritics
        ("أحمد", "احمد"),  # alef with hamza
        ("إدلب", "ادلب"),
        ("آذار", "اذار"),
        ("مستشفى", "مستشفي"),  # alef maqsura
        ("مدينة", "مدينه"),  # ta marbuta
        ("ســوريا", "سوريا"),  # tatweel
        ("٢٠١٧", "2017"),  # Arabic-Indic digits
    ],
)
def test_fold(written, folded):
    assert gazetteer.fold(written) == folded


def test_a_word_is_whole_across_its_marks():
    text = "قصفت حَلَب"
    assert [text[s:e] for s, e in gazetteer.word_spans(text)] == ["قصفت", "حَلَب"]


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("حلب", "Aleppo"),
        ("بحلب", "Aleppo"),  # in
        ("وحلب", "Aleppo"),  # and
        ("الرقة", "Raqqa"),
        ("بالرقة", "Raqqa"),  # in the
        ("والرقة", "Raqqa"),
        ("بغداد", "Baghdad"),  # begins with ب: not cut
        ("وبغداد", "Baghdad"),
        ("لبغداد", "Baghdad"),
        ("كركوك", "Kirkuk"),  # begins with ك
        ("دير الزور", "Deir ez-Zor"),
        ("ودير الزور", "Deir ez-Zor"),
    ],
)
def test_clitics_are_seen_past_without_eating_a_name(text, place):
    assert [m.entity.name for m in gazetteer.find(f"في {text} اليوم").place] == [place]


@pytest.mark.parametrize(
    "text",
    [
        "البابا فرنسيس",  # the pope, not al-Bab
        "قال الحلبي",  # a surname, not Aleppo
        "الحرب طويلة",
        "باب مفتوح",
        "في أرجاء القطر",  # "the country", not Qatar
        "قدم ورقة عمل",  # "paper", not و + الرقة
        "أعضاء الدوما الروس",  # the Duma, not Douma
    ],
)
def test_words_that_are_not_names(text):
    found = gazetteer.find(text)
    assert (found.place, found.country) == ((), ())


def test_clitic_forms_take_as_little_as_they_can():
    assert arabic.clitic_forms("وبغداد")[0] == "بغداد"
    assert arabic.clitic_forms("للنظام")[-1] == "نظام"


def test_arabic_words_are_stemmed_with_isri():
    analyzer = text_analyzer()
    index = [t.text for t in analyzer("الغارات على المدينة", mode="index")]
    query = [t.text for t in analyzer("غارات", mode="query")]
    assert query[0] in index  # الغارات and غارات: one stem


@pytest.mark.parametrize(
    ("item", "factions", "places", "provinces"),
    [
        (
            "ar-aleppo",
            {"Russian forces", "Syrian government forces"},
            {"Aleppo", "Idlib"},
            {"Aleppo Governorate", "Idlib Governorate"},
        ),
        (
            "ar-raqqa",
            {"Syrian Democratic Forces", "Islamic State", "US-led coalition"},
            {"Raqqa"},
            {"Raqqa Governorate"},
        ),
        (
            "ar-nusra",
            {"al-Nusra Front", "Syrian government forces"},
            {"Idlib"},
            {"Idlib Governorate"},
        ),
        (
            "ar-mosul",
            {"Popular Mobilization Forces", "Iraqi security forces", "Islamic State"},
            {"Mosul", "Baghdad"},
            {"Nineveh Governorate", "Baghdad Governorate"},
        ),
        ("ar-trap", set(), set(), set()),
    ],
)
def test_arabic_articles_carry_the_canonical_tags(item, factions, places, provinces):
    tags = tags_of(next(a for a in ARTICLES if a["id"] == item))
    assert factions <= set(tags["faction"])
    assert places <= set(tags["place"])
    assert provinces <= set(tags["province"])
    if not factions:  # the trap: nothing of the war
        assert (tags["faction"], tags["place"], tags["province"]) == ((), (), ())
    else:
        assert {"Syria", "Iraq"} & set(tags["country"])


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    folder = tmp_path_factory.mktemp("arabic")
    path = folder / "articles.jsonl"
    path.write_text(
        "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in ARTICLES), encoding="utf-8"
    )
    result = run("index", path, "--index", folder / "ix")
    assert result.returncode == 0, result.stderr
    with InProcess(folder / "ix") as app:
        yield app.client


def ids(client, **params) -> set[str]:
    answer = client.get("/search", params={"per_page": 50, **params})
    assert answer.status_code == 200, answer.text
    return {hit["id"] for hit in answer.json()["hits"]}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "حلب"}, {"ar-aleppo", "en-aleppo"}),
        ({"q": "Aleppo"}, {"ar-aleppo", "en-aleppo"}),
        ({"q": "الرقة"}, {"ar-raqqa", "en-raqqa"}),
        ({"q": "قسد"}, {"ar-raqqa", "en-raqqa"}),
        ({"q": "داعش"}, {"ar-raqqa", "ar-mosul", "en-raqqa"}),
        ({"faction": "جبهة النصرة"}, {"ar-nusra", "en-nusra"}),
        ({"q": "Nusra"}, {"ar-nusra", "en-nusra"}),
        ({"q": "غارات"}, {"ar-aleppo"}),  # الغارات, غارات: one stem
        ({"q": "البابا"}, {"ar-trap"}),
    ],
)
def test_both_scripts_find_the_same_articles(client, params, expected):
    assert ids(client, **params) == expected


def test_snippets_mark_the_arabic_as_written(client):
    answer = client.get("/search", params={"q": "Aleppo", "highlight": "true"}).json()
    hit = next(h for h in answer["hits"] if h["id"] == "ar-aleppo")
    html = " ".join(f["html"] for f in hit["highlights"]["body"])
    assert "<mark>حَلَب</mark>" in html  # the diacritics as the article wrote them
    assert "<mark>حلب</mark>" in hit["highlights"]["title"]["html"]


def test_arabic_dates_are_parsed(client):
    doc = client.get("/documents/ar-raqqa").json()
    assert doc["date"] == "2017-08-12"


def test_suggest_completes_an_arabic_prefix(client):
    answer = client.get("/suggest", params={"q": "حل"}).json()
    assert any(
        s.get("text") == "Aleppo" and s.get("arabic") == "حلب" for s in answer["suggestions"]
    ), answer


def test_an_arabic_article_file_parses_like_the_others():
    from search.articles import parse_text

    text = (
        "\u200fغارات روسية على حلب\n\nالثلاثاء 11 تموز/يوليو 2017\n\n"
        "قصفت الطائرات الروسية أحياء في مدينة حلب.\n\nاقرأ أيضاً: معارك في إدلب\n\n"
        "جميع الحقوق محفوظة\n"
    )
    article = parse_text(text, "ar", "ar.txt")
    assert article.title == "غارات روسية على حلب"  # the right-to-left mark is gone
    assert str(article.date) == "2017-07-11"
    assert article.body == "قصفت الطائرات الروسية أحياء في مدينة حلب."  # boilerplate dropped


@pytest.mark.parametrize(("typed", "meant"), [("حلبب", "Aleppo"), ("الغاراتت", "الغارات")])
def test_did_you_mean_reads_arabic(client, typed, meant):
    answer = client.get("/search", params={"q": typed}).json()
    assert answer["total"] == 0
    assert answer["suggestion"]["q"] == meant and answer["suggestion"]["total"] > 0
