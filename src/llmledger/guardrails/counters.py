"""The budget counters of a store that one process owns (SQLite), kept in memory.

With SQLite one process owns the store, so its own counters are the whole truth: the
decision to hold is taken here, atomically (under a lock, in microseconds), and the hold
is written to the store behind it (the reservation log makes it durable first; see
`ledger/reservation_log.py`). A period's counter is opened once per process from the
store (spent plus reserved, the period row created if missing, through the writer so it
sees every earlier write).

Settled spend never passes an enforced limit: a hold is taken only if
``spent + reserved + amount <= limit`` for every enforced budget of the call, and a
settlement moves the held amount out of ``reserved`` and the real cost into ``spent``.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from llmledger.ledger.reservations import Hold, Refusal, open_period

#: Budget id and period start: one counter.
Key = tuple[str, int]


@dataclass(slots=True)
class _Counter:
    spent: int
    reserved: int


@dataclass(frozen=True, slots=True)
class _Held:
    keys: tuple[Key, ...]
    amount: int


class LocalCounters:
    """Spent and reserved per budget period, and the holds of calls in flight."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[Key, _Counter] = {}
        self._held: dict[str, _Held] = {}

    def missing(self, holds: Sequence[Hold]) -> list[Hold]:
        """The holds whose period counter is not open in this process yet."""
        counters = self._counters
        return [h for h in holds if (h.budget_id, h.period_start_us) not in counters]

    async def open(
        self,
        holds: Sequence[Hold],
        submit: Callable[[Callable[[Connection], list[tuple[int, int]]]], Awaitable[object]],
    ) -> None:
        """Open the counters of `holds` from the store (`submit` runs a write)."""
        todo = list(holds)

        def read(conn: Connection) -> list[tuple[int, int]]:
            return [open_period(conn, h) for h in todo]

        got = await submit(read)
        assert isinstance(got, list)
        with self._lock:
            for hold, (spent, reserved) in zip(todo, got, strict=True):
                # Opened meanwhile by another call: its holds are in memory, keep them.
                self._counters.setdefault(
                    (hold.budget_id, hold.period_start_us), _Counter(spent, reserved)
                )

    def hold(self, event_id: str, holds: Sequence[Hold], amount: int) -> Refusal | None:
        """Hold `amount` in every budget of `holds`, or in none; None when held.

        Every counter must be open (`missing` is empty)."""
        keys = tuple((h.budget_id, h.period_start_us) for h in holds)
        with self._lock:
            counters = [self._counters[k] for k in keys]
            for hold, c in zip(holds, counters, strict=True):
                if hold.enforced and c.spent + c.reserved + amount > hold.limit_nanos:
                    return Refusal(hold, c.spent, c.reserved)
            for c in counters:
                c.reserved += amount
            self._held[event_id] = _Held(keys, amount)
        return None

    def settle(self, event_id: str, cost: int) -> bool:
        """Release the call's hold and book its real cost; False if it held nothing."""
        with self._lock:
            held = self._held.pop(event_id, None)
            if held is None:
                return False
            for key in held.keys:
                c = self._counters[key]
                c.reserved -= held.amount
                c.spent += cost
        return True

    def holding(self, event_id: str) -> bool:
        return event_id in self._held

    def state(self, budget_id: str, period_start_us: int) -> tuple[int, int] | None:
        """(spent, reserved) of an open counter."""
        c = self._counters.get((budget_id, period_start_us))
        return None if c is None else (c.spent, c.reserved)

    @property
    def in_flight(self) -> int:
        return len(self._held)
