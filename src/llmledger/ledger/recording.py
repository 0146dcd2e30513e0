"""Writing events: insert (deduplicated by id), their usage lines, and their rollups.

The bulk path (import, ingest) writes through the driver's ``executemany`` with plain
tuples: SQLAlchemy's per-row parameter processing would cost more than the rest.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select, text

from llmledger.ledger import bulk_rollups, schema
from llmledger.ledger.event import EventStatus, UsageEvent
from llmledger.ledger.rollups import SLOT_US, RollupDelta

_THOUSAND = Decimal(1000)
_EVENT_COLUMNS = tuple(c.name for c in schema.events.columns)
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
    found: set[str] = set()
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        found.update(
            conn.execute(select(schema.events.c.id).where(schema.events.c.id.in_(chunk))).scalars()
        )
    return found


def record_events(conn: Connection, events: Sequence[UsageEvent], zone: ZoneInfo) -> set[str]:
    """Insert new events with their usage and rollups; returns the ids inserted.

    An id already in the store (or repeated in `events`) is skipped, so a re-import
    adds nothing. Runs inside the caller's write transaction: on SQLite that is the only
    writer; on PostgreSQL bulk writers take one advisory lock, so the check is exact.
    """
    if not events:
        return set()
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _IMPORT_LOCK})
    unique: dict[str, UsageEvent] = {}
    for ev in events:
        unique.setdefault(ev.id, ev)
    existing = _existing_ids(conn, list(unique))
    fresh = [ev for i, ev in unique.items() if i not in existing]
    if not fresh:
        return set()
    rows = [tuple(event_row(ev).values()) for ev in fresh]
    lines = [t for ev in fresh for t in usage_tuples(ev)]
    if conn.dialect.name == "postgresql":
        _copy(conn, "events", _EVENT_COLUMNS, rows)
        _copy(conn, "event_usage", _USAGE_COLUMNS, lines)
    else:
        conn.exec_driver_sql(_insert_sql(conn, "events", _EVENT_COLUMNS), rows)
        if lines:
            conn.exec_driver_sql(_insert_sql(conn, "event_usage", _USAGE_COLUMNS), lines)
    ts = [row[1] for row in rows]
    bulk_rollups.add_batch(conn, [ev.id for ev in fresh], (t // SLOT_US for t in ts), zone)  # type: ignore[operator]
    return {ev.id for ev in fresh}


__all__ = ["EventStatus", "add_to_delta", "event_row", "record_events", "usage_rows"]
