"""Prompt logging: the rules per scope (``/api/v1/prompt-logging``) and a stored call's
bodies (``/api/v1/events/{id}/prompt``).

Rules are read by the organisation-wide roles and changed by admins only, each change in
the audit log. A stored call's bodies are read by admins and by the owner whose scope
holds the call; finance and viewers see figures, not prompts. Each read is audited too.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from llmledger.gateway.prompts import merge, settings_rules
from llmledger.guardrails.scopes import ScopeError, parse_scope
from llmledger.ledger import prompts
from llmledger.ledger.audit import record_change
from llmledger.ledger.users import Role
from llmledger.runtime import Runtime
from llmledger.web.api.deps import AdminDep, PrincipalDep, RuntimeDep

router = APIRouter(prefix="/api/v1", tags=["prompt logging"])
MAX_SCOPE = 700


class PromptRule(BaseModel):
    scope: str = Field(max_length=MAX_SCOPE)
    """``org``, ``department:D``, ``project:D/P``, ``agent:D/P/A`` or ``key:ID``."""
    enabled: bool
    retention_days: int | None = Field(None, ge=1, le=3650)
    """Days a stored call is kept (default: the scope's current rule's, else
    ``gateway.log_prompts_retention_days``)."""


def prompt_scope(text: str) -> str:
    """The canonical text of a scope prompt logging can be set on; 422 otherwise."""
    try:
        scope = parse_scope(text)
    except ScopeError as exc:
        raise HTTPException(422, str(exc)) from None
    if scope.kind == "end_user":
        raise HTTPException(422, "prompt logging is set on org, department, project, agent or key")
    return scope.text


def _rules(runtime: Runtime) -> list[dict[str, object]]:
    with runtime.store.read() as conn:
        stored = prompts.rules(conn)
    merged = merge(settings_rules(runtime.settings.gateway), stored)
    return [merged[k].as_json() for k in sorted(merged)]


async def _refresh(runtime: Runtime) -> None:
    if runtime.prompts is not None:
        await runtime.prompts.refresh()


@router.get("/prompt-logging")
async def list_rules(runtime: RuntimeDep, _: AdminDep) -> dict[str, object]:
    """The rules in force: from the settings, and those set here (which override them)."""
    return {"rules": await run_in_threadpool(_rules, runtime)}


@router.put("/prompt-logging")
async def set_rule(body: PromptRule, runtime: RuntimeDep, actor: AdminDep) -> dict[str, object]:
    """Switch prompt logging on or off for a scope (audited)."""
    scope = prompt_scope(body.scope)
    default = runtime.settings.gateway.log_prompts_retention_days

    def write() -> prompts.StoredRule:
        with runtime.store.write() as conn:
            before = next((r for r in prompts.rules(conn) if r.scope == scope), None)
            days = body.retention_days or (before.retention_days if before else default)
            return prompts.set_rule(conn, actor, scope, body.enabled, days)

    rule = await run_in_threadpool(write)
    await _refresh(runtime)
    return {**rule.as_json(), "source": "store"}


@router.delete("/prompt-logging")
async def reset_rule(
    runtime: RuntimeDep,
    actor: AdminDep,
    scope: str = Query(..., max_length=MAX_SCOPE),
) -> dict[str, object]:
    """Remove the rule set here for a scope; the settings' rule (if any) applies again."""
    canonical = prompt_scope(scope)

    def write() -> bool:
        with runtime.store.write() as conn:
            return prompts.reset_rule(conn, actor, canonical)

    if not await run_in_threadpool(write):
        raise HTTPException(404, f"no prompt logging rule set for {canonical!r}")
    await _refresh(runtime)
    return {"scope": canonical, "reset": True}


@router.get("/events/{event_id}/prompt")
async def get_prompt(
    runtime: RuntimeDep,
    principal: PrincipalDep,
    event_id: str = Path(..., max_length=200),
) -> dict[str, object]:
    """A call's stored request and answer (prompt logging on for its scope): for admins
    and the owner of the scope holding the call. 404 when nothing is stored (logging off,
    or past its retention)."""
    if principal.role not in (Role.ADMIN, Role.OWNER):
        raise HTTPException(
            403, "stored prompts are read by admins and by the owner of the call's scope"
        )

    def read() -> dict[str, Any] | None:
        with runtime.store.read() as conn:
            return prompts.find(conn, event_id)

    row = await run_in_threadpool(read)
    mine = principal.filters()
    if row is not None and any(row.get(k) != v for k, v in mine.items()):
        raise HTTPException(403, f"outside your scope ({principal.scope})")
    if row is None:
        raise HTTPException(404, f"no stored prompt for event {event_id!r}")

    def audit() -> None:
        with runtime.store.write() as conn:
            record_change(conn, principal.actor, "prompt.read", event_id, None, None)

    await run_in_threadpool(audit)
    return prompts.as_json(row, runtime.settings.organisation.zone)
