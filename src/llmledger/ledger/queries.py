"""Read queries over the rollups: sums by any dimensions, within local dates.

A period is read from the coarsest rollups that answer it exactly: its whole local
months from the monthly rollups, the days before its first whole month and after its
last from the daily ones, or, where a partial month covers most of its days, that month
less its days outside the period (`cover`). A year is then about 12 rows per key plus a
fortnight of days at each end at most, instead of 365, however many events the ledger
holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import ColumnElement, Connection, Subquery, Table, func, select, union_all

from llmledger.ledger import schema
from llmledger.ledger.rollups import CALL_FIELDS, USAGE_FIELDS

#: Dimensions a breakdown can group by, with the column each reads.
GROUPABLE = ("department", "project", "agent", "key_id", "provider", "model")
TIME_GROUPS = ("day", "month")
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class CallSums:
    key: tuple[str, ...]
    calls: int
    cost_nanos: int
    list_cost_nanos: int
    unpriced_calls: int
    routed_calls: int
    routed_cost_nanos: int
    requested_cost_nanos: int


@dataclass(frozen=True, slots=True)
class UsageSums:
    key: tuple[str, ...]
    usage_type: str
    quantity_milli: int
    cost_nanos: int
    list_cost_nanos: int


@dataclass(frozen=True, slots=True)
class Cover:
    """The rollup rows whose sum is a period: a range of whole local months ("YYYY-MM",
    inclusive) from the monthly rollups, plus ranges of local days from the daily ones,
    minus other ranges of days (a month read whole, less its days outside the period,
    when those are fewer than the days inside)."""

    months: tuple[str, str] | None
    plus: tuple[tuple[date, date], ...]
    minus: tuple[tuple[date, date], ...] = ()


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def cover(start: date, end: date, *, by_day: bool = False) -> Cover:
    """How to read `start`..`end` (inclusive local dates) with the fewest rollup rows;
    with `by_day` (a breakdown by day) every day, from the daily rollups."""
    if by_day:
        return Cover(None, ((start, end),))
    whole: list[date] = []
    plus: list[tuple[date, date]] = []
    minus: list[tuple[date, date]] = []

    def part(lo: date, hi: date) -> None:  # lo..hi lie in one month
        first, last = lo.replace(day=1), _next_month(lo) - _ONE_DAY
        inside = (hi - lo).days + 1
        outside = (last - first).days + 1 - inside
        if outside + 1 >= inside and outside:  # the days themselves are fewer rows
            plus.append((lo, hi))
            return
        whole.append(first)
        if lo > first:
            minus.append((first, lo - _ONE_DAY))
        if hi < last:
            minus.append((hi + _ONE_DAY, last))

    if start.replace(day=1) == end.replace(day=1):
        part(start, end)
    else:
        part(start, _next_month(start) - _ONE_DAY)
        middle = _next_month(start)
        if middle < end.replace(day=1):
            whole += [middle, end.replace(day=1) - _ONE_DAY]
        part(end.replace(day=1), end)
    months = (min(whole).isoformat()[:7], max(whole).isoformat()[:7]) if whole else None
    return Cover(months, tuple(plus), tuple(minus))


def _group_columns(table: Table, group_by: Sequence[str]) -> list[ColumnElement[str]]:
    monthly = "month" in table.c
    cols: list[ColumnElement[str]] = []
    for name in group_by:
        if name == "day" and not monthly:
            cols.append(table.c.day.label("day"))
        elif name == "month":
            month = table.c.month if monthly else func.substr(table.c.day, 1, 7)
            cols.append(month.label("month"))
        elif name in GROUPABLE:
            cols.append(table.c[name].label(name))
        else:
            raise ValueError(f"cannot group by {name!r}")
    return cols


def _rows(
    daily: Table,
    monthly: Table,
    start: date,
    end: date,
    group_by: Sequence[str],
    filters: Mapping[str, str],
    sums: Sequence[str],
    usage_types: Sequence[str] | None = None,
) -> Subquery:
    """The signed rollup rows whose sums, grouped by `group_by`, are the period's:
    a union of one select per part of its cover (`sums` negated in the parts taken off).
    Every sum is additive, so the result is exact; a group whose rows all cancel out
    (spend only on days taken off) sums to zero calls or quantity and is left out by
    the callers, as no real rollup row has zero of either. `usage_types` is given for
    the usage rollups only (each row keeps its type; an empty list: every type)."""
    for name in filters:
        if name not in GROUPABLE:
            raise ValueError(f"cannot filter by {name!r}")
    span = cover(start, end, by_day="day" in group_by)
    pieces: list[tuple[Table, ColumnElement[bool], int]] = [
        (daily, daily.c.day.between(lo.isoformat(), hi.isoformat()), 1) for lo, hi in span.plus
    ]
    pieces += [
        (daily, daily.c.day.between(lo.isoformat(), hi.isoformat()), -1) for lo, hi in span.minus
    ]
    if span.months:
        pieces.append((monthly, monthly.c.month.between(*span.months), 1))
    parts = []
    for table, bucket, sign in pieces:
        conds = [bucket, *(table.c[name] == value for name, value in filters.items())]
        keys = list(_group_columns(table, group_by))
        if usage_types is not None:
            keys.append(table.c.usage_type)
            if usage_types:
                conds.append(table.c.usage_type.in_(list(usage_types)))
        values = [table.c[v] if sign > 0 else (-table.c[v]).label(v) for v in sums]
        parts.append(select(*keys, *values).where(*conds))
    return union_all(*parts).subquery("r") if len(parts) > 1 else parts[0].subquery("r")


def call_sums(
    conn: Connection,
    start: date,
    end: date,
    group_by: Sequence[str] = (),
    filters: Mapping[str, str] | None = None,
) -> list[CallSums]:
    """Calls and cost from the rollups between local dates (inclusive)."""
    rows = _rows(
        schema.calls_daily, schema.calls_monthly, start, end, group_by, filters or {}, CALL_FIELDS
    )
    cols = [rows.c[name] for name in group_by]
    stmt = select(*cols, *(func.sum(rows.c[v]) for v in CALL_FIELDS)).having(
        func.sum(rows.c.calls) != 0
    )
    if cols:
        stmt = stmt.group_by(*cols).order_by(*cols)
    n = len(cols)
    return [CallSums(tuple(row[:n]), *(int(v) for v in row[n:])) for row in conn.execute(stmt)]


def usage_sums(
    conn: Connection,
    start: date,
    end: date,
    group_by: Sequence[str] = (),
    filters: Mapping[str, str] | None = None,
    usage_types: Sequence[str] | None = None,
) -> list[UsageSums]:
    """Usage by type from the rollups between local dates (inclusive)."""
    rows = _rows(
        schema.usage_daily,
        schema.usage_monthly,
        start,
        end,
        group_by,
        filters or {},
        USAGE_FIELDS,
        usage_types or (),
    )
    cols = [rows.c[name] for name in group_by]
    stmt = (
        select(*cols, rows.c.usage_type, *(func.sum(rows.c[v]) for v in USAGE_FIELDS))
        .group_by(*cols, rows.c.usage_type)
        .having(func.sum(rows.c.quantity_milli) != 0)
        .order_by(*cols, rows.c.usage_type)
    )
    n = len(cols)
    return [
        UsageSums(tuple(row[:n]), row[n], int(row[n + 1]), int(row[n + 2]), int(row[n + 3]))
        for row in conn.execute(stmt)
    ]


def distinct_values(conn: Connection, column: str) -> list[str]:
    """Every value a dimension has taken (for filters and validation)."""
    if column not in GROUPABLE:
        raise ValueError(f"unknown dimension {column!r}")
    # The monthly rollups hold every key the daily ones do, in a thirtieth of the rows.
    t = schema.calls_monthly
    return [v for v in conn.execute(select(t.c[column]).distinct().order_by(t.c[column])).scalars()]
