"""The documented mapping from OpenTelemetry GenAI spans to llmledger usage records.

Semantic conventions: https://opentelemetry.io/docs/specs/semconv/gen-ai/ (``gen_ai.*``).
See docs/opentelemetry.md for the table; the names below are the single source of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

AttrValue = str | bool | int | float | None
Attributes = Mapping[str, AttrValue]

#: ``gen_ai.provider.name`` (or the older ``gen_ai.system``) -> llmledger provider id.
PROVIDERS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gcp.gemini": "google",
    "gcp.gen_ai": "google",
    "gemini": "google",
    "google": "google",
    "aws.bedrock": "bedrock",
    "bedrock": "bedrock",
}

#: Operations that are one model call; agent and tool spans are not (their token counts,
#: when present, add up the calls beneath them and would count them twice).
INFERENCE_OPERATIONS = frozenset(
    {"chat", "text_completion", "generate_content", "embeddings", "responses", ""}
)

#: Attribution level -> the attributes read for it, first found wins; ``span:`` names are
#: read from the span, ``resource:`` from its resource.
ATTRIBUTION: dict[str, tuple[str, ...]] = {
    "department": (
        "span:llmledger.department",
        "resource:llmledger.department",
        "resource:service.namespace",
    ),
    "project": ("span:llmledger.project", "resource:llmledger.project", "resource:service.name"),
    "agent": ("span:llmledger.agent", "span:gen_ai.agent.name", "resource:llmledger.agent"),
    "end_user": ("span:llmledger.end_user", "span:enduser.id", "span:user.id"),
}

INPUT = "gen_ai.usage.input_tokens"
OUTPUT = "gen_ai.usage.output_tokens"
CACHE_READ = "gen_ai.usage.cache_read.input_tokens"
CACHE_WRITE = "gen_ai.usage.cache_creation.input_tokens"
REASONING = "gen_ai.usage.reasoning.output_tokens"
#: How the gateway notes a request's W3C trace context in its event's detail.
TRACEPARENT = "traceparent="
#: A span attribute naming the gateway request (``x-llmledger-request-id``) it reports.
REQUEST_ID = "llmledger.request_id"


@dataclass(frozen=True, slots=True)
class Span:
    """One span as read from OTLP (JSON or protobuf), ids in lowercase hex."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    start_ns: int
    end_ns: int
    attributes: Attributes
    resource: Attributes = field(default_factory=dict)

    @property
    def event_id(self) -> str:
        return f"otlp:{self.trace_id}:{self.span_id}"


class NotUsage(ValueError):
    """A span that is not a priced model call (skipped, not an error)."""


def _text(value: AttrValue) -> str:
    return value.strip() if isinstance(value, str) else ""


def _count(attrs: Attributes, name: str) -> int:
    value = attrs.get(name)
    if isinstance(value, bool) or value is None:
        return 0
    if isinstance(value, float):
        return int(value) if value.is_integer() and value >= 0 else 0
    if isinstance(value, str):
        return int(value) if value.isdigit() else 0
    return max(value, 0)


def attribution(span: Span) -> dict[str, str]:
    out: dict[str, str] = {}
    for level, names in ATTRIBUTION.items():
        for qualified in names:
            where, _, name = qualified.partition(":")
            value = _text((span.attributes if where == "span" else span.resource).get(name))
            if value:
                out[level] = value
                break
    return out


def usage_of(attrs: Attributes) -> dict[str, int]:
    """llmledger usage types from the ``gen_ai.usage.*`` counts. The conventions count
    cached and cache-write tokens inside input tokens and reasoning inside output tokens;
    llmledger keeps each type apart, so they are taken out."""
    cache_read, cache_write = _count(attrs, CACHE_READ), _count(attrs, CACHE_WRITE)
    reasoning = _count(attrs, REASONING)
    usage = {
        "input_tokens": max(_count(attrs, INPUT) - cache_read - cache_write, 0),
        "cached_input_tokens": cache_read,
        "cache_write_tokens": cache_write,
        "output_tokens": max(_count(attrs, OUTPUT) - reasoning, 0),
        "reasoning_tokens": reasoning,
    }
    return {k: v for k, v in usage.items() if v}


def record_of(span: Span, fixed: Mapping[str, str], may_refine: bool) -> dict[str, object]:
    """The usage record (importer shape) of a GenAI span; raises `NotUsage` for others.

    `fixed` is the virtual key's attribution: its levels win; the span's attributes fill
    the levels it leaves open when `may_refine` (the key allows attribution headers)."""
    attrs = span.attributes
    operation = _text(attrs.get("gen_ai.operation.name"))
    if operation not in INFERENCE_OPERATIONS:
        raise NotUsage(f"{operation} span")
    usage = usage_of(attrs)
    if not usage:
        raise NotUsage("no gen_ai.usage token counts")
    system = _text(attrs.get("gen_ai.provider.name")) or _text(attrs.get("gen_ai.system"))
    provider = PROVIDERS.get(system.lower(), system.lower())
    model = _text(attrs.get("gen_ai.response.model")) or _text(attrs.get("gen_ai.request.model"))
    who = dict(fixed)
    if may_refine:
        for level, value in attribution(span).items():
            if not who.get(level):
                who[level] = value
    return {
        "id": span.event_id,
        "timestamp": datetime.fromtimestamp(span.start_ns // 1_000_000_000, UTC)
        .replace(microsecond=(span.start_ns // 1000) % 1_000_000)
        .isoformat(),
        "provider": provider,
        "model": model,
        "department": who.get("department", ""),
        "project": who.get("project", ""),
        "agent": who.get("agent", ""),
        "end_user": who.get("end_user", ""),
        "operation": operation,
        "usage": usage,
    }


def descendants(spans: Sequence[Span], root: Span) -> set[str]:
    """Span ids below `root` in the same batch (an HTTP client span under a GenAI span)."""
    children: dict[str, list[str]] = {}
    for s in spans:
        if s.trace_id == root.trace_id and s.parent_span_id:
            children.setdefault(s.parent_span_id, []).append(s.span_id)
    out: set[str] = set()
    todo = [root.span_id]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def trace_detail(headers: Mapping[str, str]) -> str | None:
    """The gateway's note of a request's W3C trace context (kept in the event's detail)."""
    value = headers.get("traceparent", "").strip().lower()
    fields = value.split("-")
    if len(fields) != 4 or len(fields[1]) != 32 or len(fields[2]) != 16:
        return None
    if any(c not in "0123456789abcdef-" for c in value) or set(fields[1]) == {"0"}:
        return None
    return TRACEPARENT + value
