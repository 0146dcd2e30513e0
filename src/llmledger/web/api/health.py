"""``/healthz`` and ``/readyz``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from llmledger.web.api.deps import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    def ping() -> bool:
        try:
            with runtime.store.read() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    store_ok = await run_in_threadpool(ping)
    body = {
        "status": "ok" if store_ok else "unavailable",
        "store": store_ok,
        "writer_queue": runtime.writer.depth,
    }
    return JSONResponse(body, status_code=200 if store_ok else 503)
