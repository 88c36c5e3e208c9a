"""The parsed Whoosh query as people read it (`query.parsed` of /search and /trends).

Whoosh writes a date range as the numbers its DATETIME field stores (microseconds since
year 1): `date:[63623923200000000 TO 63637142399999999]`. Here they are dates again:
`date:[2017-03-01 TO 2017-07-31]`.
"""

from __future__ import annotations

import re

from whoosh import query as wq
from whoosh.util.times import long_to_datetime

_DATE_RANGE = re.compile(r"\bdate:([\[{])(\d*) TO (\d*)([\]}])")


def _day(number: str) -> str:
    if not number:
        return ""
    try:
        return long_to_datetime(int(number)).date().isoformat()
    except (ValueError, OverflowError):  # not a date Whoosh could have stored: as it was
        return number


def readable(query: wq.Query) -> str:
    def dates(match: re.Match[str]) -> str:
        opening, low, high, closing = match.groups()
        return f"date:{opening}{_day(low)} TO {_day(high)}{closing}"

    return _DATE_RANGE.sub(dates, str(query))
