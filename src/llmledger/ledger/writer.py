"""The single writer: a thread that commits queued writes together (group commit).

The gateway's event loop never blocks on the database: it queues a write and, when it
must know the outcome (a reservation, which has to be durable before the call goes
upstream), awaits it. Writes queued while a transaction runs are committed together in
the next one. A write that fails is retried alone so it cannot sink its batch-mates.

When the store cannot be reached, a batch is not split (each retry would wait for the
same timeout): writes someone awaits fail at once with `WriteFailed` (``unreachable``),
and writes nobody awaits (settlements) are kept and retried for ``retry_for_s`` seconds.

With a `Journal` (``store.unreachable = "fail_open"``), an awaited write that carries a
journal record (a reservation) is appended to the journal instead, one fsync per batch,
and answered `Journaled`; while the store stays unreachable such writes go to the journal
directly, and the settlements of journaled calls always do. A probe (`Store.ping`) every
``probe_s`` notices the store's return, and the journal is then replayed into it.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection
from sqlalchemy import exc as sa_exc

from llmledger.ledger.journal import Journal, Journaled, Record
from llmledger.ledger.store import Store
from llmledger.ops.thread_names import name_this_thread

T = TypeVar("T")
log = logging.getLogger("llmledger.writer")


#: Writes many items of one kind at once; returns one result per item, in order.
WriteMany = Callable[[Connection, list[Any]], list[Any]]


@dataclass(slots=True)
class _Job(Generic[T]):
    op: Callable[[Connection], T] | None
    future: asyncio.Future[T] | None
    loop: asyncio.AbstractEventLoop | None
    many: WriteMany | None = None
    item: Any = None
    #: When the store was first found unreachable for this write (monotonic seconds).
    failing_since: float | None = None
    #: What to append to the journal if the store cannot take this write (fail_open);
    #: a job with neither `op` nor `many` only appends it.
    journal: Record | None = None
    #: Called on the writer thread with the result, once committed (nowait writes).
    then: Callable[[Any], None] | None = None
    #: Committed ahead of the other writes of its batch (a call waits for it).
    urgent: bool = False


_STOP = object()


class LedgerWriter:
    """Owns all writes of one process. `start` it, `submit` writes, `close` to drain."""

    def __init__(
        self,
        store: Store,
        *,
        max_batch: int = 512,
        retry_for_s: float = 120.0,
        journal: Journal | None = None,
        probe_s: float = 1.0,
        linger_s: float = 0.0,
    ) -> None:
        self.store = store
        #: The fail_open journal; None: fail closed.
        self.journal = journal
        self.probe_s = probe_s
        self._next_probe = 0.0
        #: Reservations written to the journal by this process (cumulative).
        self.journaled = 0
        self.max_batch = max_batch
        #: How long a batch nobody awaits (settlements) waits for more writes.
        self.linger_s = linger_s
        self.retry_for_s = retry_for_s
        #: Writes nobody awaits, kept while the store is unreachable: (due, job).
        self._retry: list[tuple[float, _Job[Any]]] = []
        #: True from a failure to reach the store until the next successful commit.
        self.unreachable = False
        self.dropped = 0
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="llmledger-writer", daemon=True)
        self._pending = 0
        self._lock = threading.Lock()
        self.failures = 0

    def start(self) -> None:
        self._thread.start()

    @property
    def depth(self) -> int:
        """Writes queued and not yet committed."""
        return self._pending

    @property
    def retrying(self) -> int:
        """Writes kept for retry while the store is unreachable."""
        return len(self._retry)

    async def submit(self, op: Callable[[Connection], T]) -> T:
        """Queue `op` and wait until its transaction has committed; returns its result."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._put(_Job(op, future, loop))
        return await future

    async def flush(self) -> None:
        """Wait until every write queued before this call has committed."""
        await self.submit(_noop)

    def submit_nowait(self, op: Callable[[Connection], Any]) -> None:
        """Queue `op` without waiting (errors are logged)."""
        self._put(_Job(op, None, None))

    async def submit_many(
        self, many: WriteMany, item: Any, *, journal: Record | None = None, urgent: bool = False
    ) -> Any:
        """Queue `item` to be written by ``many(conn, items)`` together with the other
        items queued for the same `many` in the same transaction (one executemany
        instead of a statement each); waits for the commit and returns its result.

        With a `journal` record and a journal (fail_open), a store that cannot be reached
        makes the record appended (fsynced) instead, and the result is `Journaled`.

        An `urgent` write (a reservation, which a call waits for before going upstream)
        is committed in a transaction of its own ahead of the non-urgent writes queued
        with it (settlements, which nobody waits for)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._put(_Job(None, future, loop, many, item, journal=journal, urgent=urgent))
        return await future

    def is_journaled(self, event_id: str) -> bool:
        """True when `event_id`'s reservation is in the journal, not yet settled."""
        return self.journal is not None and self.journal.is_open(event_id)

    def journal_nowait(self, record: Record) -> None:
        """Append `record` (a journaled call's settlement) to the journal, not waiting."""
        self._put(_Job(None, None, None, journal=record))

    def submit_many_nowait(
        self, many: WriteMany, item: Any, *, then: Callable[[Any], None] | None = None
    ) -> None:
        """`submit_many` without waiting (errors are logged); `then` is called on the
        writer thread with the item's result once its transaction has committed."""
        self._put(_Job(None, None, None, many, item, then=then))

    def _put(self, job: _Job[Any]) -> None:
        with self._lock:
            self._pending += 1
        self._queue.put(job)

    def close(self, timeout: float | None = 30) -> None:
        """Commit everything queued, then stop the thread."""
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)

    def _run(self) -> None:
        name_this_thread(self._thread.name)
        stopping = False
        while not stopping:
            due = self._due_retries()
            self._probe()
            try:
                first = self._queue.get(timeout=0.25 if self._retry or self._probing else None)
            except queue.Empty:
                first = None
            if first is _STOP:
                stopping = True
                first = None
            batch = due + ([first] if first is not None else [])
            if not batch:
                continue
            awaited = any(job.future is not None for job in batch)
            deadline = time.monotonic() + self.linger_s
            while not stopping and len(batch) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    # Nobody waits for this batch: gather more for a moment (fewer,
                    # larger commits); a write someone awaits ends the wait at once.
                    left = deadline - time.monotonic()
                    if awaited or left <= 0:
                        break
                    try:
                        nxt = self._queue.get(timeout=left)
                    except queue.Empty:
                        break
                if nxt is _STOP:
                    stopping = True
                    break
                batch.append(nxt)
                awaited = awaited or nxt.future is not None
            self._write(batch)
            with self._lock:
                self._pending -= len(batch) - len(due)
        leftover, self._retry = self._retry, []
        for _, job in leftover:  # stopping: one last attempt each
            self._write([job])
        if self.journal is not None:
            self._next_probe = 0.0
            self._probe()  # stopping: replay what the store can take now
            self.journal.close()

    @property
    def _probing(self) -> bool:
        return self.journal is not None and (self.unreachable or self.journal.wants_replay)

    def _probe(self) -> None:
        """Every `probe_s` while the store is away or the journal holds records: ping the
        store; when it answers, replay the journal into it."""
        journal = self.journal
        if journal is None or not self._probing or time.monotonic() < self._next_probe:
            return
        self._next_probe = time.monotonic() + self.probe_s
        try:
            self.store.ping()
        except Exception as exc:
            if not self.unreachable:
                log.error("the store is unreachable: %s", type(exc).__name__)
            self.unreachable = True
            return
        if self.unreachable:
            log.warning("the store is reachable again")
        self.unreachable = False
        if journal.wants_replay:
            try:
                journal.replay(self.store)
            except Exception:  # the store went away again, mid-replay: the next probe
                log.exception("journal replay failed; it will be tried again")

    def _write(self, batch: list[_Job[Any]]) -> None:
        """Journal what must be journaled, commit the rest."""
        if self.journal is None:
            self._commit_urgent_first(batch)
            return
        direct: list[_Job[Any]] = []
        rest: list[_Job[Any]] = []
        for job in batch:
            only_journal = job.op is None and job.many is None
            if job.journal is not None and (only_journal or self.unreachable):
                direct.append(job)
            else:
                rest.append(job)
        if direct:
            self._append(direct)
        if rest:
            self._commit_urgent_first(rest)

    def _commit_urgent_first(self, batch: list[_Job[Any]]) -> None:
        urgent = [job for job in batch if job.urgent]
        if urgent and len(urgent) < len(batch):
            self._commit(urgent)
            self._commit([job for job in batch if not job.urgent])
        else:
            self._commit(batch)

    def _append(self, jobs: list[_Job[Any]]) -> None:
        assert self.journal is not None
        try:
            self.journal.append([job.journal for job in jobs if job.journal is not None])
        except OSError:
            self.failures += 1
            log.exception("the fail_open journal could not be written")
            for job in jobs:
                if job.future is None:
                    self.dropped += 1
                self._deliver_error(job, unreachable=True)
            return
        reservations = sum(1 for job in jobs if job.future is not None)
        if reservations and not self.journaled:
            log.error("failing open: calls are journaled and forwarded, budgets not enforced")
        self.journaled += reservations
        self._deliver_results(jobs, [Journaled()] * len(jobs))

    def _due_retries(self) -> list[_Job[Any]]:
        if not self._retry:
            return []
        now = time.monotonic()
        due = [job for at, job in self._retry if at <= now]
        self._retry = [(at, job) for at, job in self._retry if at > now]
        return due

    def _keep_or_fail(self, batch: list[_Job[Any]]) -> None:
        """The store is unreachable: fail the awaited writes, keep the others."""
        now = time.monotonic()
        journaled: list[_Job[Any]] = []
        for job in batch:
            if job.future is not None and job.journal is not None and self.journal is not None:
                journaled.append(job)
                continue
            if job.future is not None:
                self._deliver_error(job, unreachable=True)
                continue
            if job.failing_since is None:
                job.failing_since = now
            if now - job.failing_since < self.retry_for_s:
                self._retry.append((now + 1.0, job))
            else:
                self.dropped += 1
                log.error("ledger write dropped after %.0fs of store outage", self.retry_for_s)
        if journaled:
            self._append(journaled)

    def _commit(self, batch: list[_Job[Any]]) -> None:
        try:
            with self.store.write() as conn:
                results = _run(conn, batch)
        except Exception as exc:
            if _is_unreachable(exc, self.store.dialect):
                if not self.unreachable:
                    log.error("the store is unreachable: %s", type(exc).__name__)
                self.unreachable = True
                self.failures += 1
                self._keep_or_fail(batch)
                return
            if len(batch) == 1:
                self.failures += 1
                log.exception("ledger write failed")
                self._deliver_error(batch[0])
                return
            for job in batch:  # retry alone: one bad write must not fail the others
                self._commit([job])
            return
        if self.unreachable:
            log.warning("the store is reachable again")
        self.unreachable = False
        self._deliver_results(batch, results)

    @staticmethod
    def _deliver_results(batch: list[_Job[Any]], results: list[Any]) -> None:
        # One wake-up per event loop for the whole batch, not one per waiting write.
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any]]] = {}
        for job, result in zip(batch, results, strict=True):
            if job.then is not None:
                try:
                    job.then(result)
                except Exception:
                    log.exception("a post-commit callback failed")
            if job.future is not None and job.loop is not None:
                by_loop.setdefault(job.loop, []).append((job.future, result))
        for loop, done in by_loop.items():
            try:
                loop.call_soon_threadsafe(_set_results, done)
            except RuntimeError:  # that loop is closed: nobody waits any more
                pass

    @staticmethod
    def _deliver_error(job: _Job[Any], *, unreachable: bool = False) -> None:
        if job.future is not None and job.loop is not None:
            error = WriteFailed(
                "the store is unreachable"
                if unreachable
                else "the ledger write failed; see the server log",
                unreachable=unreachable,
            )
            try:
                job.loop.call_soon_threadsafe(_set_exception, job.future, error)
            except RuntimeError:  # that loop is closed: nobody waits any more
                pass


def _run(conn: Connection, batch: list[_Job[Any]]) -> list[Any]:
    """Every job's result: single ops in order, then each kind of merged item at once."""
    results: list[Any] = [None] * len(batch)
    merged: dict[WriteMany, list[int]] = {}
    for i, job in enumerate(batch):
        if job.many is not None:
            merged.setdefault(job.many, []).append(i)
        elif job.op is not None:
            results[i] = job.op(conn)
    for many, indexes in merged.items():
        out = many(conn, [batch[i].item for i in indexes])
        for i, result in zip(indexes, out, strict=True):
            results[i] = result
    return results


class WriteFailed(RuntimeError):
    """A queued write could not be committed."""

    def __init__(self, message: str, *, unreachable: bool = False) -> None:
        super().__init__(message)
        #: True when the store could not be reached (not a bad write).
        self.unreachable = unreachable


#: SQLSTATE classes meaning "the server is gone or refusing", not "this write is bad":
#: connection exceptions (08), operator intervention (57P01-57P05: shutdown, cannot
#: connect now), and a statement cancelled by statement_timeout (57014).
_GONE_STATES = ("08", "57P", "57014")


def _is_unreachable(exc: BaseException, dialect: str) -> bool:
    if isinstance(exc, sa_exc.TimeoutError):  # no pooled connection came in time
        return True
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    if dialect == "sqlite":
        return "database is locked" in str(exc.orig)
    state = getattr(exc.orig, "sqlstate", None)
    if state is None:  # psycopg: the connection itself failed
        return isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError)
    return str(state).startswith(_GONE_STATES)


def _set_results(done: list[tuple[asyncio.Future[Any], Any]]) -> None:
    for future, value in done:
        if not future.done():
            future.set_result(value)


def _set_exception(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


def _noop(_conn: Connection) -> None:
    return None
