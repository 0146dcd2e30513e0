"""Monthly partitions of ``events`` on PostgreSQL (SQLite keeps one plain table).

On PostgreSQL ``events`` is ``PARTITION BY RANGE (ts_us)``: one partition per UTC month
(``events_y2026m01`` holds ``[2026-01-01, 2026-02-01)`` UTC), plus ``events_default``
that takes any row no monthly partition covers, so no insert can ever fail for want of
a partition. The primary key is ``(id, ts_us)``: every look-up of one event by id also
gives its time, which prunes the search to one partition (see
``docs/decisions/0003-event-partitions.md``).

`ensure` creates the partitions of the current month and the next few, and moves rows
that landed in the default partition (an import of old records, a clock far ahead) into
a partition of their own month, so the default stays empty and old months can be dropped
whole by retention. It runs at startup and from the periodic maintenance task; several
replicas may run it at once (an advisory lock serialises them) and it never waits long
for a lock (``lock_timeout``): a round that cannot get one is retried by the next.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, text

from llmledger.ledger.event import to_us

DEFAULT = "events_default"
#: Serialises partition maintenance and retention across replicas.
MAINTENANCE_LOCK = 7_441_230_021
#: Longest wait for a table lock during maintenance: inserts queue behind the request,
#: so it bounds how long maintenance can hold up the gateway's writes.
LOCK_TIMEOUT = "1s"
_NAME = re.compile(r"^events_y(\d{4})m(\d{2})$")
_BOUND = re.compile(r"FROM \('?(-?\d+)'?\) TO \('?(-?\d+)'?\)")


@dataclass(frozen=True, slots=True)
class Partition:
    name: str
    #: ``[lo_us, hi_us)``; None for the default partition.
    lo_us: int | None
    hi_us: int | None


def month_of(moment: datetime) -> date:
    """The first day of `moment`'s UTC month."""
    utc = moment.astimezone(UTC)
    return date(utc.year, utc.month, 1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_start_us(month: date) -> int:
    return to_us(datetime(month.year, month.month, 1, tzinfo=UTC))


def month_of_us(ts_us: int) -> date:
    return month_of(datetime.fromtimestamp(ts_us / 1_000_000, UTC))


def partition_name(month: date) -> str:
    return f"events_y{month.year:04d}m{month.month:02d}"


def is_partitioned(conn: Connection) -> bool:
    """True when ``events`` is a partitioned table (PostgreSQL after migration 0009)."""
    if conn.dialect.name != "postgresql":
        return False
    found = conn.execute(
        text(
            "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
            "WHERE c.oid = to_regclass('events')"
        )
    ).first()
    return found is not None


def partitions(conn: Connection) -> list[Partition]:
    """The partitions of ``events``, oldest first, the default last."""
    rows = conn.execute(
        text(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass('events')"
        )
    ).all()
    out = []
    for name, bound in rows:
        m = _BOUND.search(bound or "")
        if m:
            out.append(Partition(str(name), int(m.group(1)), int(m.group(2))))
        else:
            out.append(Partition(str(name), None, None))
    return sorted(out, key=lambda p: (p.lo_us is None, p.lo_us or 0, p.name))


def lock(conn: Connection) -> None:
    """Take the maintenance lock and bound lock waits, for this transaction. The
    server's statement timeout is lifted: moving a large import out of the default
    partition, or deleting a month's usage lines, may take minutes, and holds up no
    gateway write meanwhile (the lock waits that could are bounded instead)."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MAINTENANCE_LOCK})
    conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    conn.execute(text("SET LOCAL statement_timeout = 0"))


def _create(conn: Connection, month: date) -> None:
    """Create `month`'s partition; rows of that month waiting in the default partition
    move into it first (attaching fails while the default holds any)."""
    name = partition_name(month)
    lo, hi = month_start_us(month), month_start_us(add_months(month, 1))
    conn.exec_driver_sql(f"LOCK TABLE {DEFAULT} IN ACCESS EXCLUSIVE MODE")
    conn.exec_driver_sql(f"CREATE TABLE {name} (LIKE events INCLUDING DEFAULTS)")
    conn.exec_driver_sql(
        f"WITH moved AS (DELETE FROM {DEFAULT} WHERE ts_us >= {lo} AND ts_us < {hi} "
        f"RETURNING *) INSERT INTO {name} SELECT * FROM moved"
    )
    # Attaching (unlike CREATE ... PARTITION OF) leaves the parent open to inserts.
    conn.exec_driver_sql(
        f"ALTER TABLE events ATTACH PARTITION {name} FOR VALUES FROM ({lo}) TO ({hi})"
    )


def _default_months(conn: Connection) -> list[date]:
    """Months of the rows in the default partition. It is empty nearly always (the
    check costs nothing then), and must stay small for attaching to stay instant."""
    if conn.exec_driver_sql(f"SELECT NOT EXISTS (SELECT 1 FROM {DEFAULT})").scalar_one():
        return []
    rows = conn.exec_driver_sql(
        "SELECT DISTINCT date_trunc('month', to_timestamp(ts_us / 1000000.0) "
        f"AT TIME ZONE 'UTC')::date FROM {DEFAULT}"
    ).scalars()
    return sorted(rows)


def ensure(conn: Connection, now: datetime, *, ahead: int = 3) -> list[str]:
    """Create the partitions of the current UTC month and `ahead` months after it, and
    give every month found in the default partition its own; returns the names created.
    A no-op outside a partitioned PostgreSQL store. Call inside a write transaction."""
    if not is_partitioned(conn):
        return []
    lock(conn)
    current = month_of(now)
    wanted = {add_months(current, n) for n in range(ahead + 1)}
    wanted.update(_default_months(conn))
    existing = {p.name for p in partitions(conn)}
    created = []
    for month in sorted(wanted):
        if partition_name(month) not in existing:
            _create(conn, month)
            created.append(partition_name(month))
    return created


__all__ = [
    "DEFAULT",
    "Partition",
    "add_months",
    "ensure",
    "is_partitioned",
    "month_of",
    "month_start_us",
    "partition_name",
    "partitions",
]
