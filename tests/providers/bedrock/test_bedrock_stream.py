"""Metering Bedrock event streams: converse-stream and per-family invoke streams."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.fakes.bedrock_fake import converse_stream_body, invoke_stream_body

from llmledger.providers.base import Metered
from llmledger.providers.bedrock import BedrockAdapter
from llmledger.providers.bedrock.eventstream import encode_exception
from llmledger.usage import Usage, UsageType

ADAPTER = BedrockAdapter()
PROFILE = "us.anthropic.claude-sonnet-4-5-20250929-v1%3A0"
CONVERSE = b"".join(converse_stream_body())
CONVERSE_USAGE = Usage.of(
    input_tokens=14, output_tokens=9, cached_input_tokens=1536, cache_write_tokens=512
)
INVOKE = {
    "anthropic": (
        PROFILE,
        Usage.of(input_tokens=21, output_tokens=11, cached_input_tokens=2048),
    ),
    "nova": ("amazon.nova-pro-v1:0", Usage.of(input_tokens=12, output_tokens=8)),
    "meta": ("meta.llama3-70b-instruct-v1:0", Usage.of(input_tokens=17, output_tokens=9)),
    "mistral": ("mistral.mistral-large-2402-v1:0", Usage.of(input_tokens=15, output_tokens=8)),
}


def meter(path: str, pieces: list[bytes], *, cut_off: bool = False) -> tuple[bytes, Metered]:
    info = ADAPTER.read_request("POST", path, {}, b'{"messages": [{"content": "Capital?"}]}')
    stream = ADAPTER.stream_meter(info, {"Content-Type": "application/vnd.amazon.eventstream"})
    out = b"".join(stream.feed(piece) for piece in pieces)
    return out, stream.finish(cut_off=cut_off)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def test_converse_stream_metadata() -> None:
    out, metered = meter(f"/bedrock/model/{PROFILE}/converse-stream", [CONVERSE])
    assert out == CONVERSE
    assert metered.usage == CONVERSE_USAGE
    assert metered.complete and not metered.estimated


@pytest.mark.parametrize("family", sorted(INVOKE))
def test_invoke_stream_per_family(family: str) -> None:
    model, expected = INVOKE[family]
    data = b"".join(invoke_stream_body(family))
    out, metered = meter(f"/bedrock/model/{model}/invoke-with-response-stream", [data])
    assert out == data
    assert metered.usage == expected
    assert metered.complete and not metered.estimated


@settings(max_examples=100, deadline=None)
@given(
    cuts=st.lists(st.integers(min_value=0, max_value=5000), max_size=40),
    family=st.sampled_from(["converse", *sorted(INVOKE)]),
)
def test_any_split_gives_the_same_bytes_and_usage(cuts: list[int], family: str) -> None:
    if family == "converse":
        path, data, expected = f"/bedrock/model/{PROFILE}/converse-stream", CONVERSE, CONVERSE_USAGE
    else:
        model, expected = INVOKE[family]
        path = f"/bedrock/model/{model}/invoke-with-response-stream"
        data = b"".join(invoke_stream_body(family))
    out, metered = meter(path, split(data, cuts))
    assert out == data
    assert metered.usage == expected


def test_cut_off_anthropic_stream_keeps_input_and_estimates_output() -> None:
    frames = invoke_stream_body("anthropic")
    data = b"".join(frames[:4]) + frames[4][:10]
    _, metered = meter(
        f"/bedrock/model/{PROFILE}/invoke-with-response-stream", [data], cut_off=True
    )
    assert not metered.complete and metered.estimated
    assert metered.usage.get_quantity(UsageType.INPUT_TOKENS) == 21
    assert metered.usage.get_quantity(UsageType.CACHED_INPUT_TOKENS) == 2048
    # "Paris is" + " the capital of France." = 31 characters, about 8 tokens
    assert metered.usage.get_quantity(UsageType.OUTPUT_TOKENS) == 8


def test_cut_off_converse_stream_without_metadata_is_estimated() -> None:
    frames = converse_stream_body()
    _, metered = meter(
        f"/bedrock/model/{PROFILE}/converse-stream", [b"".join(frames[:3])], cut_off=True
    )
    assert metered.estimated and not metered.complete
    assert metered.usage.get_quantity(UsageType.OUTPUT_TOKENS) == 8
    assert metered.usage.get_quantity(UsageType.INPUT_TOKENS) > 0


def test_exception_event_marks_the_stream_incomplete() -> None:
    frames = converse_stream_body()
    data = b"".join(frames[:2]) + encode_exception(
        "throttlingException", b'{"message": "Too many tokens"}'
    )
    _, metered = meter(f"/bedrock/model/{PROFILE}/converse-stream", [data])
    assert not metered.complete
    assert metered.attributes["stream_exception"] == "throttlingException"


def test_corrupt_stream_passes_through_and_is_flagged() -> None:
    bad = bytearray(CONVERSE)
    bad[30] ^= 0xFF
    out, metered = meter(f"/bedrock/model/{PROFILE}/converse-stream", [bytes(bad)])
    assert out == bytes(bad)
    assert metered.attributes["stream_corrupt"] == "true"
    assert metered.estimated
