"""Gazetteers: factions, places, countries, sides, operations and theme keywords, read from
search/data/*.toml and checked, and what the matcher (search/matcher.py) finds of them in a
text."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from importlib import resources

from search.matcher import Matcher, Mention
from search.words import fold, folded_words, slugify, word_spans

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


@cache
def read_data(name: str) -> dict:
    """A data file of search/data, parsed once per process (several readers share it: do not
    change what it returns)."""
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
        "faction": read_data("factions.toml").get("faction", []),
        "place": read_data("places.toml").get("place", []),
        "country": read_data("countries.toml").get("country", []),
        "theme": read_data("themes.toml").get("theme", []),
        "side": read_data("sides.toml").get("side", []),
        "operation": read_data("operations.toml").get("operation", []),
        "other": read_data("other_names.toml").get("other", []),
        "description": read_data("other_names.toml").get("description", []),
        **_actor_words(read_data("actors.toml")),
    }
    matching = read_data("matching.toml")
    keep = frozenset(matching.get("not_inflections", []))
    arabic_words = {
        "keep_article": frozenset(fold(w) for w in matching.get("arabic_keep_article", [])),
        "whole_words": frozenset(fold(w) for w in matching.get("arabic_whole_words", [])),
    }
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
    return Gazetteer(entities, by_kind, Matcher(every, keep, **arabic_words), theme_min)


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

    @cached_property
    def starts(self) -> list[int]:
        """Where each word starts, to find a word by its character offset (bisect)."""
        return [start for start, _ in self.spans]


def _matches(text: str, kinds, relaxed: bool = False):
    """The text's word spans, their folded forms, and each kind's mentions in it."""
    gaz = load()
    spans = word_spans(text)
    keys = folded_words(text, spans)
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
    return frozenset(fold(w) for w in read_data("matching.toml").get("road_words", []))


@cache
def province_names() -> frozenset[str]:
    """Cities whose bare name often stands for their governorate (matching.toml)."""
    return frozenset(read_data("matching.toml").get("province_names", []))


@cache
def weak_aliases() -> dict[str, str]:
    """Written form -> faction, for words taken as a faction only in a war story."""
    return dict(read_data("matching.toml").get("weak_aliases", {}))


@cache
def city_words() -> frozenset[str]:
    """Words beside a province_names city that make it the city (matching.toml)."""
    return frozenset(fold(w) for w in read_data("matching.toml").get("city_words", []))


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
