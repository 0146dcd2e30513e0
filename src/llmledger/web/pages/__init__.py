"""The dashboard: server-rendered pages over the admin API's own figures."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from llmledger.runtime import Runtime
from llmledger.web.api.deps import session_principal
from llmledger.web.auth import routes as auth_routes
from llmledger.web.auth.guard import SignInRequired, sign_in_url
from llmledger.web.auth.sessions import SessionCodec
from llmledger.web.pages import (
    anomalies,
    attribution,
    executive,
    extras,
    guardrails,
    organisation,
    reconciliation,
    requests,
    roi,
)
from llmledger.web.pages.render import STATIC, make_templates, render

PAGE_ROUTERS = (
    auth_routes.router,
    executive.router,
    organisation.router,
    attribution.router,
    guardrails.router,
    requests.router,
    extras.router,
    roi.router,
    reconciliation.router,
    anomalies.router,
)
_MACHINE_PREFIXES = ("/api/", "/healthz", "/readyz", "/metrics", "/static/")


def _is_page(request: Request) -> bool:
    return not request.url.path.startswith(_MACHINE_PREFIXES)


def install(api: FastAPI, runtime: Runtime) -> None:
    """Add the pages, sign-in, static files and HTML error pages to the API app."""
    server = runtime.settings.server
    api.state.sessions = SessionCodec.from_env(
        server.session_secret_env,
        secure=bool(server.public_url and server.public_url.startswith("https://")),
    )
    api.state.templates = make_templates()
    for router in PAGE_ROUTERS:
        api.include_router(router)
    api.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    async def on_sign_in(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, SignInRequired)
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"hx-redirect": sign_in_url("/")})
        return RedirectResponse(sign_in_url(exc.next_path), 303)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if not _is_page(request):
            return await http_exception_handler(request, exc)
        return await _error_page(request, exc.status_code, str(exc.detail))

    async def on_invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if not _is_page(request):
            return await request_validation_exception_handler(request, exc)
        errors = exc.errors()
        detail = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg', '')}"
            for e in errors[:5]
        )
        return await _error_page(request, 422, detail or "invalid request")

    api.add_exception_handler(SignInRequired, on_sign_in)
    api.add_exception_handler(StarletteHTTPException, on_http_error)
    api.add_exception_handler(RequestValidationError, on_invalid)


async def _error_page(request: Request, status_code: int, detail: str) -> Response:
    runtime: Runtime = request.app.state.runtime
    try:
        principal = await run_in_threadpool(session_principal, request, runtime)
    except Exception:  # the error page must not fail in turn
        principal = None
    titles = {
        400: "Bad request",
        401: "Sign-in required",
        403: "Not allowed",
        404: "Not found",
        405: "Not allowed",
        422: "Check the request",
    }
    template = "_error.html" if request.headers.get("hx-request") else "error.html"
    return render(
        request,
        template,
        {"status": status_code, "detail": detail[:500], "title": titles.get(status_code, "Error")},
        principal=principal,
        status_code=status_code,
    )
