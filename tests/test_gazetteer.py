import pytest

from search import gazetteer
from search.gazetteer import Entity, Matcher, fold, word_spans


def names(text: str, kind: str) -> list[str]:
    return [m.entity.name for m in gazetteer.find(text).of(kind)]


def written(text: str, kind: str) -> list[str]:
    return [text[m.start : m.end] for m in gazetteer.find(text).of(kind)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("U.S.-Backed Forces Advance Against IS In East Syria", ["IS"]),
        ("the extremist Islamic State (IS) group", ["Islamic State", "IS"]),
        ("it is what it is", []),
        ("Is it over? IS claimed it.", ["IS"]),
        ("WHY IS THIS HAPPENING", []),  # an all-capital headline: IS is the verb
        ("Daesh, ISIL, ISIS and Da'esh", ["Daesh", "ISIL", "ISIS", "Da'esh"]),
        ("ISIS-held town", ["ISIS"]),
        ("Isis the goddess", []),  # acronyms match as written
    ],
)
def test_islamic_state_aliases_and_traps(text, expected):
    assert written(text, "faction") == expected
    assert set(names(text, "faction")) <= {"Islamic State"}


def test_us_is_not_us():
    assert names("the US and Russia", "country") == ["United States", "Russia"]
    assert names("let us go", "country") == []
    assert names("U.S.-backed fighters", "country") == ["United States"]


def test_longest_alias_wins():
    assert names("Free Syrian Army units", "faction") == ["Free Syrian Army"]
    assert names("the Syrian Army advanced", "faction") == ["Syrian government forces"]
    assert names("the Syrian Democratic Forces (SDF)", "faction") == [
        "Syrian Democratic Forces",
        "Syrian Democratic Forces",
    ]


@pytest.mark.parametrize(
    "spelling",
    ["Deir ez-Zor", "Deir Ezzor", "Deir al-Zour", "Dayr az-Zawr", "deir ez zor", "Deir-ez-Zor"],
)
def test_deir_ez_zor_spellings(spelling):
    assert names(f"clashes in {spelling} today", "place") == ["Deir ez-Zor"]


@pytest.mark.parametrize("spelling", ["Raqqa", "Raqqah", "al-Raqqa", "Ar-Raqqah", "RAQQA"])
def test_raqqa_spellings(spelling):
    assert names(f"near {spelling}.", "place") == ["Raqqa"]


def test_province_phrase_is_the_governorate():
    place = gazetteer.load().get("place", "Raqqa")
    assert place.province and place.country == "Syria"
    assert names("the Raqqa province", "place") == [place.province]


def test_whole_words_only():
    assert names("Hamas leaders", "place") == []
    assert names("Hama countryside", "place") == ["Hama"]
    assert names("Homsi", "place") == []


def test_diacritics_are_ignored():
    assert fold("\u1e24alab") == "halab"
    assert fold("Raqq\u0101") == "raqqa"


def test_spans_are_the_written_words():
    text = "Fighters of Daesh entered Raqqah."
    found = gazetteer.find(text)
    assert [(text[m.start : m.end], m.word) for m in found.faction] == [("Daesh", 2)]
    assert [(text[m.start : m.end], m.word) for m in found.place] == [("Raqqah", 4)]


def test_matcher_gaps_between_words():
    entity = Entity("place", "Tall Rifat", "tall-rifat")
    matcher = Matcher([("Tall Rifat", entity)])

    def run(text):
        spans = word_spans(text)
        found = matcher.find_kinds(text, spans, [fold(text[s:e]) for s, e in spans])
        return sum(len(mentions) for mentions in found.values())

    assert run("Tall Rifat") == run("Tall-Rifat") == run("Tall  Rifat") == 1
    assert run("Tall, Rifat") == 0  # punctuation between words ends a name


def test_coverage_of_the_data():
    gaz = gazetteer.load()
    factions, places = gaz.entities["faction"], gaz.entities["place"]
    assert len(factions) >= 40
    assert len(places) >= 150
    governorates = {p.name for p in places.values() if p.place_kind == "governorate"}
    assert sum(1 for g in governorates if places[g].country == "Syria") == 14
    assert sum(1 for g in governorates if places[g].country == "Iraq") >= 18
    for place in places.values():
        assert place.province is None or place.province in governorates
    for required in [
        "Islamic State",
        "Syrian Democratic Forces",
        "YPG",
        "YPJ",
        "Hezbollah",
        "Syrian government forces",
        "Tiger Forces",
        "Peshmerga",
    ]:
        assert required in factions


def test_unit_rolls_up_to_its_parent():
    gaz = gazetteer.load()
    tiger = gaz.get("faction", "Tiger Forces")
    assert [e.name for e in gaz.lineage(tiger)] == ["Tiger Forces", "Syrian government forces"]


def test_every_alias_belongs_to_one_entity_except_namesake_places():
    import collections

    gaz = gazetteer.load()
    for kind, matcher in gaz.matchers.items():
        owners = collections.defaultdict(set)
        for alias in matcher.aliases():
            owners[(alias.keys, alias.exact)].add(alias.entity.name)
        shared = {k: v for k, v in owners.items() if len(v) > 1}
        if kind == "place":  # namesakes are told apart by the article: "Name (City)"
            shared = {k: v for k, v in shared.items() if not all("(" in n for n in sorted(v)[1:])}
        assert not shared, f"{kind}: aliases with two owners: {shared}"


def test_trailing_period_of_an_abbreviation_is_part_of_the_mention():
    assert written("U.S. troops and the U.S.-backed SDF", "country") == ["U.S.", "U.S."]
    assert written("helped by the U.S", "country") == ["U.S"]


def test_curly_apostrophe_between_words():
    assert (
        names("the People\u2019s Protection Units", "faction")
        == names("the People's Protection Units", "faction")
        == ["YPG"]
    )
