"""OTLP/HTTP trace ingest: GenAI spans -> priced usage events, deduplicated.

Each span with ``gen_ai.usage.*`` counts becomes one event with id
``otlp:<trace_id>:<span_id>``, priced by the catalog and written by the importer's path
(validated as a usage record, priced by `to_event`, inserted by `record_events`, which
skips an id already stored), so a resent batch adds nothing.

A call that went through the gateway is already in the ledger; its span is skipped when
it names the gateway's request (``llmledger.request_id``, from the
``x-llmledger-request-id`` response header) or when the gateway saw the span's trace
context: the gateway keeps the request's ``traceparent``, and a span whose id (or the id
of a span beneath it, such as the HTTP client span) is that traceparent's parent id is the
same call.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from sqlalchemy import select

from llmledger.ledger import schema
from llmledger.ledger.event import EventFlag, EventSource, UsageEvent
from llmledger.ledger.keys import VirtualKey
from llmledger.ledger.recording import record_events
from llmledger.ledger.store import Store
from llmledger.otel.mapping import (
    REQUEST_ID,
    TRACEPARENT,
    AttrValue,
    NotUsage,
    Span,
    descendants,
    record_of,
)
from llmledger.pricing import PriceCatalog
from llmledger.reports.importer import to_event
from llmledger.reports.records import RecordError, parse_record

MAX_BODY_BYTES = 16 * 1024 * 1024
#: How far apart a gateway request and the span reporting it may start.
_MATCH_WINDOW_US = 15 * 60 * 1_000_000


class OtlpError(ValueError):
    """A body that is not an OTLP trace export."""


@dataclass(slots=True)
class IngestReport:
    spans: int = 0
    imported: int = 0
    duplicates: int = 0
    gateway: int = 0
    """Spans of calls the gateway already recorded."""
    skipped: int = 0
    """Spans that are not model calls (agents, tools, HTTP)."""
    rejected: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "spans": self.spans,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "gateway": self.gateway,
            "skipped": self.skipped,
            "rejected": self.rejected,
        }


def decompress(body: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    try:
        if encoding == "gzip":
            with gzip.GzipFile(fileobj=io.BytesIO(body), mode="rb") as f:
                data = f.read(MAX_BODY_BYTES + 1)
        elif encoding == "deflate":
            data = zlib.decompressobj().decompress(body, MAX_BODY_BYTES + 1)
        elif encoding in ("", "identity"):
            data = body
        else:
            raise OtlpError(f"unsupported content-encoding {encoding!r}")
    except (OSError, zlib.error, EOFError) as exc:
        raise OtlpError(f"body does not decompress: {exc}") from None
    if len(data) > MAX_BODY_BYTES:
        raise OtlpError(f"body over {MAX_BODY_BYTES} bytes")
    return data


def _any_value(value: AnyValue) -> AttrValue:
    kind = value.WhichOneof("value")
    if kind in ("string_value", "bool_value", "int_value", "double_value"):
        result: AttrValue = getattr(value, kind)
        return result
    return None


def _pb_attrs(items: Iterable[KeyValue]) -> dict[str, AttrValue]:
    return {kv.key: _any_value(kv.value) for kv in items}


def spans_from_protobuf(body: bytes) -> list[Span]:
    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except DecodeError as exc:
        raise OtlpError(f"not an OTLP protobuf ExportTraceServiceRequest: {exc}") from None
    out: list[Span] = []
    for rs in request.resource_spans:
        resource = _pb_attrs(rs.resource.attributes)
        for ss in rs.scope_spans:
            for s in ss.spans:
                out.append(
                    Span(
                        s.trace_id.hex(),
                        s.span_id.hex(),
                        s.parent_span_id.hex(),
                        s.name,
                        s.start_time_unix_nano,
                        s.end_time_unix_nano,
                        _pb_attrs(s.attributes),
                        resource,
                    )
                )
    return out


def _json_value(value: Any) -> AttrValue:
    if not isinstance(value, dict):
        return None
    if "stringValue" in value:
        return str(value["stringValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "intValue" in value:  # int64 as a JSON string, per the protobuf JSON mapping
        try:
            return int(value["intValue"])
        except (TypeError, ValueError):
            return None
    if "doubleValue" in value:
        number = value["doubleValue"]
        return float(number) if isinstance(number, int | float | str) else None
    return None


def _json_attrs(items: Any) -> dict[str, AttrValue]:
    if not isinstance(items, list):
        return {}
    return {
        str(kv.get("key")): _json_value(kv.get("value"))
        for kv in items
        if isinstance(kv, dict) and "key" in kv
    }


def _hex_id(value: Any, size: int) -> str:
    text = value.lower() if isinstance(value, str) else ""
    if text and (len(text) != size * 2 or any(c not in "0123456789abcdef" for c in text)):
        raise OtlpError(f"not a {size}-byte hex id: {text[:40]!r}")
    return text


def _list(value: Any, name: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise OtlpError(f"{name}: expected a list")
    return value


def spans_from_json(body: bytes) -> list[Span]:
    """OTLP/JSON: lowerCamelCase keys, trace and span ids as hex (not base64)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise OtlpError(f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise OtlpError("expected a JSON object with resourceSpans")
    out: list[Span] = []
    for rs in _list(data.get("resourceSpans"), "resourceSpans"):
        resource = _json_attrs((rs.get("resource") or {}).get("attributes"))
        for ss in _list(rs.get("scopeSpans"), "scopeSpans"):
            for s in _list(ss.get("spans"), "spans"):
                if not isinstance(s, dict):
                    raise OtlpError("a span is not an object")
                out.append(
                    Span(
                        _hex_id(s.get("traceId"), 16),
                        _hex_id(s.get("spanId"), 8),
                        _hex_id(s.get("parentSpanId"), 8),
                        str(s.get("name", "")),
                        int(s.get("startTimeUnixNano") or 0),
                        int(s.get("endTimeUnixNano") or 0),
                        _json_attrs(s.get("attributes")),
                        resource,
                    )
                )
    return out


def _gateway_calls(store: Store, spans: Sequence[Span]) -> set[str]:
    """Ids of the spans (in `spans`) that report a call the gateway recorded."""
    if not spans:
        return set()
    e = schema.events
    named = {
        str(s.attributes[REQUEST_ID]): s.span_id
        for s in spans
        if isinstance(s.attributes.get(REQUEST_ID), str)
    }
    found: set[str] = set()
    with store.read() as conn:
        if named:
            known = conn.execute(
                select(e.c.id).where(
                    e.c.id.in_(list(named)), e.c.source == EventSource.GATEWAY.value
                )
            ).scalars()
            found.update(named[i] for i in known)
        for span in spans:
            if span.span_id in found:
                continue
            at = span.start_ns // 1000
            rows = conn.execute(
                select(e.c.detail).where(
                    e.c.ts_us >= at - _MATCH_WINDOW_US,
                    e.c.ts_us <= at + _MATCH_WINDOW_US,
                    e.c.source == EventSource.GATEWAY.value,
                    e.c.detail.like(f"%{TRACEPARENT}00-{span.trace_id}-%"),
                )
            ).scalars()
            parents = {_parent_of(d) for d in rows}
            if parents & ({span.span_id} | descendants(spans, span)):
                found.add(span.span_id)
    return found


def _parent_of(detail: str | None) -> str:
    for part in (detail or "").split():
        if part.startswith(TRACEPARENT):
            fields = part[len(TRACEPARENT) :].split("-")
            return fields[2] if len(fields) == 4 else ""
    return ""


def ingest_spans(
    spans: Sequence[Span],
    key: VirtualKey,
    store: Store,
    catalog: PriceCatalog,
    *,
    allow_unpriced: bool = True,
    now: datetime | None = None,
) -> IngestReport:
    """Record the GenAI spans of one export, attributed to `key` (refined by the span's
    attributes where the key allows), priced and deduplicated."""
    report = IngestReport(spans=len(spans))
    clock = now or datetime.now(UTC)
    fixed = {"department": key.department, "project": key.project, "agent": key.agent}
    gateway = _gateway_calls(store, spans)
    events: list[UsageEvent] = []
    for span in spans:
        try:
            raw = record_of(span, fixed, key.allow_attribution_headers)
        except NotUsage:
            report.skipped += 1
            continue
        if span.span_id in gateway:
            report.gateway += 1
            continue
        try:
            record = parse_record(raw, clock)
        except RecordError as exc:
            report.rejected.append(f"span {span.span_id}: {exc}")
            continue
        event = to_event(record, catalog, EventSource.OTLP)
        if event.flags & EventFlag.UNPRICED and not allow_unpriced:
            report.rejected.append(
                f"span {span.span_id}: no price for {record.provider}/{record.model}"
            )
            continue
        event.key_id = key.id
        event.latency_ms = max(span.end_ns - span.start_ns, 0) // 1_000_000 or None
        events.append(event)
    if events:
        with store.write() as conn:
            inserted = record_events(conn, events, store.zone)
        report.imported = len(inserted)
        report.duplicates = len(events) - len(inserted)
    return report


__all__ = [
    "IngestReport",
    "OtlpError",
    "decompress",
    "ingest_spans",
    "spans_from_json",
    "spans_from_protobuf",
]
