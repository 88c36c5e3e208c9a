"""Counts per period (month or year) of a facet's chosen values among matching articles, as
array work (for GET /trends)."""

from __future__ import annotations

import numpy as np

from search.view_arrays import ViewArrays


def per_period(
    arrays: ViewArrays,
    docs: np.ndarray,
    facet: str,
    interval: str,
    kept: list[str],
    group: np.ndarray | None,
) -> tuple[dict[str, dict[str, int]], int]:
    """period -> {value: count, "__total__": matches} for the `kept` values, and how many
    matches have no date. With `group` (docnum -> story) a story counts once per period, and
    once per period and value it has a member in. `docs`: the matches (a mask)."""
    periods = arrays.facet(interval)
    period_of = arrays.codes(interval) + 1  # 0: undated
    width = len(periods.names) + 1
    matched = np.flatnonzero(docs)
    slots = period_of[matched]
    if group is not None:  # (story, period) pairs
        slots = np.unique(group[matched] * width + slots) % width
    totals = np.bincount(slots, minlength=width)
    values = arrays.facet(facet)
    index = {name: i for i, name in enumerate(values.names)}
    which = np.full(len(values.names) + 1, -1, np.int64)
    for position, value in enumerate(kept):
        if value in index:
            which[index[value]] = position
    selected = docs[values.docs] & (which[values.codes] >= 0)
    entry_docs = values.docs[selected]
    cells = period_of[entry_docs] * len(kept) + which[values.codes[selected]]
    if group is not None:  # (story, period, value)
        cells = np.unique(group[entry_docs] * (width * len(kept)) + cells) % (width * len(kept))
    counts = np.bincount(cells, minlength=width * max(len(kept), 1))
    table: dict[str, dict[str, int]] = {}
    for slot in np.flatnonzero(totals[1:]) + 1:
        row = {"__total__": int(totals[slot])}
        for position, value in enumerate(kept):
            row[value] = int(counts[slot * len(kept) + position])
        table[periods.names[slot - 1]] = row
    return table, int(totals[0])
