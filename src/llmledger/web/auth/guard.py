"""Page dependencies: a signed-in user (else the sign-in page) and CSRF on every form."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, HTTPException, Request

from llmledger.web.api.deps import RuntimeDep, csrf_ok, session_principal
from llmledger.web.auth.principal import Principal


class SignInRequired(Exception):
    """Raised by a page when nobody is signed in; answered with a redirect to /login."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def sign_in_url(next_path: str) -> str:
    return "/login?next=" + quote(next_path, safe="/")


def page_principal(request: Request, runtime: RuntimeDep) -> Principal:
    principal = session_principal(request, runtime)
    if principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target)
    return principal


PageUser = Annotated[Principal, Depends(page_principal)]


async def check_form_csrf(request: Request, principal: Principal) -> dict[str, str]:
    """The posted form's fields, once its CSRF token (field or header) matches the session."""
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    await form.close()
    token = fields.get("csrf_token") or request.headers.get("x-csrf-token", "")
    if not csrf_ok(principal, token):
        raise HTTPException(403, "this form has expired: reload the page and try again")
    return fields


def organisation_only(principal: Principal) -> None:
    if not principal.sees_organisation:
        raise HTTPException(
            403, f"this view covers the whole organisation; you see {principal.scope}"
        )
