"""The budgets in force, kept in memory for the hot path, and the holds a call needs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from llmledger.guardrails.budgets import Budget, list_budgets
from llmledger.guardrails.periods import Period, PeriodWindow, window
from llmledger.ledger.event import to_us
from llmledger.ledger.reservations import Hold
from llmledger.ledger.store import Store

#: Seconds before budgets are read again; a change made in this process is seen at once.
REFRESH_SECONDS = 1.0


class BudgetBook:
    def __init__(self, store: Store, zone: ZoneInfo, fiscal_start_month: int = 1) -> None:
        self.store = store
        self.zone = zone
        self.fiscal_start_month = fiscal_start_month
        self._by_scope: dict[str, list[Budget]] = {}
        self._loaded = 0.0
        self._windows: dict[Period, PeriodWindow] = {}
        self._opened: set[tuple[str, int]] = set()
        #: Holds already built, by budget, period and opened: a call reuses them.
        self._built: dict[tuple[str, int, bool], Hold] = {}

    def load(self) -> None:
        with self.store.read() as conn:
            budgets = list_budgets(conn)
        by_scope: dict[str, list[Budget]] = {}
        for b in budgets:
            by_scope.setdefault(b.scope.text, []).append(b)
        self._by_scope = by_scope
        self._built = {}
        self._loaded = time.monotonic()

    def invalidate(self) -> None:
        self._loaded = 0.0

    async def refresh(self) -> None:
        if time.monotonic() - self._loaded > REFRESH_SECONDS:
            await asyncio.to_thread(self.load)

    @property
    def empty(self) -> bool:
        return not self._by_scope

    def _window(self, period: Period, now: datetime) -> PeriodWindow:
        """The current window of `period`, computed once per period (not per call)."""
        cached = self._windows.get(period)
        now_us = to_us(now)
        if cached is not None and cached.start_us <= now_us < cached.end_us:
            return cached
        fresh = window(period, now, self.zone, self.fiscal_start_month)
        self._windows[period] = fresh
        return fresh

    def mark_opened(self, holds: Sequence[Hold]) -> None:
        """The periods of `holds` have counters now: later holds skip the look-up."""
        self._opened.update((h.budget_id, h.period_start_us) for h in holds)

    def holds(self, scopes: Sequence[str], now: datetime) -> list[Hold]:
        """A hold for every budget over one of `scopes`, in its current period."""
        out: list[Hold] = []
        built = self._built
        for scope in scopes:
            for budget in self._by_scope.get(scope, ()):
                w = self._window(budget.period, now)
                key = (budget.id, w.start_us, (budget.id, w.start_us) in self._opened)
                hold = built.get(key)
                if hold is None:
                    hold = built[key] = Hold(
                        budget_id=budget.id,
                        scope=budget.scope.text,
                        period_start_us=w.start_us,
                        limit_nanos=budget.limit_nanos,
                        enforced=budget.enforced,
                        filters=tuple(budget.scope.filters().items()),
                        first_day=w.start.isoformat(),
                        last_day=(w.end - timedelta(days=1)).isoformat(),
                        opened=key[2],
                    )
                out.append(hold)
        return out

    def all_holds(self, now: datetime) -> list[Hold]:
        """A hold for every budget, in its current period (to name its counters)."""
        return self.holds(list(self._by_scope), now)

    def reset_at(self, budget_id: str, now: datetime) -> datetime | None:
        for budgets in self._by_scope.values():
            for b in budgets:
                if b.id == budget_id:
                    w = window(b.period, now, self.zone, self.fiscal_start_month)
                    return datetime.combine(w.end, datetime.min.time(), self.zone)
        return None
