"""``/roi``: cost per outcome by agent and project, its trend, value against cost, risers."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

from llmledger.web.api import roi
from llmledger.web.api.deps import RuntimeDep
from llmledger.web.auth.guard import PageUser
from llmledger.web.pages import presets
from llmledger.web.pages.render import render

router = APIRouter(include_in_schema=False)


@router.get("/roi")
async def roi_page(
    request: Request, runtime: RuntimeDep, principal: PageUser, period: str = "3m"
) -> Response:
    fy = runtime.settings.organisation.fiscal_year_start_month
    chosen = presets.find(period, runtime.today(), fy)
    if chosen is None:
        raise HTTPException(422, "period: 1m, last, 3m, ytd or 12m")
    scope = principal.filters()
    data = await roi.get_roi(
        runtime,
        principal,
        from_=chosen.start.isoformat(),
        to=chosen.end.isoformat(),
        department=scope.get("department"),
        project=scope.get("project"),
        agent=scope.get("agent"),
    )
    rows = data["rows"]
    assert isinstance(rows, list)
    months = [p["month"] for p in rows[0]["trend"]] if rows else []
    context = {
        "data": data,
        "rows": rows,
        "months": months,
        "period": chosen,
        "periods": presets.presets(runtime.today(), fy),
        "measured": [r for r in rows if r["cost_per_outcome_usd"] is not None],
        "unmeasured": [r for r in rows if r["cost_per_outcome_usd"] is None],
    }
    return render(request, "roi.html", context, principal=principal)
