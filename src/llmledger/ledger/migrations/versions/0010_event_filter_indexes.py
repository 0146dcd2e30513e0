"""event filter indexes

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 21:00:00

An index ``(column, ts_us, status)`` for the event log's filters on a key, an end user,
a project, an agent and a model, so that a filter on any value, however rare, reads its
newest events first and stops after a page, and a filter on status beside it is checked
on the index entry (``llmledger.ledger.event_log``). The key and the end user, empty on
imported records and on most calls, get partial indexes that leave the empty rows out.

On PostgreSQL the migration does not block the gateways' writes while it builds
(``llmledger db upgrade`` may run while replicas serve): each index is first made on the
partitioned ``events`` alone (``ON ONLY``: no build, and every partition created from
then on gets its own), then built in each existing partition with ``CREATE INDEX
CONCURRENTLY`` outside a transaction and attached to it, which makes it valid once every
partition has one. A run cut off leaves nothing half-valid that a rerun skips: the
partition's index is dropped and built again when it is invalid.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import Connection, text

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

#: name -> what follows ``ON events``
_INDEXES = {
    "ix_events_project_ts": "(project, ts_us, status)",
    "ix_events_agent_ts": "(agent, ts_us, status)",
    "ix_events_model_ts": "(model_used, ts_us, status)",
    "ix_events_key_ts": "(key_id, ts_us, status) WHERE key_id != ''",
    "ix_events_end_user_ts": "(end_user, ts_us, status) WHERE end_user != ''",
}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        for name, definition in _INDEXES.items():
            op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON events {definition}")
        return
    for name, definition in _INDEXES.items():
        op.execute(f"CREATE INDEX IF NOT EXISTS {name} ON ONLY events {definition}")
    partitions = [
        str(row[0])
        for row in bind.execute(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'events'::regclass ORDER BY c.relname"
            )
        )
    ]
    with op.get_context().autocommit_block():
        for name, definition in _INDEXES.items():
            for partition in partitions:
                _build_on(bind, name, definition, partition)


def _build_on(bind: Connection, name: str, definition: str, partition: str) -> None:
    """`name`'s index on one partition, built without blocking writes, then attached."""
    child = f"{partition}_{name.removeprefix('ix_events_')}"[:63]
    attached = bind.execute(
        text(
            "SELECT 1 FROM pg_inherits i JOIN pg_index x ON x.indexrelid = i.inhrelid "
            "WHERE i.inhparent = CAST(:parent AS regclass) "
            "AND x.indrelid = CAST(:partition AS regclass)"
        ),
        {"parent": name, "partition": partition},
    ).first()
    if attached is not None:  # made with the partition, after the parent index
        return
    valid = bind.execute(
        text("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:child)"),
        {"child": child},
    ).scalar()
    if valid is False:  # a build cut off: invalid, build it again
        bind.execute(text(f"DROP INDEX CONCURRENTLY {child}"))
    if valid is not True:
        bind.execute(text(f"CREATE INDEX CONCURRENTLY {child} ON {partition} {definition}"))
    bind.execute(text(f"ALTER INDEX {name} ATTACH PARTITION {child}"))


def downgrade() -> None:
    for name in _INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
