"""Facet counts from the facet entries of a searcher (search.view_arrays), in one JSON shape
for every facet.

Whoosh's `groupedby` keeps every match and decodes values document by document; here a
facet is (document, value code) entries read once per segment from the field's postings,
and counting a result set is one `bincount` over the entries its mask keeps.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np

from search.view_arrays import Facet


def counts(facet: Facet, mask: np.ndarray) -> np.ndarray:
    """How many of the documents of `mask` carry each value of the facet (by code): bits in
    common with the value's bitmap, or entries whose document is in the mask."""
    out = np.bincount(facet.sparse_codes[mask[facet.sparse_docs]], minlength=len(facet.names))
    if len(facet.dense):
        common = np.bitwise_count(facet.bitmaps & np.packbits(mask))
        out[facet.dense] = common.sum(axis=1, dtype=np.int64)
    return out


def count(facet: Facet, mask: np.ndarray) -> Counter[str]:
    """counts() by value name, the values no document of `mask` carries left out."""
    return count_codes(facet, counts(facet, mask))


def count_codes(facet: Facet, found: np.ndarray) -> Counter[str]:
    """Counts by code as counts by value name, the zeros left out."""
    present = np.flatnonzero(found)
    names = [facet.names[i] for i in present]
    return Counter(dict(zip(names, found[present].tolist(), strict=True)))


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
