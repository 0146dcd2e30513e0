"""Hostile input to every adapter: whatever the bytes, a request either parses or is
refused with a `RequestError` (answered in the caller's format), and an upstream answer,
whole or streamed in any chunks, never raises and never yields a negative quantity."""

from __future__ import annotations

import json

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmledger.gateway.metering import plausible
from llmledger.providers.anthropic.adapter import AnthropicAdapter
from llmledger.providers.base import ProviderAdapter, RequestError, RequestInfo
from llmledger.providers.bedrock.adapter import BedrockAdapter
from llmledger.providers.gemini.adapter import GeminiAdapter
from llmledger.providers.openai.adapter import OpenAIAdapter
from llmledger.usage import MAX_QUANTITY, Usage

ADAPTERS: list[tuple[ProviderAdapter, list[str]]] = [
    (
        OpenAIAdapter(),
        [
            "chat/completions",
            "responses",
            "embeddings",
            "images/generations",
            "audio/speech",
            "audio/transcriptions",
            "models",
        ],
    ),
    (AnthropicAdapter(), ["v1/messages", "v1/messages/count_tokens"]),
    (
        GeminiAdapter(),
        [
            "v1beta/models/gemini-2.5-flash:generateContent",
            "v1/models/gemini-2.5-flash:streamGenerateContent",
        ],
    ),
    (
        BedrockAdapter(credentials_provider=lambda: None),  # type: ignore[arg-type]
        ["model/amazon.nova-pro-v1:0/converse", "model/anthropic.claude-3-haiku/invoke"],
    ),
]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=30,
)
field_names = st.sampled_from(
    [
        "model",
        "messages",
        "stream",
        "max_tokens",
        "max_completion_tokens",
        "n",
        "input",
        "contents",
        "tools",
        "prompt",
        "size",
        "quality",
        "stream_options",
        "system",
        "usage",
        "usageMetadata",
        "choices",
        "content",
        "role",
        "parts",
        "inferenceConfig",
    ]
)
request_bodies = st.one_of(
    st.binary(max_size=300),
    st.dictionaries(field_names, json_values, max_size=8).map(lambda v: json.dumps(v).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
)
fuzz = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _check_usage(usage: Usage) -> None:
    assert all(q >= 0 for q in usage.values())


@fuzz
@given(
    index=st.integers(0, len(ADAPTERS) - 1),
    path_index=st.integers(0, 10),
    body=request_bodies,
    method=st.sampled_from(["POST", "GET", "PUT"]),
)
def test_requests_parse_or_are_refused(
    index: int, path_index: int, body: bytes, method: str
) -> None:
    adapter, paths = ADAPTERS[index]
    path = paths[path_index % len(paths)]
    headers = {"content-type": "application/json"}
    try:
        info = adapter.read_request(method, path, headers, body)
    except RequestError as exc:
        assert 400 <= exc.status < 500 and exc.message
        raw, content_type = adapter.error_body(exc.status, exc.error_type, exc.message)
        assert raw and content_type
        return
    assert isinstance(info, RequestInfo)
    _check_usage(info.input_upper_bound)
    assert info.max_output_tokens is None or info.max_output_tokens >= 0


def _info(adapter: ProviderAdapter, path: str, stream: bool) -> RequestInfo | None:
    bodies = {
        "openai": {
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": "hi"}],
            "stream": stream,
        },
        "anthropic": {
            "model": "claude-sonnet-4-5",
            "max_tokens": 100,
            "stream": stream,
            "messages": [{"role": "user", "content": "hi"}],
        },
        "google": {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]},
        "bedrock": {"messages": [{"role": "user", "content": [{"text": "hi"}]}]},
    }
    try:
        return adapter.read_request("POST", path, {}, orjson.dumps(bodies[adapter.name]))
    except RequestError:
        return None


@fuzz
@given(
    index=st.integers(0, len(ADAPTERS) - 1),
    body=request_bodies,
    stream=st.booleans(),
    cuts=st.lists(st.integers(0, 400), max_size=6),
)
def test_upstream_answers_never_break_the_meter(
    index: int, body: bytes, stream: bool, cuts: list[int]
) -> None:
    adapter, paths = ADAPTERS[index]
    info = _info(adapter, paths[0], stream)
    assert info is not None
    metered = adapter.read_response(info, 200, {"content-type": "application/json"}, body)
    _check_usage(metered.usage)
    meter = adapter.stream_meter(info, {"content-type": "text/event-stream"})
    points = sorted({min(c, len(body)) for c in cuts} | {0, len(body)})
    for a, b in zip(points, points[1:], strict=False):
        out = meter.feed(body[a:b])
        assert isinstance(out, bytes)
    _check_usage(meter.finish(cut_off=True).usage)


@fuzz
@given(
    usage=st.dictionaries(
        st.sampled_from(
            [
                "prompt_tokens",
                "completion_tokens",
                "input_tokens",
                "output_tokens",
                "cache_read_input_tokens",
                "cache_creation_input_tokens",
                "promptTokenCount",
                "candidatesTokenCount",
                "inputTokens",
                "outputTokens",
            ]
        ),
        st.one_of(
            st.integers(-(10**15), 10**15),
            st.text(max_size=5),
            st.none(),
            st.floats(allow_nan=True),
        ),
        max_size=6,
    )
)
def test_lying_usage_blocks_are_not_trusted(usage: dict[str, object]) -> None:
    bodies = [
        (ADAPTERS[0], {"model": "gpt-4o", "choices": [], "usage": usage}),
        (
            ADAPTERS[1],
            {"type": "message", "model": "claude-sonnet-4-5", "content": [], "usage": usage},
        ),
        (ADAPTERS[2], {"candidates": [], "usageMetadata": usage}),
        (ADAPTERS[3], {"output": {}, "usage": usage}),
    ]
    for (adapter, paths), body in bodies:
        info = _info(adapter, paths[0], False)
        assert info is not None
        metered = adapter.read_response(info, 200, {}, json.dumps(body).encode())
        _check_usage(metered.usage)
        # what the gateway keeps of it is plausible (absurd quantities are dropped, flagged)
        kept, _ = plausible(metered.usage)
        assert all(q <= MAX_QUANTITY for q in kept.values())
