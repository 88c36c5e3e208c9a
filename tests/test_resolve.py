"""Mentions settled by the whole article: namesakes, names inside other names, sides,
operations, inflections made by the matcher."""

import pytest

from search import gazetteer
from search.articles import Article
from search.tagging import tag


def tagged(body: str, title: str = ""):
    return tag(Article(id="t", title=title, body=body))


@pytest.mark.parametrize(
    ("body", "place", "province"),
    [
        ("Shells hit al-Midan in Aleppo city.", "al-Midan (Aleppo)", "Aleppo Governorate"),
        (
            "Shells hit al-Midan near Bab Touma in Damascus.",
            "al-Midan (Damascus)",
            "Damascus Governorate",
        ),
        ("Clashes in al-Zahraa, a district of Homs.", "al-Zahraa (Homs)", "Homs Governorate"),
    ],
)
def test_a_namesake_goes_to_the_city_the_article_names(body, place, province):
    result = tagged(body)
    assert place in result.names("place")
    assert province in result.names("province")


def test_an_undecided_namesake_keeps_its_name_but_no_province():
    result = tagged("Shells hit al-Midan overnight.")
    first = gazetteer.find("al-Midan").place[0]
    assert len(first.candidates) >= 2
    assert result.names("place") == (first.entity.name,)
    assert result.names("province") == ()
    assert result.rules()["place"][first.entity.name] == [
        "namesake: nothing in the article decides"
    ]


def test_a_neighbourhood_rolls_up_to_its_city():
    result = tagged("Barrel bombs fell on Bustan al-Qasr.")
    assert set(result.names("place")) >= {"Bustan al-Qasr", "Aleppo"}
    assert result.names("province") == ("Aleppo Governorate",)


@pytest.mark.parametrize(
    ("body", "operation", "not_place"),
    [
        (
            "Turkey began Operation Euphrates Shield at Jarabulus.",
            "Operation Euphrates Shield",
            "Euphrates",
        ),
        (
            "The Wrath of Euphrates campaign neared Raqqa.",
            "Operation Wrath of Euphrates",
            "Euphrates",
        ),
        ("Operation Dawn of Idlib began.", "Operation Dawn of Idlib", "Idlib"),
    ],
)
def test_an_operation_is_not_a_place(body, operation, not_place):
    result = tagged(body)
    assert operation in result.names("operation")
    assert not_place not in result.names("place")


@pytest.mark.parametrize(
    ("body", "place"),
    [
        ("The Egyptian daily Sada al-Balad reported the attack in Homs.", "Balad"),
        ("Al Mayadeen TV said the army entered Palmyra.", "Mayadin"),
        ("Iran is a longtime backer of the government in Damascus.", "Damascus"),
    ],
)
def test_names_of_other_things_hide_places(body, place):
    assert place not in tagged(body).names("place")


def test_a_description_is_not_an_actor():
    result = tagged("Al-Qaeda affiliate al-Nusra Front holds Idlib.")
    assert "al-Nusra Front" in result.names("faction")
    assert "al-Qaeda" not in result.names("faction")


@pytest.mark.parametrize(
    ("body", "sides"),
    [
        ("Rebels shelled the Zahraa district.", {"Armed opposition"}),
        ("Opposition fighters and jihadists entered the town.", {"Armed opposition", "Jihadist"}),
        ("Kurdish fighters held Kobani.", {"Kurdish-led forces"}),
        ("Loyalists celebrated in Latakia.", {"Syrian government and allies"}),
        ("Hezbollah and the IRGC sent men.", {"Iran-backed"}),
        ("The SDF took Tabqa.", {"Kurdish-led forces"}),
        ("Militants and terrorists attacked.", set()),  # words every side uses for the other
    ],
)
def test_sides(body, sides):
    assert set(tagged(body).names("side")) == sides


def test_every_faction_has_a_known_side():
    gaz = gazetteer.load()
    for faction in gaz.entities["faction"].values():
        assert faction.side in gaz.entities["side"], faction.name


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Assads regime", "Syrian government forces"),
        ("Assad's regime", "Syrian government forces"),
        ("Assad\u2019s regime", "Syrian government forces"),
        ("a Russian jet", "Russian forces"),
        ("the Islamic States fighters", "Islamic State"),
    ],
)
def test_inflections_are_made_not_listed(text, name):
    assert name in [m.entity.name for m in gazetteer.find(text).faction]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Hamas leaders", "place"),  # not the plural of Hama
        ("the Americas", "country"),
        ("Isis the goddess", "faction"),  # ISISs must not make Isis
        ("it is what it is", "faction"),
        ("let us go", "country"),
        ("gave him a chance", "place"),  # Hims (Homs) is a name: no singular
    ],
)
def test_inflection_traps(text, kind):
    assert gazetteer.find(text).of(kind) == ()


@pytest.mark.parametrize(
    ("written", "place"),
    [("Qamişlo", "Qamishli"), ("Amûdê", "Amuda"), ("Kilis", "Kilis"), ("Akçakale", "Akcakale")],
)
def test_kurdish_and_turkish_letters(written, place):
    assert [m.entity.name for m in gazetteer.find(f"near {written} today").place] == [place]


def test_a_weak_alias_counts_only_in_a_war_story():
    in_syria = tagged("A car bomb was detonated by Isis terrorists near Raqqa.")
    assert "Islamic State" in in_syria.names("faction")
    assert in_syria.rules()["faction"]["Islamic State"] == ["weak alias: Isis"]
    assert tagged("A temple of Isis stood by the Nile.").names("faction") == ()
