"""The executive figures: YTD and MTD against budget, run rate, savings, usage, trend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import Connection

from llmledger.analytics import periods
from llmledger.ledger import queries
from llmledger.money import NANOS_PER_USD, format_usd, usd_to_nanos
from llmledger.usage import UsageType

TRAILING_DAYS = 30
PROJECTION_METHOD = (
    "year-to-date spend plus the trailing 30-day average daily spend "
    "times the days left in the fiscal year"
)


@dataclass(frozen=True, slots=True)
class BudgetPosition:
    spend_nanos: int
    budget_nanos: int

    @property
    def variance_nanos(self) -> int:
        """Budget minus spend: negative when over budget."""
        return self.budget_nanos - self.spend_nanos

    @property
    def percent(self) -> Decimal | None:
        if not self.budget_nanos:
            return None
        ratio = Decimal(self.spend_nanos * 100) / Decimal(self.budget_nanos)
        return ratio.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)

    @property
    def status(self) -> str:
        """green under 90% of budget, amber from 90%, red over 100%."""
        pct = self.percent
        if pct is None:
            return "none"
        return "red" if pct > 100 else "amber" if pct >= 90 else "green"

    def as_json(self) -> dict[str, object]:
        pct = self.percent
        return {
            "spend_usd": format_usd(self.spend_nanos),
            "budget_usd": format_usd(self.budget_nanos),
            "variance_usd": format_usd(self.variance_nanos),
            "percent": None if pct is None else format(pct, "f"),
            "status": self.status,
        }


@dataclass(frozen=True, slots=True)
class Summary:
    as_of: date
    fiscal_year_start: date
    ytd: BudgetPosition
    mtd: BudgetPosition
    mtd_same_day_last_month_nanos: int
    projected_annual_nanos: int
    savings_mtd_nanos: int
    calls_mtd: int
    usage_mtd: dict[str, Decimal]
    trend: list[tuple[str, int, int]]

    def as_json(self) -> dict[str, object]:
        return {
            "as_of": self.as_of.isoformat(),
            "currency": "USD",
            "fiscal_year_start": self.fiscal_year_start.isoformat(),
            "ytd": self.ytd.as_json(),
            "mtd": self.mtd.as_json(),
            "mtd_same_day_last_month_usd": format_usd(self.mtd_same_day_last_month_nanos),
            "projected_annual_usd": format_usd(self.projected_annual_nanos),
            "projection_method": PROJECTION_METHOD,
            "savings_mtd_usd": format_usd(self.savings_mtd_nanos),
            "requests_mtd": self.calls_mtd,
            "usage": {k: _quantity_json(v) for k, v in self.usage_mtd.items()},
            "trend": [
                {"month": m, "spend_usd": format_usd(s), "budget_usd": format_usd(b)}
                for m, s, b in self.trend
            ],
        }


def _quantity_json(value: Decimal) -> int | str:
    return int(value) if value == value.to_integral_value() else format(value.normalize(), "f")


def _spend(conn: Connection, start: date, end: date) -> tuple[int, int, int]:
    rows = queries.call_sums(conn, start, end)
    if not rows:
        return 0, 0, 0
    r = rows[0]
    return r.cost_nanos, r.calls, r.requested_cost_nanos - r.routed_cost_nanos


def summary(
    conn: Connection,
    as_of: date,
    *,
    fiscal_start_month: int,
    annual_budget_usd: Decimal,
    monthly_budget_usd: Decimal,
) -> Summary:
    annual = usd_to_nanos(annual_budget_usd)
    monthly = usd_to_nanos(monthly_budget_usd)
    ytd_range = periods.year_to_date(as_of, fiscal_start_month)
    mtd_range = periods.month_to_date(as_of)
    # The trend's 12 months (11 whole ones and this one to date) hold the fiscal year to
    # date, which starts at most 11 months back, and the month to date: one read.
    trend_start = periods.add_months(periods.month_start(as_of), -11)
    by_month = {
        r.key[0]: r for r in queries.call_sums(conn, trend_start, as_of, group_by=("month",))
    }
    ytd_spend = sum(
        r.cost_nanos for m, r in by_month.items() if m >= ytd_range.start.isoformat()[:7]
    )
    this_month = by_month.get(mtd_range.start.isoformat()[:7])
    mtd_spend, mtd_calls, savings = (
        (
            this_month.cost_nanos,
            this_month.calls,
            this_month.requested_cost_nanos - this_month.routed_cost_nanos,
        )
        if this_month
        else (0, 0, 0)
    )
    last_month_day = periods.same_day_last_month(as_of)
    last_mtd, _, _ = _spend(conn, periods.month_start(last_month_day), last_month_day)
    trailing_start = as_of - timedelta(days=TRAILING_DAYS - 1)
    trailing, _, _ = _spend(conn, trailing_start, as_of)
    fy_end = periods.fiscal_year_end(as_of, fiscal_start_month)
    days_left = (fy_end - as_of).days
    projected = ytd_spend + (trailing * days_left) // TRAILING_DAYS
    usage = {
        u.usage_type: Decimal(u.quantity_milli) / 1000
        for u in queries.usage_sums(conn, mtd_range.start, mtd_range.end)
    }
    ordered: dict[str, Decimal] = {t.value: usage[t.value] for t in UsageType if t.value in usage}
    trend = []
    for i in range(12):
        month = periods.add_months(trend_start, i).isoformat()[:7]
        row = by_month.get(month)
        trend.append((month, row.cost_nanos if row else 0, monthly))
    return Summary(
        as_of=as_of,
        fiscal_year_start=ytd_range.start,
        ytd=BudgetPosition(ytd_spend, annual),
        mtd=BudgetPosition(mtd_spend, monthly),
        mtd_same_day_last_month_nanos=last_mtd,
        projected_annual_nanos=projected,
        savings_mtd_nanos=savings,
        calls_mtd=mtd_calls,
        usage_mtd=ordered,
        trend=trend,
    )


__all__ = ["NANOS_PER_USD", "BudgetPosition", "Summary", "summary"]
