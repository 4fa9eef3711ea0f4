"""Prometheus metrics at ``/metrics``.

What is measured and where the number comes from:
- ``accord_http_request_duration_seconds{method,route,status}``: every HTTP request, labelled by the route
  *template* (``/api/v1/items/{item_id}``), never the raw path, so ids cannot explode the series count;
- ``accord_http_requests_in_flight``: requests being served now (the server's queue depth);
- ``accord_items_written_total{kind,op}``: items stored (op=create) and new versions (op=version), counted by an
  ItemHook inside the write transaction (a write that then rolls back is still counted: a rate, not a ledger);
- ``accord_db_connections_in_use``: pooled database connections checked out (the database queue);
- ``accord_event_queue_depth``: live-event messages waiting for slow subscribers;
- ``accord_alert_latency_seconds``: from an item's write to its alert's delivery; the alerts feature reports
  each delivery with ``observe_alert_latency`` (no observations until that feature records them).

With several worker processes each keeps its own counters; ``accord serve --workers N`` sets
``PROMETHEUS_MULTIPROC_DIR`` so that a scrape of any worker returns the sum over all of them.
"""

from __future__ import annotations

import collections
import os
import weakref
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import Connection

from accord.sharing.handling import Principal
from accord.sharing.items import WrittenItem

__all__ = ["Metrics", "observe_alert_latency"]

_LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_live: weakref.WeakSet[Metrics] = weakref.WeakSet()


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class Metrics:
    """One set of metrics per application; ``registry`` is private to it so tests can build many apps."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.request_seconds = Histogram("accord_http_request_duration_seconds", "HTTP request latency",
                                         ("method", "route", "status"), buckets=_LATENCY_BUCKETS, registry=r)
        self.in_flight = Gauge("accord_http_requests_in_flight", "HTTP requests being served",
                               registry=r, multiprocess_mode="livesum")
        self.items_counter = Counter("accord_items_written", "Items stored (create) and new versions (version)",
                                     ("kind", "op"), registry=r)
        self.db_in_use = Gauge("accord_db_connections_in_use", "Database connections checked out of the pool",
                               registry=r, multiprocess_mode="livesum")
        self.event_queue = Gauge("accord_event_queue_depth", "Live-event messages waiting for subscribers",
                                 registry=r, multiprocess_mode="livesum")
        self.derive_backlog = Gauge("accord_derive_backlog", "Items whose STIX and correlation work is queued "
                                    "(accord.sharing.derived)", registry=r, multiprocess_mode="max")
        self.alert_latency = Histogram("accord_alert_latency_seconds", "From an item's write to its alert",
                                       buckets=_LATENCY_BUCKETS, registry=r)
        _live.add(self)

    # An ItemHook: counts what the Items service writes.
    def items_written(self, conn: Connection, principal: Principal, written: list[WrittenItem]) -> None:
        # One labels().inc() per (kind, op), not per item: each takes the metric's lock (bulk writes).
        counts = collections.Counter((w.kind, "create" if w.version == 1 else "version") for w in written)
        for (kind, op), n in counts.items():
            self.items_counter.labels(kind, op).inc(n)

    def render(self, *, db_in_use: int, event_queue: int, derive_backlog: int = 0) -> tuple[bytes, str]:
        self.db_in_use.set(db_in_use)
        self.event_queue.set(event_queue)
        self.derive_backlog.set(derive_backlog)
        path = multiprocess_dir()
        if path:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
            return generate_latest(registry), "text/plain; version=0.0.4; charset=utf-8"
        return generate_latest(self.registry), "text/plain; version=0.0.4; charset=utf-8"


def observe_alert_latency(seconds: float) -> None:
    """Record one alert's delivery latency (called by the alerts feature)."""
    for m in list(_live):
        m.alert_latency.observe(seconds)


def pool_in_use(db: Any) -> int:
    try:
        n = int(db.writer.pool.checkedout())
        if db.reader is not db.writer:
            n += int(db.reader.pool.checkedout())
        return n
    except (AttributeError, TypeError):
        return 0
