"""Cost per outcome: the ledger's cost (from the rollups) divided by the outcomes counted.

A row is a scope with a declared metric: an agent, or a project (or department) whose
outcomes are recorded without an agent. Its cost is the whole cost of that scope in the
period; an agent with two metrics shows its cost against each. Amounts stay exact: cost
and value in nano-USD, cost per outcome a `Decimal` rounded to the nano-dollar.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import Connection, case, func, select

from llmledger.analytics import periods
from llmledger.analytics.periods import DateRange
from llmledger.ledger import queries, schema
from llmledger.money import exact, format_usd, nanos_to_usd, round_nanos
from llmledger.roi.metrics import Catalogue
from llmledger.roi.outcomes import quantity_text

Key = tuple[str, str, str, str]
"""(department, project, agent, metric)"""


def cost_per_outcome_nanos(cost_nanos: int, outcomes_milli: int) -> int | None:
    """nano-USD per outcome, rounded half to even; None without outcomes."""
    if outcomes_milli <= 0:
        return None
    return round_nanos(exact().divide(Decimal(cost_nanos) * 1000, Decimal(outcomes_milli)))


def percent_change(current: int, previous: int) -> Decimal | None:
    if previous == 0:
        return None
    change = exact().divide(Decimal(current - previous) * 100, Decimal(previous))
    return change.quantize(Decimal("0.1"))


@dataclass(slots=True)
class Tally:
    outcomes_milli: int = 0
    explicit_value_nanos: int = 0
    unvalued_milli: int = 0

    def add(self, other: Tally) -> None:
        self.outcomes_milli += other.outcomes_milli
        self.explicit_value_nanos += other.explicit_value_nanos
        self.unvalued_milli += other.unvalued_milli


@dataclass(slots=True)
class MonthPoint:
    month: str
    outcomes_milli: int
    cost_nanos: int

    @property
    def cost_per_outcome_nanos(self) -> int | None:
        return cost_per_outcome_nanos(self.cost_nanos, self.outcomes_milli)

    def as_json(self) -> dict[str, object]:
        cpo = self.cost_per_outcome_nanos
        return {
            "month": self.month,
            "outcomes": quantity_text(self.outcomes_milli),
            "cost_usd": format_usd(self.cost_nanos),
            "cost_per_outcome_usd": None if cpo is None else format_usd(cpo),
        }


@dataclass(slots=True)
class RoiRow:
    department: str
    project: str
    agent: str
    metric: str
    unit: str
    outcomes_milli: int
    cost_nanos: int
    value_nanos: int | None
    trend: list[MonthPoint] = field(default_factory=list)

    @property
    def key(self) -> Key:
        return (self.department, self.project, self.agent, self.metric)

    @property
    def cost_per_outcome_nanos(self) -> int | None:
        return cost_per_outcome_nanos(self.cost_nanos, self.outcomes_milli)

    @property
    def cost_per_outcome_usd(self) -> Decimal | None:
        cpo = self.cost_per_outcome_nanos
        return None if cpo is None else nanos_to_usd(cpo)

    def as_json(self) -> dict[str, object]:
        cpo = self.cost_per_outcome_nanos
        out: dict[str, object] = {
            "department": self.department,
            "project": self.project,
            "agent": self.agent,
            "metric": self.metric,
            "unit": self.unit,
            "outcomes": quantity_text(self.outcomes_milli),
            "cost_usd": format_usd(self.cost_nanos),
            "cost_per_outcome_usd": None if cpo is None else format_usd(cpo),
        }
        if self.value_nanos is not None:
            out["value_usd"] = format_usd(self.value_nanos)
            out["net_usd"] = format_usd(self.value_nanos - self.cost_nanos)
        out["trend"] = [p.as_json() for p in self.trend]
        return out


@dataclass(frozen=True, slots=True)
class Riser:
    row: RoiRow
    previous: MonthPoint
    current: MonthPoint
    percent: Decimal

    def as_json(self) -> dict[str, object]:
        r = self.row
        return {
            "department": r.department,
            "project": r.project,
            "agent": r.agent,
            "metric": r.metric,
            "from_month": self.previous.month,
            "to_month": self.current.month,
            "previous_usd": format_usd(self.previous.cost_per_outcome_nanos or 0),
            "current_usd": format_usd(self.current.cost_per_outcome_nanos or 0),
            "change_percent": format(self.percent, "f"),
        }


@dataclass(slots=True)
class RoiReport:
    period: DateRange
    rows: list[RoiRow]
    risers: list[Riser]

    def as_json(self) -> dict[str, object]:
        return {
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
            "rows": [r.as_json() for r in self.rows],
            "risers": [r.as_json() for r in self.risers],
        }


def _outcome_tallies(
    conn: Connection, period: DateRange, filters: Mapping[str, str]
) -> dict[tuple[str, str, str, str, str], Tally]:
    """Outcomes by (department, project, agent, metric, month)."""
    t = schema.outcomes
    month = func.substr(t.c.day, 1, 7)
    unvalued = func.sum(case((t.c.value_nanos.is_(None), t.c.quantity_milli), else_=0))
    stmt = (
        select(
            t.c.department,
            t.c.project,
            t.c.agent,
            t.c.metric,
            month,
            func.sum(t.c.quantity_milli),
            func.coalesce(func.sum(t.c.value_nanos), 0),
            unvalued,
        )
        .where(
            t.c.day >= period.start.isoformat(),
            t.c.day <= period.end.isoformat(),
            *(t.c[k] == v for k, v in filters.items()),
        )
        .group_by(t.c.department, t.c.project, t.c.agent, t.c.metric, month)
    )
    out: dict[tuple[str, str, str, str, str], Tally] = {}
    for d, p, a, m, mon, qty, value, unval in conn.execute(stmt):
        out[(d, p, a, m, mon)] = Tally(int(qty), int(value), int(unval))
    return out


def _costs(
    conn: Connection, period: DateRange, filters: Mapping[str, str]
) -> dict[tuple[str, str, str, str], int]:
    """Cost by (department, project, agent, month), with "*" rolling a level up."""
    out: dict[tuple[str, str, str, str], int] = defaultdict(int)
    for s in queries.call_sums(
        conn, period.start, period.end, ("department", "project", "agent", "month"), dict(filters)
    ):
        d, p, a, mon = s.key
        out[(d, p, a, mon)] += s.cost_nanos
        out[(d, p, "*", mon)] += s.cost_nanos
        out[(d, "*", "*", mon)] += s.cost_nanos
    return out


def months_of(period: DateRange) -> list[str]:
    out = []
    month = periods.month_start(period.start)
    while month <= period.end:
        out.append(month.strftime("%Y-%m"))
        month = periods.add_months(month, 1)
    return out


def _value(tally: Tally, per_unit: int | None) -> int | None:
    if tally.unvalued_milli and per_unit is None:
        return None
    extra = per_unit * tally.unvalued_milli if per_unit is not None else 0
    return tally.explicit_value_nanos + round_nanos(Decimal(extra) / 1000)


def _in_filters(department: str, project: str, agent: str, filters: Mapping[str, str]) -> bool:
    have = {"department": department, "project": project, "agent": agent}
    return all(have[k] == v for k, v in filters.items() if k in have)


def roi_rows(
    conn: Connection,
    period: DateRange,
    filters: Mapping[str, str] | None = None,
    *,
    trend: bool = True,
) -> list[RoiRow]:
    """One row per scope and metric with outcomes or a declared metric, largest cost first."""
    flt = {k: v for k, v in (filters or {}).items() if k in ("department", "project", "agent")}
    catalogue = Catalogue.load(conn)
    tallies = _outcome_tallies(conn, period, flt)
    costs = _costs(conn, period, flt)
    by_key: dict[Key, dict[str, Tally]] = defaultdict(dict)
    for (d, p, a, m, mon), tally in tallies.items():
        by_key[(d, p, a, m)][mon] = tally
    for declared in catalogue.declared_scopes():
        kind, _, rest = declared.scope.partition(":")
        parts = rest.split("/")
        d, p, a = (parts + ["", ""])[:3]
        if not _in_filters(d, p, a, flt):
            continue
        covered = any(
            k[3] == declared.metric and k[0] == d and (not p or k[1] == p) and (not a or k[2] == a)
            for k in by_key
        )
        if not covered:
            by_key[(d, p, a, declared.metric)] = {}
    months = months_of(period)
    rows: list[RoiRow] = []
    for key, per_month in by_key.items():
        d, p, a, m = key
        metric = catalogue.resolve(d, p, a, m)
        total = Tally()
        for tally in per_month.values():
            total.add(tally)
        scope = (d, p or "*", a or "*")
        points = [
            MonthPoint(mon, per_month.get(mon, Tally()).outcomes_milli, costs.get((*scope, mon), 0))
            for mon in months
        ]
        value = _value(total, metric.value_nanos if metric else None) if per_month else None
        rows.append(
            RoiRow(
                d,
                p,
                a,
                m,
                metric.unit if metric else "",
                total.outcomes_milli,
                sum(pt.cost_nanos for pt in points),
                value,
                points if trend else [],
            )
        )
    rows.sort(key=lambda r: (-r.cost_nanos, r.key))
    return rows


def risers(rows: Iterable[RoiRow], limit: int = 5) -> list[Riser]:
    """The rows whose cost per outcome rose most between their last two months with
    outcomes (in percent)."""
    found: list[Riser] = []
    for row in rows:
        points = [pt for pt in row.trend if pt.outcomes_milli > 0]
        if len(points) < 2:
            continue
        previous, current = points[-2], points[-1]
        prev_cpo, cur_cpo = previous.cost_per_outcome_nanos, current.cost_per_outcome_nanos
        if prev_cpo is None or cur_cpo is None:
            continue
        change = percent_change(cur_cpo, prev_cpo)
        if change is not None and change > 0:
            found.append(Riser(row, previous, current, change))
    found.sort(key=lambda r: (-r.percent, r.row.key))
    return found[:limit]


def roi(
    conn: Connection,
    period: DateRange,
    filters: Mapping[str, str] | None = None,
    *,
    risers_limit: int = 5,
) -> RoiReport:
    rows = roi_rows(conn, period, filters)
    return RoiReport(period, rows, risers(rows, risers_limit))


def default_period(today: date) -> DateRange:
    """The last three calendar months, this one to date (enough for a trend)."""
    return DateRange(periods.add_months(periods.month_start(today), -2), today)


@dataclass(frozen=True, slots=True)
class OutcomeChange:
    """The change in cost per outcome of a scope and metric between two periods."""

    department: str
    project: str
    agent: str
    metric: str
    previous_nanos: int
    current_nanos: int
    percent: Decimal

    @property
    def name(self) -> str:
        return "/".join(x for x in (self.department, self.project, self.agent) if x)

    def as_json(self) -> dict[str, object]:
        return {
            "department": self.department,
            "project": self.project,
            "agent": self.agent,
            "metric": self.metric,
            "previous_usd": format_usd(self.previous_nanos),
            "current_usd": format_usd(self.current_nanos),
            "change_percent": format(self.percent, "f"),
        }


def cost_per_outcome_changes(
    conn: Connection,
    current: DateRange,
    previous: DateRange,
    filters: Mapping[str, str] | None = None,
    limit: int = 5,
) -> list[OutcomeChange]:
    """The biggest changes (either way) in cost per outcome from `previous` to `current`."""
    before = {r.key: r for r in roi_rows(conn, previous, filters, trend=False)}
    out: list[OutcomeChange] = []
    for row in roi_rows(conn, current, filters, trend=False):
        old = before.get(row.key)
        now_cpo = row.cost_per_outcome_nanos
        old_cpo = old.cost_per_outcome_nanos if old else None
        if now_cpo is None or old_cpo is None:
            continue
        change = percent_change(now_cpo, old_cpo)
        if change is None or change == 0:
            continue
        out.append(
            OutcomeChange(
                row.department, row.project, row.agent, row.metric, old_cpo, now_cpo, change
            )
        )
    out.sort(key=lambda c: (-abs(c.percent), c.department, c.project, c.agent, c.metric))
    return out[:limit]
