"""``GET /metrics``: Prometheus text format, from the application's own registry."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from llmledger.ops.metrics import CONTENT_TYPE
from llmledger.web.api.deps import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/metrics", include_in_schema=False)
async def metrics(runtime: RuntimeDep) -> Response:
    # In a thread: budget fill and alert deliveries are read from the store.
    body = await run_in_threadpool(runtime.metrics.render)
    return Response(body, media_type=CONTENT_TYPE)
