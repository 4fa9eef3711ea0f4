"""Derived work after large writes: the hooks' part of a bulk import, done just after it commits.

An item's own rows (the item, its release, tags, full-text entry and audit record) always commit in the writing
transaction. What other features derive from it (the STIX objects TAXII serves, correlation keys and
deconfliction notices) is done by *hooks*. For a small write (an API create, an edit, a bulk request of up to
``derive_inline_max`` objects) every hook runs inside the writing transaction, as before. For a larger batch the
hooks that declare themselves ``deferrable`` are not run there: the batch writes one ``item_derive`` row per item
naming those hooks, in the same transaction, and a deriver runs them shortly after in transactions of its own.

Why: derivation costs far more per item than storing it (name analysis, correlation lookups, STIX mapping), and
doing it inside an import's transactions made a bulk import of 100,000 items take minutes. Persisted in the
store, the queue survives a crash between the commit and the derivation; the deriver removes a row in the same
transaction that writes what it derived, so each item is derived exactly once. An edit of an item still queued
derives the queued version first, in the edit's own transaction, so hooks always see versions in order.

Who runs the deriver: a background thread of every server process (``start``/``stop``, from the app's lifespan;
several processes on PostgreSQL share the queue with ``FOR UPDATE SKIP LOCKED``), and the CLI after an import
(``drain``). Readers never wait for it: until an item is derived it is readable, searchable and listed, and its
STIX object and correlations follow within about a second under normal load (the backlog is exported as the
``accord_derive_backlog`` metric).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, func, select

from accord.storage.bulk import insert_rows
from accord.storage.schema import item_derive

if TYPE_CHECKING:
    from accord.sharing.items import Items

__all__ = ["Deriver"]

log = logging.getLogger("accord.derive")


class Deriver:
    """The queue of derived work and the loop that empties it."""

    def __init__(self, items: Items) -> None:
        self.items = items
        self.db = items.db
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.batch = 100  # items per derivation transaction; adapted to keep each transaction short
        self.target_s = 0.1
        # drain() (the CLI after an import) runs longer transactions: each commit writes the pages of the
        # correlation key index it dirtied, and those keys are random, so fewer commits derive ~15% faster.
        self.drain_target_s = 1.0
        # The deriver waits for this long a pause in this process's writes (a client pushing batches leaves
        # gaps of tens of milliseconds between them, which are not a pause)...
        self.idle_s = 0.3
        self.max_lag_s = 5.0  # ...but not longer than this

    # ----- inside a writer's transaction -----------------------------------------------------------------
    def enqueue(self, conn: Connection, seqs: Sequence[int], hooks: Sequence[str]) -> None:
        names = ",".join(hooks)
        insert_rows(conn, item_derive, ("item_seq", "hooks"), [(s, names) for s in seqs])
        self._wake.set()

    def catch_up(self, conn: Connection, seq: int) -> None:
        """Derive item ``seq`` now if it is still queued (before an edit writes its next version)."""
        q = select(item_derive.c.hooks).where(item_derive.c.item_seq == seq)
        if self.db.dialect != "sqlite":
            q = q.with_for_update()  # waits for a deriver of another process that holds the row, then sees it gone
        row = conn.execute(q).first()
        if row is not None:
            self._derive(conn, [(seq, row.hooks)])

    # ----- the deriver -----------------------------------------------------------------------------------
    def _derive(self, conn: Connection, queued: Sequence[tuple[int, str]]) -> None:
        by_hooks: dict[str, list[int]] = {}
        for seq, names in queued:
            by_hooks.setdefault(names, []).append(seq)
        for names, seqs in by_hooks.items():
            written = self.items.written_from_store(conn, seqs)
            wanted = set(names.split(","))
            for hook in self.items.hooks:
                if getattr(hook, "hook_name", None) in wanted:
                    hook.items_written(conn, None, written)
        seqs = [s for s, _ in queued]
        for start in range(0, len(seqs), 500):
            conn.execute(delete(item_derive).where(item_derive.c.item_seq.in_(seqs[start:start + 500])))

    def run_once(self, target_s: float | None = None) -> int:
        """Derive one batch of queued items in one transaction; returns how many (0 when the queue is empty).
        The batch is adapted so that a transaction takes about ``target_s`` (default ``self.target_s``)."""
        target = self.target_s if target_s is None else target_s
        started = time.perf_counter()
        with self.db.write_background() as conn:
            q = select(item_derive.c.item_seq, item_derive.c.hooks).order_by(item_derive.c.item_seq).limit(self.batch)
            if self.db.dialect != "sqlite":
                q = q.with_for_update(skip_locked=True)  # other server processes take other rows
            queued = [(int(r.item_seq), str(r.hooks)) for r in conn.execute(q)]
            if queued:
                self._derive(conn, queued)
        if queued:
            took = time.perf_counter() - started
            # Keep each transaction near the target so writers waiting for SQLite's lock are not held long.
            if took > 2 * target:
                self.batch = max(10, self.batch // 2)
            elif took < target / 2:
                self.batch = min(2000, self.batch * 2)
        return len(queued)

    def backlog(self) -> int:
        with self.db.read() as conn:
            return int(conn.execute(select(func.count()).select_from(item_derive)).scalar_one())

    def drain(self, progress: Callable[[int], Any] | None = None) -> int:
        """Derive everything queued (the CLI after an import, tests). Returns the number of items derived."""
        done = 0
        while n := self.run_once(self.drain_target_s):
            done += n
            if progress is not None:
                progress(n)
        return done

    def start(self) -> None:
        """Run the deriver in a background thread of this process until ``stop``."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._wake.set()  # whatever an earlier process left queued
        self._thread = threading.Thread(target=self._loop, name="accord-deriver", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            # Another process may have queued work (PostgreSQL): look at least once a second.
            self._wake.wait(1.0)
            self._wake.clear()
            try:
                waiting_since = time.monotonic()
                while not self._stop.is_set():
                    # Background priority: while this process is busy writing (a bulk import arriving in
                    # requests), wait for a pause, but never let queued work wait longer than max_lag_s.
                    now = time.monotonic()
                    if now - self.db.last_write < self.idle_s and now - waiting_since < self.max_lag_s:
                        self._stop.wait(self.idle_s)
                        continue
                    if not self.run_once():
                        break
                    waiting_since = time.monotonic()
            except Exception:  # a fault here must not kill the thread; the rows stay queued and are retried
                log.exception("deriving queued items failed; retrying shortly")
                self._stop.wait(2.0)
