"""Settle what an article's raw mentions mean, using the whole article as context.

- Places inside an operation's name or another thing's name are not places ("Operation
  Euphrates Shield", the newspaper "Sada al-Balad"); a faction inside a description is not
  an actor ("al-Qaeda affiliate al-Nusra Front").
- A name several places share (al-Midan of Aleppo and of Damascus) goes to the neighbourhood of
  a city the article names, else to the place whose governorate (then country) the article's
  other places name most. When nothing decides, the mention keeps the first place's name and
  its candidates, and the tagger counts no province or country for it.
- Actor phrases add faction mentions (search/actors.py); descriptions of "the government"
  need to know whether the article is about Syria or Iraq.
"""

from __future__ import annotations

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
        counts.update(m.entity.country for m in mentions.place if not m.candidates)
    syria, iraq = counts["Syria"], counts["Iraq"]
    if not (syria or iraq):
        return None
    return "Syria" if syria >= iraq else "Iraq"


def settle(texts: dict[str, str], found: dict[str, Mentions]) -> dict[str, Mentions]:
    """The mentions of each field (title, body; `texts` holds the text of each) with places,
    namesakes and actors settled."""
    kept = {field: _outside_names(mentions) for field, mentions in found.items()}
    known = [m.entity for mentions in kept.values() for m in mentions.place if not m.candidates]
    about = context(kept)
    out = {}
    for field, mentions in kept.items():
        if any(m.candidates for m in mentions.place):
            places = tuple(_namesake(m, known) if m.candidates else m for m in mentions.place)
            mentions = replace(mentions, place=places)
        made = actors.find(texts[field], mentions, about)
        if made:
            factions = tuple(sorted(mentions.faction + tuple(made), key=lambda m: m.start))
            mentions = replace(mentions, faction=factions)
        out[field] = mentions
    return out


def _outside_names(mentions: Mentions) -> Mentions:
    """The mentions without the places written inside an operation's or another thing's
    name, and without the factions inside a description ("al-Qaeda affiliate")."""
    names = [(m.start, m.end) for m in mentions.operation + mentions.other]
    descriptions = [(m.start, m.end) for m in mentions.description]
    if not (names or descriptions):
        return mentions
    return replace(
        mentions,
        place=_outside(mentions.place, names),
        faction=_outside(mentions.faction, descriptions),
    )


def _outside(mentions: tuple[Mention, ...], spans: list[tuple[int, int]]) -> tuple:
    return tuple(m for m in mentions if not any(s <= m.start and m.end <= e for s, e in spans))


def _namesake(mention: Mention, known: list[gazetteer.Entity]) -> Mention:
    """One of the namesakes, by the article's other places; or the mention as it is."""
    candidates = mention.candidates
    cities = {place.name for place in known}
    by_city = [c for c in candidates if c.city and c.city in cities]
    if len(by_city) == 1:
        return _chosen(mention, by_city[0], f"{by_city[0].city} is named")
    for level in ("province", "country"):
        counts = Counter(getattr(place, level) for place in known if getattr(place, level))
        scores = sorted(((counts[getattr(c, level)], c) for c in candidates), key=lambda s: -s[0])
        if scores[0][0] and (len(scores) == 1 or scores[0][0] > scores[1][0]):
            best = scores[0][1]
            return _chosen(mention, best, f"most other places are in {getattr(best, level)}")
    return replace(mention, rule="namesake: nothing in the article decides")


def _chosen(mention: Mention, place: gazetteer.Entity, why: str) -> Mention:
    return replace(mention, entity=place, candidates=(), rule=f"namesake: {why}")
