"""Bulk import with validation in a worker process: the writer stores chunk k while the worker parses and
validates chunk k+1.

A bulk write has two halves (``accord.sharing.items``): ``prepare_items`` (parse, validate, build the rows; pure
CPU, no database) and ``Items.store_prepared`` (one transaction: reference and id checks, inserts, audit, hooks).
In one process they add up; Python's GIL keeps two threads from overlapping them, because SQLite takes the GIL
back after every row. A worker process gives the first half a core of its own, so an import runs at the speed of
the slower half (the store) instead of their sum. The worker gets the raw bytes of each chunk and sends back
plain tuples (no drafts), which cost a few microseconds per item to move between processes. A worker takes about a
second to start (a new interpreter importing Accord): until one has, this process prepares and stores the chunks
itself, so the import never waits for it.

Semantics are those of ``create_many`` per chunk: every object is accepted or rejected on its own, chunks are
stored in order, and a chunk that is not valid JSON stops the import with the line it failed on (the chunks
before it stay committed, as with ``accord import`` before).

Consecutive chunks commit together, in one transaction of at most about ``group_s`` seconds (and
``group_items`` objects), and their results are yielded once it has committed: nothing yielded is ever rolled
back, and a failure rolls back only chunks whose results were not yet given. Why: a commit writes every page the
transaction dirtied, and the indexes on random keys (item ids, audit item ids, times out of order) have most of
their pages dirtied by every chunk of 5,000; committing once a second instead of once a chunk writes them once.
A server writing at the same time waits at most about that long for the lock.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from accord.config import Settings
from accord.errors import FieldError, ValidationFailed
from accord.sharing.items import BulkResult, PreparedBatch, _gc_paused, prepare_items

if TYPE_CHECKING:
    from accord.sharing.handling import Principal
    from accord.sharing.items import Items

__all__ = ["GROUP_ITEMS", "Chunk", "Importer", "json_chunks"]

GROUP_ITEMS = 50_000  # the most objects one import transaction holds (see the module's text)


@dataclass(frozen=True)
class Chunk:
    """Raw objects: a JSON array, or newline-delimited JSON whose first line is line ``first_line`` of ``name``."""

    data: bytes
    ndjson: bool
    name: str = "input"
    first_line: int = 1


def json_chunks(raw: bytes, size: int, name: str = "input") -> Iterator[Chunk]:
    """Split a file's bytes into chunks of ``size`` objects: a JSON array or ``{"items": [...]}`` is parsed here
    and re-serialised per chunk; newline-delimited JSON is split by lines without parsing."""
    stripped = raw.lstrip()
    if stripped[:1] in (b"[", b"{"):
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            data = data.get("items", [data])
        if isinstance(data, list):
            for start in range(0, len(data), size):
                yield Chunk(orjson.dumps(data[start:start + size]), False, name)
            return
    lines = raw.splitlines()
    start = 0
    while start < len(lines):
        yield Chunk(b"\n".join(lines[start:start + size]), True, name, start + 1)
        start += size


def parse_chunk(chunk: Chunk) -> list[Any]:
    if not chunk.ndjson:
        value = orjson.loads(chunk.data)
        return value if isinstance(value, list) else [value]
    out = []
    loads = orjson.loads
    for n, line in enumerate(chunk.data.split(b"\n"), chunk.first_line):
        if line.strip():
            try:
                out.append(loads(line))
            except orjson.JSONDecodeError as exc:
                raise ValidationFailed.one(f"{chunk.name}:{n}", f"not valid JSON ({exc.msg})") from None
    return out


_worker_settings: Settings | None = None


def _init_worker(settings: Settings) -> None:
    global _worker_settings
    _worker_settings = settings


def _ready() -> bool:
    """In the worker: it has started (and imported what `_prepare` needs)."""
    return True


def _prepare(chunk: Chunk, allow_times: bool) -> PreparedBatch | list[tuple[str, str]]:
    """In the worker. A chunk that does not parse comes back as its errors (exceptions do not cross processes
    reliably)."""
    assert _worker_settings is not None
    try:
        with _gc_paused():
            return prepare_items(parse_chunk(chunk), _worker_settings, allow_times=allow_times, keep_drafts=False)
    except ValidationFailed as exc:
        return [(e.field, e.message) for e in exc.errors]


class _Group:
    """Chunks stored in one open write transaction, committed when it is ``max_s`` old or holds ``max_items``."""

    def __init__(self, items: Items, principal: Principal, request_id: str | None, max_s: float,
                 max_items: int) -> None:
        self.items, self.principal, self.request_id = items, principal, request_id
        self.max_s, self.max_items = max_s, max_items
        self._tx: contextlib.ExitStack | None = None
        self._conn: Any = None
        self._results: list[list[BulkResult]] = []
        self._started = 0.0
        self._n = 0

    def store(self, batch: PreparedBatch) -> list[list[BulkResult]]:
        """Store one chunk; returns the results of every chunk committed by this call (often none)."""
        if self._tx is None:
            self._tx = contextlib.ExitStack()
            self._conn = self._tx.enter_context(self.items.db.write())
            self._started, self._n = time.monotonic(), 0
        results = self.items.store_prepared(self.principal, batch, self.request_id, conn=self._conn)
        self._results.append(results)
        self._n += len(results)
        if time.monotonic() - self._started >= self.max_s or self._n >= self.max_items:
            return self.commit()
        return []

    def commit(self) -> list[list[BulkResult]]:
        tx, self._tx, self._conn = self._tx, None, None
        if tx is not None:
            tx.close()
        out, self._results = self._results, []
        return out

    def abort(self) -> None:
        """Roll back what is not committed (its results were never given)."""
        tx, self._tx, self._conn = self._tx, None, None
        self._results = []
        if tx is not None:
            tx.__exit__(RuntimeError, RuntimeError("import stopped"), None)


class Importer:
    """Imports chunks through ``Items.store_prepared``, preparing them in ``workers`` worker processes (0: in
    this process, one after the other), committing consecutive chunks together (see the module's text)."""

    def __init__(self, items: Items, workers: int = 1, *, group_s: float = 1.0,
                 group_items: int = GROUP_ITEMS, start_here: bool = True) -> None:
        self.items = items
        self.workers = workers
        # Prepare chunks in this process until a worker has started (False: wait for one first, so that every
        # chunk after the first goes through the workers; for tests of that path).
        self.start_here = start_here
        self.group_s = group_s
        self.group_items = group_items

    def run(self, principal: Principal, chunks: Iterable[Chunk], request_id: str | None = None, *,
            allow_times: bool = True) -> Iterator[list[BulkResult]]:
        """Yields the results of each chunk, in order, once it has committed."""
        group = _Group(self.items, principal, request_id, self.group_s, self.group_items)
        try:
            yield from self._run(group, principal, iter(chunks), allow_times)
        except ValidationFailed:  # a chunk that is not valid JSON: the chunks before it stay committed
            yield from group.commit()
            raise
        except BaseException:  # including GeneratorExit: the caller stopped reading
            group.abort()
            raise
        yield from group.commit()

    def _run(self, group: _Group, principal: Principal, chunks: Iterator[Chunk],
             allow_times: bool) -> Iterator[list[BulkResult]]:
        settings = self.items.settings

        def here(chunk: Chunk) -> list[list[BulkResult]]:
            with _gc_paused():
                batch = prepare_items(parse_chunk(chunk), settings, allow_times=allow_times)
                return group.store(batch)

        if self.workers <= 0:
            for chunk in chunks:
                yield from here(chunk)
            return
        first = next(chunks, None)
        if first is None:
            return
        # spawn: the worker must not inherit this process's database connections and threads.
        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_init_worker,
                                 initargs=(settings,)) as pool:
            pending: deque[Future[PreparedBatch | list[tuple[str, str]]]] = deque()
            try:
                # A worker takes about a second to start (a new interpreter importing Accord). Until one has,
                # this process prepares and stores the chunks itself, in order; then the workers take the next
                # ones (one chunk ahead each) while this process does the one in hand, and from there on they
                # prepare and this process stores.
                ready = pool.submit(_ready)
                if not self.start_here:
                    ready.result()
                started: Future[bool] | None = ready
                todo: Chunk | None = first
                while todo is not None:
                    if started is not None:
                        if started.done():
                            started = None
                            for ahead in itertools.islice(chunks, self.workers):
                                pending.append(pool.submit(_prepare, ahead, allow_times))
                        yield from here(todo)  # stored before the chunks just handed to the workers
                    else:
                        pending.append(pool.submit(_prepare, todo, allow_times))
                        if len(pending) > self.workers:  # read ahead by one chunk per worker, no further
                            yield from self._store(group, pending.popleft())
                    todo = next(chunks, None)
                while pending:
                    yield from self._store(group, pending.popleft())
            finally:
                for f in pending:
                    f.cancel()

    @staticmethod
    def _store(group: _Group, future: Future[PreparedBatch | list[tuple[str, str]]]) -> list[list[BulkResult]]:
        with _gc_paused():
            batch = future.result()
            if isinstance(batch, list):
                raise ValidationFailed([FieldError(f, m) for f, m in batch])
            return group.store(batch)
