"""Dependencies of the admin API, as types (tests swap them, nothing is patched).

The API accepts a Bearer token (the bootstrap ``LLMLEDGER_ADMIN_TOKEN``, or an API token
from ``llmledger tokens create`` with a role and, for owners, a scope) or a dashboard
session cookie (the pages' own charts and scripts). A session's unsafe calls carry its
CSRF token in ``X-CSRF-Token``; what a caller may do depends on its role, the same rules
for users and tokens.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from llmledger.ledger.tokens import TOKEN_PREFIX, find_active
from llmledger.ledger.users import Role, get_user
from llmledger.runtime import Runtime
from llmledger.web.auth.principal import TOKEN_ADMIN, Principal
from llmledger.web.auth.sessions import SessionCodec

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def _bearer_ok(token: str, runtime: Runtime) -> bool:
    expected = runtime.settings.admin_token
    if token and expected is not None:
        return hmac.compare_digest(token.encode(), expected.get_secret_value().encode())
    return False


def token_principal(token: str, runtime: Runtime) -> Principal | None:
    """The principal of an API token (``lla_...``), unless it is unknown or revoked."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    with runtime.store.read() as conn:
        found = find_active(conn, token)
    if found is None:
        return None
    return Principal(found.actor, found.role, found.scope)


def session_principal(request: Request, runtime: Runtime) -> Principal | None:
    """The signed-in user of this request's session cookie, if any (read from the store)."""
    codec: SessionCodec | None = getattr(request.app.state, "sessions", None)
    if codec is None:
        return None
    session = codec.read(request)
    if session is None or not session.user_id:
        return None
    with runtime.store.read() as conn:
        user = get_user(conn, session.user_id)
    if user is None:
        return None
    return Principal(f"user:{user.email}", user.role, user.scope, session.csrf, user.email)


def csrf_ok(principal: Principal, token: str) -> bool:
    return bool(token) and hmac.compare_digest(token.encode(), principal.csrf.encode())


def get_principal(request: Request, runtime: RuntimeDep) -> Principal:
    """The caller: a Bearer token or a signed-in user (CSRF-checked when unsafe)."""
    bearer = _bearer(request)
    if bearer:
        if _bearer_ok(bearer, runtime):
            return TOKEN_ADMIN
        by_token = token_principal(bearer, runtime)
        if by_token is not None:
            return by_token
        if bearer.startswith(TOKEN_PREFIX):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "this API token is unknown or revoked",
                headers={"www-authenticate": "Bearer"},
            )
    principal = session_principal(request, runtime)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "an admin API token (Authorization: Bearer ...) or a dashboard sign-in is required",
            headers={"www-authenticate": "Bearer"},
        )
    if request.method not in SAFE_METHODS and not csrf_ok(
        principal, request.headers.get("x-csrf-token", "")
    ):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "missing or wrong X-CSRF-Token header")
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def _owner_query_ok(request: Request, principal: Principal) -> bool:
    return all(request.query_params.get(k) == v for k, v in principal.filters().items())


def _check_organisation_route(request: Request, principal: Principal) -> None:
    """Organisation-wide routes: admins do anything; finance also changes budgets; viewers
    read; owners read only cost breakdowns filtered to their own scope."""
    if principal.role is Role.ADMIN:
        return
    path = request.url.path
    if request.method in SAFE_METHODS:
        if principal.role is not Role.OWNER:
            return
        if path == "/api/v1/costs" and _owner_query_ok(request, principal):
            return
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"an owner sees only {principal.scope}: filter by it "
            "(or use /api/v1/hierarchy, /api/v1/events, /api/v1/savings)",
        )
    if principal.role is Role.FINANCE and path.startswith("/api/v1/budgets"):
        return
    raise HTTPException(status.HTTP_403_FORBIDDEN, f"the {principal.role} role cannot do this")


def require_admin(request: Request, runtime: RuntimeDep) -> str:
    """The caller's identity for the audit log, once allowed on an organisation-wide route."""
    principal = get_principal(request, runtime)
    _check_organisation_route(request, principal)
    return principal.actor


AdminDep = Annotated[str, Depends(require_admin)]
