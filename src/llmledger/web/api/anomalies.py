"""``/api/v1/anomalies``: list anomalies, acknowledge or resolve one, mute a scope.

Admins, finance and viewers see every anomaly; an owner sees those of their own scope.
Acknowledging, resolving and muting are for admins and finance (and an owner within
their scope).
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from llmledger.anomalies import records
from llmledger.anomalies.flags import KINDS
from llmledger.guardrails.scopes import ScopeError, parse_scope
from llmledger.ledger.event import to_us
from llmledger.ledger.users import Role
from llmledger.web.api.deps import PrincipalDep, RuntimeDep
from llmledger.web.api.params import parse_day
from llmledger.web.auth.principal import Principal

router = APIRouter(prefix="/api/v1/anomalies", tags=["anomalies"])


class Acknowledge(BaseModel):
    note: str = Field(min_length=1, max_length=2000)


class Resolve(BaseModel):
    note: str | None = Field(None, max_length=2000)


class MuteRequest(BaseModel):
    scope: str = Field(max_length=400)
    until: str = Field(max_length=40, description="YYYY-MM-DD (organisation time) or ISO")
    reason: str = Field("", max_length=2000)


def _visible(principal: Principal, scope: str) -> bool:
    try:
        return principal.covers(parse_scope(scope))
    except ScopeError:
        return False


def _may_change(principal: Principal, scope: str) -> bool:
    if principal.role in (Role.ADMIN, Role.FINANCE):
        return True
    return principal.role is Role.OWNER and _visible(principal, scope)


def _now_us() -> int:
    return to_us(datetime.now(UTC))


@router.get("")
async def list_all(
    runtime: RuntimeDep,
    principal: PrincipalDep,
    since: str | None = None,
    status: str | None = None,
    kind: str | None = None,
) -> dict[str, object]:
    """Anomalies that started on or after `since` (a local date), newest first."""
    if status is not None and status not in records.STATUSES:
        raise HTTPException(422, f"status: one of {', '.join(records.STATUSES)}")
    if kind is not None and kind not in KINDS:
        raise HTTPException(422, f"kind: one of {', '.join(KINDS)}")
    day = parse_day(since, "since")
    zone = runtime.settings.organisation.zone
    since_us = to_us(datetime.combine(day, time(0), zone)) if day else None

    def read() -> dict[str, object]:
        with runtime.store.read() as conn:
            found = records.list_anomalies(conn, since_us=since_us, status=status, kind=kind)
            mutes = records.active_mutes(conn, _now_us())
        return {
            "anomalies": [a.as_json() for a in found if _visible(principal, a.scope)],
            "mutes": [m.as_json() for m in mutes if _visible(principal, m.scope)],
        }

    return await run_in_threadpool(read)


async def _change(
    runtime: RuntimeDep, principal: Principal, anomaly_id: str, action: str, note: str | None
) -> dict[str, object]:
    def write() -> dict[str, object]:
        with runtime.store.write() as conn:
            found = records.get(conn, anomaly_id)
            if found is None or not _visible(principal, found.scope):
                raise LookupError(anomaly_id)
            if not _may_change(principal, found.scope):
                raise PermissionError(anomaly_id)
            if action == "acknowledge":
                changed = records.acknowledge(
                    conn, anomaly_id, note or "", actor=principal.actor, now_us=_now_us()
                )
            else:
                changed = records.resolve(
                    conn, anomaly_id, actor=principal.actor, now_us=_now_us(), note=note
                )
        return changed.as_json()

    try:
        return await run_in_threadpool(write)
    except LookupError:
        raise HTTPException(404, f"no anomaly {anomaly_id!r}") from None
    except PermissionError:
        raise HTTPException(403, f"the {principal.role} role cannot do this") from None
    except records.AnomalyError as exc:
        raise HTTPException(409, str(exc)) from None


@router.post("/{anomaly_id}/acknowledge")
async def acknowledge(
    anomaly_id: str, body: Acknowledge, runtime: RuntimeDep, principal: PrincipalDep
) -> dict[str, object]:
    """Acknowledge an anomaly, with a note (kept in the audit log)."""
    return await _change(runtime, principal, anomaly_id, "acknowledge", body.note)


@router.post("/{anomaly_id}/resolve")
async def resolve(
    anomaly_id: str, runtime: RuntimeDep, principal: PrincipalDep, body: Resolve | None = None
) -> dict[str, object]:
    """Mark an anomaly resolved."""
    return await _change(runtime, principal, anomaly_id, "resolve", body.note if body else None)


def parse_until(text: str, runtime: RuntimeDep) -> int:
    """A mute's end: a local date (its end of day is the start of the next) or ISO time."""
    zone = runtime.settings.organisation.zone
    try:
        if len(text) == 10:
            day = datetime.fromisoformat(text).date()
            return to_us(datetime.combine(day, time(0), zone)) + 86_400_000_000
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise HTTPException(
            422, f"until: expected YYYY-MM-DD or an ISO time, got {text!r}"
        ) from None
    return to_us(moment if moment.tzinfo else moment.replace(tzinfo=zone))


@router.post("/mutes", status_code=201)
async def mute(
    body: MuteRequest, runtime: RuntimeDep, principal: PrincipalDep
) -> dict[str, object]:
    """Mute a scope (and everything below it) until a date."""
    until_us = parse_until(body.until, runtime)
    try:
        scope = parse_scope(body.scope).text
    except ScopeError as exc:
        raise HTTPException(422, str(exc)) from None
    if not _may_change(principal, scope):
        raise HTTPException(403, f"the {principal.role} role cannot mute {scope}")

    def write() -> dict[str, object]:
        with runtime.store.write() as conn:
            m = records.mute(
                conn, scope, until_us, reason=body.reason, actor=principal.actor, now_us=_now_us()
            )
        return m.as_json()

    try:
        return await run_in_threadpool(write)
    except records.AnomalyError as exc:
        raise HTTPException(422, str(exc)) from None
