"""Gazetteers (factions, places, countries, theme keywords) and the matcher that finds them.

The data lives in search/data/*.toml. Matching works on word tokens (runs of letters and
digits), so an alias matches whole words only, and the words of a multi-word alias may be
separated by spaces, hyphens, apostrophes or periods ("Deir ez-Zor" = "Deir ez Zor").
Case and diacritics are ignored, except for aliases written without lowercase letters
(acronyms: IS, US, SDF), which match exactly as written. At one position the longest alias wins.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from importlib import resources

from search import arabic

KINDS = (
    "faction",
    "place",
    "country",
    "theme",
    "side",
    "operation",
    "other",
    "description",
    "noun",
    "government",  # words of the actor rules (actors.toml, read by search/actors.py)
)
# Kinds whose aliases are also found inflected. Theme keywords are not: their thresholds
# (min_mentions) were set counting the forms the data lists.
INFLECTED = frozenset(
    ("faction", "place", "country", "side", "operation", "other", "description")
    + ("noun", "government")
)
# Runs of letters and digits. Plain `re`, not nltk's RegexpTokenizer: nltk 3.9 wraps every
# pattern in a wall-clock timeout check that tripled the time of tokenising a body, and this
# pattern is linear anyway.
# Runs of letters and digits; Arabic marks inside a word keep it whole (حَلَب). Unrolled, so a
# word without marks is one run of a single character class.
_WORDS = re.compile(rf"[^\W_]+(?:[{arabic.WORD_MARKS}]+[^\W_]*)*")
_GAP = re.compile(r"[\s\-'\u2019\u2013\u2014.]{1,3}")
_SLUG = re.compile(r"[^a-z0-9]+")
_MARKS = (
    dict.fromkeys(i for i in range(0x300, 0x370))
    | {0x2BE: None, 0x2BF: None, 0x2BB: None}
    | arabic.MARKS
    | arabic.LETTERS
    | arabic.DIGITS
)


class GazetteerError(ValueError):
    """The gazetteer data is inconsistent (duplicate name, unknown parent or province)."""


@dataclass(frozen=True)
class Entity:
    """A named thing the tagger knows. Fields that do not apply to a kind are None."""

    kind: str
    name: str
    slug: str
    parent: str | None = None  # factions: the larger force a unit rolls up to
    place_kind: str | None = None  # places: city, governorate, dam, ...
    province: str | None = None
    country: str | None = None
    region: str | None = None  # countries: the region they belong to
    city: str | None = None  # neighbourhoods and districts: the city they are part of
    side: str | None = None  # factions: the side of the war (sides.toml)
    arabic: str | None = None  # the name in Arabic script, for display (the data's first)

    @property
    def token(self) -> str:
        """The entity token indexed at each mention, e.g. `faction:islamic-state`."""
        return f"{self.kind}:{self.slug}"


@dataclass(frozen=True)
class Mention:
    """One match of an alias in a text: the entity and the character span actually written."""

    entity: Entity
    start: int
    end: int
    word: int  # index of the first word token of the match
    loose: bool = False  # a case-sensitive alias matched in another case (`tip` for TIP)
    # Places that share the alias (namesakes), `entity` first; the tagger picks one by context.
    candidates: tuple[Entity, ...] = ()
    rule: str | None = None  # the actor rule that made this mention (actors.py), if any


# Letters that Kurdish and Turkish write and English transliterates with two (Qamişlo).
_LETTERS = str.maketrans({"ş": "sh", "Ş": "Sh", "ç": "ch", "Ç": "Ch", "ı": "i", "İ": "I"})


def fold(word: str) -> str:
    """Case- and diacritic-insensitive form of a word (`Ḥalab` -> `halab`, `Qamişlo` ->
    `qamishlo`, `حَلَب` -> `حلب`; see search/arabic.py)."""
    if word.isascii():
        return word.casefold()
    word = word.translate(_LETTERS)
    return unicodedata.normalize("NFD", word).translate(_MARKS).casefold()


def slugify(name: str) -> str:
    return _SLUG.sub("-", fold(name)).strip("-")


def word_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the word tokens of a text."""
    return [match.span() for match in _WORDS.finditer(text)]


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
        self, aliases: list[tuple[str, Entity]], keep: frozenset[str] = frozenset()
    ) -> None:
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
                keys = tuple(_match_key(fold(w)) for w in words)
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
            keys = [_match_key(key) for key in keys]
        for index in range(count):
            node = root.get(keys[index])
            if node is None and written is not keys and arabic.is_arabic(written[index]):
                node = _clitic_node(root, written[index])  # بحلب, والرقة, للنظام
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
            if following >= len(keys) or not _GAP.fullmatch(
                text, spans[following - 1][1], spans[following][0]
            ):
                break
            last = following
            node = node.get(keys[last])
        return best.items()


def _match_key(key: str) -> str:
    """The key the trie holds a folded word under (Arabic: without its article, but for the
    words of matching.toml's arabic_keep_article)."""
    if not arabic.is_arabic(key) or key in _keep_article():
        return key
    return arabic.match_key(key)


@cache
def _whole_words() -> frozenset[str]:
    return frozenset(fold(w) for w in _read("matching.toml").get("arabic_whole_words", []))


@cache
def _keep_article() -> frozenset[str]:
    return frozenset(fold(w) for w in _read("matching.toml").get("arabic_keep_article", []))


def _clitic_node(root: dict, key: str) -> dict | None:
    """The trie node of an Arabic word read without the clitics in front of it (not for the
    words of matching.toml's arabic_whole_words)."""
    if key in _whole_words():
        return None
    for form in arabic.clitic_forms(key, _keep_article()):
        node = root.get(form)
        if node is not None:
            return node
    return None


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


@dataclass(frozen=True)
class Gazetteer:
    """Every entity by kind and name, a matcher per kind, and theme thresholds."""

    entities: dict[str, dict[str, Entity]]
    aliases: dict[str, list[tuple[str, Entity]]]  # each kind's aliases as the data lists them
    matcher: Matcher  # every kind in one trie, to find them all in one pass
    theme_min: dict[str, int]

    @cached_property
    def matchers(self) -> dict[str, Matcher]:
        """A matcher per kind, to list a kind's aliases; built when first asked (listing is
        rare, and building them all doubles the time every process takes to start)."""
        return {kind: Matcher(aliases) for kind, aliases in self.aliases.items()}

    def get(self, kind: str, name: str) -> Entity | None:
        return self.entities[kind].get(name)

    def namesakes(self, entity: Entity) -> list[Entity]:
        """The entity and the governorate named after it: a search for the city of
        Deir ez-Zor also wants "the province of Deir Ezzor". Convention: "<city> Governorate"."""
        province = self.entities["place"].get(f"{entity.name} Governorate")
        if entity.kind == "place" and province is not None and province != entity:
            return [entity, province]
        return [entity]

    def lineage(self, entity: Entity) -> list[Entity]:
        """The entity and the factions it rolls up to (Tiger Forces -> Syrian government forces)."""
        chain = [entity]
        while chain[-1].parent and len(chain) < 8:
            chain.append(self.entities[entity.kind][chain[-1].parent])
        return chain


def _read(name: str) -> dict:
    path = resources.files("search") / "data" / name
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise GazetteerError(f"search/data/{name}: {error}") from error


def _entity(kind: str, item: dict, names: dict[str, Entity]) -> Entity:
    name = item["name"]
    if name in names:
        raise GazetteerError(f"{kind} {name!r} is listed twice")
    return Entity(
        kind=kind,
        name=name,
        slug=item.get("slug") or slugify(name),
        parent=item.get("parent"),
        place_kind=item.get("kind"),
        province=item.get("province"),
        country=item.get("country"),
        region=item.get("region"),
        city=item.get("city"),
        side=item.get("side"),
        arabic=(item.get("arabic") or [None])[0],
    )


@cache
def load() -> Gazetteer:
    """Load and check the gazetteer data once per process."""
    sources = {
        "faction": _read("factions.toml").get("faction", []),
        "place": _read("places.toml").get("place", []),
        "country": _read("countries.toml").get("country", []),
        "theme": _read("themes.toml").get("theme", []),
        "side": _read("sides.toml").get("side", []),
        "operation": _read("operations.toml").get("operation", []),
        "other": _read("other_names.toml").get("other", []),
        "description": _read("other_names.toml").get("description", []),
        **_actor_words(_read("actors.toml")),
    }
    keep = frozenset(_read("matching.toml").get("not_inflections", []))
    entities: dict[str, dict[str, Entity]] = {kind: {} for kind in KINDS}
    by_kind: dict[str, list[tuple[str, Entity]]] = {}
    every: list[tuple[str, Entity]] = []
    for kind, items in sources.items():
        aliases: list[tuple[str, Entity]] = []
        for item in items:
            entity = _entity(kind, item, entities[kind])
            entities[kind][entity.name] = entity
            words = [
                *item.get("aliases", []),
                *item.get("demonyms", []),
                *item.get("keywords", []),
                *item.get("arabic", []),  # names in Arabic script, matched like any alias
            ]
            # Some names are labels, not phrases (a theme "US NATO War Agenda", a side "Other",
            # the channel "Al Mayadeen": only "Al Mayadeen TV" is surely not the town).
            labels = ("theme", "side", "other", "description", "noun", "government")
            own = [] if kind in labels else [entity.name]
            aliases += [(alias, entity) for alias in dict.fromkeys([*own, *words])]
        by_kind[kind] = aliases
        every += aliases
    _check(entities)
    theme_min = {item["name"]: int(item.get("min_mentions", 2)) for item in sources["theme"]}
    return Gazetteer(entities, by_kind, Matcher(every, keep), theme_min)


def _actor_words(data: dict) -> dict[str, list[dict]]:
    """The phrases of actors.toml as entities named by their group ("air", "syria"), found in
    the same pass as every alias."""
    nouns, government = data.get("nouns", {}), data.get("government", {})
    return {
        "noun": [{"name": g, "aliases": nouns.get(g, [])} for g in ("forces", "air", "actions")],
        "government": [
            {"name": g, "aliases": government.get(g, [])}
            for g in ("syria", "syria_air", "either", "either_air")
        ],
    }


def _check(entities: dict[str, dict[str, Entity]]) -> None:
    for faction in entities["faction"].values():
        if faction.parent and faction.parent not in entities["faction"]:
            raise GazetteerError(f"faction {faction.name!r}: unknown parent {faction.parent!r}")
        if faction.side not in entities["side"]:
            raise GazetteerError(f"faction {faction.name!r}: unknown side {faction.side!r}")
    for place in entities["place"].values():
        if place.province and place.province not in entities["place"]:
            raise GazetteerError(f"place {place.name!r}: unknown province {place.province!r}")
        if place.country and place.country not in entities["country"]:
            raise GazetteerError(f"place {place.name!r}: unknown country {place.country!r}")
        if place.city and place.city not in entities["place"]:
            raise GazetteerError(f"place {place.name!r}: unknown city {place.city!r}")
    for kind, named in entities.items():
        slugs = [e.slug for e in named.values()]
        if len(slugs) != len(set(slugs)):
            raise GazetteerError(f"two {kind} entries share a slug")


@dataclass(frozen=True)
class Mentions:
    """Everything the gazetteer found in one text, by kind, and the text's word spans."""

    spans: tuple[tuple[int, int], ...]
    keys: tuple[str, ...]  # the folded word of each span
    faction: tuple[Mention, ...]
    place: tuple[Mention, ...]
    country: tuple[Mention, ...]
    theme: tuple[Mention, ...]
    side: tuple[Mention, ...] = ()
    operation: tuple[Mention, ...] = ()
    other: tuple[Mention, ...] = ()  # names of other things: what lies inside is not a place
    description: tuple[Mention, ...] = ()  # "al-Qaeda affiliate": the faction inside describes
    noun: tuple[Mention, ...] = ()  # force nouns of the actor rules ("jets")
    government: tuple[Mention, ...] = ()  # government descriptions ("regime forces")

    def of(self, kind: str) -> tuple[Mention, ...]:
        return getattr(self, kind)


def _matches(text: str, kinds, relaxed: bool = False):
    """The text's word spans, their folded forms, and each kind's mentions in it."""
    gaz = load()
    spans = word_spans(text)
    keys = [fold(text[s:e]) for s, e in spans]
    return spans, keys, gaz.matcher.find_kinds(text, spans, keys, relaxed, kinds)


@lru_cache(maxsize=64)
def find(text: str) -> Mentions:
    """All mentions in a text. Cached: the tagger and the analyzer both ask about each body."""
    spans, keys, found = _matches(text, KINDS)
    mentions = {kind: tuple(m) for kind, m in found.items()}
    return Mentions(spans=tuple(spans), keys=tuple(keys), **mentions)


def meant(mention: Mention) -> list[Entity]:
    """What a name in a query means: its entity, every place sharing the name (al-Midan of
    Aleppo and of Damascus), and the governorate named after each place."""
    gaz = load()
    out: list[Entity] = []
    for entity in mention.candidates or (mention.entity,):
        out += [e for e in gaz.namesakes(entity) if e not in out]
    return out


@cache
def road_words() -> frozenset[str]:
    """Words that make the place before them part of a road's name (matching.toml)."""
    return frozenset(fold(w) for w in _read("matching.toml").get("road_words", []))


@cache
def province_names() -> frozenset[str]:
    """Cities whose bare name often stands for their governorate (matching.toml)."""
    return frozenset(_read("matching.toml").get("province_names", []))


@cache
def weak_aliases() -> dict[str, str]:
    """Written form -> faction, for words taken as a faction only in a war story."""
    return dict(_read("matching.toml").get("weak_aliases", {}))


@cache
def city_words() -> frozenset[str]:
    """Words beside a province_names city that make it the city (matching.toml)."""
    return frozenset(fold(w) for w in _read("matching.toml").get("city_words", []))


QUERY_KINDS = ("faction", "place", "country", "operation")


def find_in_query(text: str, kinds: tuple[str, ...] = QUERY_KINDS) -> list[Mention]:
    """Factions, places, countries and operations (or `kinds`) named in query text,
    leftmost-longest across kinds; acronyms of three letters or more in any case."""
    _, _, by_kind = _matches(text, kinds, relaxed=True)
    found = [m for mentions in by_kind.values() for m in mentions]
    found.sort(key=lambda m: (m.start, m.start - m.end))
    out: list[Mention] = []
    for mention in found:
        if not out or mention.start >= out[-1].end:
            out.append(mention)
    return out
