"""The single writer: a thread that commits queued writes together (group commit).

The gateway's event loop never blocks on the database: it queues a write and, when it
must know the outcome (a reservation, which has to be durable before the call goes
upstream), awaits it. Writes queued while a transaction runs are committed together in
the next one. A write that fails is retried alone so it cannot sink its batch-mates.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection

from llmledger.ledger.store import Store

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


_STOP = object()


class LedgerWriter:
    """Owns all writes of one process. `start` it, `submit` writes, `close` to drain."""

    def __init__(self, store: Store, *, max_batch: int = 512) -> None:
        self.store = store
        self.max_batch = max_batch
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

    async def submit_many(self, many: WriteMany, item: Any) -> Any:
        """Queue `item` to be written by ``many(conn, items)`` together with the other
        items queued for the same `many` in the same transaction (one executemany
        instead of a statement each); waits for the commit and returns its result."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._put(_Job(None, future, loop, many, item))
        return await future

    def submit_many_nowait(self, many: WriteMany, item: Any) -> None:
        """`submit_many` without waiting (errors are logged)."""
        self._put(_Job(None, None, None, many, item))

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
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                break
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is _STOP:
                    stopping = True
                    break
                batch.append(nxt)
            self._commit(batch)
            with self._lock:
                self._pending -= len(batch)

    def _commit(self, batch: list[_Job[Any]]) -> None:
        try:
            with self.store.write() as conn:
                results = _run(conn, batch)
        except Exception:
            if len(batch) == 1:
                self.failures += 1
                log.exception("ledger write failed")
                self._deliver_error(batch[0])
                return
            for job in batch:  # retry alone: one bad write must not fail the others
                self._commit([job])
            return
        # One wake-up per event loop for the whole batch, not one per waiting write.
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any]]] = {}
        for job, result in zip(batch, results, strict=True):
            if job.future is not None and job.loop is not None:
                by_loop.setdefault(job.loop, []).append((job.future, result))
        for loop, done in by_loop.items():
            try:
                loop.call_soon_threadsafe(_set_results, done)
            except RuntimeError:  # that loop is closed: nobody waits any more
                pass

    @staticmethod
    def _deliver_error(job: _Job[Any]) -> None:
        if job.future is not None and job.loop is not None:
            error = WriteFailed("the ledger write failed; see the server log")
            job.loop.call_soon_threadsafe(_set_exception, job.future, error)


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


def _set_results(done: list[tuple[asyncio.Future[Any], Any]]) -> None:
    for future, value in done:
        if not future.done():
            future.set_result(value)


def _set_exception(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


def _noop(_conn: Connection) -> None:
    return None
