"""Anomaly records in the store: episodes of findings, their lifecycle, and mutes.

A finding (`Flag`) joins the latest record of its (kind, scope, subject) when that one
was last seen within `GAP_HOURS` (a spend spike joins a runaway of the same agent, and
the other way round: the record keeps its first kind); otherwise it opens a new record.
The hours of a record's evidence are keyed by hour, so evaluating an hour again (a second run, a
catch-up over the same data) replaces its figures instead of adding them: the same
anomaly is never recorded twice. A record's observed and expected amounts are the sums
over its evidence hours; the impact is their difference (never below zero).

States: ``open`` -> ``acknowledged`` (with a note) -> ``resolved``. Findings that go on
after a record was resolved only keep it seen; they page no one again.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, select

from llmledger.anomalies.flags import Flag
from llmledger.anomalies.series import DAY_H, HOUR_US, Frame, Series
from llmledger.guardrails.scopes import parse_scope
from llmledger.ledger import audit, schema
from llmledger.ledger.event import from_us
from llmledger.money import format_usd

STATUSES = ("open", "acknowledged", "resolved")
GAP_HOURS = 6
CONTEXT_HOURS = DAY_H


class AnomalyError(ValueError):
    pass


def _iso(us: int) -> str:
    return from_us(us).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class Anomaly:
    id: str
    kind: str
    scope: str
    subject: str
    usage_type: str | None
    department: str
    started_us: int
    last_seen_us: int
    detected_us: int
    updated_us: int
    observed_nanos: int
    expected_nanos: int
    impact_nanos: int
    status: str
    note: str | None
    description: str
    evidence: dict[str, Any]

    def as_json(self) -> dict[str, object]:
        ev = self.evidence
        out: dict[str, object] = {"id": self.id, "kind": self.kind, "scope": self.scope}
        if self.usage_type is not None:
            out["usage_type"] = self.usage_type
        out.update(
            {
                "started_at": _iso(self.started_us),
                "observed_usd": format_usd(self.observed_nanos),
                "expected_usd": format_usd(self.expected_nanos),
                "impact_usd": format_usd(self.impact_nanos),
                "status": self.status,
                "note": self.note,
                "detected_at": _iso(self.detected_us),
                "last_seen_at": _iso(self.last_seen_us),
                "description": self.description,
                "evidence": {
                    "series": ev.get("series", ""),
                    "points": [
                        {
                            "hour": _iso(int(h)),
                            "observed_usd": format_usd(o),
                            "expected_usd": format_usd(e),
                        }
                        for h, (o, e) in sorted(
                            ev.get("points", {}).items(), key=lambda i: int(i[0])
                        )
                    ],
                    "context": [
                        {"hour": _iso(int(h)), "observed_usd": format_usd(v)}
                        for h, v in sorted(ev.get("context", {}).items(), key=lambda i: int(i[0]))
                    ],
                    "detail": ev.get("detail", {}),
                },
            }
        )
        return out


def _row(r: Any) -> Anomaly:
    return Anomaly(
        r.id,
        r.kind,
        r.scope,
        r.subject,
        r.usage_type,
        r.department,
        r.started_us,
        r.last_seen_us,
        r.detected_us,
        r.updated_us,
        r.observed_nanos,
        r.expected_nanos,
        r.impact_nanos,
        r.status,
        r.note,
        r.description,
        orjson.loads(r.evidence),
    )


def anomaly_id(kind: str, scope: str, subject: str, started_us: int) -> str:
    digest = hashlib.sha256(f"{kind}\x00{scope}\x00{subject}\x00{started_us}".encode())
    return "an_" + digest.hexdigest()[:16]


def _context_series(frame: Frame, flag: Flag) -> tuple[str, Series | None]:
    ss = frame.scopes.get(flag.scope)
    if ss is None:
        return "", None
    if flag.kind == "modality_shift":
        return f"usage:{flag.subject}", ss.usage.get(flag.subject)
    if flag.kind == "new_model":
        model = flag.subject.removeprefix("move:")
        return f"model:{model}", ss.model_cost.get(model)
    return "spend", ss.cost


def _figures(points: dict[str, list[int]]) -> tuple[int, int, int]:
    observed = sum(p[0] for p in points.values())
    expected = sum(p[1] for p in points.values())
    return observed, expected, max(observed - expected, 0)


def record_flags(
    conn: Connection, frame: Frame, flags: Iterable[Flag], now_us: int
) -> list[Anomaly]:
    """Write findings into records; returns the records created or changed."""
    t = schema.anomalies
    touched: dict[str, Anomaly] = {}
    for flag in sorted(flags, key=lambda f: (f.started, f.t)):
        started_us = frame.hour_us(flag.started)
        seen_us = frame.hour_us(flag.t)
        row = conn.execute(
            select(t)
            .where(
                t.c.kind.in_(flag.family),
                t.c.scope == flag.scope,
                t.c.subject == flag.subject,
                t.c.last_seen_us >= started_us - GAP_HOURS * HOUR_US,
                t.c.started_us <= seen_us,
            )
            .order_by(t.c.started_us.desc())
            .limit(1)
        ).first()
        name, series = _context_series(frame, flag)
        if row is None:
            evidence: dict[str, Any] = {"series": name, "points": {}, "context": {}}
        else:
            evidence = orjson.loads(row.evidence)
            if row.status == "resolved":
                if seen_us > row.last_seen_us:
                    conn.execute(t.update().where(t.c.id == row.id).values(last_seen_us=seen_us))
                continue
        for p in flag.points:
            evidence["points"][str(frame.hour_us(p.t))] = [p.observed, p.expected]
        if series is not None:
            for h in range(flag.started - CONTEXT_HOURS, flag.t + 1):
                if 0 <= h < frame.hours:
                    evidence["context"][str(frame.hour_us(h))] = series.hour(h)
        if row is None or row.kind == flag.kind:
            evidence["detail"] = dict(flag.detail)
        observed, expected, impact = _figures(evidence["points"])
        values = {
            "last_seen_us": max(seen_us, row.last_seen_us if row is not None else 0),
            "updated_us": now_us,
            "observed_nanos": observed,
            "expected_nanos": expected,
            "impact_nanos": impact,
            "evidence": orjson.dumps(evidence).decode(),
        }
        if row is None or row.kind == flag.kind:
            values["description"] = flag.description
        if row is None:
            ident = anomaly_id(flag.kind, flag.scope, flag.subject, started_us)
            conn.execute(
                t.insert().values(
                    id=ident,
                    kind=flag.kind,
                    scope=flag.scope,
                    subject=flag.subject,
                    usage_type=flag.usage_type,
                    department=flag.department,
                    started_us=started_us,
                    detected_us=now_us,
                    status="open",
                    **values,
                )
            )
        else:
            ident = row.id
            conn.execute(t.update().where(t.c.id == ident).values(**values))
        found = get(conn, ident)
        if found is not None:
            touched[ident] = found
    return list(touched.values())


def get(conn: Connection, anomaly_id: str) -> Anomaly | None:
    t = schema.anomalies
    row = conn.execute(select(t).where(t.c.id == anomaly_id)).first()
    return _row(row) if row is not None else None


def list_anomalies(
    conn: Connection,
    *,
    since_us: int | None = None,
    until_us: int | None = None,
    status: str | None = None,
    kind: str | None = None,
    department: str | None = None,
    limit: int = 500,
) -> list[Anomaly]:
    """Anomalies that started in [since, until), newest first."""
    t = schema.anomalies
    stmt = select(t).order_by(t.c.started_us.desc(), t.c.id).limit(limit)
    if since_us is not None:
        stmt = stmt.where(t.c.started_us >= since_us)
    if until_us is not None:
        stmt = stmt.where(t.c.started_us < until_us)
    if status is not None:
        stmt = stmt.where(t.c.status == status)
    if kind is not None:
        stmt = stmt.where(t.c.kind == kind)
    if department is not None:
        stmt = stmt.where(t.c.department == department)
    return [_row(r) for r in conn.execute(stmt)]


def _transition(
    conn: Connection, anomaly_id: str, status: str, note: str | None, actor: str, now_us: int
) -> Anomaly:
    before = get(conn, anomaly_id)
    if before is None:
        raise LookupError(anomaly_id)
    if before.status == "resolved" and status == "acknowledged":
        raise AnomalyError(f"anomaly {anomaly_id} is already resolved")
    values: dict[str, object] = {"status": status, "updated_us": now_us}
    if note is not None:
        values["note"] = note
    t = schema.anomalies
    conn.execute(t.update().where(t.c.id == anomaly_id).values(**values))
    audit.record_change(
        conn,
        actor,
        f"anomaly.{status}",
        anomaly_id,
        {"status": before.status},
        {"status": status},
        note,
    )
    after = get(conn, anomaly_id)
    assert after is not None
    return after


def acknowledge(
    conn: Connection, anomaly_id: str, note: str, *, actor: str, now_us: int
) -> Anomaly:
    if not note.strip():
        raise AnomalyError("acknowledging an anomaly needs a note")
    return _transition(conn, anomaly_id, "acknowledged", note.strip(), actor, now_us)


def resolve(
    conn: Connection, anomaly_id: str, *, actor: str, now_us: int, note: str | None = None
) -> Anomaly:
    return _transition(conn, anomaly_id, "resolved", note, actor, now_us)


def resolve_quiet(conn: Connection, now_us: int, quiet_hours: int) -> int:
    """Resolve open and acknowledged records not seen, nor detected, for `quiet_hours`
    (one found by a catch-up over old data stays open that long too)."""
    t = schema.anomalies
    cutoff = now_us - quiet_hours * HOUR_US
    result = conn.execute(
        t.update()
        .where(t.c.status != "resolved", t.c.last_seen_us < cutoff, t.c.detected_us < cutoff)
        .values(status="resolved", updated_us=now_us)
    )
    return int(result.rowcount or 0)


@dataclass(frozen=True, slots=True)
class Mute:
    id: str
    scope: str
    until_us: int
    reason: str
    actor: str
    created_us: int

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "scope": self.scope,
            "until": _iso(self.until_us),
            "reason": self.reason,
            "actor": self.actor,
        }


def mute(
    conn: Connection, scope: str, until_us: int, *, reason: str, actor: str, now_us: int
) -> Mute:
    """Record no anomaly in `scope` (and the scopes below it) until `until_us`."""
    text = parse_scope(scope).text
    if text.startswith("end_user:"):
        raise AnomalyError("end users are not anomaly scopes")
    if until_us <= now_us:
        raise AnomalyError("a mute must end in the future")
    m = Mute("mu_" + uuid.uuid4().hex[:16], text, until_us, reason, actor, now_us)
    conn.execute(
        schema.anomaly_mutes.insert().values(
            id=m.id,
            scope=m.scope,
            until_us=m.until_us,
            reason=m.reason,
            actor=m.actor,
            created_us=m.created_us,
        )
    )
    audit.record_change(conn, actor, "anomaly.mute", text, None, m.as_json(), reason or None)
    return m


def active_mutes(conn: Connection, now_us: int) -> list[Mute]:
    t = schema.anomaly_mutes
    rows = conn.execute(select(t).where(t.c.until_us > now_us).order_by(t.c.until_us))
    return [Mute(r.id, r.scope, r.until_us, r.reason, r.actor, r.created_us) for r in rows]


def muted_checker(mutes: Iterable[Mute]) -> Callable[[str], bool]:
    scopes = frozenset(m.scope for m in mutes)
    return scopes.__contains__
