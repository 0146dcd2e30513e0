"""The reservation log of a SQLite store: a reservation made durable in one ``write``.

With SQLite, one process owns the store and decides its budget holds in memory
(`guardrails/counters.py`). What must happen before a call goes upstream is that its
reservation survives the process (DESIGN invariant 2). Appending one line to this log
does that: ``write(2)`` puts it in the operating system's page cache, which a killed
process (SIGKILL, out-of-memory) cannot take back, the same guarantee as a SQLite commit
with ``synchronous=NORMAL`` in WAL mode, which the store uses. The writer thread then
writes the reservation (and, later, its settlement) into the store, off the hot path.

The log is a series of segment files next to the database (``<db>.reservations.<pid>.<n>``),
each locked (``flock``) by the process appending to it. A segment is deleted once every
reservation in it has been committed to the store. At startup every segment that no live
process holds is recovered: reservations missing from the store are written as
``reserved`` with their holds, and the startup's settlement of abandoned reservations
then books them at their reserved amount, flagged ``unsettled``.

What it does not survive: a power cut or a kernel crash before the operating system
wrote its cache to disk (nor does a SQLite commit at ``synchronous=NORMAL``).
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select

from llmledger.ledger import schema
from llmledger.ledger.journal import event_from_json, event_json
from llmledger.ledger.reservations import Hold, open_period, record_held
from llmledger.ledger.store import Store

log = logging.getLogger("llmledger.reservation_log")
#: A segment larger than this is closed and a new one started.
SEGMENT_BYTES = 8 << 20


def hold_from_json(raw: list[Any]) -> Hold:
    """A logged hold: its budget period is all the store needs (the period's counter was
    opened, in the store, before the hold was granted)."""
    return Hold(
        budget_id=str(raw[0]), scope="", period_start_us=int(raw[1]), limit_nanos=0, enforced=False
    )


@dataclass(slots=True)
class _Segment:
    path: Path
    fd: int
    size: int = 0
    pending: int = 0
    closed: bool = False


def log_base(store_url: str) -> Path | None:
    """Where a SQLite store's log lives (None: an in-memory database, nothing to keep)."""
    path = store_url.split("sqlite:///", 1)[-1].split("?", 1)[0]
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return Path(path).expanduser().resolve()


class ReservationLog:
    """Appends reservations (from the event loop) and forgets them once the writer
    has committed them (from the writer thread)."""

    def __init__(self, base: Path, *, segment_bytes: int = SEGMENT_BYTES) -> None:
        self.base = base
        self.segment_bytes = segment_bytes
        self._lock = threading.Lock()
        self._seq = 0
        self._where: dict[str, _Segment] = {}
        self._current = self._open_segment()

    def _open_segment(self) -> _Segment:
        self._seq += 1
        path = self.base.with_name(f"{self.base.name}.reservations.{os.getpid()}.{self._seq}")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return _Segment(path, fd)

    def append(self, event_id: str, record: dict[str, Any]) -> None:
        """Make `record` (from `reservation_line`) survive this process; call before the
        call goes upstream. Raises OSError when the disk refuses it."""
        line = orjson.dumps(record) + b"\n"
        with self._lock:
            seg = self._current
            os.write(seg.fd, line)
            seg.size += len(line)
            seg.pending += 1
            self._where[event_id] = seg
            if seg.size >= self.segment_bytes:
                seg.closed = True
                self._current = self._open_segment()

    def committed(self, event_ids: Sequence[str]) -> None:
        """The store holds these reservations now: their segments may go."""
        done: list[_Segment] = []
        with self._lock:
            for event_id in event_ids:
                seg = self._where.pop(event_id, None)
                if seg is None:
                    continue
                seg.pending -= 1
                if seg.closed and not seg.pending:
                    done.append(seg)
        for seg in done:
            _drop(seg)

    def forget_when_committed(self, event_id: str) -> Callable[[object], None]:
        """The writer's callback for when `event_id`'s reservation is in the store."""

        def committed(_result: object) -> None:
            self.committed((event_id,))

        return committed

    @property
    def pending(self) -> int:
        """Reservations appended and not yet committed to the store."""
        return len(self._where)

    def close(self) -> None:
        """At shutdown, after the writer drained: drop what the store holds."""
        with self._lock:
            segs = {id(s): s for s in self._where.values()}
            if not self._current.pending:
                _drop(self._current)
            else:
                os.close(self._current.fd)
            for seg in segs.values():
                if seg is not self._current:
                    os.close(seg.fd)
            self._where.clear()


def _drop(seg: _Segment) -> None:
    try:
        seg.path.unlink()
    except FileNotFoundError:
        pass
    os.close(seg.fd)


def reservation_line(event_json_: dict[str, Any], holds: Sequence[Hold]) -> dict[str, Any]:
    return {"event": event_json_, "holds": [(h.budget_id, h.period_start_us) for h in holds]}


def recover(store: Store, base: Path) -> int:
    """Write into `store` the logged reservations it misses (as ``reserved``, with their
    holds), from every segment no live process holds, then delete those segments;
    returns how many were written. Run at startup, before abandoned reservations are
    settled."""
    written = 0
    for path in sorted(base.parent.glob(f"{base.name}.reservations.*")):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # a live process appends to it
                continue
            written += _recover_segment(store, path)
            path.unlink()
        finally:
            os.close(fd)
    if written:
        log.warning("recovered %d reservations from the reservation log", written)
    return written


def _recover_segment(store: Store, path: Path) -> int:
    items = []
    for line in path.read_bytes().split(b"\n"):
        if not line.strip():
            continue
        try:
            raw = orjson.loads(line)
            items.append((event_from_json(raw["event"]), [hold_from_json(h) for h in raw["holds"]]))
        except (ValueError, KeyError, TypeError):
            # A line torn by a crash mid-write: never complete, so never forwarded.
            log.warning("ignored an unreadable line in %s", path.name)
    if not items:
        return 0
    e = schema.events
    with store.write() as conn:
        known: set[str] = set()
        ids = [ev.id for ev, _ in items]
        for i in range(0, len(ids), 500):
            known.update(conn.execute(select(e.c.id).where(e.c.id.in_(ids[i : i + 500]))).scalars())
        todo = [(ev, hs) for ev, hs in items if ev.id not in known]
        for _, hs in todo:
            for h in hs:
                open_period(conn, h)
        if todo:
            record_held(conn, todo)
    return len(todo)


__all__ = ["ReservationLog", "event_json", "log_base", "recover", "reservation_line"]
