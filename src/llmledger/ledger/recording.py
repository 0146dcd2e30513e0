"""Writing events: insert (deduplicated by id), their usage lines, and their rollups.

The bulk path (import, ingest) writes through the driver's ``executemany`` with plain
tuples: SQLAlchemy's per-row parameter processing would cost more than the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, text

from llmledger.ledger import retention, rollups
from llmledger.ledger.event import EventFlag, EventStatus, UsageEvent, from_us
from llmledger.ledger.rollups import COUNTED_STATUSES, HOUR_US, SLOT_US, RollupDelta, Sums

_THOUSAND = Decimal(1000)
_USAGE_COLUMNS = ("event_id", "usage_type", "quantity_milli", "cost_nanos", "list_cost_nanos")
#: Serialises bulk imports across PostgreSQL writers, so deduplication by id is exact.
_IMPORT_LOCK = 7_441_230_011


def quantity_milli(quantity: Decimal) -> int:
    """Store form of a usage quantity: exact thousandths."""
    return int(quantity * _THOUSAND)


def event_row(ev: UsageEvent) -> dict[str, object]:
    return {
        "id": ev.id,
        "ts_us": ev.ts_us,
        "department": ev.department,
        "project": ev.project,
        "agent": ev.agent,
        "key_id": ev.key_id,
        "end_user": ev.end_user,
        "provider": ev.provider,
        "model_requested": ev.model_requested,
        "model_used": ev.model_used,
        "operation": ev.operation,
        "source": ev.source.value,
        "status": ev.status.value,
        "http_status": ev.http_status,
        "flags": int(ev.flags),
        "cost_nanos": ev.cost_nanos,
        "list_cost_nanos": ev.list_cost_nanos,
        "reserved_nanos": ev.reserved_nanos,
        "reported_cost_nanos": ev.reported_cost_nanos,
        "requested_cost_nanos": ev.requested_cost_nanos,
        "routed_from": ev.routed_from,
        "latency_ms": ev.latency_ms,
        "detail": ev.detail,
        "settled_us": None,
    }


def usage_rows(ev: UsageEvent) -> list[dict[str, object]]:
    return [dict(zip(_USAGE_COLUMNS, t, strict=True)) for t in usage_tuples(ev)]


def usage_tuples(ev: UsageEvent) -> list[tuple[str, str, int, int, int]]:
    out = []
    costs = ev.costs
    for usage_type, quantity in ev.usage.items():
        line = costs.get(usage_type)
        out.append(
            (
                ev.id,
                usage_type.value,
                int(quantity * _THOUSAND),
                line.cost_nanos if line else 0,
                line.list_cost_nanos if line else 0,
            )
        )
    return out


def dims(ev: UsageEvent) -> tuple[str, str, str, str, str, str]:
    return (ev.department, ev.project, ev.agent, ev.key_id, ev.provider, ev.model_used)


def add_to_delta(delta: RollupDelta, ev: UsageEvent) -> None:
    """Add one counted event (and its usage lines) to a rollup delta."""
    key = dims(ev)
    ts_us = ev.ts_us
    delta.add_call(
        ts_us,
        key,
        ev.cost_nanos,
        ev.list_cost_nanos,
        int(ev.flags),
        ev.routed_from,
        ev.requested_cost_nanos,
    )
    costs = ev.costs
    for usage_type, quantity in ev.usage.items():
        line = costs.get(usage_type)
        delta.add_usage(
            ts_us,
            key,
            usage_type.value,
            int(quantity * _THOUSAND),
            line.cost_nanos if line else 0,
            line.list_cost_nanos if line else 0,
        )


def _insert_sql(conn: Connection, table: str, columns: Sequence[str]) -> str:
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"


def _copy(
    conn: Connection, table: str, columns: Sequence[str], rows: Sequence[tuple[object, ...]]
) -> None:
    """PostgreSQL's COPY, inside the caller's transaction: the fastest bulk load."""
    if not rows:
        return
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _existing_ids(conn: Connection, ids: list[str]) -> set[str]:
    if conn.dialect.name == "postgresql":
        found = conn.exec_driver_sql("SELECT id FROM events WHERE id = ANY(%s)", (ids,))
        return set(found.scalars())
    # One prepared statement for every chunk: the last chunk is padded with its own ids.
    size = _ID_CHUNK
    sql = f"SELECT id FROM events WHERE id IN ({', '.join(['?'] * size)})"
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    out: set[str] = set()
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        chunk += chunk[-1:] * (size - len(chunk))
        out.update(r[0] for r in cursor.execute(sql, chunk))
    cursor.close()
    return out


BulkRow = tuple[tuple[object, ...], tuple[tuple[str, str, int, int, int], ...]]
"""An event ready to write: its values in `BULK_COLUMNS` order, and its usage lines as
``(event_id, usage_type, quantity_milli, cost_nanos, list_cost_nanos)``."""

#: The event columns the bulk path writes (any other column takes its default). The
#: first eight are what rollups need: id, time, then the rollup key in rollup order.
BULK_COLUMNS = (
    "id",
    "ts_us",
    "department",
    "project",
    "agent",
    "key_id",
    "provider",
    "model_used",
    "status",
    "flags",
    "cost_nanos",
    "list_cost_nanos",
    "routed_from",
    "requested_cost_nanos",
    "end_user",
    "model_requested",
    "operation",
    "source",
    "http_status",
    "reserved_nanos",
    "reported_cost_nanos",
    "latency_ms",
    "detail",
)
_ID_CHUNK = 500
_COUNTED = frozenset(COUNTED_STATUSES)
_UNPRICED = int(EventFlag.UNPRICED)


def bulk_row(ev: UsageEvent) -> BulkRow:
    values = (
        ev.id,
        ev.ts_us,
        ev.department,
        ev.project,
        ev.agent,
        ev.key_id,
        ev.provider,
        ev.model_used,
        ev.status.value,
        int(ev.flags),
        ev.cost_nanos,
        ev.list_cost_nanos,
        ev.routed_from,
        ev.requested_cost_nanos,
        ev.end_user,
        ev.model_requested,
        ev.operation,
        ev.source.value,
        ev.http_status,
        ev.reserved_nanos,
        ev.reported_cost_nanos,
        ev.latency_ms,
        ev.detail,
    )
    return values, tuple(usage_tuples(ev))


def record_events(conn: Connection, events: Sequence[UsageEvent], zone: ZoneInfo) -> set[str]:
    """Insert new events with their usage and rollups; returns the ids inserted.

    The same as `record_rows` (which says what is skipped) for `UsageEvent` objects.
    """
    return record_rows(conn, [bulk_row(ev) for ev in events], zone)


def record_rows(conn: Connection, rows: Sequence[BulkRow], zone: ZoneInfo) -> set[str]:
    """Insert new events with their usage and rollups; returns the ids inserted.

    An id already in the store (or repeated in `rows`) is skipped, so a re-import
    adds nothing. Runs inside the caller's write transaction: on SQLite that is the only
    writer; on PostgreSQL bulk writers take one advisory lock, so the check is exact.
    An event older than the retention horizon is skipped too: its month's raw events
    were dropped and its rollups are closed (`retention`), so it cannot be told from
    one already counted. The batch's rollup sums are added up here, then written with
    one upsert per bucket and table (`rollups.write_sums`, as the settle path does).
    """
    if not rows:
        return set()
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _IMPORT_LOCK})
    horizon = retention.horizon_us(conn)
    unique: dict[str, BulkRow] = {}
    for row in rows:
        values = row[0]
        if horizon is None or values[1] >= horizon:  # type: ignore[operator]
            unique.setdefault(values[0], row)  # type: ignore[arg-type]
    existing = _existing_ids(conn, list(unique))
    fresh = [row for i, row in unique.items() if i not in existing]
    if not fresh:
        return set()
    values_of = [row[0] for row in fresh]
    lines = [line for row in fresh for line in row[1]]
    if conn.dialect.name == "postgresql":
        _copy(conn, "events", BULK_COLUMNS, values_of)
        _copy(conn, "event_usage", _USAGE_COLUMNS, lines)
    else:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.executemany(_insert_sql(conn, "events", BULK_COLUMNS), values_of)
        if lines:
            cursor.executemany(_insert_sql(conn, "event_usage", _USAGE_COLUMNS), lines)
        cursor.close()
    rollups.write_sums(conn, *_batch_sums(fresh, zone))
    return set(unique).difference(existing)


@lru_cache(maxsize=1 << 16)
def _local_day(slot: int, zone: ZoneInfo) -> str:
    """The local date of a 15-minute slot (a slot never straddles two local days)."""
    return from_us(slot * SLOT_US).astimezone(zone).date().isoformat()


def _batch_sums(rows: list[BulkRow], zone: ZoneInfo) -> tuple[Sums, Sums, Sums, Sums]:
    """Hourly and daily sums of the counted events of a batch, for `rollups.write_sums`.

    The same sums as `add_to_delta` then `rollups.apply`, without the 15-minute slots:
    a bulk batch is folded straight into hours and days (each hour and local day is a
    union of whole slots, so the sums are equal; the rebuild test checks them).
    """
    hourly_calls: Sums = {}
    daily_calls: Sums = {}
    hourly_usage: Sums = {}
    daily_usage: Sums = {}
    for values, lines in rows:
        if values[8] not in _COUNTED:
            continue
        ts_us: int = values[1]  # type: ignore[assignment]
        dims = values[2:8]
        hour = ts_us - ts_us % HOUR_US
        day = _local_day(ts_us // SLOT_US, zone)
        cost: int = values[10]  # type: ignore[assignment]
        list_cost: int = values[11]  # type: ignore[assignment]
        unpriced = 1 if values[9] & _UNPRICED else 0  # type: ignore[operator]
        if values[12]:
            routed, routed_cost, requested = 1, cost, values[13] or 0
        else:
            routed = routed_cost = requested = 0
        for sums, key in ((hourly_calls, (hour, dims)), (daily_calls, (day, dims))):
            call = sums.get(key)
            if call is None:
                sums[key] = [1, cost, list_cost, unpriced, routed, routed_cost, requested]  # type: ignore[list-item]
            else:
                call[0] += 1
                call[1] += cost
                call[2] += list_cost
                call[3] += unpriced
                call[4] += routed
                call[5] += routed_cost
                call[6] += requested  # type: ignore[operator]
        for _, usage_type, quantity, line_cost, line_list_cost in lines:
            for line_sums, line_key in (
                (hourly_usage, (hour, dims, usage_type)),
                (daily_usage, (day, dims, usage_type)),
            ):
                line = line_sums.get(line_key)
                if line is None:
                    line_sums[line_key] = [quantity, line_cost, line_list_cost]
                else:
                    line[0] += quantity
                    line[1] += line_cost
                    line[2] += line_list_cost
    return hourly_calls, daily_calls, hourly_usage, daily_usage


__all__ = [
    "BULK_COLUMNS",
    "BulkRow",
    "EventStatus",
    "add_to_delta",
    "bulk_row",
    "event_row",
    "record_events",
    "record_rows",
    "usage_rows",
]
