"""Rollups: hourly (UTC hour) and daily (organisation's local date) sums of settled events.

They are maintained as events settle (`apply`), and can be rebuilt from the events
(`rebuild`); both paths aggregate through `RollupDelta`, so a rebuild equals the
maintained rollups to the nano-dollar (DESIGN invariant 5).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from llmledger.ledger import schema
from llmledger.ledger.event import EventFlag, from_us

_K = TypeVar("_K")
_B = TypeVar("_B", int, str)

HOUR_US = 3_600_000_000
_SLOT_US = 900_000_000  # every UTC offset in use is a multiple of 15 minutes

#: Statuses whose events count as spend (forwarded calls).
COUNTED_STATUSES = ("settled", "unsettled", "failed")

DimKey = tuple[str, str, str, str, str, str]
_CALL_FIELDS = (
    "calls",
    "cost_nanos",
    "list_cost_nanos",
    "unpriced_calls",
    "routed_calls",
    "routed_cost_nanos",
    "requested_cost_nanos",
)
_USAGE_FIELDS = ("quantity_milli", "cost_nanos", "list_cost_nanos")


@dataclass(slots=True)
class RollupDelta:
    """Sums to add to the rollups, keyed by bucket and dimensions."""

    zone: ZoneInfo
    hourly_calls: dict[tuple[int, DimKey], list[int]] = field(default_factory=dict)
    daily_calls: dict[tuple[str, DimKey], list[int]] = field(default_factory=dict)
    hourly_usage: dict[tuple[int, DimKey, str], list[int]] = field(default_factory=dict)
    daily_usage: dict[tuple[str, DimKey, str], list[int]] = field(default_factory=dict)
    _days: dict[int, str] = field(default_factory=dict)

    def local_day(self, ts_us: int) -> str:
        slot = ts_us // _SLOT_US
        day = self._days.get(slot)
        if day is None:
            day = from_us(slot * _SLOT_US).astimezone(self.zone).date().isoformat()
            self._days[slot] = day
        return day

    def add_call(
        self,
        ts_us: int,
        dims: DimKey,
        cost: int,
        list_cost: int,
        flags: int,
        routed_from: str | None,
        requested_cost: int | None,
    ) -> None:
        routed = 1 if routed_from else 0
        values = (
            1,
            cost,
            list_cost,
            1 if flags & EventFlag.UNPRICED else 0,
            routed,
            cost if routed else 0,
            (requested_cost or 0) if routed else 0,
        )
        for key, target in (
            ((ts_us - ts_us % HOUR_US, dims), self.hourly_calls),
            ((self.local_day(ts_us), dims), self.daily_calls),
        ):
            _accumulate(target, key, values)

    def add_usage(
        self, ts_us: int, dims: DimKey, usage_type: str, qty_milli: int, cost: int, lc: int
    ) -> None:
        values = (qty_milli, cost, lc)
        _accumulate(self.hourly_usage, (ts_us - ts_us % HOUR_US, dims, usage_type), values)
        _accumulate(self.daily_usage, (self.local_day(ts_us), dims, usage_type), values)

    def __bool__(self) -> bool:
        return bool(self.hourly_calls or self.hourly_usage)


def _accumulate(target: dict[_K, list[int]], key: _K, values: tuple[int, ...]) -> None:
    current = target.get(key)
    if current is None:
        target[key] = list(values)
    else:
        for i, v in enumerate(values):
            current[i] += v


def _upsert(
    conn: Connection, table: Table, rows: list[dict[str, object]], sums: tuple[str, ...]
) -> None:
    if not rows:
        return
    dialect = conn.dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(table)
    keys = [c.name for c in table.primary_key.columns]
    stmt = stmt.on_conflict_do_update(
        index_elements=keys,
        set_={name: table.c[name] + stmt.excluded[name] for name in sums},
    )
    for start in range(0, len(rows), 2000):
        conn.execute(stmt, rows[start : start + 2000])


def apply(conn: Connection, delta: RollupDelta) -> None:
    """Add `delta` to the rollup tables inside the caller's transaction."""
    # Sorted keys keep lock order stable across concurrent PostgreSQL writers.
    _upsert(
        conn, schema.calls_hourly, _rows(delta.hourly_calls, "hour_us", _CALL_FIELDS), _CALL_FIELDS
    )
    _upsert(conn, schema.calls_daily, _rows(delta.daily_calls, "day", _CALL_FIELDS), _CALL_FIELDS)
    _upsert(conn, schema.usage_hourly, _usage_rows(delta.hourly_usage, "hour_us"), _USAGE_FIELDS)
    _upsert(conn, schema.usage_daily, _usage_rows(delta.daily_usage, "day"), _USAGE_FIELDS)


def _rows(
    source: dict[tuple[_B, DimKey], list[int]], bucket: str, fields: tuple[str, ...]
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for (b, dims), values in sorted(source.items()):
        row: dict[str, object] = {bucket: b}
        row.update(zip(schema.ROLLUP_DIMENSIONS, dims, strict=True))
        row.update(zip(fields, values, strict=True))
        rows.append(row)
    return rows


def _usage_rows(
    source: dict[tuple[_B, DimKey, str], list[int]], bucket: str
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for (b, dims, usage_type), values in sorted(source.items()):
        row: dict[str, object] = {bucket: b, "usage_type": usage_type}
        row.update(zip(schema.ROLLUP_DIMENSIONS, dims, strict=True))
        row.update(zip(_USAGE_FIELDS, values, strict=True))
        rows.append(row)
    return rows


ROLLUP_TABLES = (schema.calls_hourly, schema.calls_daily, schema.usage_hourly, schema.usage_daily)


def rebuild(
    conn: Connection,
    zone: ZoneInfo,
    *,
    chunk: int = 50_000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Recompute every rollup from the events; returns the number of events read."""
    for table in ROLLUP_TABLES:
        conn.execute(delete(table))
    e, u = schema.events, schema.event_usage
    dims_cols = [e.c.department, e.c.project, e.c.agent, e.c.key_id, e.c.provider, e.c.model_used]
    counted = e.c.status.in_(COUNTED_STATUSES)
    seen = 0
    calls = select(
        e.c.ts_us,
        *dims_cols,
        e.c.cost_nanos,
        e.c.list_cost_nanos,
        e.c.flags,
        e.c.routed_from,
        e.c.requested_cost_nanos,
    ).where(counted)
    delta = RollupDelta(zone)
    for row in conn.execute(calls.execution_options(yield_per=chunk)):
        delta.add_call(row[0], tuple(row[1:7]), row[7], row[8], row[9], row[10], row[11])  # type: ignore[arg-type]
        seen += 1
        if seen % chunk == 0:
            apply(conn, delta)
            delta = RollupDelta(zone)
            if progress:
                progress(chunk)
    usage = (
        select(
            e.c.ts_us,
            *dims_cols,
            u.c.usage_type,
            u.c.quantity_milli,
            u.c.cost_nanos,
            u.c.list_cost_nanos,
        )
        .select_from(u.join(e, e.c.id == u.c.event_id))
        .where(counted)
    )
    count = 0
    for row in conn.execute(usage.execution_options(yield_per=chunk)):
        delta.add_usage(row[0], tuple(row[1:7]), row[7], row[8], row[9], row[10])  # type: ignore[arg-type]
        count += 1
        if count % chunk == 0:
            apply(conn, delta)
            delta = RollupDelta(zone)
    apply(conn, delta)
    if progress:
        progress(seen % chunk)
    return seen


def day_range(start: date, end: date) -> tuple[str, str]:
    """Inclusive ISO bounds for the daily rollups' ``day`` column."""
    return start.isoformat(), end.isoformat()
