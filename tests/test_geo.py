"""The points of places (search/data/coordinates.toml) and GET /geo."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from search import gazetteer
from search.geo import points
from tests.test_api import get

# (south, west, north, east), a little wider than each country, from its extreme points
BOUNDS = {
    "Syria": (32.3, 35.6, 37.4, 42.4),
    "Iraq": (29.0, 38.7, 37.4, 48.6),
    "Turkey": (35.8, 25.6, 42.2, 44.9),
    "Lebanon": (33.0, 35.1, 34.7, 36.7),
}


def test_every_point_names_a_place_and_lies_in_its_country():
    data = gazetteer.read_data("coordinates.toml")
    places = gazetteer.load().entities["place"]
    assert data, "coordinates.toml is empty"
    outside = {}
    for name, item in data.items():
        assert name in places, f"coordinates.toml names {name!r}, which places.toml lacks"
        assert item["source"].strip(), f"{name}: no source"
        south, west, north, east = BOUNDS[places[name].country or ""]
        if not (south <= item["lat"] <= north and west <= item["lon"] <= east):
            outside[name] = (item["lat"], item["lon"], places[name].country)
    assert not outside, outside
    assert len(points()) == len(data)


def test_the_capital_cities_are_where_they_are():
    found = points()
    for name, (lat, lon) in {"Damascus": (33.51, 36.29), "Mosul": (36.34, 43.12)}.items():
        assert abs(found[name].lat - lat) < 0.1 and abs(found[name].lon - lon) < 0.1, name


def test_the_data_file_is_the_tool_output_format():
    with resources.files("search").joinpath("data/coordinates.toml").open("rb") as f:
        data = tomllib.load(f)
    assert all(set(item) == {"lat", "lon", "source"} for item in data.values())


def test_geo_is_a_feature_collection_of_the_matching_places(app):
    body = get(app, "/geo", q="Raqqa").json()
    assert body["type"] == "FeatureCollection"
    counts = {f["properties"]["place"]: f["properties"]["count"] for f in body["features"]}
    search = get(app, "/search", q="Raqqa", facets="place", facet_size=1000).json()
    named = {v["value"]: v["count"] for v in search["facets"]["place"]["values"]}
    unlocated = {u["place"]: u["count"] for u in body["unlocated"]}
    assert {**counts, **unlocated} == named  # every place the articles name, once
    assert body["places"] == len(named) and body["located"] == len(counts)
    raqqa = next(f for f in body["features"] if f["properties"]["place"] == "Raqqa")
    lon, lat = raqqa["geometry"]["coordinates"]
    assert raqqa["geometry"]["type"] == "Point" and 35 < lat < 37 and 38 < lon < 40
    assert raqqa["properties"]["count"] == 4 and raqqa["properties"]["source"]


@pytest.mark.parametrize(
    ("params", "param"), [({"q": "raqqa AND ("}, "q"), ({"from": "2017-02-30"}, "from")]
)
def test_geo_refuses_what_search_refuses(app, params, param):
    response = get(app, "/geo", **params)
    assert response.status_code == 400 and response.json()["error"]["param"] == param


def test_geo_filters_as_search_does(app):
    everything = get(app, "/geo").json()
    filtered = get(app, "/geo", place="Mosul").json()
    assert 0 < filtered["places"] < everything["places"]
    assert "Mosul" in {f["properties"]["place"] for f in filtered["features"]}


def test_geo_counts_stories_as_search_does(app):
    by_story = get(app, "/search", q="Raqqa", facets="place", facet_size=1000, count="stories")
    stories = {v["value"]: v["count"] for v in by_story.json()["facets"]["place"]["values"]}
    for params in ({}, {"count": "stories"}):
        body = get(app, "/geo", q="Raqqa", **params).json()
        found = {f["properties"]["place"]: f["properties"]["stories"] for f in body["features"]}
        found |= {u["place"]: u["stories"] for u in body["unlocated"]}
        assert found == stories
    counted = get(app, "/geo", q="Raqqa", count="stories").json()
    assert all(f["properties"]["count"] == f["properties"]["stories"] for f in counted["features"])
