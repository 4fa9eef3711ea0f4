"""The service container: built once by ``build_services(settings)``, shared by the HTTP app and the CLI."""

from __future__ import annotations

from dataclasses import dataclass

from accord.audit.chain import AuditLog
from accord.config import Settings
from accord.correlation.service import Correlation
from accord.sharing.accounts import Accounts
from accord.sharing.items import Items
from accord.storage.database import Database

__all__ = ["Services", "build_services"]


@dataclass
class Services:
    settings: Settings
    db: Database
    audit: AuditLog
    accounts: Accounts
    items: Items
    correlation: Correlation

    def close(self) -> None:
        self.db.dispose()


def build_services(settings: Settings, *, migrate: bool = True) -> Services:
    db = Database(settings)
    if migrate:
        db.migrate()
    audit = AuditLog(db)
    items = Items(db, audit, settings)
    correlation = Correlation(db, audit, settings, items, distance_m=settings.correlation_distance_m,
                              window_hours=settings.correlation_window_hours,
                              noisy_limit=settings.correlation_noisy_limit)
    items.hooks.append(correlation)
    return Services(settings=settings, db=db, audit=audit, accounts=Accounts(db, audit, settings),
                    items=items, correlation=correlation)
