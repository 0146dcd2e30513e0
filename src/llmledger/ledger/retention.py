"""Retention of raw events: whole UTC months older than a cut go, every rollup stays.

Keeping N months keeps the current UTC month and the N before it: with N = 12 on
2026-12-04 the cut is 2025-12-01 00:00 UTC and every event before it is removed, with its
usage lines. On PostgreSQL each monthly partition wholly before the cut is detached and
dropped (no row-by-row delete, no bloat); rows before the cut in the default partition,
and on SQLite all of them, are deleted by range. Rollups (hourly, daily, monthly) are
never touched, so every finance figure is unchanged.

Each run that moves the cut is written to the audit log (action ``events.retention``,
with the cut, the partitions dropped and the rows removed); the newest such record is
the store's *horizon*. Before the horizon the raw events are gone for good, so the
ledger treats those months as closed: a record older than the horizon is not inserted
again (an import of an old file would otherwise count twice, with no event left to
deduplicate against), and `rollups.rebuild` recomputes only what lies after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

import orjson
from sqlalchemy import Connection, select, text

from llmledger.ledger import partitions, schema
from llmledger.ledger.audit import record_change
from llmledger.ledger.partitions import add_months, month_of, month_start_us

ACTION = "events.retention"


@dataclass(slots=True)
class RetentionResult:
    """What one run removed; ``cut`` is the first UTC month kept."""

    cut: date
    cut_us: int
    previous_horizon_us: int | None
    partitions_dropped: list[str] = field(default_factory=list)
    events_deleted: int = 0
    usage_lines_deleted: int = 0
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return self.previous_horizon_us is None or self.cut_us > self.previous_horizon_us

    def as_json(self) -> dict[str, object]:
        return {
            "cut": self.cut.isoformat(),
            "cut_us": self.cut_us,
            "previous_horizon_us": self.previous_horizon_us,
            "partitions_dropped": self.partitions_dropped,
            "events_deleted": self.events_deleted,
            "usage_lines_deleted": self.usage_lines_deleted,
            "dry_run": self.dry_run,
        }


def cut_month(now: datetime, keep_months: int) -> date:
    """The first UTC month kept when keeping `keep_months` months before the current."""
    if keep_months < 0:
        raise ValueError("keep_months must be 0 or more")
    return add_months(month_of(now), -keep_months)


def horizon_us(conn: Connection) -> int | None:
    """Start (``ts_us``) of the oldest raw events kept; None when retention never ran."""
    a = schema.audit_log
    after = conn.execute(
        select(a.c.after)
        .where(a.c.action == ACTION, a.c.target == "events")
        .order_by(a.c.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if not after:
        return None
    return int(orjson.loads(after)["cut_us"])


def _count(conn: Connection, sql: str) -> int:
    return int(conn.exec_driver_sql(sql).scalar_one())


def apply(
    conn: Connection,
    now: datetime,
    keep_months: int,
    *,
    actor: str,
    dry_run: bool = False,
) -> RetentionResult:
    """Remove the raw events before the cut (inside the caller's write transaction).
    The cut never moves back: keeping more months later cannot bring events back."""
    month = cut_month(now, keep_months)
    cut = month_start_us(month)
    previous = horizon_us(conn)
    result = RetentionResult(month, cut, previous, dry_run=dry_run)
    if not result.changed:
        return result
    if partitions.is_partitioned(conn):
        partitions.lock(conn)
        old = [
            p.name for p in partitions.partitions(conn) if p.hi_us is not None and p.hi_us <= cut
        ]
        # Row work first; the detaches last, as they lock the whole table until the
        # commit (inserts wait meanwhile, at most `partitions.LOCK_TIMEOUT` for the lock).
        for name in old:
            _empty_usage(conn, name, result)
        _delete_range(conn, partitions.DEFAULT, cut, result)
        if not dry_run:
            for name in old:
                conn.exec_driver_sql(f"ALTER TABLE events DETACH PARTITION {name}")
                conn.exec_driver_sql(f"DROP TABLE {name}")
    else:
        _delete_range(conn, "events", cut, result)
    if dry_run:
        return result
    record_change(
        conn,
        actor,
        ACTION,
        "events",
        {"horizon_us": previous},
        result.as_json(),
        f"keep {keep_months} months of raw events before the current one",
    )
    return result


def _empty_usage(conn: Connection, name: str, result: RetentionResult) -> None:
    """Count partition `name`'s events and delete their usage lines (`event_usage` is
    keyed by event id, not partitioned: decision 0003)."""
    result.partitions_dropped.append(name)
    result.events_deleted += _count(conn, f"SELECT count(*) FROM {name}")
    if result.dry_run:
        result.usage_lines_deleted += _count(
            conn,
            f"SELECT count(*) FROM event_usage u JOIN {name} e ON u.event_id = e.id",
        )
        return
    result.usage_lines_deleted += conn.exec_driver_sql(
        f"DELETE FROM event_usage u USING {name} e WHERE u.event_id = e.id"
    ).rowcount


def _delete_range(conn: Connection, table: str, cut: int, result: RetentionResult) -> None:
    old = f"SELECT id FROM {table} WHERE ts_us < {cut}"
    if result.dry_run:
        result.events_deleted += _count(conn, f"SELECT count(*) FROM ({old}) o")
        result.usage_lines_deleted += _count(
            conn, f"SELECT count(*) FROM event_usage WHERE event_id IN ({old})"
        )
        return
    result.usage_lines_deleted += conn.execute(
        text(f"DELETE FROM event_usage WHERE event_id IN ({old})")
    ).rowcount
    result.events_deleted += conn.execute(text(f"DELETE FROM {table} WHERE ts_us < {cut}")).rowcount


__all__ = ["ACTION", "RetentionResult", "apply", "cut_month", "horizon_us"]
