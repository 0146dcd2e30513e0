"""``POST /v1/traces``: OTLP/HTTP trace export (protobuf or JSON) of GenAI spans.

Authenticated by a virtual key (``Authorization: Bearer <key>`` or ``x-llmledger-key``),
which fixes the spans' attribution as it does for gateway calls. Answers as OTLP/HTTP
does: 200 with an ``ExportTraceServiceResponse`` in the request's encoding (its
``partial_success`` counts spans that could not be recorded), 400 for a body that is not
OTLP, 401 without a usable key, 413 for a body too large, 415 for another content type.
"""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceResponse,
)
from starlette.concurrency import run_in_threadpool

from llmledger.ledger.event import to_us
from llmledger.otel.ingest import (
    MAX_BODY_BYTES,
    IngestReport,
    OtlpError,
    decompress,
    ingest_spans,
    spans_from_json,
    spans_from_protobuf,
)
from llmledger.web.api.deps import RuntimeDep

router = APIRouter(tags=["opentelemetry"])
PROTOBUF = "application/x-protobuf"
JSON = "application/json"
REPORT_HEADER = "x-llmledger-ingest"


def _key_secret(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return request.headers.get("x-llmledger-key", "").strip()


def _answer(encoding: str, status: int, report: IngestReport | None, message: str = "") -> Response:
    rejected = len(report.rejected) if report else 0
    text = message or "; ".join(report.rejected[:5] if report else [])
    headers = {REPORT_HEADER: orjson.dumps(report.as_json()).decode()} if report else {}
    if encoding == PROTOBUF:
        body = ExportTraceServiceResponse()
        if rejected or text:
            body.partial_success.CopyFrom(
                ExportTracePartialSuccess(rejected_spans=rejected, error_message=text)
            )
        return Response(body.SerializeToString(), status, headers, media_type=PROTOBUF)
    if status >= 400:
        payload: dict[str, object] = {"code": status, "message": text}
    else:
        payload = (
            {"partialSuccess": {"rejectedSpans": str(rejected), "errorMessage": text}}
            if rejected or text
            else {}
        )
    return Response(orjson.dumps(payload), status, headers, media_type=JSON)


@router.post("/v1/traces", response_class=Response)
async def export_traces(request: Request, runtime: RuntimeDep) -> Response:
    """Record the GenAI spans (``gen_ai.usage.*``) of an OTLP trace export; a resend adds
    nothing and calls the gateway already recorded are not counted again."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    encoding = PROTOBUF if content_type == PROTOBUF else JSON
    if content_type not in (PROTOBUF, JSON):
        return _answer(JSON, 415, None, f"use {PROTOBUF} or {JSON}")
    secret = _key_secret(request)
    key = await runtime.keys.find(secret) if secret else None
    if key is None or key.usable_at(to_us(datetime.now(UTC))):
        return _answer(
            encoding,
            401,
            None,
            "a valid llmledger virtual key is required "
            "(Authorization: Bearer <key> or x-llmledger-key)",
        )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return _answer(encoding, 413, None, f"body over {MAX_BODY_BYTES} bytes")
    try:
        data = decompress(bytes(body), request.headers.get("content-encoding", ""))
        spans = spans_from_protobuf(data) if encoding == PROTOBUF else spans_from_json(data)
    except OtlpError as exc:
        return _answer(encoding, 400, None, str(exc))
    # The calls these spans describe ended before they were exported: let the writer
    # commit what the gateway queued for them, so they are found and not counted twice.
    await runtime.writer.flush()
    report = await run_in_threadpool(
        ingest_spans,
        spans,
        key,
        runtime.store,
        runtime.catalog,
        allow_unpriced=runtime.settings.gateway.allow_unpriced,
    )
    return _answer(encoding, 200, report)
