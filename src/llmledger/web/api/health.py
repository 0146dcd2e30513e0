"""``/healthz`` (the process answers) and ``/readyz`` (it can serve gateway calls)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from llmledger.runtime import Runtime
from llmledger.web.api.deps import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _upstreams(runtime: Runtime) -> dict[str, bool]:
    """Each provider's connection pool: open (False once closed, or before startup)."""
    return {
        provider: route.session is not None and not route.session.closed
        for provider, route in runtime.routes.items()
    }


@router.get("/readyz")
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    """Ready when the store answers and every upstream pool is open; 503 otherwise, so a
    load balancer stops sending calls to a replica that would refuse them."""

    def ping() -> float | None:
        try:
            return runtime.store.ping()
        except Exception:
            return None

    latency = await run_in_threadpool(ping)
    store_ok = latency is not None
    upstreams = _upstreams(runtime)
    pools_ok = bool(upstreams) and all(upstreams.values())
    ok = store_ok and pools_ok
    body: dict[str, Any] = {
        "status": "ok" if ok else "unavailable",
        "store": store_ok,
        "store_ms": round(latency * 1000, 2) if latency is not None else None,
        "store_policy": runtime.settings.store.unreachable,
        "upstreams": upstreams,
        "writer_queue": runtime.writer.depth,
        "writer_retrying": runtime.writer.retrying,
    }
    return JSONResponse(body, status_code=200 if ok else 503)
