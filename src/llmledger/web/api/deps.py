"""Dependencies of the admin API, as types (tests swap them, nothing is patched)."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from llmledger.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def require_admin(request: Request, runtime: RuntimeDep) -> str:
    """The caller's identity; an admin API token in ``Authorization: Bearer``."""
    auth = request.headers.get("authorization", "")
    scheme, _, token = auth.partition(" ")
    expected = runtime.settings.admin_token
    if scheme.lower() == "bearer" and token and expected is not None:
        if hmac.compare_digest(token.strip().encode(), expected.get_secret_value().encode()):
            return "admin-token"
    raise HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "an admin API token is required (Authorization: Bearer ...)",
        headers={"www-authenticate": "Bearer"},
    )


AdminDep = Annotated[str, Depends(require_admin)]
