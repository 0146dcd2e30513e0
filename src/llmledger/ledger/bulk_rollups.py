"""Rollups computed by the database for many events at once (bulk import, rebuild).

The settle path adds one event at a time in Python (`rollups.RollupDelta`); here the
database groups a whole batch in one statement per rollup table, which is what makes
bulk import fast. Both paths are checked against each other by the rebuild test
(DESIGN invariant 5). Local days come from a temporary table mapping each 15-minute slot
of the batch to its date in the organisation's time zone; a local month is the first
seven characters of a local date. The rebuild sums the monthly rollups from the daily
ones (a month is the union of its days), a far smaller table than the events.
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
            "CREATE TEMP TABLE IF NOT EXISTS llmledger_batch "
            "(id text, ts_us bigint, PRIMARY KEY (id, ts_us)) ON COMMIT DELETE ROWS"
        )
        conn.exec_driver_sql(
            "CREATE TEMP TABLE IF NOT EXISTS llmledger_slot_day "
            "(slot bigint PRIMARY KEY, day text NOT NULL) ON COMMIT DELETE ROWS"
        )
    else:
        conn.exec_driver_sql(
            "CREATE TEMP TABLE IF NOT EXISTS llmledger_batch "
            "(id TEXT, ts_us INTEGER, PRIMARY KEY (id, ts_us))"
        )
        conn.exec_driver_sql(
            "CREATE TEMP TABLE IF NOT EXISTS llmledger_slot_day "
            "(slot INTEGER PRIMARY KEY, day TEXT NOT NULL)"
        )
        conn.exec_driver_sql("DELETE FROM llmledger_batch")
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


def _statements(batch: bool, sqlite_plan: bool) -> list[str]:
    """The upserts from events: hourly and daily, and with `batch` monthly too (the
    rebuild fills monthly from daily: `_monthly_from_daily`). With `batch`, only the
    events in ``llmledger_batch``; on SQLite the batch table is put first (``CROSS JOIN``
    fixes SQLite's join order), so a batch costs the same however large the store has
    grown."""
    dims = "department, project, agent, key_id, provider, model"
    calls_cols = ", ".join(CALL_FIELDS)
    usage_cols = "usage_type, " + ", ".join(USAGE_FIELDS)
    hour = f"(e.ts_us / {SLOT_US * 4}) * {SLOT_US * 4}"
    day_join = f"JOIN llmledger_slot_day sd ON sd.slot = e.ts_us / {SLOT_US}"
    counted = f"WHERE e.status IN ({_STATUSES})"
    cross = "CROSS JOIN" if sqlite_plan else "JOIN"
    if batch:
        # By id and time: on PostgreSQL the time prunes each look-up to one partition.
        calls_from = f"llmledger_batch b {cross} events e ON e.id = b.id AND e.ts_us = b.ts_us"
        usage_from = (
            f"llmledger_batch b {cross} event_usage u ON u.event_id = b.id "
            "JOIN events e ON e.id = b.id AND e.ts_us = b.ts_us"
        )
    else:
        calls_from = "events e"
        usage_from = "event_usage u JOIN events e ON e.id = u.event_id"
    month = "substr(sd.day, 1, 7)"
    calls_tables = [
        (schema.calls_hourly, hour, "hour_us", ""),
        (schema.calls_daily, "sd.day", "day", day_join),
    ]
    usage_tables = [
        (schema.usage_hourly, hour, "hour_us", ""),
        (schema.usage_daily, "sd.day", "day", day_join),
    ]
    if batch:
        calls_tables.append((schema.calls_monthly, month, "month", day_join))
        usage_tables.append((schema.usage_monthly, month, "month", day_join))
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


def add_batch(conn: Connection, keys: list[tuple[str, int]], zone: ZoneInfo) -> None:
    """Add the events `keys` (id and ``ts_us``; already inserted in this transaction)
    to the rollups."""
    _temp_tables(conn)
    conn.exec_driver_sql(
        f"INSERT INTO llmledger_batch (id, ts_us) VALUES ({_mark(conn)}, {_mark(conn)})", keys
    )
    _slot_days(conn, (ts // SLOT_US for _, ts in keys), zone)
    for sql in _statements(True, conn.dialect.name == "sqlite"):
        conn.exec_driver_sql(sql)


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
    for sql in _statements(False, conn.dialect.name == "sqlite") + _monthly_from_daily():
        conn.exec_driver_sql(sql)
