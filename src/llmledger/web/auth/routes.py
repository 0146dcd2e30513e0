"""``/login`` and ``/logout``."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response

from llmledger.ledger.users import User, authenticate
from llmledger.web.api.deps import RuntimeDep, session_principal
from llmledger.web.auth.guard import PageUser, check_form_csrf
from llmledger.web.auth.sessions import Session, SessionCodec
from llmledger.web.pages.render import render

router = APIRouter(include_in_schema=False)


def _codec(request: Request) -> SessionCodec:
    codec: SessionCodec = request.app.state.sessions
    return codec


def _safe_next(value: str | None) -> str:
    """Only a path on this site (no scheme, no ``//host``) is followed after sign-in."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value[:500]


def _login_page(
    request: Request, session: Session, next_path: str, error: str = "", status_code: int = 200
) -> Response:
    response = render(
        request,
        "login.html",
        {"csrf": session.csrf, "next": next_path, "error": error},
        principal=None,
        status_code=status_code,
    )
    response.headers["cache-control"] = "no-store"
    _codec(request).write(response, request, session)
    return response


@router.get("/login")
async def login_form(request: Request, runtime: RuntimeDep, next: str | None = None) -> Response:
    if await run_in_threadpool(session_principal, request, runtime) is not None:
        return RedirectResponse(_safe_next(next), 303)
    session = _codec(request).read(request) or Session.anonymous()
    if session.user_id:
        session = Session.anonymous()
    page = render(
        request,
        "login.html",
        {"csrf": session.csrf, "next": _safe_next(next), "error": ""},
        principal=None,
    )
    _codec(request).write(page, request, session)
    return page


@router.post("/login")
async def login(request: Request, runtime: RuntimeDep) -> Response:
    codec = _codec(request)
    session = codec.read(request)
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    await form.close()
    next_path = _safe_next(fields.get("next"))
    if (
        session is None
        or session.user_id
        or not fields.get("csrf_token")
        or (fields["csrf_token"] != session.csrf)
    ):
        fresh = Session.anonymous()
        return _login_page(
            request, fresh, next_path, "Your sign-in form expired. Please try again.", 400
        )
    email = fields.get("email", "")[:300]
    password = fields.get("password", "")[:1000]

    def check() -> User | None:
        with runtime.store.write() as conn:
            return authenticate(conn, email, password)

    user = await run_in_threadpool(check) if email and password else None
    if user is None:
        return _login_page(
            request,
            Session.anonymous(),
            next_path,
            "Wrong email or password, or the account is locked.",
            401,
        )
    response = RedirectResponse(next_path, 303)
    codec.write(response, request, Session.signed_in(user.id))
    return response


@router.post("/logout")
async def logout(request: Request, principal: PageUser) -> Response:
    try:
        await check_form_csrf(request, principal)
    except HTTPException:
        return RedirectResponse("/", 303)
    response = RedirectResponse("/login", 303)
    _codec(request).clear(response, request)
    return response
