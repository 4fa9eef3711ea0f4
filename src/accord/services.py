"""The service container: built once by ``build_services(settings)``, shared by the HTTP app and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from accord.audit.chain import AuditLog
from accord.config import Settings
from accord.correlation import figures as correlation_figures
from accord.correlation.service import Correlation
from accord.events import EventBus, bus_for
from accord.http.web.store import WebStore
from accord.meetings import Meetings, Statistics
from accord.ops.ratelimit import RateLimiter
from accord.sharing.accounts import Accounts
from accord.sharing.items import Items
from accord.stix.store import StixStore
from accord.stix.taxii import TaxiiService
from accord.storage.database import Database

__all__ = ["Services", "build_services"]


@dataclass
class Services:
    settings: Settings
    db: Database
    audit: AuditLog
    accounts: Accounts
    items: Items
    events: EventBus  # live events: in-process (SQLite) or LISTEN/NOTIFY (PostgreSQL); see accord.events
    ratelimit: RateLimiter  # counters shared by all worker processes; see accord.ops.ratelimit
    stats: Statistics
    meetings: Meetings
    web: WebStore
    stix: StixStore
    taxii: TaxiiService
    correlation: Correlation

    def close(self) -> None:
        self.events.close()
        self.db.dispose()


def build_services(settings: Settings, *, migrate: bool = True) -> Services:
    db = Database(settings)
    if migrate:
        db.migrate()
    audit = AuditLog(db)
    stats = Statistics(db, audit)
    items = Items(db, audit, settings)
    correlation = Correlation(db, audit, settings, items, distance_m=settings.correlation_distance_m,
                              window_hours=settings.correlation_window_hours,
                              noisy_limit=settings.correlation_noisy_limit)
    items.hooks.append(correlation)
    # The "correlated with another member's" figure and the summaries' "most correlated items" highlights.
    correlation_figures.install(stats)
    stix = StixStore(db, audit, settings, items)  # registers itself as an item hook
    if migrate:
        stix.backfill()  # items stored before the STIX store existed
    return Services(settings=settings, db=db, audit=audit, accounts=Accounts(db, audit, settings),
                    items=items, events=bus_for(db.dialect, db.url), ratelimit=RateLimiter(db),
                    stats=stats, meetings=Meetings(db, audit, stats), web=WebStore(db),
                    stix=stix, taxii=TaxiiService(stix), correlation=correlation)
