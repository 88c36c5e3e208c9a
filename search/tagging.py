"""Tag a parsed article: factions, places, provinces, countries, regions and themes.

Declared values (the article's own `Region:` / `Theme:` lines or fields) win over inferred
ones; both are kept so the document view can show them apart.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from search import gazetteer, resolve
from search.articles import Article
from search.gazetteer import Entity, Mention

Counts = tuple[tuple[str, int], ...]  # (name, mentions), most mentioned first

# A region is inferred when its countries get at least half the mentions of the top region:
# "US-backed" in a Syria story does not make it a story about the USA.
REGION_SHARE = 0.5


@dataclass(frozen=True)
class Tagged:
    """An article with its tags. Counts are mentions in title and body together."""

    article: Article
    factions: Counts
    places: Counts
    provinces: Counts
    countries: Counts
    regions_inferred: tuple[str, ...]
    themes_inferred: tuple[str, ...]
    mentions: tuple[tuple[str, Mention], ...]  # (field, mention) for factions, places, countries
    sides: Counts = ()
    operations: Counts = ()
    found: tuple[tuple[str, gazetteer.Mentions], ...] = ()  # (field, resolved mentions)

    def text(self, field: str) -> Annotated:
        """The field's text carrying the mentions the tagger settled on, so the analyzer
        indexes entity tokens for exactly the tags the article got."""
        return Annotated(getattr(self.article, field), dict(self.found).get(field))

    @property
    def regions(self) -> tuple[str, ...]:
        return self.article.regions or self.regions_inferred

    @property
    def themes(self) -> tuple[str, ...]:
        return self.article.themes or self.themes_inferred

    def names(self, facet: str) -> tuple[str, ...]:
        """The values of a facet: faction, place, province, country, region, theme."""
        if facet in ("region", "theme"):
            return getattr(self, facet + "s")
        return tuple(name for name, _ in getattr(self, _PLURAL[facet]))

    def spellings(self) -> dict[str, dict[str, list[str]]]:
        """For each kind and entity, the words actually written: why the article has the tag."""
        out: dict[str, dict[str, list[str]]] = {}
        for field, mention in self.mentions:
            text = getattr(self.article, field)[mention.start : mention.end]
            seen = out.setdefault(mention.entity.kind, {}).setdefault(mention.entity.name, [])
            if text not in seen:
                seen.append(text)
        return out

    def rules(self) -> dict[str, dict[str, list[str]]]:
        """For each kind and entity, the rules that made or settled a mention of it (actor
        phrases, namesakes), each with the words it read."""
        out: dict[str, dict[str, list[str]]] = {}
        for _, mention in self.mentions:
            if mention.rule:
                seen = out.setdefault(mention.entity.kind, {}).setdefault(mention.entity.name, [])
                if mention.rule not in seen:
                    seen.append(mention.rule)
        return out

    def to_json(self) -> dict[str, Any]:
        """Plain data for `search tags` and the stored document: every tag with its counts."""
        article = self.article
        return {
            "id": article.id,
            "origin": article.origin,
            "title": article.title,
            "date": _iso(article.date),
            "source": article.source,
            "authors": list(article.authors),
            "url": article.url,
            "original_source": article.original_source,
            "original_date": _iso(article.original_date),
            "credit": article.credit,
            "reports": list(article.reports),
            "regions": {"declared": list(article.regions), "inferred": list(self.regions_inferred)},
            "themes": {"declared": list(article.themes), "inferred": list(self.themes_inferred)},
            "factions": dict(self.factions),
            "places": dict(self.places),
            "provinces": dict(self.provinces),
            "countries": dict(self.countries),
            "sides": dict(self.sides),
            "operations": dict(self.operations),
            "warnings": list(article.warnings),
        }


class Annotated(str):
    """Text with its resolved mentions (`mentions`, None when not tagged)."""

    mentions: gazetteer.Mentions | None

    def __new__(cls, text: str, mentions: gazetteer.Mentions | None) -> Annotated:
        value = super().__new__(cls, text)
        value.mentions = mentions
        return value


_PLURAL = {
    "faction": "factions",
    "place": "places",
    "province": "provinces",
    "country": "countries",
    "side": "sides",
    "operation": "operations",
}


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _ranked(counter: Counter[str]) -> Counts:
    return tuple(sorted(counter.items(), key=lambda item: (-item[1], item[0])))


def tag(article: Article) -> Tagged:
    """Find every gazetteer entity in the article's title and body and derive its tags."""
    gaz = gazetteer.load()
    texts = {"title": article.title, "body": article.body}
    found = resolve.settle(texts, {field: gazetteer.find(text) for field, text in texts.items()})
    mentions = {kind: [m for f in found.values() for m in f.of(kind)] for kind in gazetteer.KINDS}

    factions: Counter[str] = Counter()
    sides: Counter[str] = Counter(m.entity.name for m in mentions["side"])
    for mention in mentions["faction"]:
        for entity in gaz.lineage(mention.entity):
            factions[entity.name] += 1
        if mention.entity.side:
            sides[mention.entity.side] += 1

    places: Counter[str] = Counter()
    provinces: Counter[str] = Counter()
    countries: Counter[str] = Counter()
    for mention in mentions["place"]:
        place = mention.entity
        places[place.name] += 1
        if mention.candidates:
            continue  # a namesake the article does not decide: no province or country
        if place.city:
            places[place.city] += 1
        if place.province:
            provinces[place.province] += 1
        if place.country:
            countries[place.country] += 1
    for mention in mentions["country"]:
        countries[mention.entity.name] += 1

    themes = Counter(m.entity.name for m in mentions["theme"])
    themes_inferred = tuple(
        name for name, count in _ranked(themes) if count >= gaz.theme_min.get(name, 2)
    )
    return Tagged(
        article=article,
        factions=_ranked(factions),
        places=_ranked(places),
        provinces=_ranked(provinces),
        countries=_ranked(countries),
        regions_inferred=_infer_regions(countries, gaz.entities["country"]),
        themes_inferred=themes_inferred,
        sides=_ranked(sides),
        operations=_ranked(Counter(m.entity.name for m in mentions["operation"])),
        found=tuple(found.items()),
        mentions=tuple(
            (field, m)
            for field, f in found.items()
            for kind in ("faction", "place", "country", "operation")
            for m in f.of(kind)
        ),
    )


def _infer_regions(countries: Counter[str], known: dict[str, Entity]) -> tuple[str, ...]:
    regions: Counter[str] = Counter()
    for name, count in countries.items():
        region = known[name].region
        if region:
            regions[region] += count
    if not regions:
        return ()
    top = max(regions.values())
    return tuple(name for name, count in _ranked(regions) if count >= top * REGION_SHARE)
