"""Settle what an article's raw mentions mean, using the whole article as context.

- Places inside an operation's name or another thing's name are not places ("Operation
  Euphrates Shield", the newspaper "Sada al-Balad"); a faction inside a description is not
  an actor ("al-Qaeda affiliate al-Nusra Front").
- A name several places share (al-Midan of Aleppo and of Damascus) goes to the neighbourhood of
  a city the article names, else to the place whose governorate (then country) the article's
  other places name most. When nothing decides, the mention keeps the first place's name and
  its candidates, and the tagger counts no province or country for it.
- Actor phrases add faction mentions (search/actors.py); descriptions of "the government"
  need to know whether the article is about Syria or Iraq, and so do weak aliases ("Isis").
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from dataclasses import replace

from search import actors, gazetteer
from search.gazetteer import Mention, Mentions


def context(found: dict[str, Mentions]) -> str | None:
    """ "Syria" or "Iraq": the one the article's countries and places name more (Syria on a
    tie), None when it names neither."""
    counts: Counter[str] = Counter()
    for mentions in found.values():
        counts.update(m.entity.name for m in mentions.country)
        counts.update(
            m.entity.country for m in mentions.place if m.entity.country and not m.candidates
        )
    syria, iraq = counts["Syria"], counts["Iraq"]
    if not (syria or iraq):
        return None
    return "Syria" if syria >= iraq else "Iraq"


def settle(texts: dict[str, str], found: dict[str, Mentions]) -> dict[str, Mentions]:
    """The mentions of each field (title, body; `texts` holds the text of each) with places,
    namesakes and actors settled."""
    kept = {field: _outside_names(mentions) for field, mentions in found.items()}
    known = [m.entity for mentions in kept.values() for m in mentions.place if not m.candidates]
    provinces = {place.name for place in known if place.place_kind == "governorate"}
    about = context(kept)
    out = {}
    for field, mentions in kept.items():
        places = list(mentions.place)
        for index, mention in enumerate(places):
            if mention.candidates:
                places[index] = _namesake(mention, known, places)
        places = _provinces(texts[field], mentions, places, provinces)
        if places != list(mentions.place):
            mentions = replace(mentions, place=tuple(places))
        made = actors.find(texts[field], mentions, about)
        if about is not None:
            made += _weak(texts[field], mentions)
        if made:
            factions = tuple(sorted(mentions.faction + tuple(made), key=lambda m: m.start))
            mentions = replace(mentions, faction=factions)
        out[field] = mentions
    return out


def _weak(text: str, mentions: Mentions) -> list[Mention]:
    """The faction mentions of matching.toml's weak aliases ("Isis"), in a war story."""
    weak = gazetteer.weak_aliases()
    out: list[Mention] = []
    if not any(word in text for word in weak):
        return out
    factions = gazetteer.load().entities["faction"]
    for index, (start, end) in enumerate(mentions.spans):
        name = weak.get(text[start:end])
        if name is not None and not any(m.start <= start < m.end for m in mentions.faction):
            written = text[start:end]
            out.append(Mention(factions[name], start, end, index, rule=f"weak alias: {written}"))
    return out


def _outside_names(mentions: Mentions) -> Mentions:
    """The mentions without the places written inside an operation's or another thing's
    name or a road's, and without the factions inside a description ("al-Qaeda
    affiliate")."""
    names = [(m.start, m.end) for m in mentions.operation + mentions.other]
    descriptions = [(m.start, m.end) for m in mentions.description]
    places = mentions.place
    if not gazetteer.road_words().isdisjoint(mentions.keys):  # a road word is written
        places = tuple(m for m in places if not _road(mentions, mentions.starts, m))
    if not (names or descriptions) and len(places) == len(mentions.place):
        return mentions
    return replace(
        mentions,
        place=_outside(places, names),
        faction=_outside(mentions.faction, descriptions),
    )


def _road(mentions: Mentions, starts: list[int], mention: Mention) -> bool:
    """True when the place is part of a road's name: a road word follows it, or follows the
    place after it ("the Baghdad-Amirli road"). `starts`: where each word starts."""
    words = gazetteer.road_words()
    if not words or mention.entity.place_kind == "road":
        return False
    following = bisect_right(starts, mention.end - 1)
    for other in mentions.place:  # past a place written right after, joined by a hyphen
        if other.word == following and mentions.spans[following][0] - mention.end <= 1:
            following = bisect_right(starts, other.end - 1)
            break
    return following < len(mentions.keys) and mentions.keys[following] in words


def _outside(mentions: tuple[Mention, ...], spans: list[tuple[int, int]]) -> tuple:
    return tuple(m for m in mentions if not any(s <= m.start and m.end <= e for s, e in spans))


def _namesake(mention: Mention, known: list[gazetteer.Entity], near: list[Mention]) -> Mention:
    """One of the namesakes, by the article's other places; or the mention as it is. A city
    the article names decides; of several, the one named nearest (`near`: this field's)."""
    candidates = mention.candidates
    cities = {place.name for place in known}
    by_city = [c for c in candidates if c.city and c.city in cities]
    if len(by_city) > 1:
        distance = {m.entity.name: abs(m.word - mention.word) for m in near if not m.candidates}
        by_city.sort(key=lambda c: distance.get(c.city or "", len(near) + 10**6))
        if distance.get(by_city[0].city or "") != distance.get(by_city[1].city or ""):
            by_city = by_city[:1]
    if len(by_city) == 1:
        return _chosen(mention, by_city[0], f"{by_city[0].city} is named")
    for level in ("province", "country"):
        counts = Counter(getattr(place, level) for place in known if getattr(place, level))
        scores = sorted(((counts[getattr(c, level)], c) for c in candidates), key=lambda s: -s[0])
        if scores[0][0] and (len(scores) == 1 or scores[0][0] > scores[1][0]):
            best = scores[0][1]
            return _chosen(mention, best, f"most other places are in {getattr(best, level)}")
    return mention._replace(rule="namesake: nothing in the article decides")


_PLURAL_PROVINCES = ("provinces", "governorates of")  # "the provinces of X, Y and Z"
_LIST_GAP = re.compile(r"(?:\s*(?:,|and|&)\s*|\s+)")


def _provinces(
    text: str, mentions: Mentions, places: list[Mention], named: set[str]
) -> list[Mention]:
    """Bare city names that stand for the governorate of the same name: in a list after
    "the provinces of" ("the provinces of Aleppo, Raqqa and Homs"), and, for the cities of
    matching.toml's province_names, wherever the article also names that province ("Idlib
    province ... a village in Idlib"), unless the words beside say city ("Idlib city")."""
    gaz = gazetteer.load()
    out, listing = [], False
    for mention in places:
        written = text[mention.start : mention.end].casefold()
        province = _governorate(gaz, mention)
        if mention.entity.place_kind == "governorate":
            listing = written.startswith(_PLURAL_PROVINCES)
            out.append(mention)
            continue
        gap = text[out[-1].end : mention.start] if out else ""
        if province and listing and _LIST_GAP.fullmatch(gap):
            out.append(_as_province(mention, province, "in a list of provinces"))
            continue
        listing = False
        if (
            province
            and province.name in named
            and mention.entity.name in gazetteer.province_names()
            and not _says_city(mentions, mention)
        ):
            out.append(_as_province(mention, province, "the article names the province"))
            continue
        out.append(mention)
    return out


def _governorate(gaz: gazetteer.Gazetteer, mention: Mention) -> gazetteer.Entity | None:
    if mention.candidates or mention.entity.place_kind == "governorate":
        return None
    namesakes = gaz.namesakes(mention.entity)
    return namesakes[1] if len(namesakes) > 1 else None


def _says_city(mentions: Mentions, mention: Mention) -> bool:
    """True when a word of matching.toml's city_words stands within two words of the
    name ("the city of Idlib", "Idlib countryside")."""
    keys, first = mentions.keys, mention.word
    last = bisect_right(mentions.starts, mention.end - 1) - 1
    around = keys[max(0, first - 2) : first] + keys[last + 1 : last + 3]
    return bool(gazetteer.city_words().intersection(around))


def _as_province(mention: Mention, province: gazetteer.Entity, why: str) -> Mention:
    return mention._replace(entity=province, rule=f"bare name of the province: {why}")


def _chosen(mention: Mention, place: gazetteer.Entity, why: str) -> Mention:
    return mention._replace(entity=place, candidates=(), rule=f"namesake: {why}")
