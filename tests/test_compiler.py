from dataclasses import replace
from datetime import date

import pytest
from whoosh import query as wq

from search import generations, index, limits
from search.articles import Article
from search.compiler import Compiled, Compiler, resolve_facet_values, stems
from search.errors import QuerySyntaxError
from search.querylang import parse

ARTICLES = [
    Article(
        id="isis",
        title="ISIS retreats",
        body="ISIS fighters left the town.",
        date=date(2017, 7, 1),
        source="Global Research",
    ),
    Article(id="is", title="Report", body="IS fighters attacked.", source="South Front"),
    Article(id="islamic", title="Claim", body="The Islamic State claimed the attack in Mosul."),
    Article(id="deir1", title="Deir al-Zour", body="Shelling continued.", source="Reuters"),
    Article(id="deir2", title="Province", body="Fighting in the province of Deir Ezzor."),
    Article(id="tiger", title="Advance", body="The Tiger Forces took the hill."),
    Article(id="tiger2", title="Tigers", body="Tiger sightings; the forces of nature."),
    Article(id="mosulraqqa", title="Mosul and Raqqa", body="Mosul fell; Raqqa is next."),
    Article(id="offensive", title="Start", body="An offensive began."),
    Article(id="offensives", title="Later", body="Offensives continue."),
    Article(id="offer", title="Talks", body="An offer of talks; an offence to some."),
    Article(id="plain", title="Weather", body="It is sunny today."),
]
ALL = {article.id for article in ARTICLES}
DAESH = {"isis", "is", "islamic"}


@pytest.fixture(scope="module")
def searcher(tmp_path_factory):
    root = tmp_path_factory.mktemp("compiler-index")
    summary = index.write(ARTICLES, root)
    assert summary.indexed == len(ARTICLES)
    with generations.open_index(root).searcher() as searcher:
        yield searcher


def compile_query(searcher, text: str) -> Compiled:
    return Compiler(searcher).compile(parse(text))


def ids(searcher, text: str) -> set[str]:
    compiled = compile_query(searcher, text)
    return {hit["id"] for hit in searcher.search(compiled.query, limit=None)}


def test_the_index_under_test(searcher):
    facets = {name: sorted(searcher.lexicon(name)) for name in ("faction", "place", "source")}
    assert facets == {
        "faction": [b"Islamic State", b"Syrian government forces", b"Tiger Forces"],
        "place": [b"Deir ez-Zor", b"Deir ez-Zor Governorate", b"Mosul", b"Raqqa"],
        "source": [b"Global Research", b"Reuters", b"South Front"],
    }


# --- stems ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Offensives fighting Daesh", ["offens", "fight", "daesh"]),
        ("Islamic State", ["islam", "state"]),  # no entity token in query mode
        ("US-led", ["us", "led"]),
        ("Ḥalab", ["halab"]),
        ("", []),
        ("--", []),
    ],
)
def test_stems(text, expected):
    assert stems(text) == expected


# --- what queries find ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # an alias finds every spelling the articles wrote
        ("Daesh", DAESH),
        ("daesh", DAESH),
        ("isis", DAESH),
        ("ISIL", DAESH),
        ('"Islamic State"', DAESH),
        ("Islamic State", DAESH),
        ("Islamic State fighters", {"isis", "is"}),
        ("Deir Ezzor", {"deir1", "deir2"}),
        ("deir ez-zor", {"deir1", "deir2"}),
        ("Deir al-Zour", {"deir1", "deir2"}),
        ('"Deir Ezzor"', {"deir1", "deir2"}),
        ('title:"Deir Ezzor"', {"deir1"}),
        ('"Tiger Forces"', {"tiger"}),
        ("tiger forces", {"tiger"}),
        ("tiger", {"tiger", "tiger2"}),
        ('"the forces"', {"tiger2"}),
        ('"islamic state claimed"', {"islamic"}),
        ('"state claimed islamic"', set()),
        # words are stemmed
        ("fighter", {"isis", "is"}),
        ("offensives", {"offensive", "offensives"}),
        ("title:tigers", {"tiger2"}),
        ("body:tigers", {"tiger", "tiger2"}),
        # boolean structure
        ("Mosul NOT Raqqa", {"islamic"}),
        ("Mosul -Raqqa", {"islamic"}),
        ("NOT raqqa", ALL - {"mosulraqqa"}),
        ("-raqqa -mosul", ALL - {"mosulraqqa", "islamic"}),
        ("NOT raqqa OR tiger", ALL - {"mosulraqqa"}),
        ("title:(NOT tigers)", ALL - {"tiger2"}),
        ("ISIS OR Tiger Forces", DAESH | {"tiger"}),
        ("Daesh Mosul", {"islamic"}),
        ("(Daesh OR Raqqa) fell", {"mosulraqqa"}),
        ("", ALL),
        ("*", ALL),
        ("zzz", set()),
        ('""', set()),
    ],
)
def test_query_finds(searcher, text, expected):
    assert ids(searcher, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("offens*", {"offensive", "offensives"}),
        # the prefix is matched against the words as written, then searched by their stems:
        # "offensiv" is no prefix of the stem "offens"
        ("offensiv*", {"offensive", "offensives"}),
        ("OFFENSIV*", {"offensive", "offensives"}),
        ("offe*", {"offensive", "offensives", "offer"}),
        ("title:tig*", {"tiger2"}),
        ("body:tig*", {"tiger", "tiger2"}),
        ("zzz*", set()),
        ("offens* NOT offer*", {"offensive", "offensives"}),
    ],
)
def test_prefix_expands_through_the_written_words(searcher, text, expected):
    assert ids(searcher, text) == expected


def test_prefix_query_searches_the_stems_of_the_expanded_words(searcher):
    query = compile_query(searcher, "offensiv*").query
    assert query == wq.Or([wq.Term("title", "offens"), wq.Term("body", "offens")])
    assert compile_query(searcher, "title:offe*").query is wq.NullQuery  # no title has one


def test_prefix_never_expands_to_entity_tokens(searcher):
    # spell_body holds the entity tokens too (faction:islamic-state); they are not words
    assert compile_query(searcher, "body:faction*").query is wq.NullQuery


def test_prefix_with_too_many_words_is_a_syntax_error(searcher, monkeypatch):
    monkeypatch.setattr(limits, "_current", replace(limits.current(), max_expansion=4))
    # offence, offensive, offensives, offer
    assert ids(searcher, "offe*") == {"offensive", "offensives", "offer"}
    with pytest.raises(QuerySyntaxError) as caught:
        compile_query(searcher, "mosul of*")  # and "of"
    error = caught.value
    assert error.extra == {"offset": 6, "text": "of*"}
    assert error.message.startswith("of* matches more than 4 words; use a longer prefix")


# --- facets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("faction:ISIS", DAESH),
        ("faction:Daesh", DAESH),
        ('faction:"islamic state"', DAESH),
        ("faction:isl*", DAESH),
        ('faction:"Syrian government forces"', {"tiger"}),  # a unit rolls up to its parent
        ("faction:Hezbollah", set()),
        ('source:"global research"', {"isis"}),
        ('source:"GLOBAL RESEARCH"', {"isis"}),
        ("source:glob*", {"isis"}),
        ("source:GLOB*", {"isis"}),
        ("source:glob", set()),
        ("source:reuters", {"deir1"}),
        ('source:"south front"', {"is"}),
        ("source:(reuters OR glob*)", {"isis", "deir1"}),
        ("place:Raqqah", {"mosulraqqa"}),
        ('place:"Deir ez-Zor"', {"deir1"}),
        ("country:syria", {"deir1", "deir2", "mosulraqqa"}),
        ("mosul -place:raqqa", {"islamic"}),
    ],
)
def test_facet_queries(searcher, text, expected):
    assert ids(searcher, text) == expected


def test_facet_value_compiles_to_terms_of_indexed_values(searcher):
    query = compile_query(searcher, "faction:ISIS").query
    assert query == wq.Or([wq.Term("faction", "Islamic State")])
    assert compile_query(searcher, "source:nowhere").query is wq.NullQuery


@pytest.mark.parametrize(
    ("facet", "value", "prefix", "expected"),
    [
        ("faction", "ISIS", False, ["Islamic State"]),
        ("faction", "Daesh", False, ["Islamic State"]),
        ("faction", " Islamic State ", False, ["Islamic State"]),
        ("faction", "Daesh fighters", False, []),  # an alias and more is no alias
        ("place", "Raqqah", False, ["Raqqa"]),
        ("country", "Syrian", False, ["Syria"]),
        ("source", "global research", False, ["Global Research"]),
        ("source", "Global", False, []),
        ("source", "glob", True, ["Global Research"]),
        ("source", "", True, ["Global Research", "Reuters", "South Front"]),
        ("source", "r", True, ["Reuters"]),
        ("author", "anyone", False, []),
        ("faction", "tiger", True, ["Tiger Forces"]),
    ],
)
def test_resolve_facet_values(searcher, facet, value, prefix, expected):
    assert resolve_facet_values(searcher.reader(), facet, value, prefix) == expected


def test_facet_prefix_with_too_many_values_is_a_syntax_error(searcher, monkeypatch):
    monkeypatch.setattr(limits, "_current", replace(limits.current(), max_expansion=1))
    assert ids(searcher, "place:deir") == set()  # no value is just "deir"
    with pytest.raises(QuerySyntaxError) as caught:
        compile_query(searcher, "x place:de*")  # Deir ez-Zor, Deir ez-Zor Governorate
    assert caught.value.extra["offset"] == 8
    assert caught.value.message.startswith("place:de* matches more than 1 values")


def test_province_named_by_its_city_finds_the_governorate(searcher):
    assert resolve_facet_values(searcher.reader(), "province", "Deir Ezzor") == [
        "Deir ez-Zor Governorate"
    ]
    assert ids(searcher, "province:raqqa") == {"mosulraqqa"}


# --- acronyms -------------------------------------------------------------------------------


# (query text, the entities it names, the documents it finds where that matters): a two-letter
# acronym names its entity only as written (else it is the common word), a longer one in any case
@pytest.mark.parametrize(
    ("text", "names", "found"),
    [
        ("IS", ["Islamic State"], DAESH),  # not the word "is"
        ("is", [], {"is", "mosulraqqa", "plain"}),  # the word "is", no more
        ("US", ["United States"], None),
        ("us", [], None),
        ("sdf", ["Syrian Democratic Forces"], None),
        ("SDF", ["Syrian Democratic Forces"], None),
        ("Isis", ["Islamic State"], DAESH),
    ],
)
def test_acronyms(searcher, text, names, found):
    entities = compile_query(searcher, text).entities
    assert [e["name"] for e in entities] == names
    assert all(e["text"] == text for e in entities)
    if found is not None:
        assert ids(searcher, text) == found


# --- what was recognised --------------------------------------------------------------------


def test_entities_lists_what_was_recognised_in_order(searcher):
    compiled = compile_query(searcher, 'Daesh near Deir Ezzor "Tiger Forces" NOT raqqah')
    assert compiled.entities == [
        {"text": "Daesh", "kind": "faction", "name": "Islamic State", "also": []},
        {
            "text": "Deir Ezzor",
            "kind": "place",
            "name": "Deir ez-Zor",
            "also": ["Deir ez-Zor Governorate"],
        },
        {"text": "Tiger Forces", "kind": "faction", "name": "Tiger Forces", "also": []},
        {"text": "raqqah", "kind": "place", "name": "Raqqa", "also": ["Raqqa Governorate"]},
    ]


@pytest.mark.parametrize(
    "text",
    ["", "*", "tiger", "offens*", "faction:ISIS", '"the forces"', "near far"],
)
def test_nothing_recognised(searcher, text):
    assert compile_query(searcher, text).entities == []


def test_entity_query_is_the_entity_tokens(searcher):
    query = compile_query(searcher, "Deir Ezzor").query
    assert query == wq.Or(
        [
            wq.Term("title", "place:deir-ez-zor"),
            wq.Term("body", "place:deir-ez-zor"),
            wq.Term("title", "place:deir-ez-zor-governorate"),
            wq.Term("body", "place:deir-ez-zor-governorate"),
        ]
    )


def test_an_alias_inside_a_longer_name_is_not_that_entity(tmp_path):
    index.write([Article(id="fsa", title="t", body="The Free Syrian Army advanced.")], tmp_path)
    with generations.open_index(tmp_path).searcher() as searcher:
        assert ids(searcher, "Syrian Army") == set()
        assert ids(searcher, '"Free Syrian Army"') == {"fsa"}


def test_words_around_an_entity_stay_words(searcher):
    query = compile_query(searcher, "attack on Daesh fighters").query
    assert isinstance(query, wq.And)
    parts = query.subqueries
    assert len(parts) == 4
    assert parts[0] == wq.Or([wq.Term("title", "attack"), wq.Term("body", "attack")])
    assert parts[1] == wq.Or([wq.Term("title", "on"), wq.Term("body", "on")])
    assert wq.Term("body", "faction:islamic-state") in parts[2].subqueries
    assert parts[3] == wq.Or([wq.Term("title", "fighter"), wq.Term("body", "fighter")])


def test_everything_and_pure_negatives(searcher):
    assert compile_query(searcher, "*").query == wq.Every()
    assert compile_query(searcher, "").query == wq.Every()
    query = compile_query(searcher, "-raqqa -mosul").query
    assert isinstance(query, wq.And)
    assert query.subqueries[0] == wq.Every()
    assert all(isinstance(q, wq.Not) for q in query.subqueries[1:])


@pytest.mark.parametrize(
    ("text", "names"),
    [("US-led", []), ("Raqqa-based", []), ("tip", ["Turkistan Islamic Party"])],
)
def test_entities_need_whole_words_and_lowercase_keeps_the_word(searcher, text, names):
    compiled = compile_query(searcher, text)
    assert [e["name"] for e in compiled.entities] == names
    assert "body:tip" in str(compiled.query) or text != "tip"  # the English word still counts
