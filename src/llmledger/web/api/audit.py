"""``/api/v1/audit``: the audit log, newest first (admins only)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Query
from starlette.concurrency import run_in_threadpool

from llmledger.ledger.audit import entries
from llmledger.ledger.users import Role
from llmledger.web.api.deps import PrincipalDep, RuntimeDep

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get("/audit")
async def audit_log(
    runtime: RuntimeDep,
    principal: PrincipalDep,
    target: str | None = Query(None, max_length=400),
    limit: int = Query(100, ge=1, le=1000),
) -> dict[str, object]:
    """Who changed keys, budgets, users, tokens and anomalies: when, from what, to what."""
    if principal.role is not Role.ADMIN:
        raise HTTPException(403, f"the {principal.role} role cannot read the audit log")

    def read() -> list[dict[str, object]]:
        with runtime.store.read() as conn:
            return entries(conn, target, limit)

    rows = await run_in_threadpool(read)
    return {
        "entries": [
            {**r, "at": datetime.fromtimestamp(int(str(r["ts_us"])) / 1_000_000, UTC).isoformat()}
            for r in rows
        ]
    }
