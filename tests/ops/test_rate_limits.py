"""Shared rate limits: exact across independent service instances (as separate worker processes would be)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from accord.services import build_services


def test_fixed_window(services) -> None:
    rl = services.ratelimit
    decisions = [rl.hit("login:alice", limit=3, period=60, now=1000) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[-1].hits == 4 and decisions[-1].retry_after == 1020 - 1000
    assert rl.hit("login:bob", limit=3, period=60, now=1000).allowed  # keys are independent
    assert rl.hit("login:alice", limit=3, period=60, now=1021).hits == 1  # a new window starts over
    assert rl.purge(older_than=10, now=5000) == 2


def test_shared_between_workers(services, settings) -> None:
    other = build_services(settings, migrate=False)
    try:
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(lambda i: (services if i % 2 else other).ratelimit.hit(
                "api:token:1", limit=15, period=3600, now=7200), range(20)))
    finally:
        other.close()
    assert sorted(r.hits for r in results) == list(range(1, 21))
    assert sum(r.allowed for r in results) == 15
