"""The Jinja2 environment of the pages, and what every page is rendered with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import HTMLResponse

from llmledger.runtime import Runtime
from llmledger.web.auth.principal import Principal
from llmledger.web.pages.format import FILTERS

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
STATIC = Path(__file__).resolve().parent.parent / "static"

#: Left navigation: (path, label, organisation-wide only).
NAV = (
    ("/", "Executive", True),
    ("/organisation", "Organisation", True),
    ("/attribution", "Attribution", False),
    ("/guardrails", "Guardrails", False),
    ("/savings", "Savings", False),
    ("/roi", "ROI", False),
    ("/reconciliation", "Reconciliation", True),
    ("/anomalies", "Anomalies", False),
    ("/requests", "Requests", False),
    ("/settings", "Settings", True),
)
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'self'"
)


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    templates.env.filters.update(FILTERS)
    templates.env.globals["nav"] = NAV
    return templates


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    principal: Principal | None,
    status_code: int = 200,
) -> HTMLResponse:
    runtime: Runtime = request.app.state.runtime
    templates: Jinja2Templates = request.app.state.templates
    org = runtime.settings.organisation
    base = {
        "principal": principal,
        "org": org,
        "today": runtime.today(),
        "path": request.url.path,
        "csrf": principal.csrf if principal else "",
    }
    base.update(context)
    response = templates.TemplateResponse(request, name, base, status_code=status_code)
    secure_headers(response)
    return response


def secure_headers(response: HTMLResponse) -> None:
    response.headers["content-security-policy"] = CSP
    response.headers["x-content-type-options"] = "nosniff"
    response.headers["referrer-policy"] = "same-origin"
    response.headers["cache-control"] = "no-store"
