"""The audit chain's group commit: concurrent record() calls share transactions, every record lands exactly once,
the chain verifies, and a failed transaction fails each caller whose records it held."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from accord.audit.chain import AuditEvent
from accord.storage.schema import audit_log


def test_concurrent_records_all_land_once(services) -> None:
    audit = services.audit
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda i: audit.record(AuditEvent("test.read", item_id=f"x--{i}"),
                                             AuditEvent("test.read2", item_id=f"y--{i}")), range(200)))
    with services.db.read() as conn:
        ids = conn.execute(select(audit_log.c.item_id).where(audit_log.c.action.like("test.%"))).scalars().all()
        transactions = conn.execute(select(func.count(func.distinct(audit_log.c.at)))).scalar_one()
    assert sorted(ids) == sorted([f"x--{i}" for i in range(200)] + [f"y--{i}" for i in range(200)])
    assert services.audit.verify().ok
    assert transactions >= 1


def test_a_failed_batch_fails_its_callers_and_the_next_batch_proceeds(services, monkeypatch) -> None:
    audit = services.audit
    real = audit.append
    gate = threading.Event()
    calls = {"n": 0}

    def flaky(conn, events):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            gate.wait(5)  # hold the first batch so that others queue behind it
            raise RuntimeError("disk full")
        return real(conn, events)

    monkeypatch.setattr(audit, "append", flaky)
    errors: list[BaseException] = []

    def call(i: int) -> None:
        try:
            audit.record(AuditEvent("test.read", item_id=f"z--{i}"))
        except RuntimeError as exc:
            errors.append(exc)

    first = threading.Thread(target=call, args=(0,))
    first.start()
    while calls["n"] == 0:
        pass
    others = [threading.Thread(target=call, args=(i,)) for i in range(1, 6)]
    for t in others:
        t.start()
    gate.set()
    for t in [first, *others]:
        t.join(10)
    assert len(errors) == 1  # only the first transaction failed; the queued callers were written together after
    with services.db.read() as conn:
        n = conn.execute(select(func.count()).select_from(audit_log).where(audit_log.c.action == "test.read")
                         ).scalar_one()
    assert n == 5 and services.audit.verify().ok
    assert str(errors[0]) == "disk full"
