"""Facet counts from per-searcher value arrays, in one JSON shape for every facet.

Whoosh's `groupedby` keeps every match and decodes values document by document; here each
facet field's values are read once per searcher (docnum -> tuple of values) and counting a
result set is a loop over its document numbers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from itertools import chain

from whoosh.searching import Searcher


class ValueArrays:
    """docnum -> values of a facet field, read once from the field's column and kept."""

    def __init__(self, searcher: Searcher) -> None:
        self.reader = searcher.reader()
        self._arrays: dict[str, list[tuple[str, ...]]] = {}

    def __call__(self, field: str) -> list[tuple[str, ...]]:
        array = self._arrays.get(field)
        if array is None:
            array = []
            # Segment by segment: Whoosh's multi-segment column reader leaves out segments
            # that have no column for the field (no document there had a value), which
            # shifts every later document number.
            for leaf, _ in self.reader.leaf_readers():
                count = leaf.doc_count_all()
                if not leaf.has_column(field):
                    array += [()] * count
                    continue
                column = leaf.column_reader(field)
                array += [tuple(v for v in (column[d] or "").split(",") if v) for d in range(count)]
            self._arrays[field] = array
        return array


def count(values: list[tuple[str, ...]], docnums: Iterable[int]) -> Counter[str]:
    """How many of the documents carry each value. The loop runs in C (map, chain, Counter's
    counting of an iterable) rather than a Python update per document."""
    return Counter(chain.from_iterable(map(values.__getitem__, docnums)))


def ranked(counter: Counter[str], size: int, prefix: str = "") -> dict:
    """The facet shape: {values: [{value, count}], truncated}, most frequent first."""
    wanted = prefix.casefold()
    items = sorted(
        ((value, n) for value, n in counter.items() if value.casefold().startswith(wanted)),
        key=lambda item: (-item[1], item[0]),
    )
    return {
        "values": [{"value": value, "count": n} for value, n in items[:size]],
        "truncated": len(items) > size,
    }


def span(first: str, last: str) -> list[str]:
    """Every period from `first` to `last`, both "YYYY" or both "YYYY-MM": a timeline with
    its empty periods, so a gap is drawn as one and no client is misled."""
    if len(first) == 4:
        return [f"{year:04d}" for year in range(int(first), int(last) + 1)]
    start = int(first[:4]) * 12 + int(first[5:7]) - 1
    end = int(last[:4]) * 12 + int(last[5:7]) - 1
    return [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(start, end + 1)]


def periods(found: Iterable[str]) -> list[str]:
    """The periods from the first found to the last, the empty ones included."""
    ordered = sorted(found)
    return span(ordered[0], ordered[-1]) if ordered else []


def histogram(counter: Counter[str]) -> list[dict]:
    """Periods in time order ("2017-06" before "2017-07"), every empty one between the first
    and the last given as 0."""
    return [{"value": period, "count": counter.get(period, 0)} for period in periods(counter)]
