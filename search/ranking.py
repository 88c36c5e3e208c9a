"""Matches in one total order, as arrays: by a sort key, then by id.

The key of relevance is the score (highest first); of `date` the raw date column (undated
documents hold its largest value, so they come last); of `-date` the same reversed, undated
still last. Ids break every tie (their rank in id order), so the order does not depend on
where documents sit in the index. The best k are found by a partition, not a full sort.
"""

from __future__ import annotations

import numpy as np

from search.view_arrays import UNDATED, ViewArrays

_LAST = np.uint64(UNDATED)


def keys(arrays: ViewArrays, docs: np.ndarray, scores: np.ndarray | None, sort: str):
    """The sort key of each of `docs` (ascending is the order): -score (float64), or dates
    (uint64) for the date orders."""
    if sort == "relevance":
        assert scores is not None
        return -scores[docs]
    dates = arrays.dates()[docs]
    if sort == "-date":
        return np.where(dates == _LAST, _LAST, _LAST - np.uint64(1) - dates)
    return dates


def best(arrays: ViewArrays, docs: np.ndarray, key: np.ndarray, count: int) -> np.ndarray:
    """Positions in `docs` of the first `count` in order (key, then id)."""
    if count <= 0 or not len(docs):
        return np.zeros(0, np.int64)
    if count < len(docs):
        kth = np.partition(key, count - 1)[count - 1]
        candidates = np.flatnonzero(key <= kth)  # ties at the k-th included: ids decide
    else:
        candidates = np.arange(len(docs))
    ranks = arrays.id_rank()[docs[candidates]]
    order = np.lexsort((ranks, key[candidates]))
    return candidates[order[:count]]


def ordered(arrays: ViewArrays, docs: np.ndarray, key: np.ndarray) -> np.ndarray:
    """Every one of `docs` in order (key, then id)."""
    return docs[np.lexsort((arrays.id_rank()[docs], key))]


def after(arrays: ViewArrays, docs: np.ndarray, key: np.ndarray, mark, mark_id: str):
    """Which of `docs` come after (mark, mark_id) in the order: a boolean per document."""
    mark = key.dtype.type(mark)
    later = key > mark
    tied = key == mark
    if tied.any():
        later |= tied & (arrays.id_rank()[docs] >= arrays.ids_after(mark_id))
    return later


def cursor_key(sort: str, key) -> tuple:
    """The key a cursor records (kept as cursors have written it): (-score,) for relevance;
    (undated, date) or (undated, -date) with the raw column value."""
    if sort == "relevance":
        return (float(key),)
    if int(key) == UNDATED:
        return (1, 0)
    raw = int(key) if sort == "date" else UNDATED - 1 - int(key)
    return (0, raw if sort == "date" else -raw)


def key_of_cursor(sort: str, recorded: tuple):
    """The inverse of cursor_key."""
    if sort == "relevance":
        return float(recorded[0])
    if recorded[0]:
        return UNDATED
    raw = int(recorded[1]) if sort == "date" else -int(recorded[1])
    return raw if sort == "date" else UNDATED - 1 - raw
