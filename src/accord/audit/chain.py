"""The audit trail: append-only and hash-chained.

Each record's hash is SHA-256 over the previous record's hash and the record's own canonical JSON, so altering a
record breaks its hash, removing one breaks the next record's link (and the sequence), and reordering breaks both.
``verify`` walks the chain in sequence order and names the first record that fails.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, select, update

from accord import clock
from accord.storage.bulk import insert_rows
from accord.storage.database import Database
from accord.storage.schema import audit_head, audit_log

__all__ = ["AuditEvent", "AuditLog", "Verification", "filtered", "record_hash"]


def filtered(q: Any, *, member: str | None, action: str | None, limit: int, before: int | None) -> Any:
    """``q`` (a select over ``audit_log``) newest first, with the filters every listing of records shares."""
    q = q.order_by(audit_log.c.seq.desc()).limit(limit)
    if member:
        q = q.where(audit_log.c.member == member)
    if action:
        q = q.where(audit_log.c.action == action)
    if before:
        q = q.where(audit_log.c.seq < before)
    return q

GENESIS = "0" * 64
_COLUMNS = ("seq", "at", "request_id", "user_id", "member", "action", "item_id", "detail", "prev_hash", "hash")


@dataclass(frozen=True)
class AuditEvent:
    action: str
    user_id: int | None = None
    member: str | None = None
    item_id: str | None = None
    request_id: str | None = None
    detail: dict[str, Any] | None = None


def record_hash(prev_hash: str, seq: int, at: str, request_id: str | None, user_id: int | None,
                member: str | None, action: str, item_id: str | None, detail: str) -> str:
    payload = orjson.dumps([seq, at, request_id, user_id, member, action, item_id, detail])
    return hashlib.sha256(prev_hash.encode() + payload).hexdigest()


@dataclass(frozen=True)
class Verification:
    ok: bool
    records: int
    first_bad_seq: int | None = None
    reason: str = ""


class _Waiter:
    __slots__ = ("done", "error", "lead")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.lead = False


class AuditLog:
    def __init__(self, db: Database) -> None:
        self.db = db
        # Group commit for record(): see there.
        self._lock = threading.Lock()
        self._pending: list[tuple[list[AuditEvent], _Waiter]] = []
        self._leading = False

    def append(self, conn: Connection, events: Iterable[AuditEvent]) -> None:
        """Append inside the caller's write transaction, so the records commit or vanish with the change."""
        events = list(events)
        if not events:
            return
        # FOR UPDATE locks the head row on PostgreSQL; SQLite's BEGIN IMMEDIATE already holds the write lock.
        head = conn.execute(
            select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1).with_for_update()).one()
        seq, prev = int(head.seq), str(head.hash)
        at = clock.now()
        rows = []
        dumps, sort_keys, sha256 = orjson.dumps, orjson.OPT_SORT_KEYS, hashlib.sha256
        # Bulk writes share one detail dict among their events (one per kind): serialised once each.
        detail_of: dict[int, str] = {}
        for ev in events:
            seq += 1
            detail = detail_of.get(id(ev.detail))
            if detail is None:
                detail = detail_of[id(ev.detail)] = dumps(ev.detail or {}, option=sort_keys).decode()
            # Inlined record_hash (the ingest hot path); verify() recomputes with record_hash itself.
            payload = dumps([seq, at, ev.request_id, ev.user_id, ev.member, ev.action, ev.item_id, detail])
            h = sha256(prev.encode() + payload).hexdigest()
            rows.append((seq, at, ev.request_id, ev.user_id, ev.member, ev.action, ev.item_id, detail, prev, h))
            prev = h
        insert_rows(conn, audit_log, _COLUMNS, rows)
        conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=prev))

    def record(self, *events: AuditEvent) -> None:
        """Append in a transaction of its own, returning once it has committed.

        Group commit: every append holds the chain's head (a row lock on PostgreSQL, the write lock on SQLite)
        until its commit has reached the disk, so one transaction per audited read would cap the whole hub at one
        fsync per read. Callers that arrive while a write is in flight queue up; the next of them writes
        everything queued in one transaction and wakes the others. Each caller still returns only after its
        records are durable, and a failed transaction fails every caller whose records it held."""
        me = _Waiter()
        with self._lock:
            self._pending.append((list(events), me))
            lead = not self._leading
            self._leading = True
        if not lead:
            me.done.wait()
            if not me.lead:
                if me.error is not None:
                    raise me.error
                return
        with self._lock:
            batch, self._pending = self._pending, []
        error: BaseException | None = None
        try:
            with self.db.write() as conn:
                self.append(conn, [ev for evs, _ in batch for ev in evs])
        except BaseException as exc:
            error = exc
        for _, w in batch:
            if w is not me:
                w.error = error
                w.done.set()
        with self._lock:
            if self._pending:  # leadership passes to the first caller that queued meanwhile
                nxt = self._pending[0][1]
                nxt.lead = True
                nxt.done.set()
            else:
                self._leading = False
        if error is not None:
            raise error

    def verify(self, batch: int = 10_000) -> Verification:
        expected_prev, expected_seq, count = GENESIS, 1, 0
        with self.db.read() as conn:
            last = 0
            while True:
                rows = conn.execute(
                    select(audit_log).where(audit_log.c.seq > last).order_by(audit_log.c.seq).limit(batch)
                ).all()
                if not rows:
                    break
                for r in rows:
                    if r.seq != expected_seq:
                        return Verification(False, count, r.seq, f"expected record {expected_seq}, found {r.seq}: "
                                            "a record was removed or reordered")
                    if r.prev_hash != expected_prev:
                        return Verification(False, count, r.seq, "does not link to the previous record")
                    h = record_hash(r.prev_hash, r.seq, r.at, r.request_id, r.user_id, r.member, r.action,
                                    r.item_id, r.detail)
                    if h != r.hash:
                        return Verification(False, count, r.seq, "content does not match its hash: altered")
                    expected_prev, expected_seq, count = r.hash, r.seq + 1, count + 1
                last = rows[-1].seq
            head = conn.execute(select(audit_head.c.seq, audit_head.c.hash)).one()
            if head.seq != expected_seq - 1 or head.hash != expected_prev:
                return Verification(False, count, expected_seq, "the chain ends before its recorded head: "
                                    "records were removed from the end")
        return Verification(True, count)

    def search(self, conn: Connection, *, member: str | None = None, action: str | None = None,
               item_id: str | None = None, limit: int = 100, before: int | None = None) -> list[dict[str, Any]]:
        """Records as stored, with no access policy: for the chain's own checks and tests. What a person reads
        goes through ``accord.audit.listing``, which withholds what names items the reader may not see."""
        q = filtered(select(audit_log), member=member, action=action, limit=limit, before=before)
        if item_id:
            q = q.where(audit_log.c.item_id == item_id)
        return [r._asdict() for r in conn.execute(q)]
