import json
from pathlib import Path

import pytest

from search.articles import Article, parse_text
from search.tagging import tag

GOLD = Path(__file__).parent / "gold"
SEEDS = Path(__file__).resolve().parents[1] / "seeds"
FIELDS = [
    "title",
    "authors",
    "source",
    "original_source",
    "date",
    "original_date",
    "credit",
    "reports",
    "regions",
    "themes",
    "factions",
    "places",
    "provinces",
    "countries",
    "sides",
    "operations",
]


def tagged_seed(stem: str) -> dict:
    path = SEEDS / f"{stem}.txt"
    return tag(parse_text(path.read_text(encoding="utf-8"), stem, str(path))).to_json()


@pytest.mark.parametrize("stem", sorted(p.stem for p in GOLD.glob("*.json")))
@pytest.mark.parametrize("field", FIELDS)
def test_seed_matches_gold(stem, field):
    gold = json.loads((GOLD / f"{stem}.json").read_text(encoding="utf-8"))
    assert tagged_seed(stem)[field] == gold[field]


def test_every_seed_has_a_gold_file():
    assert sorted(p.stem for p in SEEDS.glob("*.txt")) == sorted(
        p.stem for p in GOLD.glob("*.json")
    )


def article(body: str, **fields) -> Article:
    return Article(id="t", title=fields.pop("title", ""), body=body, **fields)


def test_counts_include_title_and_units_roll_up():
    tagged = tag(
        article("The Tiger Forces and the SAA advanced on Palmyra.", title="SAA offensive")
    )
    assert dict(tagged.factions) == {"Syrian government forces": 3, "Tiger Forces": 1}
    assert tagged.names("faction") == ("Syrian government forces", "Tiger Forces")


def test_places_bring_province_and_country():
    tagged = tag(article("Clashes in Raqqah and al-Bukamal, then in Mosul."))
    assert tagged.names("place") == ("Abu Kamal", "Mosul", "Raqqa")
    assert set(tagged.names("province")) == {
        "Raqqa Governorate",
        "Deir ez-Zor Governorate",
        "Nineveh Governorate",
    }
    assert dict(tagged.countries) == {"Syria": 2, "Iraq": 1}


def test_declared_region_and_theme_win_but_inferred_are_kept():
    text = (
        "Russian jets hit Idlib and Aleppo in Syria. "
        "Russia said the strikes hit terrorists and terrorist camps."
    )
    declared = tag(article(text, regions=("Europe",), themes=("History",)))
    assert declared.regions == ("Europe",) and declared.themes == ("History",)
    inferred = tag(article(text))
    assert (
        inferred.regions
        == declared.regions_inferred
        == ("Middle East & North Africa", "Russia and FSU")
    )
    assert tag(article("Russia, Russia and Russia, says Syria.")).regions == ("Russia and FSU",)
    assert "Terrorism" in inferred.themes


def test_no_region_without_countries():
    tagged = tag(article("Nothing here names a place."))
    assert tagged.regions == () and tagged.names("country") == ()


def test_single_keyword_does_not_make_a_theme():
    assert "Terrorism" not in tag(article("One terrorist was seen.")).themes
    assert "Terrorism" in tag(article("One terrorist was seen; terrorism grows.")).themes


def test_spellings_explain_tags():
    tagged = tag(article("Daesh (ISIS) left Raqqah for Deir Ezzor.", title="IS retreats"))
    spellings = tagged.spellings()
    assert spellings["faction"]["Islamic State"] == ["IS", "Daesh", "ISIS"]
    assert spellings["place"] == {"Raqqa": ["Raqqah"], "Deir ez-Zor": ["Deir Ezzor"]}


def test_tagging_is_deterministic():
    text = (SEEDS / "004_bc0f7c810eb851fd.txt").read_text(encoding="utf-8")
    assert tag(parse_text(text, "x")).to_json() == tag(parse_text(text, "x")).to_json()
