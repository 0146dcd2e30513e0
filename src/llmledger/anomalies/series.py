"""Hourly series per scope, as the detectors read them: prefix sums over a frame of hours.

A frame covers ``hours`` consecutive UTC hours from ``start_us``; every scope in it has
its spend and calls per hour, its spend per usage type, and its spend and calls per
model. Series hold prefix sums, so any window's total is two lookups. The hour being
evaluated may be in progress: `Series.hour` then reads what has been recorded so far
(live), or the first quarters of it (the bench's quarter-hour series).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Connection, select

from llmledger.ledger import schema

if TYPE_CHECKING:
    from llmledger.anomalies.steps import Step
    from llmledger.anomalies.sustained import Run

HOUR_US = 3_600_000_000
DAY_H = 24
WEEK_H = 168


class Series:
    """Hourly integers (nano-USD or counts) as prefix sums; hours outside read as zero."""

    __slots__ = (
        "prefix",
        "quarters",
        "n",
        "_levels",
        "memo",
        "noise_memo",
        "expected_memo",
        "step_memo",
        "swing_memo",
        "rate_memo",
        "cusum_memo",
    )

    def __init__(self, values: Iterable[int], quarters: Iterable[int] | None = None) -> None:
        prefix = array("q", [0])
        total = 0
        for v in values:
            total += v
            prefix.append(total)
        self.prefix = prefix
        self.n = len(prefix) - 1
        self._levels: dict[int, int] = {}
        #: Figures of complete hours that never change (the baseline's past errors).
        self.memo: dict[tuple[int, int], float | None] = {}
        self.noise_memo: dict[tuple[int, int], float | None] = {}
        #: Complete hours' seasonal expectations, and the within-the-day steps.
        self.expected_memo: dict[int, int | None] = {}
        self.step_memo: dict[tuple[int, int], Step | None] = {}
        #: The day-to-day swing measured for each day (see `counts.day_swing`).
        self.swing_memo: dict[int, float | None] = {}
        #: Complete hours' expected counts and sustained-rise sums (see `sustained`).
        self.rate_memo: dict[int, float | None] = {}
        self.cusum_memo: dict[tuple[float, int], Run | None] = {}
        self.quarters: array[int] | None = None
        if quarters is not None:
            q = array("q", [0])
            total = 0
            for v in quarters:
                total += v
                q.append(total)
            self.quarters = q

    def total(self, a: int, b: int) -> int:
        """Sum of complete hours a..b-1."""
        if 0 <= a <= b <= self.n:
            return self.prefix[b] - self.prefix[a]
        a = min(max(a, 0), self.n)
        b = min(max(b, 0), self.n)
        return self.prefix[b] - self.prefix[a] if b > a else 0

    def level(self, end: int) -> int:
        """The daily level before hour `end`: the mean of the 14 daily totals before it
        less the four largest and the two smallest (robust to an anomaly of up to four
        days, or a holiday, and balanced across weekdays: every fortnight holds the same
        weekdays). Memoised: it never changes."""
        cached = self._levels.get(end)
        if cached is None:
            p, n = self.prefix, self.n
            marks = [p[min(max(end - DAY_H * j, 0), n)] for j in range(15)]
            days = sorted(marks[j] - marks[j + 1] for j in range(14))
            cached = self._levels[end] = sum(days[2:10]) // 8
        return cached

    def hour(self, t: int, fraction: float = 1.0) -> int:
        """Hour t, or its first `fraction`.

        With quarter-hour values (the bench) the first quarters are read. Without them
        the last hour of the series is the hour in progress, read as recorded so far,
        and an earlier hour is prorated (to compare like with like).
        """
        full = self.total(t, t + 1)
        if fraction >= 1.0 or not 0 <= t < self.n:
            return full
        if self.quarters is not None:
            q = max(1, round(fraction * 4))
            return self.quarters[4 * t + q] - self.quarters[4 * t]
        if t == self.n - 1:
            return full
        return full * round(fraction * 1000) // 1000

    def window(self, a: int, t: int, fraction: float = 1.0) -> int:
        """Hours a..t inclusive, hour t read at `fraction`."""
        if fraction >= 1.0:
            return self.total(a, t + 1)
        return self.total(a, t) + self.hour(t, fraction)

    def first_nonzero(self) -> int | None:
        for i in range(self.n):
            if self.prefix[i + 1] != self.prefix[i]:
                return i
        return None


@dataclass(slots=True)
class ScopeSeries:
    """Everything the detectors know of one scope."""

    scope: str
    kind: str
    department: str
    parent: str | None
    cost: Series
    calls: Series
    usage: dict[str, Series] = field(default_factory=dict)
    model_cost: dict[str, Series] = field(default_factory=dict)
    model_calls: dict[str, Series] = field(default_factory=dict)
    first_hour: int = 0
    owner: str | None = None
    """For a key used by one agent (or project, department) only: that scope."""

    def days_active(self, t: int) -> float:
        return (t - self.first_hour) / DAY_H


@dataclass(slots=True)
class Frame:
    start_us: int
    hours: int
    scopes: dict[str, ScopeSeries]

    def hour_us(self, t: int) -> int:
        return self.start_us + t * HOUR_US

    def index(self, hour_us: int) -> int:
        return (hour_us - self.start_us) // HOUR_US


def scopes_of(department: str, project: str, agent: str, key_id: str) -> list[str]:
    """The scopes (budget notation) a rollup row counts in, broadest first."""
    out = ["org"]
    if department:
        out.append(f"department:{department}")
        if project:
            out.append(f"project:{department}/{project}")
            if agent:
                out.append(f"agent:{department}/{project}/{agent}")
    if key_id:
        out.append(f"key:{key_id}")
    return out


def parent_of(scope: str) -> str | None:
    kind, _, rest = scope.partition(":")
    if kind == "org":
        return None
    if kind in ("department", "key"):
        return "org"
    head = rest.rsplit("/", 1)[0]
    return f"department:{head}" if kind == "project" else f"project:{head}"


@dataclass(slots=True)
class _Acc:
    department: str
    cost: list[int]
    calls: list[int]
    usage: dict[str, list[int]] = field(default_factory=dict)
    model_cost: dict[str, list[int]] = field(default_factory=dict)
    model_calls: dict[str, list[int]] = field(default_factory=dict)
    departments: set[str] = field(default_factory=set)
    owners: set[str] = field(default_factory=set)


class FrameBuilder:
    """Accumulates rollup rows (or generated usage) into a `Frame`."""

    def __init__(self, start_us: int, hours: int) -> None:
        self.start_us = start_us
        self.hours = hours
        self._acc: dict[str, _Acc] = {}

    def _get(self, scope: str, department: str) -> _Acc:
        acc = self._acc.get(scope)
        if acc is None:
            n = self.hours
            acc = self._acc[scope] = _Acc(department, [0] * n, [0] * n)
        acc.departments.add(department)
        return acc

    def add_calls(
        self, t: int, dims: tuple[str, str, str, str], model: str, calls: int, cost: int
    ) -> None:
        scopes = scopes_of(*dims)
        for scope in scopes:
            acc = self._get(scope, dims[0])
            if scope.startswith("key:"):
                acc.owners.add(scopes[-2])
            acc.cost[t] += cost
            acc.calls[t] += calls
            acc.model_cost.setdefault(model, [0] * self.hours)[t] += cost
            acc.model_calls.setdefault(model, [0] * self.hours)[t] += calls

    def add_usage(
        self, t: int, dims: tuple[str, str, str, str], usage_type: str, cost: int
    ) -> None:
        for scope in scopes_of(*dims):
            acc = self._get(scope, dims[0])
            acc.usage.setdefault(usage_type, [0] * self.hours)[t] += cost

    def build(self) -> Frame:
        scopes: dict[str, ScopeSeries] = {}
        for scope, acc in self._acc.items():
            kind = scope.partition(":")[0]
            dept = acc.department if len(acc.departments) == 1 and kind != "org" else ""
            calls = Series(acc.calls)
            scopes[scope] = ScopeSeries(
                scope=scope,
                kind=kind,
                department=dept,
                parent=parent_of(scope),
                cost=Series(acc.cost),
                calls=calls,
                usage={k: Series(v) for k, v in acc.usage.items()},
                model_cost={k: Series(v) for k, v in acc.model_cost.items()},
                model_calls={k: Series(v) for k, v in acc.model_calls.items()},
                first_hour=calls.first_nonzero() or 0,
                owner=next(iter(acc.owners)) if len(acc.owners) == 1 else None,
            )
        return Frame(self.start_us, self.hours, scopes)


def load_frame(conn: Connection, start_us: int, end_us: int) -> Frame:
    """The hourly rollups of hours start_us <= hour < end_us, as a frame."""
    start_us -= start_us % HOUR_US
    hours = max(1, -(-(end_us - start_us) // HOUR_US))
    builder = FrameBuilder(start_us, hours)
    c = schema.calls_hourly
    rows = conn.execute(
        select(
            c.c.hour_us,
            c.c.department,
            c.c.project,
            c.c.agent,
            c.c.key_id,
            c.c.provider,
            c.c.model,
            c.c.calls,
            c.c.cost_nanos,
        ).where(c.c.hour_us >= start_us, c.c.hour_us < end_us)
    )
    for hour_us, dept, project, agent, key_id, provider, model, calls, cost in rows:
        t = (hour_us - start_us) // HOUR_US
        builder.add_calls(
            t, (dept, project, agent, key_id), f"{provider}/{model}", int(calls), int(cost)
        )
    u = schema.usage_hourly
    usage_rows = conn.execute(
        select(
            u.c.hour_us,
            u.c.department,
            u.c.project,
            u.c.agent,
            u.c.key_id,
            u.c.usage_type,
            u.c.cost_nanos,
        ).where(u.c.hour_us >= start_us, u.c.hour_us < end_us)
    )
    for hour_us, dept, project, agent, key_id, usage_type, cost in usage_rows:
        t = (hour_us - start_us) // HOUR_US
        builder.add_usage(t, (dept, project, agent, key_id), usage_type, int(cost))
    return builder.build()
