"""Stored prompts and answers (prompt logging), and the rules that switch it on per scope.

Nothing is written here unless a rule switches logging on for the call's scope (see
``gateway/prompts.py``). A stored call keeps its request and answer bodies, capped, with
an expiry computed from its rule's retention; `purge` deletes what is past it.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import Connection, delete, select, update

from llmledger.ledger import schema
from llmledger.ledger.audit import record_change
from llmledger.ledger.event import from_us

DAY_US = 86_400_000_000
#: Most rows deleted by one purge statement (the writer's other work waits for it).
PURGE_BATCH = 1000


@dataclass(frozen=True, slots=True)
class PromptRecord:
    """The bodies of one call, as written (capped) with the sizes they really had."""

    event_id: str
    ts_us: int
    department: str
    project: str
    agent: str
    key_id: str
    scope: str
    stream: bool
    request_body: bytes
    request_bytes: int
    response_body: bytes
    response_bytes: int
    expires_us: int

    def as_row(self) -> dict[str, object]:
        return {
            "event_id": self.event_id,
            "ts_us": self.ts_us,
            "department": self.department,
            "project": self.project,
            "agent": self.agent,
            "key_id": self.key_id,
            "scope": self.scope,
            "stream": self.stream,
            "request_body": self.request_body,
            "request_bytes": self.request_bytes,
            "response_body": self.response_body,
            "response_bytes": self.response_bytes,
            "expires_us": self.expires_us,
        }


@dataclass(frozen=True, slots=True)
class StoredRule:
    scope: str
    enabled: bool
    retention_days: int
    actor: str
    updated_us: int

    def as_json(self) -> dict[str, object]:
        return {
            "scope": self.scope,
            "enabled": self.enabled,
            "retention_days": self.retention_days,
        }


def write_many(conn: Connection, records: list[PromptRecord]) -> list[None]:
    """Insert the records (the writer merges every record queued in a transaction)."""
    if records:
        p = schema.prompt_log
        ids = [r.event_id for r in records]
        # A call is stored once; a replayed write must not fail its batch-mates.
        known = set(conn.scalars(select(p.c.event_id).where(p.c.event_id.in_(ids))))
        fresh = {r.event_id: r.as_row() for r in records if r.event_id not in known}
        if fresh:
            conn.execute(p.insert(), list(fresh.values()))
    return [None] * len(records)


def purge(conn: Connection, now_us: int | None = None, limit: int = PURGE_BATCH) -> int:
    """Delete up to `limit` stored calls past their retention; returns how many."""
    p = schema.prompt_log
    now = time.time_ns() // 1000 if now_us is None else now_us
    due = select(p.c.event_id).where(p.c.expires_us <= now).limit(limit)
    ids = list(conn.scalars(due))
    if not ids:
        return 0
    conn.execute(delete(p).where(p.c.event_id.in_(ids)))
    return len(ids)


def find(conn: Connection, event_id: str) -> dict[str, Any] | None:
    """A stored call, unless it is past its retention (deleted or about to be)."""
    p = schema.prompt_log
    now = time.time_ns() // 1000
    stmt = select(p).where(p.c.event_id == event_id, p.c.expires_us > now)
    row = conn.execute(stmt).mappings().first()
    return dict(row) if row is not None else None


def rules(conn: Connection) -> list[StoredRule]:
    r = schema.prompt_log_rules
    return [
        StoredRule(row.scope, bool(row.enabled), row.retention_days, row.actor, row.updated_us)
        for row in conn.execute(select(r).order_by(r.c.scope))
    ]


def _rule(conn: Connection, scope: str) -> StoredRule | None:
    return next((x for x in rules(conn) if x.scope == scope), None)


def set_rule(
    conn: Connection, actor: str, scope: str, enabled: bool, retention_days: int
) -> StoredRule:
    """Switch logging on or off for `scope` (audited). A shorter retention also applies to
    what this scope's rule has stored already."""
    r = schema.prompt_log_rules
    now = time.time_ns() // 1000
    before = _rule(conn, scope)
    values = {"enabled": enabled, "retention_days": retention_days, "actor": actor}
    if before is None:
        conn.execute(r.insert().values(scope=scope, updated_us=now, **values))
    else:
        conn.execute(update(r).where(r.c.scope == scope).values(updated_us=now, **values))
    p = schema.prompt_log
    conn.execute(
        update(p)
        .where(p.c.scope == scope, p.c.expires_us > p.c.ts_us + retention_days * DAY_US)
        .values(expires_us=p.c.ts_us + retention_days * DAY_US)
    )
    after = StoredRule(scope, enabled, retention_days, actor, now)
    record_change(
        conn,
        actor,
        "prompt_logging.set",
        scope,
        before.as_json() if before else None,
        after.as_json(),
    )
    return after


def reset_rule(conn: Connection, actor: str, scope: str) -> bool:
    """Remove the stored rule of `scope`, so the settings' rule (if any) applies again."""
    before = _rule(conn, scope)
    if before is None:
        return False
    r = schema.prompt_log_rules
    conn.execute(delete(r).where(r.c.scope == scope))
    record_change(conn, actor, "prompt_logging.reset", scope, before.as_json(), None)
    return True


def record_settings(conn: Connection, configured: dict[str, int]) -> bool:
    """Audit the settings' rules when they differ from those seen at the last start, so a
    rule switched on in the settings file leaves a trace too."""
    a = schema.audit_log
    last = conn.execute(
        select(a.c.after)
        .where(a.c.action == "prompt_logging.settings")
        .order_by(a.c.id.desc())
        .limit(1)
    ).first()
    before = orjson.loads(last.after) if last is not None and last.after else None
    if before == configured or (before is None and not configured):
        return False
    record_change(conn, "settings", "prompt_logging.settings", "settings", before, configured)
    return True


def body_json(data: bytes, size: int) -> dict[str, object]:
    """A stored body: UTF-8 text when it is (a cut may split the last character), else
    base64."""
    truncated = size > len(data)
    for cut in range(4 if truncated else 1):
        try:
            text = data[: len(data) - cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
        return {"encoding": "utf-8", "body": text, "bytes": size, "truncated": truncated}
    return {
        "encoding": "base64",
        "body": base64.b64encode(data).decode(),
        "bytes": size,
        "truncated": truncated,
    }


def as_json(row: dict[str, Any], zone: ZoneInfo) -> dict[str, object]:
    """A stored call as the API and ``llmledger prompts show --json`` give it."""
    return {
        "event_id": row["event_id"],
        "timestamp": from_us(int(row["ts_us"])).astimezone(zone).isoformat(),
        "department": row["department"],
        "project": row["project"],
        "agent": row["agent"],
        "key_id": row["key_id"],
        "scope": row["scope"],
        "stream": bool(row["stream"]),
        "expires_at": from_us(int(row["expires_us"])).astimezone(zone).isoformat(),
        "request": body_json(bytes(row["request_body"]), int(row["request_bytes"])),
        "response": body_json(bytes(row["response_body"]), int(row["response_bytes"])),
    }
