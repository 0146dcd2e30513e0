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


@dataclass(slots=True)
class _Job(Generic[T]):
    op: Callable[[Connection], T]
    future: asyncio.Future[T] | None
    loop: asyncio.AbstractEventLoop | None


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
                results = [job.op(conn) for job in batch]
        except Exception:
            if len(batch) == 1:
                self.failures += 1
                log.exception("ledger write failed")
                self._deliver_error(batch[0])
                return
            for job in batch:  # retry alone: one bad write must not fail the others
                self._commit([job])
            return
        for job, result in zip(batch, results, strict=True):
            self._deliver(job, result)

    @staticmethod
    def _deliver(job: _Job[Any], result: Any) -> None:
        if job.future is not None and job.loop is not None:
            job.loop.call_soon_threadsafe(_set_result, job.future, result)

    @staticmethod
    def _deliver_error(job: _Job[Any]) -> None:
        if job.future is not None and job.loop is not None:
            error = WriteFailed("the ledger write failed; see the server log")
            job.loop.call_soon_threadsafe(_set_exception, job.future, error)


class WriteFailed(RuntimeError):
    """A queued write could not be committed."""


def _set_result(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _set_exception(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


def _noop(_conn: Connection) -> None:
    return None
