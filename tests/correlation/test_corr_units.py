"""Pure parts of correlation: identifiers, names and cells never fail on any input (a failing hook would roll
back the item's write), and known spellings meet."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from accord.correlation.identifiers import canonical, extract
from accord.correlation.names import analyse, best_score, blocking_keys
from accord.correlation.places import cell_keys, neighbour_keys

TYPES = ("phone", "email", "vehicle-plate", "document", "crypto", "url")


@settings(max_examples=150, deadline=None)
@given(kind=st.sampled_from(TYPES), value=st.text(max_size=60))
def test_canonical_never_raises(kind: str, value: str) -> None:
    out = canonical(kind, value)
    assert out is None or isinstance(out, str)
    extract(value)


@settings(max_examples=150, deadline=None)
@given(name=st.text(max_size=40))
def test_analyse_never_raises(name: str) -> None:
    f = analyse(name)
    blocking_keys(f)
    score, _, _ = best_score([f], [analyse("Abu Bakr")])
    assert 0.0 <= score <= 1.0


def test_known_spellings() -> None:
    assert canonical("phone", "+44 (0)20 7946-0958") == canonical("phone", "0044 20 7946 0958") == "+442079460958"
    assert canonical("email", "Mailto:J.Doe+tag@Example.ORG") == "j.doe@example.org"
    assert canonical("url", "HTTPS://Example.com:443/a/") == canonical("url", "http://example.com/a")
    assert canonical("vehicle-plate", "ab-123 cd") == "AB123CD"
    eth = "0xAbCdEf0123456789abcdef0123456789ABCDEF01"
    assert canonical("crypto", eth) == eth.lower()
    q = analyse("Abu Bakr al-Baghdadi")
    for other in ("أبو بكر البغدادي", "Абу Бакр аль-Багдади", "Abou Bakr al-Baghdadi", "al-Baghdadi, Abu Bakr"):
        assert best_score([q], [analyse(other)])[0] >= 0.85, other
    assert best_score([q], [analyse("Jean Dupont")])[0] < 0.6


def test_cells_cover_the_distance() -> None:
    near = neighbour_keys(33.3, 44.4, "2026-01-01T00:00:00.000Z", None, 500, 48 * 3600)
    assert set(cell_keys(33.3040, 44.4, "2026-01-02T23:00:00.000Z", None)) <= set(near)
    assert len(cell_keys(1, 2, "2026-01-01T00:00:00.000Z", "2027-01-01T00:00:00.000Z")) == 32
