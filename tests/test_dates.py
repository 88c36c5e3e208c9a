from datetime import date

import pytest

from search.dates import find_date, parse_date


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2017-07-11", date(2017, 7, 11)),
        ("2017-07-11T10:30:00Z", date(2017, 7, 11)),
        ("2017/7/1", date(2017, 7, 1)),
        ("July 11, 2017", date(2017, 7, 11)),
        ("Sept. 9, 2017", date(2017, 9, 9)),
        ("10 July 2017", date(2017, 7, 10)),
        ("Wed 05 Apr 2017", date(2017, 4, 5)),
        ("4/5/17", date(2017, 4, 5)),  # fakes.csv writes M/D/YY
        ("13/5/2017", date(2017, 5, 13)),  # cannot be month first
        ("12/31/99", date(1999, 12, 31)),
        ("2017", None),  # a year is not a date: never completed by a guess
        ("July 2017", None),
        ("2017-02-30", None),
        ("yesterday", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text) == expected


def test_find_date_in_header_line():
    assert find_date("South Front 10 July 2017") == date(2017, 7, 10)
    assert find_date("no date here") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("11 تموز 2017", date(2017, 7, 11)),  # Levantine month names
        ("3 كانون الثاني 2018", date(2018, 1, 3)),
        ("5 أيار 2016", date(2016, 5, 5)),  # a hamza on the alef: folded
        ("12 أغسطس 2015", date(2015, 8, 12)),  # Egyptian and Gulf month names
        ("١١ تموز ٢٠١٧", date(2017, 7, 11)),  # Arabic-Indic digits
        ("۱۱ تموز ۲۰۱۷", date(2017, 7, 11)),  # Eastern (Persian) digits
        ("الثلاثاء 11 تموز/يوليو 2017", date(2017, 7, 11)),  # SANA writes both names
        ("تموز 2017", None),  # a month is not a date
        ("31 شباط 2017", None),
    ],
)
def test_arabic_dates(text, expected):
    assert parse_date(text) == expected
    assert find_date(f"حلب - سانا {text}") == expected
