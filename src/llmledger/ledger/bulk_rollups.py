"""Rollups computed by the database from every event at once: the rebuild.

The settle path and bulk import sum their events in Python (`rollups.write_sums`); here
the database groups all the events in one statement per rollup table. The two are checked
against each other by the rebuild test (DESIGN invariant 5). Local days come from a
temporary table mapping each 15-minute slot of the events to its date in the
organisation's time zone. The monthly rollups are summed from the daily ones (a month is
the union of its days), a far smaller table than the events.
"""

from __future__ import annotations

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Table

from llmledger.ledger import schema
from llmledger.ledger.event import from_us
from llmledger.ledger.rollups import CALL_FIELDS, COUNTED_STATUSES, SLOT_US, USAGE_FIELDS

_DIMS = "e.department, e.project, e.agent, e.key_id, e.provider, e.model_used"
_STATUSES = ", ".join(f"'{s}'" for s in COUNTED_STATUSES)
_CALL_SUMS = (
    "count(*), sum(e.cost_nanos), sum(e.list_cost_nanos), "
    "sum(CASE WHEN (e.flags & 1) = 1 THEN 1 ELSE 0 END), "
    "sum(CASE WHEN coalesce(e.routed_from, '') <> '' THEN 1 ELSE 0 END), "
    "sum(CASE WHEN coalesce(e.routed_from, '') <> '' THEN e.cost_nanos ELSE 0 END), "
    "sum(CASE WHEN coalesce(e.routed_from, '') <> '' "
    "THEN coalesce(e.requested_cost_nanos, 0) ELSE 0 END)"
)
_USAGE_SUMS = "u.usage_type, sum(u.quantity_milli), sum(u.cost_nanos), sum(u.list_cost_nanos)"


def _mark(conn: Connection) -> str:
    return "%s" if conn.dialect.name == "postgresql" else "?"


def _temp_tables(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            "CREATE TEMP TABLE IF NOT EXISTS llmledger_slot_day "
            "(slot bigint PRIMARY KEY, day text NOT NULL) ON COMMIT DELETE ROWS"
        )
    else:
        conn.exec_driver_sql(
            "CREATE TEMP TABLE IF NOT EXISTS llmledger_slot_day "
            "(slot INTEGER PRIMARY KEY, day TEXT NOT NULL)"
        )
        conn.exec_driver_sql("DELETE FROM llmledger_slot_day")


def _slot_days(conn: Connection, slots: Iterable[int], zone: ZoneInfo) -> None:
    rows = [(s, from_us(s * SLOT_US).astimezone(zone).date().isoformat()) for s in set(slots)]
    if rows:
        conn.exec_driver_sql(
            f"INSERT INTO llmledger_slot_day (slot, day) VALUES ({_mark(conn)}, {_mark(conn)})",
            rows,
        )


def _upsert(table: Table, columns: str, select_sql: str, sums: tuple[str, ...]) -> str:
    keys = ", ".join(c.name for c in table.primary_key.columns)
    updates = ", ".join(f"{n} = {table.name}.{n} + excluded.{n}" for n in sums)
    return (
        f"INSERT INTO {table.name} ({columns}) {select_sql} "
        f"ON CONFLICT ({keys}) DO UPDATE SET {updates}"
    )


def _statements() -> list[str]:
    """The upserts of the hourly and daily rollups from every counted event (the monthly
    ones are then summed from the daily: `_monthly_from_daily`)."""
    dims = "department, project, agent, key_id, provider, model"
    calls_cols = ", ".join(CALL_FIELDS)
    usage_cols = "usage_type, " + ", ".join(USAGE_FIELDS)
    hour = f"(e.ts_us / {SLOT_US * 4}) * {SLOT_US * 4}"
    day_join = f"JOIN llmledger_slot_day sd ON sd.slot = e.ts_us / {SLOT_US}"
    counted = f"WHERE e.status IN ({_STATUSES})"
    calls_from = "events e"
    usage_from = "event_usage u JOIN events e ON e.id = u.event_id"
    calls_tables = [
        (schema.calls_hourly, hour, "hour_us", ""),
        (schema.calls_daily, "sd.day", "day", day_join),
    ]
    usage_tables = [
        (schema.usage_hourly, hour, "hour_us", ""),
        (schema.usage_daily, "sd.day", "day", day_join),
    ]
    out = []
    for table, bucket, bucket_col, join in calls_tables:
        select_sql = (
            f"SELECT {bucket}, {_DIMS}, {_CALL_SUMS} FROM {calls_from} {join} "
            f"{counted} GROUP BY {bucket}, {_DIMS}"
        )
        out.append(_upsert(table, f"{bucket_col}, {dims}, {calls_cols}", select_sql, CALL_FIELDS))
    for table, bucket, bucket_col, join in usage_tables:
        select_sql = (
            f"SELECT {bucket}, {_DIMS}, {_USAGE_SUMS} FROM {usage_from} {join} "
            f"{counted} GROUP BY {bucket}, {_DIMS}, u.usage_type"
        )
        out.append(_upsert(table, f"{bucket_col}, {dims}, {usage_cols}", select_sql, USAGE_FIELDS))
    return out


def _monthly_from_daily() -> list[str]:
    """Upserts of the monthly rollups from the daily ones (all of them)."""
    dims = "department, project, agent, key_id, provider, model"
    out = []
    for monthly, daily, keys, sums in (
        (schema.calls_monthly, schema.calls_daily, dims, CALL_FIELDS),
        (schema.usage_monthly, schema.usage_daily, f"{dims}, usage_type", USAGE_FIELDS),
    ):
        select_sql = (
            f"SELECT substr(day, 1, 7), {keys}, {', '.join(f'sum({n})' for n in sums)} "
            f"FROM {daily.name} GROUP BY substr(day, 1, 7), {keys}"
        )
        out.append(_upsert(monthly, f"month, {keys}, {', '.join(sums)}", select_sql, sums))
    return out


def add_all(conn: Connection, zone: ZoneInfo, *, first_day: str | None = None) -> None:
    """Add every counted event to (emptied) rollups: the rebuild. With `first_day`, the
    daily rollups only from that local date on (the days before it are kept as they are:
    retention dropped part of their events)."""
    _temp_tables(conn)
    slots = conn.exec_driver_sql(f"SELECT DISTINCT ts_us / {SLOT_US} FROM events").scalars()
    _slot_days(conn, list(slots), zone)
    if first_day is not None:
        conn.exec_driver_sql(
            f"DELETE FROM llmledger_slot_day WHERE day < {_mark(conn)}", (first_day,)
        )
    for sql in _statements() + _monthly_from_daily():
        conn.exec_driver_sql(sql)
