"""The alias matcher: leftmost-longest, whole-word matching over word tokens with a trie.

Matching works on word tokens (search/words.py), so an alias matches whole words only, and the
words of a multi-word alias may be separated by spaces, hyphens, dashes, apostrophes or periods
("Deir ez-Zor" = "Deir ez Zor"). Case and diacritics are ignored, except for aliases written
without lowercase letters (acronyms: IS, US, SDF), which match exactly as written. At one
position the longest alias wins. The matcher also finds each alias inflected (`inflections`)
and, in Arabic, past the clitics written onto a word (search/arabic.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from search import arabic
from search.words import fold, word_spans

if TYPE_CHECKING:
    from search.gazetteer import Entity

# Kinds whose aliases are also found inflected. Theme keywords are not: their thresholds
# (min_mentions) were set counting the forms the data lists.
INFLECTED = frozenset(
    ("faction", "place", "country", "side", "operation", "other", "description")
    + ("noun", "government")
)
_GAP = re.compile(r"[\s\-'\u2019\u2013\u2014.]{1,3}")


class Mention(NamedTuple):
    """One match of an alias in a text: the entity and the character span actually written.
    A NamedTuple, not a frozen dataclass: the tagger makes a hundred or more per article, and
    a tuple is made at a third of the cost."""

    entity: Entity
    start: int
    end: int
    word: int  # index of the first word token of the match
    loose: bool = False  # a case-sensitive alias matched in another case (`tip` for TIP)
    # Places that share the alias (namesakes), `entity` first; the tagger picks one by context.
    candidates: tuple[Entity, ...] = ()
    rule: str | None = None  # the actor rule that made this mention (actors.py), if any


def _plurals(word: str) -> set[str]:
    """Other number of a folded noun: `jet` <-> `jets`, `militia` -> `militias`,
    `party` -> `parties`, `regimes` -> `regime`."""
    if word.endswith("ies") and len(word) > 4:
        return {word[:-3] + "y"}
    if word.endswith("s") and len(word) > 3:
        singular = {word[:-1]}
        if word.endswith(("ses", "xes", "ches", "shes")):
            singular.add(word[:-2])
        return singular
    if word.endswith("y") and len(word) > 2 and word[-2] not in "aeiou":
        return {word[:-1] + "ies", word + "s"}
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return {word + "es"}
    return {word + "s"}


def inflections(
    keys: tuple[str, ...], names: tuple[bool, ...], keep: frozenset[str] = frozenset()
) -> set[tuple[str, ...]]:
    """The forms of an alias the matcher also accepts: any one word with a possessive s
    written without its apostrophe (`Assads regime`; `Assad's regime` needs no form, the walk
    skips the `'s`), and a last word written in lower case (a common noun) in the other number
    (`Russian jet` for `Russian jets`). A name's final s is not a plural (`Hims` is not `him`).
    `names` says which words the data capitalises; forms using a word in `keep` (a word of
    its own, like `hamas`) are never made."""
    forms = {keys[:i] + (keys[i] + "s",) + keys[i + 1 :] for i in range(len(keys))}
    if not names[-1]:
        forms |= {keys[:-1] + (plural,) for plural in _plurals(keys[-1])}
    forms.discard(keys)
    if keep:
        forms = {form for form in forms if not any(word in keep for word in form)}
    return forms


@dataclass(frozen=True)
class _Alias:
    keys: tuple[str, ...]  # folded words
    exact: tuple[str, ...] | None  # words as written, for case-sensitive aliases
    entity: Entity
    dot: bool  # the alias ends with a period ("U.S."): the match takes it in when written
    made: bool = False  # an inflection the matcher made, not a form the data lists


class Matcher:
    """Leftmost-longest, whole-word alias matching over word tokens, with a trie of words.

    Each alias is also found in its inflections (see `inflections`) and with a possessive `'s`
    after any of its words. Several entities of one kind may share an alias (namesakes): the
    mention names the first and lists them all as candidates."""

    _END = ""  # trie key of the aliases ending at a node; no word folds to ""

    def __init__(
        self,
        aliases: list[tuple[str, Entity]],
        keep: frozenset[str] = frozenset(),
        keep_article: frozenset[str] = frozenset(),
        whole_words: frozenset[str] = frozenset(),
    ) -> None:
        """`keep`: folded words never made as an inflection; `keep_article`: Arabic words that
        keep their article; `whole_words`: Arabic words never read as clitics and a name
        (matching.toml says each)."""
        self._keep_article = keep_article
        self._whole_words = whole_words
        self._root: dict = {}
        listed, names = [], []
        for written, entity in aliases:
            # A possessive written in an alias is left to the walk ("Assad's regime" is
            # stored as "Assad regime"; `Assads regime` is a made form).
            words = [
                written[s:e]
                for s, e in word_spans(written)
                if not (written[s:e] == "s" and written[s - 1 : s] in ("'", "\u2019"))
            ]
            if words:
                # An acronym (cased letters, none lower case) matches as written; a name in a
                # script without case (Arabic) is no acronym.
                upper = any(c.isupper() for c in written)
                exact = tuple(words) if upper and not any(c.islower() for c in written) else None
                keys = tuple(self._match_key(fold(w)) for w in words)
                listed.append(_Alias(keys, exact, entity, written.rstrip().endswith(".")))
                names.append(tuple(w[:1].isupper() for w in words))
        # A made form never takes the place of an acronym (`ISISs` must not make `Isis`).
        acronyms = {alias.keys for alias in listed if alias.exact is not None}
        for alias, capitals in zip(listed, names, strict=True):
            self._add(alias)
            if (
                alias.exact is None
                and alias.entity.kind in INFLECTED
                and not arabic.is_arabic(alias.keys[0])  # Arabic inflects otherwise
            ):
                for form in inflections(alias.keys, capitals, keep) - acronyms:
                    self._add(_Alias(form, None, alias.entity, alias.dot, made=True))

    def _add(self, alias: _Alias) -> None:
        node = self._root
        for key in alias.keys:
            node = node.setdefault(key, {})
        ending = node.setdefault(self._END, [])
        for other in ending:
            if other.entity is alias.entity and other.exact == alias.exact:
                return  # a form the data lists, or one made twice
        if alias.made:
            ending.append(alias)
        else:  # the data's own aliases before made forms
            at = next((i for i, other in enumerate(ending) if other.made), len(ending))
            ending.insert(at, alias)

    def aliases(self, made: bool = False) -> Iterator[_Alias]:
        """Every alias in the trie (with `made`, the inflections too)."""
        stack = [self._root]
        while stack:
            node = stack.pop()
            for key, value in node.items():
                if key == self._END:
                    yield from (a for a in value if made or not a.made)
                else:
                    stack.append(value)

    def find_kinds(
        self, text: str, spans, keys: list[str], relaxed: bool = False, kinds=None
    ) -> dict[str, list[Mention]]:
        """Mentions in `text`, given its word spans and their folded forms, of each kind (all
        the trie holds, or `kinds`), leftmost-longest within a kind; kinds may overlap. One walk
        of the trie per word serves every kind. `relaxed` (for queries) lets acronyms of three
        letters or more match in any case."""
        found: dict[str, list[Mention]] = {kind: [] for kind in kinds or ()}
        resume: dict[str, int] = {}  # kind -> first word a mention of it may start at
        root, count = self._root, len(keys)
        written = keys
        if arabic.has_arabic(text):
            keys = [self._match_key(key) for key in keys]
            starts: Iterable[int] = range(count)
        else:  # only the words some alias starts with (a third of them), picked out in C
            starts = [i for i, key in enumerate(keys) if key in root]
        for index in starts:
            node = root.get(keys[index])
            if node is None and written is not keys and arabic.is_arabic(written[index]):
                node = self._clitic_node(written[index])  # بحلب, والرقة, للنظام
            if node is None:
                continue
            for kind, (matches, last) in self._longest(text, spans, keys, index, relaxed, node):
                if resume.get(kind, 0) > index or (kinds is not None and kind not in found):
                    continue
                match = matches[0]
                end = spans[last][1]
                if match.dot and text.startswith(".", end):
                    end += 1
                loose = match.exact is not None and match.exact != tuple(
                    text[s:e] for s, e in spans[index : last + 1]
                )
                candidates = tuple(a.entity for a in matches) if len(matches) > 1 else ()
                mention = Mention(match.entity, spans[index][0], end, index, loose, candidates)
                found.setdefault(kind, []).append(mention)
                resume[kind] = last + 1
        return found

    def _match_key(self, key: str) -> str:
        """The key the trie holds a folded word under (Arabic: without its article, but for
        the words that keep it)."""
        if not arabic.is_arabic(key) or key in self._keep_article:
            return key
        return arabic.match_key(key)

    def _clitic_node(self, key: str) -> dict | None:
        """The trie node of an Arabic word read without the clitics in front of it."""
        if key in self._whole_words:
            return None
        for form in arabic.clitic_forms(key, self._keep_article):
            node = self._root.get(form)
            if node is not None:
                return node
        return None

    def _longest(self, text: str, spans, keys, index: int, relaxed: bool, node):
        """For each kind, the longest alias starting at word `index` (whose trie node is
        `node`), walking the trie word by word: (kind, (aliases, last word)) pairs, the
        aliases being the one entity's, or every namesake's."""
        best: dict[str, tuple[list[_Alias], int]] = {}
        last = index
        while node is not None:
            ending = node.get(self._END)
            if ending:
                here: dict[str, list[_Alias]] = {}
                for alias in ending:
                    kind = alias.entity.kind
                    taken = here.get(kind)
                    if taken is not None and (
                        (alias.made and not taken[0].made)
                        or any(a.entity is alias.entity for a in taken)
                    ):
                        continue  # a listed form beats a made one; namesakes share a form
                    if alias.exact is None or _exact(alias, text, spans, index, last, relaxed):
                        if taken is None:
                            here[kind] = [alias]
                        else:
                            taken.append(alias)
                for kind, aliases in here.items():
                    best[kind] = (aliases, last)
            if len(node) == (1 if ending else 0):
                break  # a leaf: no longer alias goes on from here
            following = last + 1
            if following < len(keys) and keys[following] == "s" and _possessive(text, spans, last):
                following += 1  # `Assad's regime`: the 's belongs to the word before
            if following >= len(keys):
                break
            node = node.get(keys[following])  # before the gap: most words go no further
            if node is None or not _GAP.fullmatch(
                text, spans[following - 1][1], spans[following][0]
            ):
                break
            last = following
        return best.items()


def _possessive(text: str, spans, word: int) -> bool:
    """True when word `word` is followed by an apostrophe and a lone s (`Assad's`)."""
    between = text[spans[word][1] : spans[word + 1][0]]
    return between in ("'", "\u2019")


def _exact(alias: _Alias, text: str, spans, first: int, last: int, relaxed: bool) -> bool:
    """A case-sensitive alias as written, and not a short acronym among shouted words."""
    written = tuple(text[s:e] for s, e in spans[first : last + 1])
    if relaxed and sum(map(len, written)) > 2:
        return True
    if written != alias.exact:
        return False
    return sum(map(len, written)) > 2 or not _shouting(text, spans, first, last)


def _shouting(text: str, spans, first: int, last: int) -> bool:
    """True when a short acronym sits among all-capital words ("WHY IS THIS"), so is ambiguous."""
    neighbours = []
    if first > 0 and "\n" not in text[spans[first - 1][1] : spans[first][0]]:
        neighbours.append(text[slice(*spans[first - 1])])
    if last + 1 < len(spans) and "\n" not in text[spans[last][1] : spans[last + 1][0]]:
        neighbours.append(text[slice(*spans[last + 1])])
    return bool(neighbours) and all(len(w) > 1 and w.isupper() for w in neighbours)
