"""Rate limits shared by every worker process: fixed-window counters in the database.

Why the database: with several workers (and machines) a per-process counter lets a client multiply its allowance
by the number of processes; a row per key, incremented with one atomic upsert, is exact across all of them and
needs no extra server. Each hit is one small write, so limit what is expensive or sensitive (logins, token
creation, bulk ingest), not every read.

    decision = services.ratelimit.hit(f"login:{username}", limit=10, period=60)
    if not decision.allowed:
        ...  # answer 429 with Retry-After: decision.retry_after
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import case, delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from accord.ops.tables import rate_limits
from accord.storage.database import Database

__all__ = ["RateDecision", "RateLimiter"]


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    hits: int  # in the current window, this one included
    retry_after: int  # seconds until the window resets (0 when allowed)


class RateLimiter:
    def __init__(self, db: Database) -> None:
        self.db = db

    def hit(self, key: str, limit: int, period: int, now: float | None = None) -> RateDecision:
        """Count one hit against ``key``; allowed while the window holds at most ``limit`` hits."""
        t = int(time.time() if now is None else now)
        window = t - t % period
        insert = (pg_insert if self.db.dialect == "postgresql" else sqlite_insert)(rate_limits)
        stmt = insert.values(key=key[:200], window_start=window, hits=1)
        same = rate_limits.c.window_start == stmt.excluded.window_start
        upsert = stmt.on_conflict_do_update(
            index_elements=[rate_limits.c.key],
            set_={"hits": case((same, rate_limits.c.hits + 1), else_=1),
                  "window_start": stmt.excluded.window_start},
        ).returning(rate_limits.c.hits)
        with self.db.write() as conn:
            hits = int(conn.execute(upsert).scalar_one())
        if hits <= limit:
            return RateDecision(True, hits, 0)
        return RateDecision(False, hits, window + period - t)

    def purge(self, older_than: int = 86_400, now: float | None = None) -> int:
        """Drop counters whose window ended long ago (run now and then; they are also overwritten on reuse)."""
        t = int(time.time() if now is None else now)
        with self.db.write() as conn:
            return int(conn.execute(delete(rate_limits).where(rate_limits.c.window_start < t - older_than)).rowcount)
