"""``/``: the executive view (YTD, MTD, run rate, savings, usage, trend, movers)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from llmledger.money import format_usd, usd_to_nanos
from llmledger.web.api import figures
from llmledger.web.api.deps import RuntimeDep
from llmledger.web.auth.guard import PageUser, organisation_only
from llmledger.web.pages.modality import quantities
from llmledger.web.pages.render import render

router = APIRouter(include_in_schema=False)
MOVERS = 6


async def movers(runtime: RuntimeDep, actor: str) -> list[dict[str, Any]]:
    """Departments and projects whose spend changed most, last 7 days against the 7 before."""
    today = runtime.today()
    this_week = await figures.get_costs(
        runtime,
        actor,
        group_by="department,project",
        from_=(today - timedelta(6)).isoformat(),
        to=today.isoformat(),
        department=None,
        project=None,
        agent=None,
        provider=None,
        model=None,
    )
    last_week = await figures.get_costs(
        runtime,
        actor,
        group_by="department,project",
        from_=(today - timedelta(13)).isoformat(),
        to=(today - timedelta(7)).isoformat(),
        department=None,
        project=None,
        agent=None,
        provider=None,
        model=None,
    )

    def amounts(data: dict[str, object]) -> dict[tuple[str, str], int]:
        rows = data["rows"]
        assert isinstance(rows, list)
        return {(r["department"], r["project"]): usd_to_nanos(r["cost_usd"]) for r in rows}

    now, before = amounts(this_week), amounts(last_week)
    out: list[tuple[int, dict[str, Any]]] = []
    for key in set(now) | set(before):
        a, b = now.get(key, 0), before.get(key, 0)
        if a == b:
            continue
        change = None if not b else (Decimal(a - b) * 100 / Decimal(b)).quantize(Decimal("0.1"))
        out.append(
            (
                abs(a - b),
                {
                    "department": key[0],
                    "project": key[1],
                    "this_week_usd": format_usd(a),
                    "last_week_usd": format_usd(b),
                    "change_usd": format_usd(a - b),
                    "change_pct": change,
                    "up": a > b,
                },
            )
        )
    out.sort(key=lambda m: (-m[0], m[1]["department"], m[1]["project"]))
    return [m[1] for m in out[:MOVERS]]


def trend_chart(summary: dict[str, Any]) -> dict[str, Any]:
    trend = summary["trend"]
    return {
        "kind": "trend",
        "labels": [t["month"] for t in trend],
        "series": [
            {"name": "Spend", "type": "bar", "values": [t["spend_usd"] for t in trend]},
            {
                "name": "Monthly allocation",
                "type": "line",
                "values": [t["budget_usd"] for t in trend],
            },
        ],
    }


@router.get("/")
async def executive(request: Request, runtime: RuntimeDep, principal: PageUser) -> Response:
    organisation_only(principal)
    summary: dict[str, Any] = await figures.get_summary(runtime, principal.actor, as_of=None)
    org = runtime.settings.organisation
    annual = usd_to_nanos(org.annual_budget_usd)
    projected = usd_to_nanos(summary["projected_annual_usd"])
    run_rate_status = (
        "none"
        if not annual
        else ("red" if projected > annual else "amber" if projected * 10 >= annual * 9 else "green")
    )
    mtd_now = usd_to_nanos(summary["mtd"]["spend_usd"])
    mtd_before = usd_to_nanos(summary["mtd_same_day_last_month_usd"])
    usage = quantities(summary["usage"])
    audio_minutes = (usage["audio_seconds"] / 60).quantize(Decimal("0.1"))
    context = {
        "s": summary,
        "run_rate_status": run_rate_status,
        "mtd_change_usd": format_usd(mtd_now - mtd_before),
        "mtd_up": mtd_now > mtd_before,
        "usage": usage,
        "audio_minutes": audio_minutes,
        "chart": trend_chart(summary),
        "movers": await movers(runtime, principal.actor),
    }
    return render(request, "executive.html", context, principal=principal)
