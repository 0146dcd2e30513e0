"""Metering Gemini streams: SSE and JSON array, any chunking, cut off mid-way."""

from __future__ import annotations

import aiohttp
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.fakes.gemini_fake import FakeGemini, json_array_body, load_recording, sse_body

from llmledger.providers.base import Metered, RequestInfo
from llmledger.providers.gemini import GeminiAdapter
from llmledger.usage import Usage, UsageType

ADAPTER = GeminiAdapter()
PATH = "/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent"
EXPECTED = Usage.of(input_tokens=8, output_tokens=21, reasoning_tokens=110)
CHUNKS = load_recording("stream_chunks")
SSE = sse_body(CHUNKS)
ARRAY = json_array_body(CHUNKS)


def info() -> RequestInfo:
    return ADAPTER.read_request(
        "POST", PATH, {}, b'{"contents": [{"parts": [{"text": "Why is the sky blue?"}]}]}'
    )


def meter(
    pieces: list[bytes], content_type: str, *, cut_off: bool = False
) -> tuple[bytes, Metered]:
    stream = ADAPTER.stream_meter(info(), {"Content-Type": content_type})
    out = b"".join(stream.feed(piece) for piece in pieces)
    return out, stream.finish(cut_off=cut_off)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def test_sse_whole() -> None:
    out, metered = meter([SSE], "text/event-stream")
    assert out == SSE
    assert metered.usage == EXPECTED
    assert metered.complete and not metered.estimated
    assert metered.model_used == "gemini-2.5-flash"


def test_json_array_whole() -> None:
    out, metered = meter([ARRAY], "application/json")
    assert out == ARRAY
    assert metered.usage == EXPECTED and metered.complete


def test_mode_is_sniffed_without_content_type() -> None:
    assert meter([ARRAY], "")[1].usage == EXPECTED
    assert meter([SSE], "")[1].usage == EXPECTED


@settings(max_examples=150, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=40), sse=st.booleans())
def test_any_split_gives_the_same_bytes_and_usage(cuts: list[int], sse: bool) -> None:
    data = SSE if sse else ARRAY
    pieces = split(data, cuts)
    out, metered = meter(pieces, "text/event-stream" if sse else "application/json")
    assert out == data
    assert metered.usage == EXPECTED and metered.complete


def test_json_array_read_whole_by_read_response() -> None:
    metered = ADAPTER.read_response(info(), 200, {}, ARRAY)
    assert metered.usage == EXPECTED


def test_cut_off_before_the_usage_block_is_estimated() -> None:
    cut = SSE[: SSE.index(b"data:", 10) + 40]  # first chunk and a bit of the second
    out, metered = meter([cut], "text/event-stream", cut_off=True)
    assert out == cut
    assert not metered.complete and metered.estimated
    assert metered.usage.get_quantity(UsageType.INPUT_TOKENS) == 8
    assert metered.usage.get_quantity(UsageType.OUTPUT_TOKENS) == 4  # "The sky is blue"/4
    assert metered.attributes["cut_off"] == "true"


def test_no_usage_at_all_bills_the_upper_bound() -> None:
    data = b'data: {"candidates": [{"content": {"parts": [{"text": "abcdefgh"}]}}]}\r\n\r\n'
    _, metered = meter([data], "text/event-stream", cut_off=True)
    assert metered.estimated
    assert metered.usage.get_quantity(UsageType.OUTPUT_TOKENS) == 2
    assert metered.usage.get_quantity(UsageType.INPUT_TOKENS) >= 5


async def test_cut_stream_over_http(fake_gemini: FakeGemini) -> None:
    fake_gemini.use("cut")
    stream = ADAPTER.stream_meter(info(), {"Content-Type": "text/event-stream"})
    received = b""
    url = f"{fake_gemini.url}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    async with aiohttp.ClientSession() as session:
        async with session.post(
            url, headers={"x-goog-api-key": fake_gemini.api_key}, json={"contents": []}
        ) as response:
            try:
                async for chunk in response.content.iter_any():
                    received += stream.feed(chunk)
            except aiohttp.ClientPayloadError:
                pass
    metered = stream.finish(cut_off=True)
    assert received and SSE.startswith(received)
    assert not metered.complete
    assert metered.usage.get_quantity(UsageType.INPUT_TOKENS) == 8
    assert metered.usage.get_quantity(UsageType.OUTPUT_TOKENS) >= 4


async def test_json_array_stream_over_http(fake_gemini: FakeGemini) -> None:
    stream = ADAPTER.stream_meter(info(), {})
    url = f"{fake_gemini.url}/v1/models/gemini-2.5-flash:streamGenerateContent"
    async with aiohttp.ClientSession() as session:
        async with session.post(
            url, headers={"x-goog-api-key": fake_gemini.api_key}, json={"contents": []}
        ) as response:
            assert response.content_type == "application/json"
            received = b"".join([stream.feed(c) async for c in response.content.iter_any()])
    assert received == ARRAY
    assert stream.finish(cut_off=False).usage == EXPECTED
