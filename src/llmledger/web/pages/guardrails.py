"""``/guardrails``: every budget with its progress, status, projection and owners; raise a
cap with a reason."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from llmledger.guardrails.scopes import ScopeError, parse_scope
from llmledger.money import MAX_USD
from llmledger.web.api import budgets
from llmledger.web.api.deps import RuntimeDep
from llmledger.web.auth.guard import PageUser, check_form_csrf
from llmledger.web.auth.principal import Principal
from llmledger.web.pages.render import render

router = APIRouter(include_in_schema=False)
_STATUS_ORDER = {"blocked": 0, "alert": 1, "ok": 2}


def describe(budget: dict[str, Any], principal: Principal) -> dict[str, Any]:
    try:
        scope = parse_scope(str(budget["scope"]))
    except ScopeError:
        return {
            **budget,
            "name": budget["scope"],
            "path": "",
            "kind": "?",
            "editable": False,
            "bar": 0,
            "visible": principal.sees_organisation,
        }
    name = scope.parts[-1] if scope.parts else "Organisation"
    path = " / ".join(scope.parts[:-1]) if scope.kind in ("project", "agent") else ""
    bar = min(Decimal(str(budget["percent"])), Decimal(100))
    return {
        **budget,
        "name": name,
        "path": path,
        "kind": scope.kind,
        "bar": format(bar, "f"),
        "visible": principal.covers(scope),
        "editable": principal.may_change_caps() and principal.covers(scope),
    }


async def visible_budgets(runtime: RuntimeDep, principal: Principal) -> list[dict[str, Any]]:
    data = await budgets.list_all(runtime, principal.actor)
    rows = [describe(b, principal) for b in data["budgets"]]  # type: ignore[attr-defined]
    rows = [r for r in rows if r["visible"]]
    rows.sort(key=lambda r: (_STATUS_ORDER.get(r["status"], 3), -Decimal(r["percent"]), r["scope"]))
    return rows


@router.get("/guardrails")
async def guardrails(request: Request, runtime: RuntimeDep, principal: PageUser) -> Response:
    rows = await visible_budgets(runtime, principal)
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in ("ok", "alert", "blocked")}
    return render(
        request, "guardrails.html", {"budgets": rows, "counts": counts}, principal=principal
    )


def _limit(text: str) -> Decimal:
    try:
        value = Decimal(text.strip().replace(",", "").lstrip("$"))
    except InvalidOperation:
        raise HTTPException(422, f"new cap: not an amount ({text[:40]!r})") from None
    if not value.is_finite() or value <= 0 or value >= MAX_USD:
        raise HTTPException(422, "new cap: a positive amount of USD")
    if value != value.quantize(Decimal("0.01")):
        raise HTTPException(422, "new cap: at most two decimals")
    return value


@router.post("/guardrails/{budget_id}/cap")
async def raise_cap(
    budget_id: str, request: Request, runtime: RuntimeDep, principal: PageUser
) -> Response:
    fields = await check_form_csrf(request, principal)
    if not principal.may_change_caps():
        raise HTTPException(403, f"the {principal.role} role cannot change caps")
    current = {b["id"]: b for b in await visible_budgets(runtime, principal)}
    budget = current.get(budget_id[:100])
    if budget is None:
        raise HTTPException(404, f"no budget {budget_id[:100]!r} that you can change")
    if not budget["editable"]:
        raise HTTPException(403, "this budget is outside your scope")
    limit = _limit(fields.get("limit_usd", ""))
    reason = fields.get("reason", "").strip()
    if not reason or len(reason) > 2000:
        raise HTTPException(422, "a reason (up to 2,000 characters) is required")
    await budgets.change_cap(
        budget_id, budgets.CapChange(limit_usd=limit, reason=reason), runtime, principal.actor
    )
    if not request.headers.get("hx-request"):
        return RedirectResponse("/guardrails", 303)
    updated = {b["id"]: b for b in await visible_budgets(runtime, principal)}[budget_id]
    return render(
        request, "_budget_row.html", {"b": updated, "just_changed": True}, principal=principal
    )
