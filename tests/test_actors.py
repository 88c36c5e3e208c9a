"""Actor phrases: a state's forces and the government side named without a group's name."""

import pytest

from search.articles import Article
from search.tagging import tag


def factions(body: str) -> set[str]:
    return set(tag(Article(id="t", title="", body=body)).names("faction"))


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Russian jets pounded rebel-held Aleppo.", {"Russian forces"}),
        ("A Russian jet was shot down.", {"Russian forces"}),
        (
            "Russian or Syrian war planes hit Idlib.",
            {"Russian forces", "Syrian Arab Air Force", "Syrian government forces"},
        ),
        (
            "Russian and regime warplanes struck the convoy near Aleppo.",
            {"Russian forces", "Syrian Arab Air Force", "Syrian government forces"},
        ),
        ("An Israeli air strike hit Damascus.", {"Israeli forces"}),
        ("An Israeli drone was downed over Quneitra.", {"Israeli forces"}),
        ("U.S.-led air support helped the fighters in Raqqa.", {"US-led coalition"}),
        ("Russia launched air strikes on Idlib.", {"Russian forces"}),
        ("Israel has carried out a strike near Damascus.", {"Israeli forces"}),
        ("Air strikes carried out by Russia killed 14 in Deir ez-Zor.", {"Russian forces"}),
        ("Turkey's army entered Afrin.", {"Turkish forces"}),
        (
            "The Syrian government carried on with its offensive in Aleppo.",
            {"Syrian government forces"},
        ),
    ],
)
def test_a_state_acting_through_its_forces(body, expected):
    assert factions(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "Russia said the talks in Astana would go on.",  # a bare country stays a country
        "Turkey condemned the attack on Aleppo.",
        "The Russian passenger plane left Moscow.",  # passenger is no modifier
        "Syrian fighters of the opposition entered Azaz.",  # people, not aircraft
        "US-backed fighters advanced near Raqqa.",  # backed is not led
        "Russia struck a deal with Turkey over Idlib.",
    ],
)
def test_no_forces_without_a_force(body):
    assert factions(body) == set()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Regime forces shelled Douma in Eastern Ghouta.", {"Syrian government forces"}),
        (
            "Assads regime denied it, the Syrian opposition said in Aleppo.",
            {"Syrian government forces"},
        ),
        ("Pro-regime forces advanced on Palmyra in Syria.", {"Syrian government forces"}),
        (
            "Forces loyal to President Bashar al-Assad took the town.",
            {"Syrian government forces"},
        ),
        (
            "Regime air strikes hit Khan Sheikhoun in Idlib.",
            {"Syrian Arab Air Force", "Syrian government forces"},
        ),
        ("Government forces entered Mosul, Iraq's second city.", {"Iraqi security forces"}),
        ("Government forces entered Aleppo.", {"Syrian government forces"}),
        (
            "As Iraqi government forces fled Mosul, Kurdistan Regional Government forces "
            "took Kirkuk.",
            {"Iraqi security forces"},
        ),
    ],
)
def test_the_government_by_description(body, expected):
    assert factions(body) == expected


@pytest.mark.parametrize(
    "body",
    [
        "They called for regime change in Damascus.",
        "The sanctions regime against Syria was extended.",
        "The ceasefire regime in Aleppo held.",
        "Government forces clashed with protesters in Kabul.",  # neither Syria nor Iraq
        "Afghan government forces retook Kunduz.",
        "The Turkish regime jailed journalists in Ankara, Syria's neighbour said.",
    ],
)
def test_descriptions_that_are_not_actors(body):
    assert factions(body) == set()


def test_rules_say_what_fired():
    tagged = tag(Article(id="t", title="", body="Russian war planes and regime forces hit Idlib."))
    assert tagged.rules()["faction"] == {
        "Russian forces": ["state + noun: Russian war planes"],
        "Syrian government forces": ["government description: regime forces"],
    }


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Coalition air strikes hit Raqqa in Syria.", {"US-led coalition"}),
        ("Coalition operations near Mosul in Iraq went on.", {"US-led coalition"}),
        ("The Saudi-led coalition struck Sanaa in Yemen.", set()),
        ("The Syrian National Coalition met in Istanbul.", set()),
    ],
)
def test_the_coalition_with_a_force_noun(body, expected):
    assert factions(body) == expected


def test_kurdish_forces_are_the_peshmerga_in_iraq_only():
    assert factions("Kurdish forces retook Sinjar from the jihadists in Iraq.") == {"Peshmerga"}
    assert factions("Kurdish forces retook Kobani in Syria.") == set()
