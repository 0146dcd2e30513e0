"""``/organisation``: cost by department, stacked by provider, over a chosen period."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

from llmledger.money import format_usd, usd_to_nanos
from llmledger.web.api import figures
from llmledger.web.api.deps import RuntimeDep
from llmledger.web.auth.guard import PageUser, organisation_only
from llmledger.web.pages import presets
from llmledger.web.pages.format import label
from llmledger.web.pages.render import render

router = APIRouter(include_in_schema=False)
PERIODS = ("1m", "3m", "ytd", "12m")
PROVIDER_NAMES = {
    "anthropic": "Anthropic",
    "openai": "OpenAI",
    "bedrock": "AWS Bedrock",
    "google": "Google",
}


def provider_name(provider: str) -> str:
    return PROVIDER_NAMES.get(provider, provider or "Unknown")


def pivot(costs: dict[str, Any]) -> dict[str, Any]:
    """Departments (rows) by providers (columns), both largest first, with totals."""
    cells: dict[str, dict[str, int]] = {}
    by_provider: dict[str, int] = {}
    for r in costs["rows"]:
        nanos = usd_to_nanos(r["cost_usd"])
        cells.setdefault(r["department"], {})[r["provider"]] = nanos
        by_provider[r["provider"]] = by_provider.get(r["provider"], 0) + nanos
    providers = sorted(by_provider, key=lambda p: (-by_provider[p], p))
    totals = {d: sum(v.values()) for d, v in cells.items()}
    departments = sorted(cells, key=lambda d: (-totals[d], d))
    rows = [
        {
            "department": d,
            "total_usd": format_usd(totals[d]),
            "cells": [format_usd(cells[d].get(p, 0)) for p in providers],
        }
        for d in departments
    ]
    chart = {
        "kind": "stacked",
        "labels": [label(d) for d in departments],
        "series": [
            {
                "name": provider_name(p),
                "type": "bar",
                "values": [format_usd(cells[d].get(p, 0)) for d in departments],
            }
            for p in providers
        ],
    }
    return {
        "providers": [provider_name(p) for p in providers],
        "rows": rows,
        "provider_totals": [format_usd(by_provider[p]) for p in providers],
        "total_usd": costs["total_usd"],
        "chart": chart,
    }


@router.get("/organisation")
async def organisation(
    request: Request, runtime: RuntimeDep, principal: PageUser, period: str = "12m"
) -> Response:
    organisation_only(principal)
    org = runtime.settings.organisation
    chosen = presets.find(period, runtime.today(), org.fiscal_year_start_month)
    if chosen is None or period not in PERIODS:
        raise HTTPException(422, f"period: one of {', '.join(PERIODS)}")
    costs = await figures.get_costs(
        runtime,
        principal.actor,
        group_by="department,provider",
        from_=chosen.start.isoformat(),
        to=chosen.end.isoformat(),
        department=None,
        project=None,
        agent=None,
        provider=None,
        model=None,
    )
    options = [
        p for p in presets.presets(runtime.today(), org.fiscal_year_start_month) if p.key in PERIODS
    ]
    context = {"period": chosen, "periods": options, "costs": costs, **pivot(costs)}
    template = "_organisation.html" if request.headers.get("hx-request") else "organisation.html"
    return render(request, template, context, principal=principal)
