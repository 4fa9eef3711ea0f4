"""Failed logins arriving at once (as from several workers) all count towards the lock-out."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from accord.errors import AuthenticationFailed
from accord.services import build_services
from accord.storage.schema import users
from conftest import World


def test_concurrent_failures_all_count(world: World, settings) -> None:
    others = [build_services(settings, migrate=False) for _ in range(3)]  # stand-ins for other workers
    svcs = [world.svc, *others]

    def attempt(i: int) -> None:
        with pytest.raises(AuthenticationFailed):
            svcs[i % len(svcs)].accounts.login("bob", "wrong-password")

    try:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(attempt, range(settings.login_max_failures - 1)))
        with world.svc.db.read() as conn:
            failed = conn.execute(select(users.c.failed_logins).where(users.c.username == "bob")).scalar_one()
        assert failed == settings.login_max_failures - 1
        attempt(0)  # the last allowed failure locks the account
        with pytest.raises(AuthenticationFailed):
            world.svc.accounts.login("bob", "password-bob")
    finally:
        for s in others:
            s.close()
