"""Stories: the articles of an index grouped into copies of one report, kept as arrays.

A StoryState holds, for every document id of a commit, its story and its LSH band keys
(search.shingles), and for every story its stable id, size and first member. update() takes
a state, the articles a commit adds (with their band keys) and the ids it deletes, and groups
the added ones: candidates are the articles sharing a band key, and a candidate joins when
the exact overlap of the two bodies' shingles passes the thresholds (Thresholds, from the
settings). Story ids never change as copies join or leave: a new story is named after a hash
of its founding article's id; when an article bridges two stories, the one whose first
member is earliest keeps its id and the other's id becomes an alias of it.

Memory: per article an id (its UTF-8 bytes, padded to the longest), a short MinHash signature
(128 uint16: 256 bytes), a story number and a day (8 bytes), a flag (1 byte); per story a
16-byte id and two int32. Python objects are made only for the articles of the commit being
grouped. Readers load the file without the signatures.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

import numpy as np

from search import settings
from search.shingles import (
    PERMUTATIONS,
    Overlap,
    band_keys,
    estimate,
    overlap,
    shingles,
    short,
    signature,
)

UNDATED = np.iinfo(np.int32).max  # sorts after every date: undated members come last
_EPOCH = date(1970, 1, 1).toordinal()
SCAN = 64  # up to this many added articles, candidates are found by a scan, not by sorting
TRIES = 3  # members of one story checked exactly against an added article, best first
MAX_RUN = 256  # articles sharing one band key looked at: a key every copy has says no more


@dataclass(frozen=True)
class Thresholds:
    jaccard: float
    containment: float
    overlap: float
    min_words: int
    min_shared: int = 50  # shingles both bodies hold, for a join by containment

    @classmethod
    def current(cls) -> Thresholds:
        return cls(
            settings.number("story_jaccard"),
            settings.number("story_containment"),
            settings.number("story_overlap"),
            settings.integer("story_min_words"),
            settings.integer("story_min_shared"),
        )

    def least_jaccard(self) -> float:
        """The least Jaccard of two bodies these thresholds can put in one story: the
        shorter sharing `containment` of its shingles, the longer `overlap` of its own."""
        return min(self.jaccard, 1 / (1 / self.containment + 1 / self.overlap - 1))

    def same(self, found: Overlap) -> bool:
        """Two bodies with this overlap are one report."""
        if found.jaccard >= self.jaccard:
            return True
        return (
            found.shorter >= self.containment
            and found.longer >= self.overlap
            and found.shared >= self.min_shared
        )


def story_name(doc_id: str, salt: int = 0) -> bytes:
    """The id of a story founded by `doc_id` (a salt when that id is taken)."""
    text = doc_id if not salt else f"{doc_id}#{salt}"
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest().encode()


def day_number(day: date | None) -> int:
    return UNDATED if day is None else day.toordinal() - _EPOCH


def day_of(number: int) -> date | None:
    return None if number == UNDATED else date.fromordinal(int(number) + _EPOCH)


@dataclass(frozen=True)
class Signed:
    """Articles with their band keys (keyed False: too short to group, keys unused)."""

    ids: np.ndarray  # bytes (S)
    days: np.ndarray  # int32
    sigs: np.ndarray  # uint16, (n, PERMUTATIONS): short MinHash signatures
    keyed: np.ndarray  # bool

    @classmethod
    def empty(cls) -> Signed:
        return cls(
            np.empty(0, "S1"),
            np.empty(0, np.int32),
            np.empty((0, PERMUTATIONS), np.uint16),
            np.empty(0, bool),
        )

    @classmethod
    def join(cls, parts: Iterable[Signed]) -> Signed:
        parts = [p for p in parts if len(p.ids)]
        if not parts:
            return cls.empty()
        return cls(
            np.concatenate([p.ids for p in parts]),
            np.concatenate([p.days for p in parts]),
            np.concatenate([p.sigs for p in parts]),
            np.concatenate([p.keyed for p in parts]),
        )


class Signer:
    """Collects the band keys of articles as they are indexed."""

    def __init__(self, min_words: int | None = None) -> None:
        self.min_words = settings.integer("story_min_words") if min_words is None else min_words
        self.ids: list[bytes] = []
        self.days: list[int] = []
        self.sigs: list[np.ndarray] = []
        self.keyed: list[bool] = []

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, doc_id: str, body: str, day: date | None) -> None:
        found = shingles(body)
        keyed = len(found) + 4 >= self.min_words  # SHINGLE words make one shingle
        self.ids.append(doc_id.encode())
        self.days.append(day_number(day))
        self.sigs.append(short(signature(found)) if keyed else np.zeros(PERMUTATIONS, np.uint16))
        self.keyed.append(keyed)

    def signed(self) -> Signed:
        if not self.ids:
            return Signed.empty()
        return Signed(
            np.array(self.ids, dtype=bytes),
            np.array(self.days, dtype=np.int32),
            np.stack(self.sigs),
            np.array(self.keyed, dtype=bool),
        )


@dataclass(frozen=True)
class StoryState:
    """Every document id of a commit (sorted) with its story; every story's id and alias."""

    ids: np.ndarray  # S, sorted
    story: np.ndarray  # int32: index into names
    days: np.ndarray  # int32
    sigs: np.ndarray  # uint16 (n, PERMUTATIONS); empty when loaded for reading only
    keyed: np.ndarray  # bool
    names: np.ndarray  # S16: story ids
    first: np.ndarray  # int32: row of each story's first member (earliest date, then id)
    size: np.ndarray  # int32: members of each story
    alias_from: np.ndarray  # S16: ids of stories merged into another
    alias_to: np.ndarray  # S16: the id that story goes by now

    @classmethod
    def empty(cls) -> StoryState:
        signed = Signed.empty()
        none = np.empty(0, "S16")
        return cls(
            signed.ids,
            np.empty(0, np.int32),
            signed.days,
            signed.sigs,
            signed.keyed,
            none,
            np.empty(0, np.int32),
            np.empty(0, np.int32),
            none,
            none,
        )

    def arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    def row(self, doc_id: str) -> int | None:
        """The row of a document id, or None."""
        key = doc_id.encode()
        at = int(np.searchsorted(self.ids, key))
        return at if at < len(self.ids) and self.ids[at] == key else None

    def resolve(self, name: str) -> int | None:
        """The story number of a story id (or of an id merged into it), or None."""
        key = name.encode()
        hits = np.flatnonzero(self.alias_from == key)
        if len(hits):
            key = self.alias_to[hits[0]]
        found = np.flatnonzero(self.names == key)
        return int(found[0]) if len(found) else None

    def members(self, story: int) -> np.ndarray:
        """Rows of a story, first member first, then in date order (undated last)."""
        rows = np.flatnonzero(self.story == story)
        return rows[np.lexsort((rows, self.days[rows]))]


def update(
    state: StoryState,
    added: Signed,
    deleted: Iterable[str],
    body_of: Callable[[str], str],
    thresholds: Thresholds,
) -> StoryState:
    """The state after a commit that adds `added` (replacing documents with their ids) and
    deletes `deleted`. body_of(id): the stored body of any document of the commit."""
    added = _last_of_each(added)
    gone = [doc_id.encode() for doc_id in deleted]
    removed = np.concatenate([np.array(gone, dtype=bytes), added.ids]) if gone else added.ids
    keep = ~np.isin(state.ids, removed) if len(removed) else np.ones(len(state.ids), bool)
    old = _rows(state, keep)
    grouping = _Grouping(old, added, body_of, thresholds, len(state.names))
    story = grouping.run()
    return _table(state, old, added, story, grouping.founders, grouping.renumber)


def _last_of_each(added: Signed) -> Signed:
    """One entry per id: the last one added (a document replaced within the commit)."""
    if not len(added.ids):
        return added
    reverse = added.ids[::-1]
    _, first = np.unique(reverse, return_index=True)
    picked = np.sort(len(added.ids) - 1 - first)
    return Signed(added.ids[picked], added.days[picked], added.sigs[picked], added.keyed[picked])


@dataclass(frozen=True)
class _Old:
    ids: np.ndarray
    story: np.ndarray
    days: np.ndarray
    sigs: np.ndarray
    keyed: np.ndarray


def _rows(state: StoryState, keep: np.ndarray) -> _Old:
    return _Old(
        state.ids[keep], state.story[keep], state.days[keep], state.sigs[keep], state.keyed[keep]
    )


class _Grouping:
    """The union of the added articles with the stories they copy (one commit's work)."""

    def __init__(
        self, old: _Old, added: Signed, body_of, thresholds: Thresholds, count: int
    ) -> None:
        self.old, self.added, self.body_of, self.thresholds = old, added, body_of, thresholds
        self.count = count  # old story numbers are below it
        self.founders: list[bytes] = []  # founding ids of the new stories, in number order
        self.renumber: dict[int, int] = {}  # old story merged -> the one it joined
        self.old_bands, self.new_bands = band_keys(old.sigs), band_keys(added.sigs)
        # no pair whose MinHash estimate is this far under the least Jaccard the thresholds
        # can accept (3.4 standard errors at 0.44) is checked exactly
        self.floor = thresholds.least_jaccard() - 0.15
        self._shingles: dict[bytes, np.ndarray] = {}
        self._parent: dict[tuple[str, int], tuple[str, int]] = {}

    # nodes: ("s", old story number) or ("n", index of an added article)
    def _find(self, node):
        parent = self._parent.setdefault(node, node)
        while parent != node:
            grand = self._parent.setdefault(parent, parent)
            self._parent[node] = grand
            node, parent = parent, grand
        return node

    def _union(self, a, b) -> None:
        a, b = self._find(a), self._find(b)
        if a != b:
            self._parent[b] = a

    def _shingled(self, doc_id: bytes) -> np.ndarray:
        found = self._shingles.get(doc_id)
        if found is None:
            found = self._shingles[doc_id] = shingles(self.body_of(doc_id.decode()))
        return found

    def _same(self, a: bytes, b: bytes) -> bool:
        return self.thresholds.same(overlap(self._shingled(a), self._shingled(b)))

    def run(self) -> np.ndarray:
        """The story number of each added article (numbers past the old ones are new)."""
        added, old = self.added, self.old
        for index, (others, news) in enumerate(self._candidates()):
            node = ("n", index)
            own = added.ids[index]
            tried: dict[int, int] = {}
            for row in others:  # best candidates first
                story = int(old.story[row])
                if self._find(("s", story)) == self._find(node) or tried.get(story, 0) >= TRIES:
                    continue
                if estimate(added.sigs[index], old.sigs[row]) < self.floor:
                    continue
                tried[story] = tried.get(story, 0) + 1
                if self._same(own, old.ids[row]):
                    self._union(("s", story), node)
            for other in news:
                if self._find(("n", other)) == self._find(node):
                    continue
                if estimate(added.sigs[index], added.sigs[other]) < self.floor:
                    continue
                if self._same(own, added.ids[other]):
                    self._union(("n", other), node)
        return self._assign()

    def _candidates(self) -> list[tuple[list[int], list[int]]]:
        """For each added article: old rows, then added ones, sharing a band key with it,
        most shared bands first."""
        added, old = self.added, self.old
        shared_old: list[dict[int, int]] = [{} for _ in added.ids]
        shared_new: list[dict[int, int]] = [{} for _ in added.ids]
        old_keyed = np.flatnonzero(old.keyed)
        new_keyed = np.flatnonzero(added.keyed)
        if len(new_keyed) <= SCAN:
            old_bands = self.old_bands[old_keyed]
            for index in new_keyed:
                equal = old_bands == self.new_bands[index]
                counts = equal.sum(axis=1)
                for at in np.flatnonzero(counts)[:MAX_RUN]:
                    shared_old[index][int(old_keyed[at])] = int(counts[at])
                same_new = (self.new_bands[new_keyed] == self.new_bands[index]).sum(axis=1)
                for at in np.flatnonzero(same_new):
                    if new_keyed[at] < index:
                        shared_new[index][int(new_keyed[at])] = int(same_new[at])
        else:
            self._sorted_candidates(old_keyed, new_keyed, shared_old, shared_new)
        return [
            (
                sorted(o, key=lambda r, o=o: -o[r]),  # type: ignore[misc]
                sorted(n, key=lambda r, n=n: -n[r]),  # type: ignore[misc]
            )
            for o, n in zip(shared_old, shared_new, strict=True)
        ]

    def _sorted_candidates(self, old_keyed, new_keyed, shared_old, shared_new) -> None:
        old = self.old
        labels = np.concatenate([old_keyed, len(old.ids) + new_keyed])
        first_new = len(old.ids)
        for band in range(self.old_bands.shape[1]):
            keys = np.concatenate(
                [self.old_bands[old_keyed, band], self.new_bands[new_keyed, band]]
            )
            order = np.argsort(keys, kind="stable")
            keys, ranked = keys[order], labels[order]
            starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
            ends = np.r_[starts[1:], len(keys)]
            run_of = np.repeat(np.arange(len(starts)), ends - starts)
            for run in np.unique(run_of[ranked >= first_new]):
                start, end = int(starts[run]), int(ends[run])
                if end - start < 2:
                    continue
                members = ranked[start : min(end, start + MAX_RUN)].tolist()
                news = [m - first_new for m in members if m >= first_new]
                olds = [m for m in members if m < first_new]
                for index in news:
                    for row in olds:
                        shared_old[index][row] = shared_old[index].get(row, 0) + 1
                    for other in news:
                        if other < index:
                            shared_new[index][other] = shared_new[index].get(other, 0) + 1

    def _assign(self) -> np.ndarray:
        """Story numbers of the added articles; merged old stories keep the earliest's id."""
        added, old = self.added, self.old
        count = self.count
        firsts = _firsts(old.story, old.days, count)
        components: dict[tuple[str, int], list[tuple[str, int]]] = {}
        for node in list(self._parent):
            components.setdefault(self._find(node), []).append(node)
        story = np.full(len(added.ids), -1, np.int64)
        for nodes in components.values():
            olds = sorted(n for kind, n in nodes if kind == "s")
            news = [n for kind, n in nodes if kind == "n"]
            if olds:
                keeper = min(olds, key=lambda s: (old.days[firsts[s]], firsts[s]))
                for s in olds:
                    if s != keeper:
                        self.renumber[s] = keeper
            else:
                founder = min(news, key=lambda n: (added.days[n], added.ids[n]))
                keeper = count + len(self.founders)
                self.founders.append(added.ids[founder])
            for n in news:
                story[n] = keeper
        for n in np.flatnonzero(story < 0).tolist():
            story[n] = count + len(self.founders)
            self.founders.append(added.ids[n])
        return story


def _firsts(story: np.ndarray, days: np.ndarray, count: int) -> np.ndarray:
    """Row of each story's first member: earliest day, then lowest row (ids are sorted)."""
    first = np.full(count, -1, np.int64)
    if not len(story):
        return first
    rows = np.arange(len(story))
    order = np.lexsort((rows, days, story))
    ordered = story[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    first[ordered[starts]] = order[starts]
    return first


def _table(
    state: StoryState,
    old: _Old,
    added: Signed,
    new_story: np.ndarray,
    founders: list[bytes],
    renumber: dict[int, int],
) -> StoryState:
    """The rows sorted by id and the stories numbered afresh, empty ones dropped. Story
    numbers below len(state.names) are old stories; the others, in order, were founded by
    `founders` and get their names here."""
    taken = set(state.names.tolist()) | set(state.alias_from.tolist())
    names = list(state.names.tolist())
    for founder in founders:
        salt, name = 0, story_name(founder.decode())
        while name in taken:  # the founder's id names a story still alive: never reuse it
            salt += 1
            name = story_name(founder.decode(), salt)
        taken.add(name)
        names.append(name)
    old_story = old.story.astype(np.int64)
    for source, target in renumber.items():
        old_story[old_story == source] = target
    unsorted_ids = np.concatenate([old.ids.astype(bytes), added.ids.astype(bytes)])
    order = np.argsort(unsorted_ids, kind="stable")
    ids = unsorted_ids[order]
    story = np.concatenate([old_story, new_story])[order]
    days = np.concatenate([old.days, added.days]).astype(np.int32)[order]
    sigs = np.concatenate([old.sigs, added.sigs]).reshape(-1, PERMUTATIONS)[order]
    keyed = np.concatenate([old.keyed, added.keyed]).astype(bool)[order]
    used, inverse = np.unique(story, return_inverse=True)
    numbered = inverse.astype(np.int32).reshape(-1)
    merged = {names[source]: names[target] for source, target in renumber.items()}
    alias_from = [*state.alias_from.tolist(), *merged]
    alias_to = [merged.get(t, t) for t in state.alias_to.tolist()] + list(merged.values())
    return StoryState(
        ids=ids,
        story=numbered,
        days=days,
        sigs=sigs.astype(np.uint16),
        keyed=keyed,
        names=np.array(names, dtype="S16")[used] if len(used) else np.empty(0, "S16"),
        first=_firsts(numbered, days, len(used)).astype(np.int32),
        size=np.bincount(numbered, minlength=len(used)).astype(np.int32),
        alias_from=np.array(alias_from, dtype="S16"),
        alias_to=np.array(alias_to, dtype="S16"),
    )
