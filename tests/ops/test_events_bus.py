"""The live-event bus: in-process on SQLite, LISTEN/NOTIFY across processes (here: two hubs' services) on
PostgreSQL; delivery only on commit."""

from __future__ import annotations

import asyncio
import threading

import pytest
from starlette.concurrency import run_in_threadpool

from accord.services import build_services


async def test_publish_reaches_subscribers_after_commit(services) -> None:
    bus = services.events
    async with bus.subscribe("alerts") as sub, bus.subscribe("other") as other:
        def write(fail: bool) -> None:
            with services.db.write() as conn:
                bus.publish("alerts", {"n": 1 if not fail else 99}, conn=conn)
                if fail:
                    raise RuntimeError("rolled back")

        with pytest.raises(RuntimeError):
            await run_in_threadpool(write, True)
        await run_in_threadpool(write, False)
        bus.publish("alerts", {"n": 2})
        assert await sub.get(timeout=5) == {"n": 1}
        assert await sub.get(timeout=5) == {"n": 2}
        with pytest.raises(TimeoutError):
            await sub.get(timeout=0.3)
        assert other.qsize() == 0


@pytest.mark.postgres_only("one process shares an in-process bus; crossing processes needs PostgreSQL")
async def test_events_cross_processes_on_postgres(services, settings) -> None:
    second = build_services(settings, migrate=False)  # stands for another worker process: its own bus
    try:
        async with services.events.subscribe("alerts") as sub:
            await run_in_threadpool(second.events.publish, "alerts", {"from": "worker-2"})
            assert await sub.get(timeout=5) == {"from": "worker-2"}
    finally:
        second.close()


def test_bad_channel_and_payload(services) -> None:
    with pytest.raises(ValueError, match="channel"):
        services.events.publish("Bad Channel", {})
    with pytest.raises(ValueError, match="limit"):
        services.events.publish("alerts", {"x": "y" * 9000})


async def test_slow_subscriber_drops_oldest(services) -> None:
    async with services.events.subscribe("feed", maxsize=3) as sub:
        for i in range(6):
            services.events.publish("feed", {"i": i})
        await asyncio.sleep(0.5 if services.db.dialect == "postgresql" else 0.05)
        got = [await sub.get(timeout=2) for _ in range(3)]
    assert got == [{"i": 3}, {"i": 4}, {"i": 5}]


def test_audit_chain_under_concurrent_writers(world) -> None:
    """Threads writing at once (on PostgreSQL: separate connections racing for the head row lock)."""
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(8):
                world.share("alice", content={"title": f"t{n}-{i}", "body": "b"})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    v = world.svc.audit.verify()
    assert v.ok, v
    from accord.sharing.items import ItemFilter

    assert world.svc.items.count(world.p("alice"), ItemFilter()) == 32
