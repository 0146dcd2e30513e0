"""The audit log: who changed what, when, from what to what, and why."""

from __future__ import annotations

import time

import orjson
from sqlalchemy import Connection, select

from llmledger.ledger import schema


def record_change(
    conn: Connection,
    actor: str,
    action: str,
    target: str,
    before: object | None,
    after: object | None,
    reason: str | None = None,
) -> None:
    conn.execute(
        schema.audit_log.insert().values(
            ts_us=time.time_ns() // 1000,
            actor=actor,
            action=action,
            target=target,
            before=None if before is None else orjson.dumps(before).decode(),
            after=None if after is None else orjson.dumps(after).decode(),
            reason=reason,
        )
    )


def entries(
    conn: Connection, target: str | None = None, limit: int = 100
) -> list[dict[str, object]]:
    a = schema.audit_log
    stmt = select(a).order_by(a.c.id.desc()).limit(limit)
    if target:
        stmt = stmt.where(a.c.target == target)
    out = []
    for r in conn.execute(stmt).mappings():
        row = dict(r)
        for k in ("before", "after"):
            row[k] = orjson.loads(row[k]) if row[k] else None
        out.append(row)
    return out
