"""event partitions

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 17:00:00

On PostgreSQL, ``events`` becomes ``PARTITION BY RANGE (ts_us)`` with one partition per
UTC month of the existing rows, the current month and the next three, and a default
partition; the primary key becomes ``(id, ts_us)``. The rows are copied over in the
migration's transaction (the table is locked meanwhile: on a large store, run
``llmledger db upgrade`` in a quiet hour). SQLite keeps its plain table.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_AHEAD = 3
_INDEXES = (
    ("ix_events_ts", "ts_us"),
    ("ix_events_status", "status, ts_us"),
    ("ix_events_department_ts", "department, ts_us"),
)


def _start_us(month: date) -> int:
    return int(datetime(month.year, month.month, 1, tzinfo=UTC).timestamp()) * 1_000_000


def _next(month: date, n: int = 1) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def _detach_old_table() -> None:
    """Rename the plain table out of the way, without its indexes (names are reused)."""
    op.execute("LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
    op.execute("ALTER TABLE events RENAME TO events_old")
    op.execute("ALTER TABLE events_old DROP CONSTRAINT IF EXISTS events_pkey")
    for name, _ in _INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _detach_old_table()
    op.execute(
        "CREATE TABLE events (LIKE events_old INCLUDING DEFAULTS) PARTITION BY RANGE (ts_us)"
    )
    op.execute("CREATE TABLE events_default PARTITION OF events DEFAULT")
    months = {
        m
        for m in op.get_bind()
        .exec_driver_sql(
            "SELECT DISTINCT date_trunc('month', to_timestamp(ts_us / 1000000.0) "
            "AT TIME ZONE 'UTC')::date FROM events_old"
        )
        .scalars()
    }
    now = datetime.now(UTC)
    current = date(now.year, now.month, 1)
    months.update(_next(current, n) for n in range(_AHEAD + 1))
    for month in sorted(months):
        op.execute(
            f"CREATE TABLE events_y{month.year:04d}m{month.month:02d} PARTITION OF events "
            f"FOR VALUES FROM ({_start_us(month)}) TO ({_start_us(_next(month))})"
        )
    op.execute("INSERT INTO events SELECT * FROM events_old")
    op.execute("DROP TABLE events_old")
    # Indexes after the copy: one build per partition instead of row-by-row upkeep.
    op.execute("ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (id, ts_us)")
    for name, columns in _INDEXES:
        op.execute(f"CREATE INDEX {name} ON events ({columns})")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    _detach_old_table()
    op.execute("CREATE TABLE events (LIKE events_old INCLUDING DEFAULTS)")
    op.execute("INSERT INTO events SELECT * FROM events_old")
    op.execute("DROP TABLE events_old")  # drops every partition with it
    op.execute("ALTER TABLE events ADD CONSTRAINT events_pkey PRIMARY KEY (id)")
    for name, columns in _INDEXES:
        op.execute(f"CREATE INDEX {name} ON events ({columns})")
