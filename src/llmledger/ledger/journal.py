"""The fail_open journal: calls forwarded while the store was unreachable, kept on disk.

When ``store.unreachable = "fail_open"`` and a reservation cannot reach the store, the
writer appends it here instead (one JSON line, ``fsync``ed with the rest of its group
before the call goes upstream: invariant 2 holds on local disk) and the call's
settlement follows it. When the store answers again the journal is replayed: settled
calls through `record_events` (deduplicated by event id, so a replay interrupted after
its commit adds nothing the second time), reservations never settled at their reserved
amount, flagged ``unsettled`` (as `settle_abandoned` does); their cost is added to the
budget periods whose counters exist, in the same transaction. Only then is the file
replaced (atomic rename) by the records still in flight.

Budgets are not enforced for journaled calls: the operator chose availability.

All writes happen on one thread (the writer's, or startup's before it starts); only
`is_open` is read from the event loop.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import bindparam, update

from llmledger.ledger import schema
from llmledger.ledger.event import (
    EventFlag,
    EventSource,
    EventStatus,
    LineCost,
    UsageEvent,
    from_us,
)
from llmledger.ledger.recording import record_events
from llmledger.ledger.reservations import Hold, settle_many
from llmledger.ledger.store import Store
from llmledger.usage import Usage, UsageType

log = logging.getLogger("llmledger.journal")
Record = dict[str, Any]
RESERVED = "reserved"
SETTLED = "settled"


@dataclass(frozen=True, slots=True)
class Journaled:
    """The result of a reservation written to the journal instead of the store."""


@dataclass(frozen=True, slots=True)
class Replayed:
    """What one replay did."""

    booked: int
    """Events inserted into the store (settled, failed or unsettled)."""
    duplicates: int
    """Events already in the store (a replay interrupted after its commit)."""
    kept: int
    """Reservations still in flight, kept in the journal."""


def event_json(ev: UsageEvent) -> Record:
    """Every field of `ev`, exactly (quantities as decimal strings, money as integers)."""
    return {
        "id": ev.id,
        "ts_us": ev.ts_us,
        "provider": ev.provider,
        "model_requested": ev.model_requested,
        "model_used": ev.model_used,
        "source": ev.source.value,
        "status": ev.status.value,
        "department": ev.department,
        "project": ev.project,
        "agent": ev.agent,
        "key_id": ev.key_id,
        "end_user": ev.end_user,
        "operation": ev.operation,
        "http_status": ev.http_status,
        "flags": int(ev.flags),
        "usage": {t.value: str(q) for t, q in ev.usage.items()},
        "costs": {t.value: [c.cost_nanos, c.list_cost_nanos] for t, c in ev.costs.items()},
        "reserved_nanos": ev.reserved_nanos,
        "reported_cost_nanos": ev.reported_cost_nanos,
        "requested_cost_nanos": ev.requested_cost_nanos,
        "routed_from": ev.routed_from,
        "latency_ms": ev.latency_ms,
        "detail": ev.detail,
    }


def event_from_json(raw: Record) -> UsageEvent:
    return UsageEvent(
        id=raw["id"],
        ts=from_us(raw["ts_us"]),
        provider=raw["provider"],
        model_requested=raw["model_requested"],
        model_used=raw["model_used"],
        source=EventSource(raw["source"]),
        status=EventStatus(raw["status"]),
        department=raw["department"],
        project=raw["project"],
        agent=raw["agent"],
        key_id=raw["key_id"],
        end_user=raw["end_user"],
        operation=raw["operation"],
        http_status=raw["http_status"],
        flags=EventFlag(raw["flags"]),
        usage=Usage({UsageType(t): Decimal(q) for t, q in raw["usage"].items()}),
        costs={UsageType(t): LineCost(int(c[0]), int(c[1])) for t, c in raw["costs"].items()},
        reserved_nanos=raw["reserved_nanos"],
        reported_cost_nanos=raw["reported_cost_nanos"],
        requested_cost_nanos=raw["requested_cost_nanos"],
        routed_from=raw["routed_from"],
        latency_ms=raw["latency_ms"],
        detail=raw["detail"],
    )


def reservation_record(event: UsageEvent, holds: Sequence[Hold]) -> Record:
    """The journal line of a reservation: the event as reserved, and the budget periods
    it would have held (their counters get its cost at replay)."""
    raw = event_json(event)
    raw["status"] = EventStatus.RESERVED.value
    return {
        "kind": RESERVED,
        "id": event.id,
        "event": raw,
        "holds": [[h.budget_id, h.period_start_us] for h in holds],
    }


def settlement_record(event: UsageEvent) -> Record:
    """The journal line of a journaled call's settlement: the event as settled."""
    return {"kind": SETTLED, "id": event.id, "event": event_json(event)}


def unsettled(event: UsageEvent) -> UsageEvent:
    """A reservation whose settlement was never seen, booked at its reserved amount."""
    amount = event.reserved_nanos
    return replace(
        event,
        status=EventStatus.UNSETTLED,
        flags=event.flags | EventFlag.UNSETTLED,
        usage=Usage({UsageType.REQUESTS: Decimal(1)}),
        costs={UsageType.REQUESTS: LineCost(amount, amount)},
        detail="settled at its reserved amount: the real usage was never seen (journal)",
    )


_ADD_SPEND = (
    update(schema.budget_periods)
    .where(
        schema.budget_periods.c.budget_id == bindparam("_budget_id"),
        schema.budget_periods.c.period_start_us == bindparam("_period_start_us"),
    )
    .values(spent_nanos=schema.budget_periods.c.spent_nanos + bindparam("_spent"))
)


class Journal:
    """One replica's journal file. `append` groups, `replay` into a store."""

    def __init__(self, path: str | Path, *, in_flight_s: float = 3600.0) -> None:
        self.path = Path(path)
        #: A journaled reservation of this process younger than this is taken as still
        #: in flight at replay (kept); older, it is booked as unsettled (the lease).
        self.in_flight_s = in_flight_s
        self._file: BinaryIO | None = None
        #: Journaled reservations of this process not yet settled: id -> ts_us.
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()
        self.records = self._count()
        #: True when the file holds records a replay would book.
        self.dirty = self.records > 0
        #: When records kept in flight at the last replay are due a look again (their
        #: settlement never came within `in_flight_s`: booked as unsettled then).
        self._recheck_at = 0.0

    @property
    def wants_replay(self) -> bool:
        """Something in the file a replay would book now."""
        return self.dirty or (self.records > 0 and time.monotonic() >= self._recheck_at)

    def _count(self) -> int:
        try:
            return self.path.read_bytes().count(b"\n")
        except FileNotFoundError:
            return 0

    def is_open(self, event_id: str) -> bool:
        """True when `event_id` was reserved in this journal and not yet settled."""
        with self._lock:
            return event_id in self._open

    def append(self, records: Sequence[Record]) -> None:
        """Write `records`, one line each, and fsync once: durable when this returns."""
        if not records:
            return
        data = b"".join(json.dumps(r, separators=(",", ":")).encode() + b"\n" for r in records)
        out = self._open_file()
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
        self.records += len(records)
        self.dirty = True
        with self._lock:
            for r in records:
                if r["kind"] == RESERVED:
                    self._open[r["id"]] = r["event"]["ts_us"]
                else:
                    self._open.pop(r["id"], None)

    def _open_file(self) -> BinaryIO:
        if self._file is not None:
            return self._file
        created = not self.path.exists()
        if not created:
            _drop_torn_tail(self.path)  # a line torn by a crash must not glue to the next
        self._file = self.path.open("ab")
        if created:
            _fsync_dir(self.path.parent)
        return self._file

    def read(self) -> list[Record]:
        """The records in the file; a torn last line (a crash mid-write) is ignored."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        lines = data.split(b"\n")
        if lines[-1]:
            log.warning("journal %s: torn last line ignored", self.path)
        out: list[Record] = []
        for number, line in enumerate(lines[:-1], 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                log.error("journal %s: line %d unreadable, skipped", self.path, number)
                continue
            if isinstance(record, dict) and record.get("kind") in (RESERVED, SETTLED):
                out.append(record)
        return out

    def replay(self, store: Store, *, now_us: int | None = None) -> Replayed:
        """Book the journal into `store` (one transaction), then drop what was booked."""
        records = self.read()
        if not records:
            self._rewrite([])
            return Replayed(0, 0, 0)
        now_us = now_us if now_us is not None else int(time.time() * 1_000_000)
        reserved: dict[str, Record] = {}
        settled: dict[str, Record] = {}
        for r in records:
            (reserved if r["kind"] == RESERVED else settled).setdefault(r["id"], r)
        keep: list[Record] = []
        book: list[UsageEvent] = []
        holds: dict[str, list[tuple[str, int]]] = {}
        rejected: list[Record] = []
        for event_id in dict.fromkeys([*reserved, *settled]):
            reservation = reserved.get(event_id)
            try:
                if reservation is not None:
                    holds[event_id] = [(str(b), int(p)) for b, p in reservation["holds"]]
                if event_id in settled:
                    book.append(event_from_json(settled[event_id]["event"]))
                elif reservation is not None and self._in_flight(event_id, now_us):
                    keep.append(reservation)
                elif reservation is not None:
                    book.append(unsettled(event_from_json(reservation["event"])))
            except (KeyError, TypeError, ValueError):
                log.exception("journal %s: record of %s unreadable, set aside", self.path, event_id)
                rejected += [r for r in (reservation, settled.get(event_id)) if r]
        with store.write() as conn:
            fresh = record_events(conn, book, store.zone)
            # Already in the store: a reservation whose COMMIT was cut off yet landed
            # (the writer journaled it, not knowing). Settle it if still open.
            landed = [ev for ev in book if ev.id not in fresh]
            if landed:
                settle_many(conn, landed, store.zone)
            spend: dict[tuple[str, int], int] = {}
            for ev in book:
                if ev.id in fresh and ev.cost_nanos:
                    for period in holds.get(ev.id, ()):
                        spend[period] = spend.get(period, 0) + ev.cost_nanos
            if spend:  # counters not opened yet will be, from the rollups (now with these)
                conn.execute(
                    _ADD_SPEND,
                    [
                        {"_budget_id": b, "_period_start_us": p, "_spent": c}
                        for (b, p), c in sorted(spend.items())
                    ],
                )
        if rejected:  # kept for a human, never dropped
            with self.path.with_name(self.path.name + ".rejected").open("ab") as out:
                out.writelines(json.dumps(r).encode() + b"\n" for r in rejected)
                out.flush()
                os.fsync(out.fileno())
        self._rewrite(keep)
        with self._lock:
            for ev in book:
                self._open.pop(ev.id, None)
        done = Replayed(len(fresh), len(book) - len(fresh), len(keep))
        log.warning(
            "journal replayed: %d calls booked, %d already in the store, %d in flight",
            done.booked,
            done.duplicates,
            done.kept,
        )
        return done

    def _in_flight(self, event_id: str, now_us: int) -> bool:
        with self._lock:
            started = self._open.get(event_id)
        return started is not None and now_us - started < self.in_flight_s * 1_000_000

    def _rewrite(self, records: Iterable[Record]) -> None:
        """Replace the file by `records` atomically (write, fsync, rename, fsync dir)."""
        self.close()
        kept = list(records)
        if not kept and not self.path.exists():
            self.records, self.dirty = 0, False
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("wb") as out:
            for r in kept:
                out.write(json.dumps(r, separators=(",", ":")).encode() + b"\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.path)
        _fsync_dir(self.path.parent)
        self.records, self.dirty = len(kept), False
        self._recheck_at = time.monotonic() + self.in_flight_s

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _drop_torn_tail(path: Path) -> None:
    with path.open("rb+") as f:
        data = f.read()
        if data and not data.endswith(b"\n"):
            f.truncate(data.rfind(b"\n") + 1)
            f.flush()
            os.fsync(f.fileno())


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = [
    "Journal",
    "Journaled",
    "Replayed",
    "reservation_record",
    "settlement_record",
    "unsettled",
]
