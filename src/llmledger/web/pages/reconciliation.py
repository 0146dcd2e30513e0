"""``/reconciliation``: the providers' own cost reports against the ledger, by day."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from llmledger.web.api import reconcile
from llmledger.web.api.deps import RuntimeDep
from llmledger.web.auth.guard import PageUser, organisation_only
from llmledger.web.pages.render import render

router = APIRouter(include_in_schema=False)


@router.get("/reconciliation")
async def reconciliation_page(
    request: Request,
    runtime: RuntimeDep,
    principal: PageUser,
    month: str | None = None,
    tolerance: str = "1",
) -> Response:
    organisation_only(principal)
    chosen = month or reconcile.previous_month(runtime)
    result = await reconcile.get_reconciliation(
        runtime, principal.actor, month=chosen, tolerance=tolerance, provider=None
    )
    context = {"data": result, "month": chosen, "tolerance": tolerance}
    return render(request, "reconciliation.html", context, principal=principal)
