"""Publication dates as written in article headers, exports and CSV tables.

Only complete dates (year, month, day) are accepted; anything else is None: a missing or
partial date is never completed by a guess.
"""

from __future__ import annotations

import re
from datetime import date

from search import arabic

_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>[A-Za-z]{3,9})\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"
_PATTERNS = [
    # 2017-07-11, 2017-07-11T10:00:00Z, 2017/07/11
    re.compile(r"(?P<year>\d{4})[-/.](?P<month>\d{1,2})[-/.](?P<day>\d{1,2})(?:$|[T\s])"),
    # July 11, 2017 / Jul 11 2017
    re.compile(rf"{_MONTH}\s+{_DAY},?\s+{_YEAR}\b"),
    # 10 July 2017 / Wed 05 Apr 2017
    re.compile(rf"{_DAY}\s+{_MONTH},?\s+{_YEAR}\b"),
    # 4/5/17 or 4/5/2017: month first (US order) unless the first number cannot be a month
    re.compile(r"(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{2}|\d{4})$"),
]
_WEEKDAY = re.compile(r"^(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+", re.IGNORECASE)
# Arabic month names, the Levantine (كانون الثاني) and the Egyptian and Gulf (يناير) ones,
# written as folded (search.arabic.fold_text: no alef forms, no marks, ة as ه).
_ARABIC_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("كانون الثاني", "يناير"),
            ("شباط", "فبراير"),
            ("اذار", "مارس"),
            ("نيسان", "ابريل"),
            ("ايار", "مايو"),
            ("حزيران", "يونيو", "يونيه"),
            ("تموز", "يوليو", "يوليه"),
            ("اب", "اغسطس"),
            ("ايلول", "سبتمبر"),
            ("تشرين الاول", "اكتوبر"),
            ("تشرين الثاني", "نوفمبر"),
            ("كانون الاول", "ديسمبر"),
        ],
        start=1,
    )
    for name in names
}
_ARABIC_NAME = "|".join(sorted(map(re.escape, _ARABIC_MONTHS), key=len, reverse=True))
# 11 تموز 2017, 11 تموز/يوليو 2017 (SANA writes both names), ١١ تموز ٢٠١٧
_ARABIC = re.compile(
    rf"{_DAY}\s+(?P<month>{_ARABIC_NAME})(?:\s*/\s*(?:{_ARABIC_NAME}))?\s*,?\s+{_YEAR}"
)


def parse_date(text: str | None) -> date | None:
    """Parse a date written in one of the common forms; None when absent or not a full date."""
    if not text:
        return None
    if arabic.has_arabic(text) or not text.isascii():
        found = _arabic(text)
        if found is not None:
            return found
        text = arabic.fold_text(text)
    text = _WEEKDAY.sub("", text.strip())
    for pattern in _PATTERNS:
        match = pattern.match(text)
        if match:
            return _build(match.groupdict())
    return None


def find_date(text: str) -> date | None:
    """The first full date written anywhere in a short header line."""
    if arabic.has_arabic(text):
        return _arabic(text)
    for pattern in _PATTERNS[1:3]:
        match = pattern.search(text)
        if match:
            return _build(match.groupdict())
    return None


def _arabic(text: str) -> date | None:
    """A day, an Arabic month name and a year anywhere in the text."""
    match = _ARABIC.search(arabic.fold_text(text))
    if match is None:
        return None
    parts = match.groupdict()
    month = _ARABIC_MONTHS[parts["month"]]
    return _build({"year": parts["year"], "day": parts["day"], "month": str(month)})


def _build(parts: dict[str, str]) -> date | None:
    if "a" in parts:
        first, second, year = int(parts["a"]), int(parts["b"]), int(parts["y"])
        month, day = (first, second) if first <= 12 else (second, first)
        if year < 100:  # two-digit years: 00-69 are 2000s, 70-99 are 1900s (POSIX strptime)
            year += 2000 if year < 70 else 1900
    else:
        year, day = int(parts["year"]), int(parts["day"])
        raw = parts["month"]
        month = int(raw) if raw.isdigit() else _MONTHS.get(raw.lower(), 0)
    try:
        return date(year, month, day)
    except ValueError:
        return None
