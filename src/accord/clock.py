"""UTC timestamps in the one format Accord stores: ISO 8601, millisecond precision, ``Z`` suffix."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["format_ts", "format_ts_us", "now", "parse_ts", "utcnow"]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime) -> datetime:
    return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).astimezone(UTC)


def format_ts(value: datetime) -> str:
    """The stored form. The year is written with four digits whatever the platform's strftime does (glibc
    writes the year 500 as "500", which sorts after "2025"): stored times compare as text."""
    v = _utc(value)
    return (f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}."
            f"{v.microsecond // 1000:03d}Z")


def format_ts_us(value: datetime) -> str:
    """As ``format_ts``, with microseconds (STIX version keys)."""
    v = _utc(value)
    return f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}.{v.microsecond:06d}Z"


def now() -> str:
    return format_ts(utcnow())


def parse_ts(text: str) -> datetime:
    """Parse an RFC 3339 timestamp; naive values are taken as UTC. Raises ValueError."""
    if not isinstance(text, str) or len(text) < 10:
        raise ValueError("not a timestamp")
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00: callers only handle ValueError
        raise ValueError("timestamp out of range") from None


def later_than(previous: str) -> str:
    """Now, or one millisecond after ``previous`` if the clock has not moved past it (STIX ``modified``
    must strictly increase between versions)."""
    current = now()
    if current > previous:
        return current
    return format_ts(parse_ts(previous) + timedelta(milliseconds=1))
