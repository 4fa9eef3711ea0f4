"""Tables of the operations package."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table

from accord.storage.schema import metadata

__all__ = ["rate_limits"]

# One row per limited key (e.g. "login:alice", "api:token:12"): the current fixed window and the hits in it.
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("window_start", BigInteger, nullable=False),  # start of the window, in seconds since the epoch
    Column("hits", Integer, nullable=False),
)
