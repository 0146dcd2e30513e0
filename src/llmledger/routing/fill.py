"""How full the budgets over a caller are, for ``budget_fill_above`` conditions.

Read from the budget counters (spent + open reservations) and kept for a second per
budget period, so a burst of calls reads the store once. Only rules that name a fill
level ever call it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import select, tuple_

from llmledger.ledger import schema
from llmledger.ledger.reservations import Hold
from llmledger.ledger.store import Store

KEEP_SECONDS = 1.0


class BudgetFill:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._used: dict[tuple[str, int], tuple[float, int]] = {}

    async def level(self, holds: Sequence[Hold]) -> Decimal | None:
        """The fullest of `holds`' budgets as a fraction of its limit (None: no budget)."""
        limited = [h for h in holds if h.limit_nanos > 0]
        if not limited:
            return None
        now = time.monotonic()
        stale = [
            h
            for h in limited
            if now - self._used.get((h.budget_id, h.period_start_us), (-1e9, 0))[0] > KEEP_SECONDS
        ]
        if stale:
            fresh = await asyncio.to_thread(self._read, stale)
            for key, used in fresh.items():
                self._used[key] = (now, used)
            for h in stale:
                self._used.setdefault((h.budget_id, h.period_start_us), (now, 0))
        return max(
            Decimal(self._used[(h.budget_id, h.period_start_us)][1]) / Decimal(h.limit_nanos)
            for h in limited
        )

    def _read(self, holds: Sequence[Hold]) -> dict[tuple[str, int], int]:
        t = schema.budget_periods
        keys = [(h.budget_id, h.period_start_us) for h in holds]
        with self.store.read() as conn:
            rows = conn.execute(
                select(
                    t.c.budget_id, t.c.period_start_us, t.c.spent_nanos, t.c.reserved_nanos
                ).where(tuple_(t.c.budget_id, t.c.period_start_us).in_(keys))
            ).all()
        return {(r[0], r[1]): int(r[2]) + int(r[3]) for r in rows}
