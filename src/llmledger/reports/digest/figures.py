"""The digest's numbers for one week, all read from analytics and the daily rollups.

For the organisation the year-to-date and month-to-date positions, projection and
savings are those of `analytics.summary` as of the week's last day (the same figures as
``GET /api/v1/summary?as_of=<last day>``); the week's spend is that of
``GET /api/v1/costs?from=<first day>&to=<last day>``. A department's digest reads the
same rollups filtered to the department, against the department's own budgets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from llmledger.analytics import periods
from llmledger.analytics.periods import DateRange
from llmledger.analytics.summary import TRAILING_DAYS, BudgetPosition, summary
from llmledger.guardrails.budgets import Budget
from llmledger.guardrails.periods import Period
from llmledger.guardrails.status import BudgetStatus, all_statuses
from llmledger.ledger import queries
from llmledger.money import format_usd, nanos_to_usd, usd_to_nanos
from llmledger.reports.digest.movers import Change, Mover, movers
from llmledger.reports.weeks import Week
from llmledger.roi.figures import OutcomeChange, cost_per_outcome_changes
from llmledger.settings import Settings


@dataclass(frozen=True, slots=True)
class AnomalyLine:
    """An anomaly of the week as the digest shows it."""

    kind: str
    scope: str
    description: str
    impact_nanos: int
    started_at: str

    def as_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "scope": self.scope,
            "description": self.description,
            "impact_usd": format_usd(self.impact_nanos),
            "started_at": self.started_at,
        }


class AnomalySource(Protocol):
    """Anomalies that started within `period`, in `department` (all when None).

    The anomaly detectors do not exist yet; the digest takes them through this seam so
    that wiring them in later changes no digest code. `no_anomalies` is the default.
    """

    def __call__(
        self, conn: Connection, period: DateRange, department: str | None
    ) -> Sequence[AnomalyLine]: ...


def no_anomalies(
    conn: Connection, period: DateRange, department: str | None
) -> Sequence[AnomalyLine]:
    return []


@dataclass(frozen=True, slots=True)
class BudgetLine:
    """A budget worth a line in the digest: blocked, past a threshold, or heading over."""

    scope: str
    period: str
    limit_nanos: int
    spent_nanos: int
    percent: str
    status: str
    projected_nanos: int
    projected_to_exceed: bool
    runs_out_on: str | None

    @classmethod
    def of(cls, s: BudgetStatus) -> BudgetLine:
        return cls(
            s.budget.scope.text,
            s.budget.period.value,
            s.budget.limit_nanos,
            s.spent_nanos,
            format(s.percent, "f"),
            s.status,
            s.projected_nanos,
            s.projected_nanos > s.budget.limit_nanos,
            s.runs_out_on,
        )

    def as_json(self) -> dict[str, object]:
        return {
            "scope": self.scope,
            "period": self.period,
            "limit_usd": format_usd(self.limit_nanos),
            "spent_usd": format_usd(self.spent_nanos),
            "percent": self.percent,
            "status": self.status,
            "projected_usd": format_usd(self.projected_nanos),
            "projected_to_exceed": self.projected_to_exceed,
            "runs_out_on": self.runs_out_on,
        }


@dataclass(frozen=True, slots=True)
class DigestOptions:
    organisation: str
    zone: ZoneInfo
    fiscal_start_month: int
    annual_budget_nanos: int
    monthly_budget_nanos: int
    dashboard_url: str | None = None
    movers: int = 5

    @classmethod
    def from_settings(cls, settings: Settings) -> DigestOptions:
        org = settings.organisation
        return cls(
            organisation=org.name,
            zone=org.zone,
            fiscal_start_month=org.fiscal_year_start_month,
            annual_budget_nanos=usd_to_nanos(org.annual_budget_usd),
            monthly_budget_nanos=usd_to_nanos(org.monthly_budget_usd),
            dashboard_url=settings.digest.dashboard_url or settings.server.public_url,
            movers=settings.digest.movers,
        )


@dataclass(frozen=True, slots=True)
class DigestFigures:
    organisation: str
    week: Week
    department: str | None
    spend: Change
    daily: list[tuple[date, int]]
    ytd: BudgetPosition
    mtd: BudgetPosition
    projected_annual_nanos: int
    savings_week_nanos: int
    savings_mtd_nanos: int
    budgets: list[BudgetLine]
    anomalies: list[AnomalyLine]
    department_movers: list[Mover]
    project_movers: list[Mover]
    dashboard_url: str | None
    budgets_as_of: datetime
    late: bool = False
    notes: list[str] = field(default_factory=list)
    outcome_changes: list[OutcomeChange] = field(default_factory=list)
    """The biggest week-over-week changes in cost per outcome (see llmledger.roi)."""

    @property
    def scope(self) -> str:
        return "org" if self.department is None else f"department:{self.department}"

    def marked_late(self, late: bool = True) -> DigestFigures:
        return replace(self, late=late)

    def as_json(self) -> dict[str, object]:
        return {
            "organisation": self.organisation,
            "week": self.week.label,
            "from": self.week.start.isoformat(),
            "to": self.week.end.isoformat(),
            "scope": self.scope,
            "late": self.late,
            "spend": self.spend.as_json(),
            "daily": [{"day": d.isoformat(), "spend_usd": format_usd(n)} for d, n in self.daily],
            "ytd": self.ytd.as_json(),
            "mtd": self.mtd.as_json(),
            "projected_annual_usd": format_usd(self.projected_annual_nanos),
            "savings_week_usd": format_usd(self.savings_week_nanos),
            "savings_mtd_usd": format_usd(self.savings_mtd_nanos),
            "budgets_as_of": self.budgets_as_of.isoformat(),
            "budgets": [b.as_json() for b in self.budgets],
            "anomalies": [a.as_json() for a in self.anomalies],
            "movers": {
                "departments": [m.as_json() for m in self.department_movers],
                "projects": [m.as_json() for m in self.project_movers],
            },
            "cost_per_outcome_changes": [c.as_json() for c in self.outcome_changes],
            "dashboard_url": self.dashboard_url,
            "notes": self.notes,
        }


def _spend(conn: Connection, start: date, end: date, filters: dict[str, str]) -> tuple[int, int]:
    """(cost, routing savings) between two local dates, from the daily rollups."""
    rows = queries.call_sums(conn, start, end, (), filters)
    if not rows:
        return 0, 0
    return rows[0].cost_nanos, rows[0].requested_cost_nanos - rows[0].routed_cost_nanos


def _department_budget(budgets: Sequence[Budget], department: str, kinds: set[Period]) -> int:
    for b in budgets:
        if b.scope.kind == "department" and b.scope.parts[0] == department and b.period in kinds:
            return b.limit_nanos
    return 0


def _department_positions(
    conn: Connection, day: date, department: str, opts: DigestOptions, budgets: Sequence[Budget]
) -> tuple[BudgetPosition, BudgetPosition, int, int]:
    """YTD, MTD, projection and MTD savings of one department, as `summary` reckons them."""
    flt = {"department": department}
    ytd = periods.year_to_date(day, opts.fiscal_start_month)
    mtd = periods.month_to_date(day)
    ytd_spend, _ = _spend(conn, ytd.start, ytd.end, flt)
    mtd_spend, savings = _spend(conn, mtd.start, mtd.end, flt)
    trailing, _ = _spend(conn, day - timedelta(days=TRAILING_DAYS - 1), day, flt)
    days_left = (periods.fiscal_year_end(day, opts.fiscal_start_month) - day).days
    projected = ytd_spend + (trailing * days_left) // TRAILING_DAYS
    annual = _department_budget(budgets, department, {Period.FISCAL_YEAR, Period.YEAR})
    monthly = _department_budget(budgets, department, {Period.MONTH})
    return BudgetPosition(ytd_spend, annual), BudgetPosition(mtd_spend, monthly), projected, savings


def build_digest(
    conn: Connection,
    week: Week,
    opts: DigestOptions,
    *,
    now: datetime,
    department: str | None = None,
    anomalies: AnomalySource = no_anomalies,
) -> DigestFigures:
    """The digest of `week` for the organisation, or for one department's owners.

    Budget status is read as of the end of the week (or `now`, if the week has not ended),
    so a digest sent late shows what it would have shown on time.
    """
    this_week = DateRange(week.start, week.end)
    prev = week.previous()
    last_week = DateRange(prev.start, prev.end)
    flt = {"department": department} if department is not None else {}
    current, savings_week = _spend(conn, this_week.start, this_week.end, flt)
    previous, _ = _spend(conn, last_week.start, last_week.end, flt)
    by_day = {
        r.key[0]: r.cost_nanos
        for r in queries.call_sums(conn, this_week.start, this_week.end, ("day",), flt)
    }
    daily = [
        (d, by_day.get(d.isoformat(), 0))
        for d in (week.start + timedelta(days=i) for i in range(7))
    ]
    week_over = datetime.combine(week.end + timedelta(days=1), time(0), opts.zone)
    as_of = min(now, week_over)
    statuses = all_statuses(conn, as_of, opts.zone, opts.fiscal_start_month)
    if department is None:
        s = summary(
            conn,
            week.end,
            fiscal_start_month=opts.fiscal_start_month,
            annual_budget_usd=nanos_to_usd(opts.annual_budget_nanos),
            monthly_budget_usd=nanos_to_usd(opts.monthly_budget_nanos),
        )
        ytd, mtd, projected, savings_mtd = (
            s.ytd,
            s.mtd,
            s.projected_annual_nanos,
            s.savings_mtd_nanos,
        )
    else:
        statuses = [st for st in statuses if st.budget.scope.department == department]
        ytd, mtd, projected, savings_mtd = _department_positions(
            conn, week.end, department, opts, [st.budget for st in statuses]
        )
    lines = [BudgetLine.of(st) for st in statuses]
    flagged = [b for b in lines if b.status != "ok" or b.projected_to_exceed]
    order = {"blocked": 0, "alert": 1, "ok": 2}
    flagged.sort(key=lambda b: (order.get(b.status, 3), -b.spent_nanos, b.scope))
    moved = movers(conn, this_week, last_week, department=department, limit=opts.movers)
    return DigestFigures(
        organisation=opts.organisation,
        week=week,
        department=department,
        spend=Change(current, previous),
        daily=daily,
        ytd=ytd,
        mtd=mtd,
        projected_annual_nanos=projected,
        savings_week_nanos=savings_week,
        savings_mtd_nanos=savings_mtd,
        budgets=flagged,
        anomalies=list(anomalies(conn, this_week, department)),
        department_movers=moved.departments,
        project_movers=moved.projects,
        dashboard_url=opts.dashboard_url,
        budgets_as_of=as_of,
        outcome_changes=cost_per_outcome_changes(
            conn, this_week, last_week, flt, limit=opts.movers
        ),
    )
