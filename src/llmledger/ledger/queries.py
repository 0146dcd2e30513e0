"""Read queries over the daily rollups: sums by any dimensions, within local dates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Connection, func, select

from llmledger.ledger import schema

#: Dimensions a breakdown can group by, with the column each reads.
GROUPABLE = ("department", "project", "agent", "key_id", "provider", "model")
TIME_GROUPS = ("day", "month")


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


def _group_columns(table: object, group_by: Sequence[str]) -> list[ColumnElement[str]]:
    cols: list[ColumnElement[str]] = []
    t = table  # a rollup table with a ``day`` column
    for name in group_by:
        if name == "day":
            cols.append(t.c.day.label("day"))  # type: ignore[attr-defined]
        elif name == "month":
            cols.append(func.substr(t.c.day, 1, 7).label("month"))  # type: ignore[attr-defined]
        elif name in GROUPABLE:
            cols.append(t.c[name].label(name))  # type: ignore[attr-defined]
        else:
            raise ValueError(f"cannot group by {name!r}")
    return cols


def _where(
    table: object, start: date, end: date, filters: Mapping[str, str]
) -> list[ColumnElement[bool]]:
    t = table
    conds: list[ColumnElement[bool]] = [
        t.c.day >= start.isoformat(),  # type: ignore[attr-defined]
        t.c.day <= end.isoformat(),  # type: ignore[attr-defined]
    ]
    for name, value in filters.items():
        if name not in GROUPABLE:
            raise ValueError(f"cannot filter by {name!r}")
        conds.append(t.c[name] == value)  # type: ignore[attr-defined]
    return conds


def call_sums(
    conn: Connection,
    start: date,
    end: date,
    group_by: Sequence[str] = (),
    filters: Mapping[str, str] | None = None,
) -> list[CallSums]:
    """Calls and cost from the daily rollups between local dates (inclusive)."""
    t = schema.calls_daily
    cols = _group_columns(t, group_by)
    stmt = select(
        *cols,
        func.coalesce(func.sum(t.c.calls), 0),
        func.coalesce(func.sum(t.c.cost_nanos), 0),
        func.coalesce(func.sum(t.c.list_cost_nanos), 0),
        func.coalesce(func.sum(t.c.unpriced_calls), 0),
        func.coalesce(func.sum(t.c.routed_calls), 0),
        func.coalesce(func.sum(t.c.routed_cost_nanos), 0),
        func.coalesce(func.sum(t.c.requested_cost_nanos), 0),
    ).where(*_where(t, start, end, filters or {}))
    if cols:
        stmt = stmt.group_by(*cols).order_by(*cols)
    n = len(cols)
    out: list[CallSums] = []
    for row in conn.execute(stmt):
        if not cols and not row[n]:
            continue
        out.append(CallSums(tuple(row[:n]), *(int(v) for v in row[n:])))
    return out


def usage_sums(
    conn: Connection,
    start: date,
    end: date,
    group_by: Sequence[str] = (),
    filters: Mapping[str, str] | None = None,
    usage_types: Sequence[str] | None = None,
) -> list[UsageSums]:
    """Usage by type from the daily rollups between local dates (inclusive)."""
    t = schema.usage_daily
    cols = _group_columns(t, group_by)
    conds = _where(t, start, end, filters or {})
    if usage_types:
        conds.append(t.c.usage_type.in_(list(usage_types)))
    stmt = (
        select(
            *cols,
            t.c.usage_type,
            func.sum(t.c.quantity_milli),
            func.sum(t.c.cost_nanos),
            func.sum(t.c.list_cost_nanos),
        )
        .where(*conds)
        .group_by(*cols, t.c.usage_type)
        .order_by(*cols, t.c.usage_type)
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
    t = schema.calls_daily
    return [v for v in conn.execute(select(t.c[column]).distinct().order_by(t.c[column])).scalars()]
