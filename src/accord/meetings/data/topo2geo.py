"""Build note, not imported at run time: how ``countries-50m.geojson`` was made from the npm package
``world-atlas@2.0.2`` (TopoJSON of Natural Earth, public domain data; ISC-licensed packaging, see LICENSE-world-atlas).

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python topo2geo.py package/countries-50m.json countries-50m.geojson

Coordinates are rounded to 0.01 degree (about 1 km), ample for a density map's outlines and it keeps the file small.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def decode(topo: dict[str, Any], layer: str) -> dict[str, Any]:
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:  # quantised, delta-encoded
            x += dx
            y += dy
            pts.append((round(x * sx + tx, 2), round(y * sy + ty, 2)))
        arcs.append(pts)

    def ring(indexes: list[int]) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        for i in indexes:
            pts = arcs[i] if i >= 0 else arcs[~i][::-1]
            out.extend(pts[1:] if out else pts)
        return out

    features = []
    for g in topo["objects"][layer]["geometries"]:
        if g["type"] == "Polygon":
            coords: Any = [ring(r) for r in g["arcs"]]
        elif g["type"] == "MultiPolygon":
            coords = [[ring(r) for r in p] for p in g["arcs"]]
        else:
            continue
        features.append({"type": "Feature", "properties": {"name": g.get("properties", {}).get("name", "")},
                         "geometry": {"type": g["type"], "coordinates": coords}})
    return {"type": "FeatureCollection", "features": features}


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        data = decode(json.load(f), "countries")
    with open(sys.argv[2], "w") as f:
        json.dump(data, f, separators=(",", ":"))
