"""Rollups: hourly (UTC hour), daily and monthly (organisation's local date and month)
sums of counted events.

They are maintained as events settle (`apply`), and can be rebuilt from the events
(`rebuild`); both paths aggregate through `RollupDelta`, so a rebuild equals the
maintained rollups to the nano-dollar (DESIGN invariant 5).

Events are first summed per 15-minute slot (every UTC offset in use is a multiple of 15
minutes, so a slot lies in one UTC hour and one local day); the slots are then folded
into hours and days, and the days into months. Writes go through the driver's
``executemany`` directly: on bulk import the rollups are most of the work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Table, delete, func, select

from llmledger.ledger import schema
from llmledger.ledger.event import EventFlag, from_us

HOUR_US = 3_600_000_000
SLOT_US = 900_000_000

#: Statuses whose events count as spend (forwarded calls).
COUNTED_STATUSES = ("settled", "unsettled", "failed")

DimKey = tuple[str, str, str, str, str, str]
CALL_FIELDS = (
    "calls",
    "cost_nanos",
    "list_cost_nanos",
    "unpriced_calls",
    "routed_calls",
    "routed_cost_nanos",
    "requested_cost_nanos",
)
USAGE_FIELDS = ("quantity_milli", "cost_nanos", "list_cost_nanos")
_UNPRICED = int(EventFlag.UNPRICED)


@dataclass(slots=True)
class RollupDelta:
    """Sums to add to the rollups, per 15-minute slot and dimensions."""

    zone: ZoneInfo
    calls: dict[tuple[int, DimKey], list[int]] = field(default_factory=dict)
    usage: dict[tuple[int, DimKey, str], list[int]] = field(default_factory=dict)

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
        key = (ts_us // SLOT_US, dims)
        row = self.calls.get(key)
        if row is None:
            row = self.calls[key] = [0, 0, 0, 0, 0, 0, 0]
        row[0] += 1
        row[1] += cost
        row[2] += list_cost
        if flags & _UNPRICED:
            row[3] += 1
        if routed_from:
            row[4] += 1
            row[5] += cost
            row[6] += requested_cost or 0

    def add_usage(
        self, ts_us: int, dims: DimKey, usage_type: str, qty_milli: int, cost: int, lc: int
    ) -> None:
        key = (ts_us // SLOT_US, dims, usage_type)
        row = self.usage.get(key)
        if row is None:
            self.usage[key] = [qty_milli, cost, lc]
        else:
            row[0] += qty_milli
            row[1] += cost
            row[2] += lc

    def __bool__(self) -> bool:
        return bool(self.calls or self.usage)


def _fold(
    slots: dict[tuple[int, DimKey], list[int]] | dict[tuple[int, DimKey, str], list[int]],
    zone: ZoneInfo,
) -> tuple[dict[tuple[object, ...], list[int]], dict[tuple[object, ...], list[int]]]:
    """Slot sums folded into (hour, rest...) and (local day, rest...) sums."""
    hourly: dict[tuple[object, ...], list[int]] = {}
    daily: dict[tuple[object, ...], list[int]] = {}
    days: dict[int, str] = {}
    for key, values in slots.items():
        slot = key[0]
        start_us = slot * SLOT_US
        day = days.get(slot)
        if day is None:
            day = days[slot] = from_us(start_us).astimezone(zone).date().isoformat()
        for target, bucket in ((hourly, start_us - start_us % HOUR_US), (daily, day)):
            k = (bucket, *key[1:])
            cur = target.get(k)
            if cur is None:
                target[k] = list(values)
            else:
                for i, v in enumerate(values):
                    cur[i] += v
    return hourly, daily


def _months(daily: dict[tuple[object, ...], list[int]]) -> dict[tuple[object, ...], list[int]]:
    """Daily sums folded into local months ("YYYY-MM-DD" -> "YYYY-MM")."""
    monthly: dict[tuple[object, ...], list[int]] = {}
    for key, values in daily.items():
        k = (str(key[0])[:7], *key[1:])
        cur = monthly.get(k)
        if cur is None:
            monthly[k] = list(values)
        else:
            for i, v in enumerate(values):
                cur[i] += v
    return monthly


def _upsert_sql(conn: Connection, table: Table, sums: Sequence[str]) -> str:
    names = [c.name for c in table.columns]
    keys = [c.name for c in table.primary_key.columns]
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    updates = ", ".join(f"{n} = {table.name}.{n} + excluded.{n}" for n in sums)
    return (
        f"INSERT INTO {table.name} ({', '.join(names)}) "
        f"VALUES ({', '.join([mark] * len(names))}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    )


def _write(
    conn: Connection, table: Table, sums: tuple[str, ...], rows: dict[tuple[object, ...], list[int]]
) -> None:
    if not rows:
        return
    params = [(*k[:1], *k[1], *k[2:], *v) for k, v in rows.items()]  # type: ignore[misc]
    if conn.dialect.name == "postgresql":
        params.sort()  # one lock order for concurrent writers
        if len(params) >= _COPY_FROM:
            _copy_upsert(conn, table, sums, params)
            return
    conn.exec_driver_sql(_upsert_sql(conn, table, sums), params)


#: From this many rows, PostgreSQL gets them by ``COPY`` into a temporary table and one
#: set-based upsert: an ``executemany`` of upserts costs the server a statement per row.
_COPY_FROM = 200


def _copy_upsert(
    conn: Connection, table: Table, sums: Sequence[str], params: list[tuple[object, ...]]
) -> None:
    names = ", ".join(c.name for c in table.columns)
    keys = ", ".join(c.name for c in table.primary_key.columns)
    staging = f"llmledger_sums_{table.name}"
    updates = ", ".join(f"{n} = {table.name}.{n} + excluded.{n}" for n in sums)
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {staging} (LIKE {table.name}) ON COMMIT DELETE ROWS"
    )
    conn.exec_driver_sql(f"DELETE FROM {staging}")
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        with cursor.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
            for row in params:
                copy.write_row(row)
    # Sorted by key, as the executemany path is: one lock order for concurrent writers.
    conn.exec_driver_sql(
        f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {staging} ORDER BY {keys} "
        f"ON CONFLICT ({keys}) DO UPDATE SET {updates}"
    )


def apply(conn: Connection, delta: RollupDelta) -> None:
    """Add `delta` to the rollup tables inside the caller's transaction."""
    hourly_calls, daily_calls = _fold(delta.calls, delta.zone)
    hourly_usage, daily_usage = _fold(delta.usage, delta.zone)
    write_sums(conn, hourly_calls, daily_calls, hourly_usage, daily_usage)


Sums = dict[tuple[object, ...], list[int]]
"""Rollup sums by key: ``(hour_us or day, dims)`` for calls (values in `CALL_FIELDS`
order), ``(hour_us or day, dims, usage_type)`` for usage (`USAGE_FIELDS` order)."""


def write_sums(
    conn: Connection, hourly_calls: Sums, daily_calls: Sums, hourly_usage: Sums, daily_usage: Sums
) -> None:
    """Add hourly and daily sums (and the monthly sums they make) to every rollup table:
    the one place both the settle path and the bulk path write rollups."""
    # The tables in the bulk path's order: one lock order for concurrent writers.
    _write(conn, schema.calls_hourly, CALL_FIELDS, hourly_calls)
    _write(conn, schema.calls_daily, CALL_FIELDS, daily_calls)
    _write(conn, schema.calls_monthly, CALL_FIELDS, _months(daily_calls))
    _write(conn, schema.usage_hourly, USAGE_FIELDS, hourly_usage)
    _write(conn, schema.usage_daily, USAGE_FIELDS, daily_usage)
    _write(conn, schema.usage_monthly, USAGE_FIELDS, _months(daily_usage))


def first_whole_day(ts_us: int, zone: ZoneInfo) -> str:
    """The first local date ("YYYY-MM-DD") that starts at or after `ts_us`."""
    local = from_us(ts_us).astimezone(zone)
    day = local.date()
    if local.time() != time():
        day += timedelta(days=1)
    return day.isoformat()


ROLLUP_TABLES = (
    schema.calls_hourly,
    schema.calls_daily,
    schema.calls_monthly,
    schema.usage_hourly,
    schema.usage_daily,
    schema.usage_monthly,
)


def rebuild(
    conn: Connection,
    zone: ZoneInfo,
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Recompute every rollup from the events; returns the number of counted events.

    After retention (`retention.horizon_us`) only what lies after the horizon is
    recomputed: hours from the horizon on, local days that start at or after it; the
    rollups before it are kept, since their events are gone.
    """
    from llmledger.ledger import bulk_rollups, retention

    horizon = retention.horizon_us(conn)
    first_day = None if horizon is None else first_whole_day(horizon, zone)
    for table in ROLLUP_TABLES:
        stmt = delete(table)
        if horizon is not None and "hour_us" in table.c:
            stmt = stmt.where(table.c.hour_us >= horizon)
        elif first_day is not None and "day" in table.c:
            stmt = stmt.where(table.c.day >= first_day)
        conn.execute(stmt)
    bulk_rollups.add_all(conn, zone, first_day=first_day)
    e = schema.events
    seen = int(
        conn.execute(
            select(func.count()).select_from(e).where(e.c.status.in_(COUNTED_STATUSES))
        ).scalar_one()
    )
    if progress:
        progress(seen)
    return seen
