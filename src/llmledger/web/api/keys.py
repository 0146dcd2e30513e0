"""``/api/v1/keys``: issue, list and revoke virtual keys."""

from __future__ import annotations

import time

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from llmledger.ledger import keys
from llmledger.ledger.audit import record_change
from llmledger.web.api.deps import AdminDep, RuntimeDep

router = APIRouter(prefix="/api/v1/keys", tags=["keys"])
_NAME = r"^[\w .:@+-]{1,200}$"


class KeyRequest(BaseModel):
    department: str = Field(pattern=_NAME)
    project: str = Field("", pattern=r"^([\w .:@+-]{1,200})?$")
    agent: str = Field("", pattern=r"^([\w .:@+-]{1,200})?$")
    name: str = Field("", max_length=200)
    allowed_models: list[str] = Field(default_factory=list, max_length=100)
    allow_attribution_headers: bool = False
    expires_in_days: int | None = Field(None, ge=1, le=36500)
    rpm_limit: int | None = Field(None, ge=1, le=keys.MAX_RATE_LIMIT)
    """Requests per minute (every replica together when Redis is configured)."""
    tpm_limit: int | None = Field(None, ge=1, le=keys.MAX_RATE_LIMIT)
    """Tokens per minute (every replica together when Redis is configured)."""


@router.post("", status_code=201)
async def create(body: KeyRequest, runtime: RuntimeDep, actor: AdminDep) -> dict[str, object]:
    """Issue a key; the secret is in this answer only."""
    if body.agent and not body.project:
        raise HTTPException(422, "a key for an agent needs its project")

    def write() -> dict[str, object]:
        with runtime.store.write() as conn:
            key, secret = keys.create_key(
                conn,
                department=body.department,
                project=body.project,
                agent=body.agent,
                name=body.name,
                allowed_models=tuple(body.allowed_models),
                allow_attribution_headers=body.allow_attribution_headers,
                expires_us=None
                if body.expires_in_days is None
                else time.time_ns() // 1000 + body.expires_in_days * 86_400_000_000,
                rpm_limit=body.rpm_limit,
                tpm_limit=body.tpm_limit,
            )
            record_change(conn, actor, "key.create", key.id, None, key.as_json())
        return {
            "id": key.id,
            "key": secret,
            "department": key.department,
            "project": key.project,
            "agent": key.agent,
        }

    return await run_in_threadpool(write)


@router.get("")
async def list_all(runtime: RuntimeDep, _: AdminDep) -> dict[str, object]:
    def read() -> dict[str, object]:
        with runtime.store.read() as conn:
            return {"keys": [k.as_json() for k in keys.list_keys(conn)]}

    return await run_in_threadpool(read)


@router.delete("/{key_id}")
async def revoke(key_id: str, runtime: RuntimeDep, actor: AdminDep) -> dict[str, object]:
    def write() -> bool:
        with runtime.store.write() as conn:
            before = keys.find_by_id(conn, key_id)
            done = keys.revoke_key(conn, key_id)
            if done and before is not None:
                after = keys.find_by_id(conn, key_id)
                record_change(
                    conn,
                    actor,
                    "key.revoke",
                    key_id,
                    before.as_json(),
                    after.as_json() if after else None,
                )
            return done

    if not await run_in_threadpool(write):
        raise HTTPException(404, f"no active key {key_id!r}")
    await runtime.keys.revoked(key_id)
    return {"id": key_id, "revoked": True}
