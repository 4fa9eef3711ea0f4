"""Positions as analysts type them: MGRS checked against reference points, DMS, decimal, gazetteer."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accord.http.web.coords import CoordinateError, latlon_to_mgrs, mgrs_to_latlon, parse_position, to_utm


@pytest.mark.parametrize(("lat", "lon", "mgrs"), [
    (42.0, -93.0, "15TWG0000049776"),  # the example in NGA-derived libraries' documentation
    (0.0, 0.0, "31NAA6602100000"),  # equator on the prime meridian
    (38.8977, -77.0365, "18SUJ23"),  # Washington DC: 100 km square and 10 km digits as on published maps
    (-33.8568, 151.2153, "56HLH3"),  # Sydney (southern hemisphere): 56H LH as on published maps
    (60.0, 5.0, "32VKM"),  # the Norway exception puts this in zone 32 (column K: 277 km east)
    (78.0, 15.0, "33XWG"),  # Svalbard exception: zone 33, on its central meridian (column W = 500 km)
])
def test_known_points(lat: float, lon: float, mgrs: str) -> None:
    assert latlon_to_mgrs(lat, lon).startswith(mgrs)


def test_utm_reference() -> None:
    # 42N 93W lies on the central meridian of zone 15: easting exactly 500 km, northing per the ellipsoid.
    zone, e, n = to_utm(42.0, -93.0)
    assert zone == 15 and abs(e - 500000) < 0.01 and abs(n - 4649776.22) < 0.5


@pytest.mark.parametrize("text", ["15TWG0000049776", "15T WG 00000 49776", "15twg0000049776"])
def test_mgrs_parse(text: str) -> None:
    lat, lon = mgrs_to_latlon(text)
    assert abs(lat - 42.0) < 1e-4 and abs(lon + 93.0) < 1e-4


@given(st.floats(-79.9, 83.9), st.floats(-179.99, 179.99))
@settings(max_examples=300, deadline=None)
def test_round_trip_within_a_metre(lat: float, lon: float) -> None:
    back_lat, back_lon = mgrs_to_latlon(latlon_to_mgrs(lat, lon))
    assert abs(back_lat - lat) < 2e-5
    assert abs((back_lon - lon + 180) % 360 - 180) < 2e-5 / max(0.05, abs(__import__("math").cos(lat * 0.01745)))


@pytest.mark.parametrize(("text", "lat", "lon"), [
    ("33.8886, 35.4955", 33.8886, 35.4955),
    ("-33.8886 -35.4955", -33.8886, -35.4955),
    ("33°53'19\"N 35°29'44\"E", 33.888611, 35.495556),
    ("N 33 53 19, E 35 29 44", 33.888611, 35.495556),
    ("33°53.5′S 151°12′W", -33.891667, -151.2),
    ("-33 51 24, 151 12 55", -33.856667, 151.215278),
])
def test_decimal_and_dms(text: str, lat: float, lon: float) -> None:
    got_lat, got_lon, _how = parse_position(text)
    assert abs(got_lat - lat) < 1e-5 and abs(got_lon - lon) < 1e-5


def test_place_names() -> None:
    lat, lon, name = parse_position("Beirut")
    assert abs(lat - 33.89) < 0.1 and abs(lon - 35.5) < 0.1 and name.startswith("Beirut")
    lat, lon, _ = parse_position("москва")  # alternate names carry other scripts
    assert abs(lat - 55.75) < 0.2


@pytest.mark.parametrize("text", ["", "91, 10", "33 61 00 N 35 00 00 E", "Nowhereville-on-Nothing", "12 N 13 N",
                                  "33ZZZ", "80XVG1234"])
def test_errors(text: str) -> None:
    with pytest.raises(CoordinateError):
        parse_position(text)


def test_polar_refused() -> None:
    with pytest.raises(CoordinateError):
        latlon_to_mgrs(85.0, 10.0)
