from datetime import date

import pytest

from search.errors import BadParameter
from search.limits import current
from search.request import (
    MAX_FILTER_VALUES,
    SearchRequest,
    boolean,
    choice,
    facet_list,
    integer,
    parse_request,
    period,
)
from search.schema import FACETS

MAX_LENGTH = current().max_query_length


def bad(params, allowed=()) -> BadParameter:
    with pytest.raises(BadParameter) as caught:
        parse_request(params, allowed)
    return caught.value


def test_defaults():
    request = parse_request({})
    assert request == SearchRequest(
        q="",
        filters=(),
        date_from=None,
        date_to=None,
        sort="relevance",
        page=1,
        per_page=10,
        facets=FACETS,
        facet_size=10,
        highlight=True,
        fragments=3,
        fragment_size=160,
    )
    assert request.extra == {}
    assert request.to_json() == {
        "q": "",
        "filters": {},
        "from": None,
        "to": None,
        "sort": "relevance",
        "page": 1,
        "per_page": 10,
        "facets": list(FACETS),
        "facet_size": 10,
        "collapse": None,
        "count": "articles",
    }


def test_empty_values_mean_the_defaults():
    names = ("q", "sort", "page", "per_page", "facets", "facet_size", "highlight", "from", "to")
    names += ("collapse", "members", "count")
    assert parse_request({name: [""] for name in names}) == parse_request({})


def test_every_value_given():
    request = parse_request(
        {
            "q": ["raqqa offensive"],
            "place": ["Raqqa"],
            "from": ["2017-07"],
            "to": ["2017-07-20"],
            "sort": ["-date"],
            "page": ["3"],
            "per_page": ["0"],
            "facets": ["place, faction"],
            "facet_size": ["1000"],
            "highlight": ["false"],
            "fragments": ["0"],
            "fragment_size": ["20"],
        }
    )
    assert request == SearchRequest(
        q="raqqa offensive",
        filters=(("place", ("Raqqa",)),),
        date_from=date(2017, 7, 1),
        date_to=date(2017, 7, 20),
        sort="-date",
        page=3,
        per_page=0,
        facets=("place", "faction"),
        facet_size=1000,
        highlight=False,
        fragments=0,
        fragment_size=20,
    )
    assert request.to_json()["from"] == "2017-07-01"
    assert request.to_json()["to"] == "2017-07-20"
    assert request.to_json()["filters"] == {"place": ["Raqqa"]}


@pytest.mark.parametrize(
    ("params", "param", "message"),
    [
        ({"page": ["0"]}, "page", "page must be between 1 and 10000, not 0"),
        ({"page": ["10001"]}, "page", "page must be between 1 and 10000, not 10001"),
        ({"page": ["1.5"]}, "page", "page must be a whole number, not '1.5'"),
        ({"per_page": ["101"]}, "per_page", "per_page must be between 0 and 100, not 101"),
        ({"per_page": ["-1"]}, "per_page", "per_page must be between 0 and 100, not -1"),
        ({"per_page": ["abc"]}, "per_page", "per_page must be a whole number, not 'abc'"),
        ({"sort": ["bogus"]}, "sort", "sort must be one of relevance, date, -date, not 'bogus'"),
        ({"sort": ["Date"]}, "sort", "sort must be one of relevance, date, -date, not 'Date'"),
        ({"facets": ["unknown"]}, "facets", "unknown facet 'unknown'; facets are "),
        ({"facets": ["place,bogus"]}, "facets", "unknown facet 'bogus'"),
        ({"facet_size": ["0"]}, "facet_size", "facet_size must be between 1 and 1000, not 0"),
        ({"fragments": ["11"]}, "fragments", "fragments must be between 0 and 10, not 11"),
        ({"fragment_size": ["19"]}, "fragment_size", "fragment_size must be between 20 and"),
        ({"fragment_size": ["1001"]}, "fragment_size", "fragment_size must be between 20 and"),
        ({"from": ["2017-13"]}, "from", "from: the month must be 01 to 12, not 13"),
        ({"from": ["2017-04-31"]}, "from", "from: April 2017 has 30 days, so the day must be"),
        ({"from": ["2017-04-00"]}, "from", "from: April 2017 has 30 days"),
        ({"from": ["17"]}, "from", "from must be a date"),
        ({"from": ["2017-7"]}, "from", "from must be a date"),
        ({"from": ["0000"]}, "from", "from: there is no year 0"),
        ({"to": ["2017-02-29"]}, "to", "to: February 2017 has 28 days"),
        ({"to": ["July 2017"]}, "to", "to must be a date"),
        ({"from": ["2017-07-02"], "to": ["2017-07-01"]}, "to", "to (2017-07-01) is before from"),
        ({"from": ["2017"], "to": ["2016"]}, "to", "to (2016-12-31) is before from (2017-01-01)"),
        ({"page": ["1", "2"]}, "page", "page given 2 times; give it once"),
        ({"q": ["a", "b"]}, "q", "q given 2 times"),
        ({"to": ["2017", "2018"]}, "to", "to given 2 times"),
        ({"bogus": ["x"]}, "bogus", "unknown parameter 'bogus'"),
        ({"Place": ["Raqqa"]}, "Place", "unknown parameter 'Place'"),
        ({"highlight": ["maybe"]}, "highlight", "highlight must be true or false, not 'maybe'"),
        ({"q": ["x" * (MAX_LENGTH + 1)]}, "q", f"q is longer than {MAX_LENGTH} characters"),
        (
            {"place": [f"p{i}" for i in range(MAX_FILTER_VALUES + 1)]},
            "place",
            f"at most {MAX_FILTER_VALUES} values for place",
        ),
    ],
)
def test_bad_values_name_their_parameter(params, param, message):
    error = bad(params)
    assert error.param == param
    assert error.message.startswith(message)
    assert error.status == 400
    assert error.to_json()["error"]["code"] == "bad_parameter"
    assert error.to_json()["error"]["param"] == param


def test_a_long_bad_value_is_cut_in_the_message():
    error = bad({"sort": ["x" * 500]})
    assert error.message == f"sort must be one of relevance, date, -date, not {'x' * 40!r}"


def test_q_at_the_length_limit_is_accepted():
    assert parse_request({"q": ["x" * MAX_LENGTH]}).q == "x" * MAX_LENGTH


@pytest.mark.parametrize(
    ("raw", "end", "expected"),
    [
        ("2017", False, date(2017, 1, 1)),
        ("2017", True, date(2017, 12, 31)),
        ("2017-02", False, date(2017, 2, 1)),
        ("2017-02", True, date(2017, 2, 28)),
        ("2016-02", True, date(2016, 2, 29)),
        ("2000-02", True, date(2000, 2, 29)),
        ("1900-02", True, date(1900, 2, 28)),
        ("2017-04", True, date(2017, 4, 30)),
        ("2017-12", True, date(2017, 12, 31)),
        ("2017-07-11", False, date(2017, 7, 11)),
        ("2017-07-11", True, date(2017, 7, 11)),
        (" 2017-07 ", False, date(2017, 7, 1)),
        ("", True, None),
        (None, False, None),
    ],
)
def test_period(raw, end, expected):
    assert period(raw, "from", end) == expected


def test_from_and_to_expand_to_whole_periods():
    request = parse_request({"from": ["2017"], "to": ["2017-02"]})
    assert (request.date_from, request.date_to) == (date(2017, 1, 1), date(2017, 2, 28))
    request = parse_request({"to": ["2016-02"]})
    assert (request.date_from, request.date_to) == (None, date(2016, 2, 29))
    same_year = parse_request({"from": ["2017"], "to": ["2017"]})
    assert (same_year.date_from, same_year.date_to) == (date(2017, 1, 1), date(2017, 12, 31))


def test_filters_keep_values_per_facet_without_repeats():
    request = parse_request(
        {
            "place": ["Raqqa", " Mosul ", "Raqqa", "", "  ", "Mosul"],
            "faction": ["Islamic State"],
            "theme": ["Terrorism", "Terrorism"],
        }
    )
    # in FACETS order, each facet's values in the order first given
    assert request.filters == (
        ("theme", ("Terrorism",)),
        ("faction", ("Islamic State",)),
        ("place", ("Raqqa", "Mosul")),
    )
    assert request.to_json()["filters"] == {
        "theme": ["Terrorism"],
        "faction": ["Islamic State"],
        "place": ["Raqqa", "Mosul"],
    }


def test_filter_value_limit_counts_distinct_values():
    values = [f"p{i}" for i in range(MAX_FILTER_VALUES)]
    request = parse_request({"place": values + values})
    assert request.filters == (("place", tuple(values)),)


def test_a_filter_of_blank_values_is_no_filter():
    assert parse_request({"place": ["", " "]}).filters == ()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("none", ()),
        ("", FACETS),
        ("  ", FACETS),
        ("place", ("place",)),
        ("place,faction", ("place", "faction")),
        (" place , faction ,, ", ("place", "faction")),
        ("place,place,theme", ("place", "theme")),
    ],
)
def test_facet_list(raw, expected):
    assert facet_list({"facets": [raw]}) == expected
    assert parse_request({"facets": [raw]}).facets == expected


def test_facet_list_absent_is_every_facet():
    assert facet_list({}) == FACETS


def test_allowed_extra_parameters_land_in_extra():
    request = parse_request({"q": ["x"], "interval": ["year"]}, allowed=("interval", "facet"))
    assert request.extra == {"interval": "year", "facet": None}
    assert request.q == "x"
    error = bad({"interval": ["year"]})  # not allowed on this route
    assert error.param == "interval"
    error = bad({"interval": ["year", "month"]}, allowed=("interval",))
    assert error.param == "interval"
    assert error.message == "interval given 2 times; give it once"


def test_extra_does_not_take_part_in_equality():
    assert parse_request({"a": ["1"]}, allowed=("a",)) == parse_request({})


def test_underscore_parameters_are_ignored():
    assert parse_request({"_": ["1700000000"], "_debug": ["1"]}) == parse_request({})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("yes", True),
        ("false", False),
        ("False", False),
        ("0", False),
        ("no", False),
        ("", True),
        (None, True),
    ],
)
def test_boolean(raw, expected):
    params = {} if raw is None else {"flag": [raw]}
    assert boolean(params, "flag", True) is expected


@pytest.mark.parametrize("raw", ["maybe", "on", "2", "t"])
def test_boolean_rejects(raw):
    with pytest.raises(BadParameter) as caught:
        boolean({"flag": [raw]}, "flag", False)
    assert caught.value.param == "flag"
    assert caught.value.message == f"flag must be true or false, not {raw!r}"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, 7), ("", 7), ("1", 1), ("5", 5), (" 4 ", 4)],
)
def test_integer(raw, expected):
    params = {} if raw is None else {"n": [raw]}
    assert integer(params, "n", 7, 1, 5) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("0", "n must be between 1 and 5, not 0"),
        ("6", "n must be between 1 and 5, not 6"),
        ("five", "n must be a whole number, not 'five'"),
        ("1e3", "n must be a whole number, not '1e3'"),
        ("9" * 5000, "n must be a whole number, not '" + "9" * 40 + "'"),
    ],
)
def test_integer_rejects(raw, message):
    with pytest.raises(BadParameter) as caught:
        integer({"n": [raw]}, "n", 7, 1, 5)
    assert (caught.value.param, caught.value.message) == ("n", message)


def test_choice():
    assert choice({}, "sort", "relevance", ("relevance", "date")) == "relevance"
    assert choice({"sort": ["date"]}, "sort", "relevance", ("relevance", "date")) == "date"
    with pytest.raises(BadParameter) as caught:
        choice({"sort": ["DATE"]}, "sort", "relevance", ("relevance", "date"))
    assert caught.value.param == "sort"


def test_period_error_names_the_parameter_given():
    with pytest.raises(BadParameter) as caught:
        period("2017-02-30", "until", end=True)
    assert caught.value.param == "until"
    assert "'2017-02-30'" in caught.value.message


def test_request_is_frozen():
    request = parse_request({})
    with pytest.raises(AttributeError):
        request.page = 2  # type: ignore[misc]
