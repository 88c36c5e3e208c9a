"""GET /geo: the places of the articles matching a search, as a GeoJSON FeatureCollection
with a count per place, for a map.

A place's point comes from search/data/coordinates.toml (each with its source; see
tools/place_coordinates.py). Places without a point are counted in `unlocated`, never placed
by a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from search import gazetteer
from search.request import SearchRequest
from search.view import View, build, match


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float
    source: str


@cache
def points() -> dict[str, Point]:
    """place name -> its point, read once."""
    places = gazetteer.load().entities["place"]
    return {  # tests/test_geo.py checks that every name is a place and every point in its country
        name: Point(float(item["lat"]), float(item["lon"]), str(item["source"]))
        for name, item in gazetteer.read_data("coordinates.toml").items()
        if name in places
    }


def feature(name: str, count: int, stories: int, point: Point) -> dict:
    entity = gazetteer.load().get("place", name)
    assert entity is not None  # points() checked every name
    return {
        "type": "Feature",
        "id": entity.slug,
        "geometry": {"type": "Point", "coordinates": [point.lon, point.lat]},
        "properties": {
            "place": name,
            "count": count,
            "stories": stories,
            "kind": entity.place_kind,
            "province": entity.province,
            "country": entity.country,
            "source": point.source,
        },
    }


def places(view: View, request: SearchRequest) -> dict:
    """The FeatureCollection of the places the matching articles name, most named first.
    The place filter narrows the articles as in /search; every place they name is shown.
    `count` is articles (stories with count=stories); `stories` is always given."""
    query, _ = build(view, request)
    docs = match(view, query).mask
    articles = view.count("place", docs)
    stories = view.count_by("place", docs, True)  # copies of one report count once
    counted = stories if request.by_story else articles
    located = points()
    ranked = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
    features = [
        feature(name, n, stories[name], located[name]) for name, n in ranked if name in located
    ]
    return {
        "type": "FeatureCollection",
        "features": features,
        "places": len(counted),
        "located": len(features),
        "unlocated": [
            {"place": name, "count": n, "stories": stories[name]}
            for name, n in ranked
            if name not in located
        ],
        "query": request.to_json(),
    }
