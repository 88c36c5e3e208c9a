"""Patch: the best score an OR of three or more parts can give is the sum of its parts'
best, not the largest of them.

What Whoosh does. `Or` matches with an `ArrayUnionMatcher` (whoosh/matching/combo.py) when
it has three parts or more, in a segment of at most 5,000 documents, and nothing needs the
current match. That matcher adds up the scores of every part a document matches (times the
boost), but reports as its `max_quality()` the largest of its parts' best scores, boost left
out.

Why that is wrong. `max_quality()` is a promise: no document scores higher. Top-N
collection relies on it: `IntersectionMatcher.replace(minscore)` drops a whole segment when
the qualities it adds up stay under the lowest score of the top N so far, and the binary
`UnionMatcher` sums its parts for that reason. With the largest part instead of the sum, a
document matching several parts scores above the promise, and its segment is skipped:
`(alpha OR beta OR gamma) AND kilo`, limit 3, leaves out the one document holding all
three words, the best of them (tests/test_whoosh_ext.py); in this service it dropped a
quarter of the true top 100 of `Raqqa OR Aleppo` in a two-segment index of 800 articles.

The fix. The sum of the parts' best, times the boost: a bound every document keeps.
"""

from __future__ import annotations


def max_quality(self):
    """Replaces ArrayUnionMatcher.max_quality: no document scores more than every part at
    its best, added up, times the boost."""
    return sum(m.max_quality() for m in self._submatchers) * self._boost
