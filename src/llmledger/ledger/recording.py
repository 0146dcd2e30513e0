"""Writing events: insert (deduplicated by id), their usage lines, and their rollups."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql, sqlite

from llmledger.ledger import schema
from llmledger.ledger.event import EventStatus, UsageEvent
from llmledger.ledger.rollups import COUNTED_STATUSES, RollupDelta, apply

_THOUSAND = Decimal(1000)


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
    rows: list[dict[str, object]] = []
    for usage_type, quantity in ev.usage.items():
        line = ev.costs.get(usage_type)
        rows.append(
            {
                "event_id": ev.id,
                "usage_type": usage_type.value,
                "quantity_milli": quantity_milli(quantity),
                "cost_nanos": line.cost_nanos if line else 0,
                "list_cost_nanos": line.list_cost_nanos if line else 0,
            }
        )
    return rows


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
    for usage_type, quantity in ev.usage.items():
        line = ev.costs.get(usage_type)
        delta.add_usage(
            ts_us,
            key,
            usage_type.value,
            quantity_milli(quantity),
            line.cost_nanos if line else 0,
            line.list_cost_nanos if line else 0,
        )


def _insert_ignore(conn: Connection) -> Any:
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    return insert(schema.events).on_conflict_do_nothing(index_elements=["id"])


def record_events(conn: Connection, events: Sequence[UsageEvent], zone: ZoneInfo) -> set[str]:
    """Insert new events with their usage and rollups; returns the ids inserted.

    An id already in the store (or repeated in `events`) is skipped, so a re-import
    adds nothing. Runs inside the caller's write transaction.
    """
    if not events:
        return set()
    unique: dict[str, UsageEvent] = {}
    for ev in events:
        unique.setdefault(ev.id, ev)
    stmt = _insert_ignore(conn).returning(schema.events.c.id)  # type: ignore[attr-defined]
    inserted: set[str] = set()
    rows = [event_row(ev) for ev in unique.values()]
    for start in range(0, len(rows), 5000):
        inserted.update(conn.execute(stmt, rows[start : start + 5000]).scalars())
    fresh = [ev for i, ev in unique.items() if i in inserted]
    if not fresh:
        return set()
    lines = [row for ev in fresh for row in usage_rows(ev)]
    if lines:
        conn.execute(schema.event_usage.insert(), lines)
    delta = RollupDelta(zone)
    for ev in fresh:
        if ev.status.value in COUNTED_STATUSES:
            add_to_delta(delta, ev)
    apply(conn, delta)
    return inserted


__all__ = ["EventStatus", "add_to_delta", "event_row", "record_events", "usage_rows"]
