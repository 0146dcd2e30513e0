"""The gateway's OpenTelemetry out: one GenAI client span per settled call, sent to an
OTLP/HTTP collector, with its cost, so existing tracing shows spend.

Off unless ``[otel] export_endpoint`` is set. Spans follow the GenAI semantic conventions
(``gen_ai.provider.name``, ``gen_ai.request.model``, ``gen_ai.usage.*``); the cost is
``gen_ai.usage.cost`` (USD, a double as tracing tools read it: a display copy) and
``llmledger.cost_usd`` (the ledger's exact decimal string). A call that carried a
``traceparent`` gets its span inside the caller's trace. Export runs on the SDK's batch
thread: the hot path only queues the span.
"""

from __future__ import annotations

from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from llmledger.ledger.event import UsageEvent, to_us
from llmledger.money import format_usd, nanos_to_usd
from llmledger.otel import mapping
from llmledger.usage import UsageType

#: llmledger provider id -> ``gen_ai.provider.name``.
PROVIDER_NAMES = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google": "gcp.gemini",
    "bedrock": "aws.bedrock",
}
_PROPAGATOR = TraceContextTextMapPropagator()


def span_attributes(event: UsageEvent) -> dict[str, str | int | float]:
    usage = event.usage
    n = usage.get_quantity
    cache_read, cache_write = (
        int(n(UsageType.CACHED_INPUT_TOKENS)),
        int(n(UsageType.CACHE_WRITE_TOKENS)),
    )
    reasoning = int(n(UsageType.REASONING_TOKENS))
    attrs: dict[str, str | int | float] = {
        "gen_ai.provider.name": PROVIDER_NAMES.get(event.provider, event.provider),
        "gen_ai.operation.name": event.operation or "chat",
        "gen_ai.request.model": event.model_requested,
        "gen_ai.response.model": event.model_used,
        # The conventions count cache and reasoning tokens inside input and output.
        mapping.INPUT: int(n(UsageType.INPUT_TOKENS)) + cache_read + cache_write,
        mapping.OUTPUT: int(n(UsageType.OUTPUT_TOKENS)) + reasoning,
        "gen_ai.usage.cost": float(nanos_to_usd(event.cost_nanos)),
        "llmledger.cost_usd": format_usd(event.cost_nanos),
        "llmledger.list_cost_usd": format_usd(event.list_cost_nanos),
        mapping.REQUEST_ID: event.id,
        "llmledger.department": event.department,
        "llmledger.status": event.status.value,
    }
    for name, value in (
        (mapping.CACHE_READ, cache_read),
        (mapping.CACHE_WRITE, cache_write),
        (mapping.REASONING, reasoning),
    ):
        if value:
            attrs[name] = value
    for usage_type, line in event.costs.items():
        attrs[f"llmledger.cost.{usage_type.value}_usd"] = format_usd(line.cost_nanos)
    for name, text in (
        ("llmledger.project", event.project),
        ("llmledger.agent", event.agent),
        ("llmledger.key_id", event.key_id),
    ):
        if text:
            attrs[name] = text
    if event.http_status is not None:
        attrs["http.response.status_code"] = event.http_status
    return attrs


def _parent(event: UsageEvent) -> Context | None:
    for part in (event.detail or "").split():
        if part.startswith(mapping.TRACEPARENT):
            return _PROPAGATOR.extract({"traceparent": part[len(mapping.TRACEPARENT) :]})
    return None


class GenAISpanExporter:
    """Owns its own tracer provider (never the process-global one)."""

    def __init__(self, exporter: SpanExporter, service_name: str) -> None:
        self._provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
        self._provider.add_span_processor(BatchSpanProcessor(exporter))
        self._tracer = self._provider.get_tracer("llmledger.gateway")

    @classmethod
    def to_endpoint(cls, endpoint: str, service_name: str) -> GenAISpanExporter:
        return cls(OTLPSpanExporter(endpoint=endpoint), service_name)

    def record(self, event: UsageEvent) -> None:
        start_ns = to_us(event.ts) * 1000
        end_ns = start_ns + (event.latency_ms or 0) * 1_000_000
        span = self._tracer.start_span(
            f"{event.operation or 'chat'} {event.model_requested}",
            context=_parent(event),
            kind=SpanKind.CLIENT,
            attributes=span_attributes(event),
            start_time=start_ns,
        )
        if event.http_status is not None and event.http_status >= 400:
            span.set_status(Status(StatusCode.ERROR, f"HTTP {event.http_status}"))
        span.end(end_time=end_ns)

    def flush(self, timeout_ms: int = 10_000) -> bool:
        return self._provider.force_flush(timeout_ms)

    def shutdown(self) -> None:
        self._provider.shutdown()
