"""OTLP ingest and span export against the real product on loopback, with spans made by
the official OpenTelemetry SDK (and its GenAI instrumentation of the openai client)."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import httpx2
import openai
import pytest
from opentelemetry import propagate, trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from llmledger.otel.export import GenAISpanExporter
from tests.fakes.openai_fake import FakeOpenAI
from tests.gateway.conftest import gateway_settings
from tests.gateway.harness import RunningGateway, serve

GPT4O = {
    "gen_ai.provider.name": "openai",
    "gen_ai.operation.name": "chat",
    "gen_ai.request.model": "gpt-4o",
    "gen_ai.response.model": "gpt-4o-2024-08-06",
}


def spans_of(make: Any, resource: dict[str, str] | None = None) -> list[ReadableSpan]:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create(resource or {}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    make(provider.get_tracer("test"))
    provider.shutdown()
    return list(memory.get_finished_spans())


def exporter(gw: RunningGateway, key: str) -> OTLPSpanExporter:
    return OTLPSpanExporter(endpoint=f"{gw.url}/v1/traces", headers={"x-llmledger-key": key})


def otlp_events(gw: RunningGateway) -> list[dict[str, Any]]:
    return [e for e in gw.events() if e["source"] == "otlp"]


def test_sdk_spans_are_priced_attributed_and_deduplicated(gateway: RunningGateway) -> None:
    key = gateway.key("Engineering", "", "", allow_attribution_headers=True)

    def make(tracer: trace.Tracer) -> None:
        with tracer.start_as_current_span(
            "invoke_agent planner",
            attributes={
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": "planner",
                "gen_ai.usage.input_tokens": 999_999,
            },
        ):
            with tracer.start_as_current_span(
                "chat gpt-4o",
                attributes={
                    **GPT4O,
                    "gen_ai.agent.name": "planner",
                    "gen_ai.usage.input_tokens": 1500,
                    "gen_ai.usage.cache_read.input_tokens": 500,
                    "gen_ai.usage.output_tokens": 300,
                },
            ):
                pass
        with tracer.start_as_current_span("GET /health"):
            pass

    spans = spans_of(make, {"service.name": "search", "service.namespace": "Marketing"})
    assert exporter(gateway, key).export(spans) is SpanExportResult.SUCCESS
    [event] = otlp_events(gateway)
    chat = next(s for s in spans if s.name == "chat gpt-4o")
    assert chat.context is not None
    assert event["id"] == f"otlp:{chat.context.trace_id:032x}:{chat.context.span_id:016x}"
    # The key fixes the department; service.name fills the project, the agent name the agent.
    assert (event["department"], event["project"], event["agent"]) == (
        "Engineering",
        "search",
        "planner",
    )
    assert event["key_id"] and event["model_used"] == "gpt-4o-2024-08-06"
    assert gateway.usage_of(event["id"]) == {
        "input_tokens": 1000,
        "cached_input_tokens": 500,
        "output_tokens": 300,
    }
    # gpt-4o: $2.50 in, $1.25 cached in, $10.00 out per million tokens.
    assert event["cost_nanos"] == 1000 * 2500 + 500 * 1250 + 300 * 10_000
    assert exporter(gateway, key).export(spans) is SpanExportResult.SUCCESS
    assert len(otlp_events(gateway)) == 1


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, dict(resp.headers.items()), resp.read()
    except urllib.error.HTTPError as err:
        with err:
            return err.code, dict(err.headers.items()), err.read()


def test_otlp_json_and_bad_requests(gateway: RunningGateway) -> None:
    key = gateway.key("Support", "Chatbot", "triage")
    body = json.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {"attributes": []},
                    "scopeSpans": [
                        {
                            "spans": [
                                {
                                    "traceId": "5b8efff798038103d269b633813fc60c",
                                    "spanId": "eee19b7ec3c1b174",
                                    "name": "chat claude",
                                    "startTimeUnixNano": "1741600000000000000",
                                    "endTimeUnixNano": "1741600001000000000",
                                    "attributes": [
                                        {
                                            "key": "gen_ai.system",
                                            "value": {"stringValue": "anthropic"},
                                        },
                                        {
                                            "key": "gen_ai.request.model",
                                            "value": {"stringValue": "claude-sonnet-4-5"},
                                        },
                                        {
                                            "key": "gen_ai.usage.input_tokens",
                                            "value": {"intValue": "1000"},
                                        },
                                        {
                                            "key": "gen_ai.usage.output_tokens",
                                            "value": {"intValue": "100"},
                                        },
                                    ],
                                }
                            ]
                        }
                    ],
                }
            ]
        }
    ).encode()
    url = f"{gateway.url}/v1/traces"
    headers = {"content-type": "application/json", "authorization": f"Bearer {key}"}
    status, reply_headers, reply = _post(url, body, headers)
    assert (status, json.loads(reply)) == (200, {})
    assert json.loads(reply_headers["x-llmledger-ingest"])["imported"] == 1
    [event] = otlp_events(gateway)
    assert event["id"] == "otlp:5b8efff798038103d269b633813fc60c:eee19b7ec3c1b174"
    assert event["cost_nanos"] == 1000 * 3000 + 100 * 15_000  # $3 in, $15 out per million
    assert _post(url, body, headers)[0] == 200 and len(otlp_events(gateway)) == 1
    assert _post(url, body, {"content-type": "application/json"})[0] == 401
    assert _post(url, body, {**headers, "authorization": "Bearer nope"})[0] == 401
    assert _post(url, body, {**headers, "content-type": "text/plain"})[0] == 415
    assert _post(url, b"{not json", headers)[0] == 400


@pytest.fixture
def instrumented() -> Iterator[tuple[TracerProvider, InMemorySpanExporter]]:
    instrumentation = pytest.importorskip("opentelemetry.instrumentation.openai_v2")
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    instrumentor = instrumentation.OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        yield provider, memory
    finally:
        instrumentor.uninstrument()
        provider.shutdown()


def _inject_traceparent(request: httpx2.Request) -> None:
    """What opentelemetry-instrumentation-httpx does for httpx: the current span's context travels
    with the request (here: the openai instrumentation's GenAI span)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    request.headers.update(carrier)


async def test_instrumented_openai_client_direct_and_through_the_gateway(
    gateway: RunningGateway,
    fake_openai: FakeOpenAI,
    instrumented: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    _, memory = instrumented
    key = gateway.key("Engineering", "Backend", "coder")

    def call(base_url: str, api_key: str) -> None:
        with (
            httpx2.Client(event_hooks={"request": [_inject_traceparent]}) as http,
            openai.OpenAI(
                base_url=base_url, api_key=api_key, max_retries=0, http_client=http
            ) as client,
        ):
            client.chat.completions.create(
                model="gpt-4.1", messages=[{"role": "user", "content": "Hello"}]
            )

    # A call made straight to the provider: only its span tells the ledger.
    await asyncio.to_thread(call, fake_openai.url, fake_openai.api_key)
    # The same kind of call through the gateway: the gateway records it, its span must not.
    await asyncio.to_thread(call, f"{gateway.url}/openai/v1", key)
    spans = list(memory.get_finished_spans())
    genai = [s for s in spans if (s.attributes or {}).get("gen_ai.usage.input_tokens")]
    assert len(genai) == 2
    assert await asyncio.to_thread(exporter(gateway, key).export, spans) is SpanExportResult.SUCCESS
    events = await asyncio.to_thread(gateway.events)
    assert sorted(e["source"] for e in events) == ["gateway", "otlp"]
    direct = next(e for e in events if e["source"] == "otlp")
    through = next(e for e in events if e["source"] == "gateway")
    # Same request, same usage, same price: gpt-4.1 $2.00 in / $8.00 out per million.
    assert direct["cost_nanos"] == through["cost_nanos"] == 118_000
    assert gateway.usage_of(direct["id"]) == {"input_tokens": 19, "output_tokens": 10}
    assert await asyncio.to_thread(exporter(gateway, key).export, spans) is SpanExportResult.SUCCESS
    assert len(await asyncio.to_thread(gateway.events)) == 2


async def test_a_span_naming_the_gateway_request_is_not_counted_again(
    gateway: RunningGateway,
) -> None:
    key = gateway.key("Engineering", "Backend", "coder")

    def call() -> str:
        with openai.OpenAI(
            base_url=f"{gateway.url}/openai/v1", api_key=key, max_retries=0
        ) as client:
            raw = client.chat.completions.with_raw_response.create(
                model="gpt-4.1", messages=[{"role": "user", "content": "Hello"}]
            )
            return str(raw.headers["x-llmledger-request-id"])

    request_id = await asyncio.to_thread(call)

    def make(tracer: trace.Tracer) -> None:
        with tracer.start_as_current_span(
            "chat gpt-4.1",
            attributes={
                **GPT4O,
                "gen_ai.request.model": "gpt-4.1",
                "llmledger.request_id": request_id,
                "gen_ai.usage.input_tokens": 19,
                "gen_ai.usage.output_tokens": 10,
            },
        ):
            pass

    spans = spans_of(make)
    assert await asyncio.to_thread(exporter(gateway, key).export, spans) is SpanExportResult.SUCCESS
    assert [e["source"] for e in await asyncio.to_thread(gateway.events)] == ["gateway"]


async def test_the_gateway_exports_a_genai_span_with_its_cost(
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    fake_openai: FakeOpenAI,
) -> None:
    monkeypatch.setenv("TEST_OPENAI_KEY", fake_openai.api_key)
    settings = gateway_settings(
        tmp_path, openai={"base_url": fake_openai.url, "api_key_env": "TEST_OPENAI_KEY"}
    )
    memory = InMemorySpanExporter()
    spans = GenAISpanExporter(memory, "llmledger-test")
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    with serve(settings, spans=spans) as gw:
        key = gw.key("Engineering", "Backend", "coder")

        def call() -> Any:
            with openai.OpenAI(
                base_url=f"{gw.url}/openai/v1", api_key=key, max_retries=0
            ) as client:
                raw = client.chat.completions.with_raw_response.create(
                    model="gpt-4.1",
                    messages=[{"role": "user", "content": "Hello"}],
                    extra_headers={"traceparent": f"00-{trace_id}-{parent_id}-01"},
                )
                return raw.headers

        headers = await asyncio.to_thread(call)
        await asyncio.to_thread(gw.events)
        assert spans.flush()
    [span] = memory.get_finished_spans()
    attrs = dict(span.attributes or {})
    assert attrs["llmledger.cost_usd"] == headers["x-llmledger-cost-usd"] == "0.000118"
    assert attrs["gen_ai.usage.cost"] == pytest.approx(0.000118)
    assert attrs["llmledger.request_id"] == headers["x-llmledger-request-id"]
    assert attrs["gen_ai.provider.name"] == "openai"
    assert attrs["gen_ai.usage.input_tokens"] == 19 and attrs["gen_ai.usage.output_tokens"] == 10
    assert attrs["llmledger.cost.input_tokens_usd"] == "0.000038"
    assert span.kind is trace.SpanKind.CLIENT
    assert span.context is not None and span.parent is not None
    assert f"{span.context.trace_id:032x}" == trace_id
    assert f"{span.parent.span_id:016x}" == parent_id
