"""``/savings`` and ``/settings``."""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from starlette.responses import Response

from llmledger.gateway.prompts import settings_rules
from llmledger.settings import Settings
from llmledger.web.api import savings
from llmledger.web.api.deps import RuntimeDep
from llmledger.web.auth.guard import PageUser, organisation_only
from llmledger.web.pages import presets
from llmledger.web.pages.render import render

router = APIRouter(include_in_schema=False)
GROUPINGS = {
    "department": "Department",
    "department,project": "Project",
    "department,project,agent": "Agent",
    "model": "Model requested → used",
}


@router.get("/savings")
async def savings_page(
    request: Request,
    runtime: RuntimeDep,
    principal: PageUser,
    period: str = "1m",
    group_by: str = "department,project,agent",
) -> Response:
    if group_by not in GROUPINGS:
        raise HTTPException(422, f"group_by: one of {', '.join(GROUPINGS)}")
    fy = runtime.settings.organisation.fiscal_year_start_month
    chosen = presets.find(period, runtime.today(), fy)
    if chosen is None:
        raise HTTPException(422, "period: 1m, last, 3m, ytd or 12m")
    scope = principal.filters()
    data = await savings.get_savings(
        runtime,
        principal,
        from_=chosen.start.isoformat(),
        to=chosen.end.isoformat(),
        group_by=group_by,
        department=scope.get("department"),
        project=scope.get("project"),
    )
    context = {
        "data": data,
        "dims": group_by.split(","),
        "period": chosen,
        "periods": presets.presets(runtime.today(), fy),
        "group_by": group_by,
        "groupings": GROUPINGS,
    }
    return render(request, "savings.html", context, principal=principal)


def _redact(url: str | None) -> str:
    if not url:
        return "–"
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url.split("@")[-1]


def settings_view(settings: Settings) -> list[tuple[str, list[tuple[str, Any]]]]:
    """The settings that are not secret, by section; secrets appear only as set / not set."""
    org, server, gw = settings.organisation, settings.server, settings.gateway
    providers = []
    for name in ("openai", "anthropic", "gemini", "bedrock"):
        p = getattr(settings.providers, name)
        providers.append(
            (
                name,
                f"{p.base_url or 'default endpoint'}"
                + (f" · region {p.region}" if p.region else "")
                + (
                    f" · key from ${p.api_key_env} ("
                    + ("set" if p.credential() else "not set")
                    + ")"
                    if p.api_key_env
                    else ""
                ),
            )
        )
    secret_env = server.session_secret_env
    smtp = settings.notify.smtp
    return [
        (
            "Organisation",
            [
                ("Name", org.name),
                ("Time zone", org.timezone),
                ("Fiscal year starts", f"month {org.fiscal_year_start_month}"),
                ("Annual budget", f"${org.annual_budget_usd:,}"),
                ("Monthly allocation", f"${org.monthly_budget_usd:,}"),
                ("Currency", org.currency),
            ],
        ),
        (
            "Store",
            [
                ("URL", _redact(settings.store.url)),
                ("Redis", _redact(settings.store.redis_url)),
                ("Writer batch", settings.store.batch_max_events),
            ],
        ),
        (
            "Server",
            [
                ("Listens on", f"{server.host}:{server.port}"),
                ("Public URL", server.public_url or "–"),
                ("Largest request body", f"{server.max_body_bytes:,} bytes"),
                (
                    "Session secret",
                    f"${secret_env} (" + ("set" if os.environ.get(secret_env) else "not set") + ")"
                    if secret_env
                    else "random per process",
                ),
                ("Admin API token", "set" if settings.admin_token else "not set"),
            ],
        ),
        (
            "Gateway",
            [
                ("Sandbox upstream", gw.sandbox),
                ("Allow unpriced models", gw.allow_unpriced),
                (
                    "Store prompts",
                    ", ".join(
                        f"{r.scope} ({r.retention_days} days)" if r.enabled else f"{r.scope} off"
                        for r in settings_rules(gw).values()
                    )
                    or "off (rules set through the API or CLI: llmledger prompts list)",
                ),
            ],
        ),
        ("Providers", providers),
        (
            "Digest",
            [
                ("Recipients", ", ".join(settings.digest.recipients) or "–"),
                ("Sent at", settings.digest.send_at),
                ("SMTP", f"{smtp.host}:{smtp.port} from {smtp.from_}" if smtp else "off"),
            ],
        ),
    ]


@router.get("/settings")
async def settings_page(request: Request, runtime: RuntimeDep, principal: PageUser) -> Response:
    organisation_only(principal)
    return render(
        request, "settings.html", {"sections": settings_view(runtime.settings)}, principal=principal
    )
