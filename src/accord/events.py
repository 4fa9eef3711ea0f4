"""Live events between the parts of a running hub: a small publish/subscribe bus.

Why two implementations: with SQLite the hub is one process, so an in-process fan-out is all that is needed. With
PostgreSQL several worker processes (on one or more machines) serve the same hub, and an alert raised by a write
in one worker must reach a browser whose live feed is held open by another; PostgreSQL's LISTEN/NOTIFY does that
with no extra server. Both offer the same interface:

    events.publish("alerts", {"alert": 12, "member": "BRAVO"}, conn=conn)   # inside a write transaction
    async with events.subscribe("alerts") as sub:                           # in an async endpoint
        async for message in sub:
            ...

Delivery rules (both backends):
- ``publish(..., conn=conn)`` delivers only if and when that transaction commits (PostgreSQL: NOTIFY is
  transactional; SQLite: queued on the connection and released by its commit). Without ``conn`` it is immediate.
- Payloads are small JSON objects (ids, counts; never item content: subscribers re-read through the policy).
  PostgreSQL limits a notification to 8000 bytes; larger payloads are refused with ValueError.
- At-most-once and best-effort: a subscriber that is not connected when an event is published misses it, and a
  subscriber whose queue is full (``maxsize``) drops the oldest message. Durable state belongs in tables.
- Channel names are lower-case ``[a-z0-9_]`` (they become PostgreSQL identifiers, prefixed ``accord_``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import threading
import weakref
from collections.abc import AsyncIterator
from typing import Any, Protocol

import orjson
from sqlalchemy import Connection, Engine, event, text

__all__ = ["EventBus", "InProcessBus", "PostgresBus", "Subscription", "bus_for"]

log = logging.getLogger("accord.events")
_CHANNEL = re.compile(r"^[a-z0-9_]{1,40}$")
_PENDING = "accord_events_pending"
MAX_PAYLOAD = 7900


def _check(channel: str, payload: dict[str, Any]) -> bytes:
    if not _CHANNEL.match(channel):
        raise ValueError(f"event channel {channel!r} must match [a-z0-9_]{{1,40}}")
    raw = orjson.dumps(payload)
    if len(raw) > MAX_PAYLOAD:
        raise ValueError(f"event payload is {len(raw)} bytes; the limit is {MAX_PAYLOAD}")
    return raw


class Subscription:
    """Messages for one subscriber of one channel. Iterate it asynchronously; close it (or leave its ``async
    with``) to stop receiving."""

    def __init__(self, bus: _LocalFanout, channel: str, maxsize: int) -> None:
        self.channel = channel
        self._bus = bus
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize)

    def _offer(self, message: dict[str, Any]) -> None:
        """Called on the subscriber's event loop."""
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(message)

    async def get(self, timeout: float | None = None) -> dict[str, Any]:
        return await asyncio.wait_for(self._queue.get(), timeout)

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self

    async def __anext__(self) -> dict[str, Any]:
        return await self._queue.get()

    def qsize(self) -> int:
        return self._queue.qsize()

    def close(self) -> None:
        self._bus._remove(self)


class _LocalFanout:
    """Delivers to this process's subscribers, from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, list[Subscription]] = {}

    def _add(self, sub: Subscription) -> None:
        with self._lock:
            self._subs.setdefault(sub.channel, []).append(sub)

    def _remove(self, sub: Subscription) -> None:
        with self._lock:
            subs = self._subs.get(sub.channel, [])
            if sub in subs:
                subs.remove(sub)

    def _deliver(self, channel: str, message: dict[str, Any]) -> None:
        with self._lock:
            subs = list(self._subs.get(channel, []))
        for sub in subs:
            with contextlib.suppress(RuntimeError):  # the subscriber's loop has closed
                sub._loop.call_soon_threadsafe(sub._offer, message)

    def queue_depth(self) -> int:
        """Messages waiting in this process's subscriber queues (exported as a metric)."""
        with self._lock:
            return sum(s.qsize() for subs in self._subs.values() for s in subs)

    def subscriber_count(self) -> int:
        with self._lock:
            return sum(len(subs) for subs in self._subs.values())

    @contextlib.asynccontextmanager
    async def subscribe(self, channel: str, maxsize: int = 1000) -> AsyncIterator[Subscription]:
        _check(channel, {})
        sub = Subscription(self, channel, maxsize)
        self._add(sub)
        await self._started()
        try:
            yield sub
        finally:
            sub.close()

    async def _started(self) -> None:
        return None


class EventBus(Protocol):
    def publish(self, channel: str, payload: dict[str, Any], conn: Connection | None = None) -> None: ...

    def subscribe(self, channel: str, maxsize: int = 1000) -> contextlib.AbstractAsyncContextManager[Subscription]:
        ...

    def queue_depth(self) -> int: ...

    def close(self) -> None: ...


class InProcessBus(_LocalFanout):
    """The embedded store's bus: one process, so publishing is a local fan-out. Events published inside a
    transaction wait on the connection until it commits (dropped on rollback)."""

    def __init__(self) -> None:
        super().__init__()
        self._engines: weakref.WeakSet[Engine] = weakref.WeakSet()

    def publish(self, channel: str, payload: dict[str, Any], conn: Connection | None = None) -> None:
        _check(channel, payload)
        if conn is None or not conn.in_transaction():
            self._deliver(channel, payload)
            return
        self._watch(conn.engine)
        conn.info.setdefault(_PENDING, []).append((channel, payload))

    def _watch(self, engine: Engine) -> None:
        with self._lock:
            if engine in self._engines:
                return
            self._engines.add(engine)
        deliver = self._deliver

        def on_commit(c: Connection) -> None:
            for channel, payload in c.info.pop(_PENDING, []):
                deliver(channel, payload)

        def on_rollback(c: Connection) -> None:
            c.info.pop(_PENDING, None)

        event.listen(engine, "commit", on_commit)
        event.listen(engine, "rollback", on_rollback)

    def close(self) -> None:
        return None


class PostgresBus(_LocalFanout):
    """LISTEN/NOTIFY: ``publish`` issues ``pg_notify`` (in the caller's transaction when given one); a listener
    thread per process holds one extra connection, LISTENs on the channels this process subscribes to, and fans
    each notification out to local subscribers."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url.replace("postgresql+psycopg://", "postgresql://", 1)
        self._engine_url = url
        self._listening: set[str] = set()
        self._wanted: set[str] = set()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._engine: Any = None

    def publish(self, channel: str, payload: dict[str, Any], conn: Connection | None = None) -> None:
        raw = _check(channel, payload).decode()
        stmt = text("SELECT pg_notify(:c, :p)").bindparams(c="accord_" + channel, p=raw)
        if conn is not None:
            conn.execute(stmt)
            return
        if self._engine is None:
            from sqlalchemy import create_engine

            self._engine = create_engine(self._engine_url.replace("postgresql://", "postgresql+psycopg://", 1),
                                         pool_size=1, max_overflow=2)
        with self._engine.begin() as c:
            c.execute(stmt)

    def _add(self, sub: Subscription) -> None:
        super()._add(sub)
        with self._lock:
            self._wanted.add(sub.channel)
            if self._thread is None:
                self._stop.clear()
                self._thread = threading.Thread(target=self._listen, name="accord-events", daemon=True)
                self._thread.start()

    async def _started(self) -> None:
        # Wait (briefly) until the LISTEN is in place, so an event published right after subscribing arrives.
        for _ in range(200):
            with self._lock:
                if self._wanted <= self._listening:
                    return
            await asyncio.sleep(0.01)

    def _listen(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True) as pg:
                    with self._lock:
                        self._listening = set()
                    while not self._stop.is_set():
                        with self._lock:
                            missing = self._wanted - self._listening
                        for ch in sorted(missing):
                            pg.execute(f'LISTEN "accord_{ch}"')
                            with self._lock:
                                self._listening.add(ch)
                        for note in pg.notifies(timeout=0.2):
                            try:
                                payload = orjson.loads(note.payload)
                            except orjson.JSONDecodeError:
                                continue
                            self._deliver(note.channel.removeprefix("accord_"), payload)
            except psycopg.Error as exc:
                log.warning("event listener lost its connection (%s); reconnecting", exc)
                self._stop.wait(1.0)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None
        if self._engine is not None:
            self._engine.dispose()


def bus_for(dialect: str, url: str) -> InProcessBus | PostgresBus:
    return InProcessBus() if dialect == "sqlite" else PostgresBus(url)
