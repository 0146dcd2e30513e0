"""Where each budget stands now: spent, reserved, percent, status and projection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from llmledger.guardrails.budgets import Budget, list_budgets
from llmledger.guardrails.periods import window
from llmledger.ledger import schema
from llmledger.ledger.event import to_us
from llmledger.ledger.reservations import Hold, opening_spend
from llmledger.money import format_usd


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    budget: Budget
    period_start: str
    period_end: str
    spent_nanos: int
    reserved_nanos: int
    projected_nanos: int
    runs_out_on: str | None

    @property
    def percent(self) -> Decimal:
        if not self.budget.limit_nanos:
            return Decimal(100) if self.spent_nanos else Decimal(0)
        value = Decimal(self.spent_nanos * 100) / Decimal(self.budget.limit_nanos)
        return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)

    @property
    def status(self) -> str:
        """``blocked`` (enforced and full), ``alert`` (past a threshold) or ``ok``."""
        limit = self.budget.limit_nanos
        if self.budget.enforced and self.spent_nanos + self.reserved_nanos >= limit:
            return "blocked"
        if any(self.spent_nanos * 1 >= t * limit for t in self.budget.thresholds) or (
            self.spent_nanos >= limit
        ):
            return "alert"
        return "ok"

    def as_json(self) -> dict[str, object]:
        out = self.budget.as_json()
        out.update(
            {
                "spent_usd": format_usd(self.spent_nanos),
                "reserved_usd": format_usd(self.reserved_nanos),
                "percent": format(self.percent, "f"),
                "status": self.status,
                "projected_usd": format_usd(self.projected_nanos),
                "projected_to_exceed": self.projected_nanos > self.budget.limit_nanos,
                "runs_out_on": self.runs_out_on,
                "period_start": self.period_start,
                "period_end": self.period_end,
            }
        )
        return out


def budget_status(
    conn: Connection, budget: Budget, now: datetime, zone: ZoneInfo, fiscal_start_month: int
) -> BudgetStatus:
    w = window(budget.period, now, zone, fiscal_start_month)
    bp = schema.budget_periods
    row = conn.execute(
        select(bp.c.spent_nanos, bp.c.reserved_nanos).where(
            bp.c.budget_id == budget.id, bp.c.period_start_us == w.start_us
        )
    ).first()
    if row is not None:
        spent, reserved = int(row[0]), int(row[1])
    else:
        hold = Hold(
            budget.id,
            budget.scope.text,
            w.start_us,
            budget.limit_nanos,
            budget.enforced,
            tuple(budget.scope.filters().items()),
            w.start.isoformat(),
            (w.end - timedelta(days=1)).isoformat(),
        )
        spent, reserved = opening_spend(conn, hold), 0
    elapsed = max(1, to_us(now) - w.start_us)
    length = w.end_us - w.start_us
    projected = spent * length // elapsed
    runs_out = None
    if spent and projected > budget.limit_nanos:
        at_us = w.start_us + budget.limit_nanos * elapsed // spent
        runs_out = datetime.fromtimestamp(at_us // 1_000_000, zone).date().isoformat()
    return BudgetStatus(
        budget, w.start.isoformat(), w.end.isoformat(), spent, reserved, projected, runs_out
    )


def all_statuses(
    conn: Connection, now: datetime, zone: ZoneInfo, fiscal_start_month: int
) -> list[BudgetStatus]:
    return [budget_status(conn, b, now, zone, fiscal_start_month) for b in list_budgets(conn)]
