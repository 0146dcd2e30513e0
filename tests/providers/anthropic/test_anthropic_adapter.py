"""The Anthropic adapter on recorded answers: requests, usage, streams, errors, headers."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.fakes.upstream import recording

from llmledger.providers.anthropic import AnthropicAdapter
from llmledger.providers.base import Metered, RequestError, RequestInfo
from llmledger.usage import Usage, UsageType

ADAPTER = AnthropicAdapter()
STREAM = recording("anthropic", "message_stream.sse")
TOOL_STREAM = recording("anthropic", "message_stream_tool.sse")


def request(**extra: object) -> dict[str, object]:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "Hello, Claude"}],
    } | extra


def read(body: object, path: str = "v1/messages") -> RequestInfo:
    return ADAPTER.read_request("POST", path, {}, json.dumps(body).encode())


def test_messages_request() -> None:
    info = read(request(stream=True, system="Be terse"))
    assert (info.operation, info.model, info.stream) == ("messages", "claude-sonnet-4-5", True)
    assert info.max_output_tokens == 1024 and info.billable and not info.strip_usage_chunk
    assert info.input_upper_bound[UsageType.INPUT_TOKENS] >= len("Hello, ClaudeBe terse")
    assert info.features["message_count"] == 1
    assert info.features["prompt_chars"] == len("Be terseHello, Claude")


def test_images_tools_cache_and_server_tools() -> None:
    image = {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "A" * 9000},
    }
    text = {"type": "text", "text": "Describe", "cache_control": {"type": "ephemeral"}}
    tools = [
        {"name": "get_weather", "input_schema": {"type": "object"}},
        {"type": "web_search_20250305", "name": "web_search"},
    ]
    info = read(request(messages=[{"role": "user", "content": [image, text]}], tools=tools))
    bound = info.input_upper_bound
    assert bound[UsageType.INPUT_IMAGES] == 1
    # Cache breakpoints: the bound is priced as cache writes (dearer than input).
    assert UsageType.INPUT_TOKENS not in bound and bound[UsageType.CACHE_WRITE_TOKENS] < 9000
    assert info.features["has_images"] and info.features["has_tools"]
    assert info.attributes["input_bound"] == "partial"  # web search results add input


def test_count_tokens_and_models_are_not_billable() -> None:
    counted = read({"model": "claude-sonnet-4-5", "messages": []}, "messages/count_tokens")
    assert (counted.operation, counted.billable) == ("messages.count_tokens", False)
    assert not ADAPTER.read_request("GET", "models", {}, b"").billable


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"{oops", "JSON"),
        (json.dumps({"max_tokens": 5, "messages": []}).encode(), "model"),
        (json.dumps(request(max_tokens=None)).encode(), "max_tokens: Field required"),
        (json.dumps(request(max_tokens=0)).encode(), "max_tokens"),
        (json.dumps(request(messages="hi")).encode(), "messages"),
    ],
)
def test_malformed_requests(body: bytes, needle: str) -> None:
    with pytest.raises(RequestError) as caught:
        ADAPTER.read_request("POST", "messages", {}, body)
    assert (caught.value.status, caught.value.error_type) == (400, "invalid_request_error")
    assert needle in caught.value.message


@pytest.mark.parametrize(
    ("name", "usage"),
    [
        ("message", Usage.of(input_tokens=12, output_tokens=12)),
        ("message_cached", Usage.of(input_tokens=21, cache_write_tokens=188086, output_tokens=393)),
        (
            "message_cache_read",
            Usage.of(
                input_tokens=50,
                cache_write_tokens=248,
                cached_input_tokens=188086,
                output_tokens=503,
            ),
        ),
    ],
)
def test_recorded_usage(name: str, usage: Usage) -> None:
    metered = ADAPTER.read_response(read(request()), 200, {}, recording("anthropic", name))
    assert metered == Metered(usage, "claude-sonnet-4-5-20250929")


def meter(chunks: list[bytes], cut_off: bool = False) -> tuple[bytes, Metered]:
    info = RequestInfo(
        "messages", "claude-sonnet-4-5", True, 1024, Usage(), features={"prompt_chars": 40}
    )
    stream = ADAPTER.stream_meter(info, {})
    out = b"".join(stream.feed(c) for c in chunks)
    return out, stream.finish(cut_off=cut_off)


@given(st.lists(st.integers(0, len(TOOL_STREAM)), max_size=25))
def test_any_split_gives_the_same_bytes_and_usage(cuts: list[int]) -> None:
    bounds = [0, *sorted(cuts), len(TOOL_STREAM)]
    chunks = [TOOL_STREAM[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    out, metered = meter(chunks)
    assert out == TOOL_STREAM
    assert metered == Metered(
        Usage.of(input_tokens=472, cached_input_tokens=2048, output_tokens=89),
        "claude-sonnet-4-5-20250929",
    )


def test_stream_usage_from_message_start_and_delta() -> None:
    _, metered = meter([STREAM])
    assert metered.usage == Usage.of(input_tokens=25, output_tokens=15)


def test_stream_cut_before_message_delta_estimates_the_output() -> None:
    cut = STREAM[: STREAM.index(b"content_block_stop")]
    _, metered = meter([cut], cut_off=True)
    # "Hello! How can I help you today?" is 32 characters: 8 tokens.
    assert metered.usage == Usage.of(input_tokens=25, output_tokens=8)
    assert metered.estimated and not metered.complete


def test_stream_cut_before_message_start_estimates_everything() -> None:
    _, metered = meter([STREAM[:30]], cut_off=True)
    assert metered.usage == Usage.of(input_tokens=10) and metered.estimated


def test_message_delta_with_cumulative_input_fields() -> None:
    delta = (
        b'event: message_delta\ndata: {"type":"message_delta","delta":{},"usage":'
        b'{"input_tokens":30,"cache_read_input_tokens":100,"output_tokens":20}}\n\n'
    )
    body = STREAM.replace(
        STREAM[STREAM.index(b"event: message_delta") : STREAM.index(b"event: message_stop")], delta
    )
    _, metered = meter([body])
    assert metered.usage == Usage.of(input_tokens=30, cached_input_tokens=100, output_tokens=20)


def test_error_body_is_anthropics_format() -> None:
    body, content_type = ADAPTER.error_body(429, "budget_exceeded", "over budget")
    assert content_type == "application/json"
    assert json.loads(body) == {
        "type": "error",
        "error": {"type": "budget_exceeded", "message": "over budget"},
    }


def test_client_key_and_upstream_headers() -> None:
    assert ADAPTER.client_key({"X-Api-Key": "vk-1"}, {}) == "vk-1"
    assert ADAPTER.client_key({"Authorization": "Bearer vk-2"}, {}) == "vk-2"
    assert ADAPTER.client_key({}, {}) is None
    incoming = {
        "Authorization": "Bearer vk-2",
        "X-Api-Key": "vk-1",
        "Host": "gw",
        "Cookie": "a=b",
        "Content-Length": "10",
        "Connection": "keep-alive, X-Custom",
        "X-Custom": "1",
        "X-LLMLedger-Key": "k",
        "X-Department": "eng",
        "X-Project": "p",
        "X-Agent": "a",
        "X-End-User": "u",
        "anthropic-version": "2023-06-01",
        "anthropic-beta": "prompt-caching-2024-07-31",
        "Content-Type": "application/json",
        "User-Agent": "claude-cli/2.0",
    }
    assert ADAPTER.upstream_headers(incoming, "sk-ant-real") == {
        "anthropic-version": "2023-06-01",
        "anthropic-beta": "prompt-caching-2024-07-31",
        "content-type": "application/json",
        "user-agent": "claude-cli/2.0",
        "x-api-key": "sk-ant-real",
    }
    assert ADAPTER.upstream_headers({}, "k")["anthropic-version"] == "2023-06-01"
