"""Recorded upstream streams translated chunk by chunk into each caller's stream format,
whatever the chunking, each event read with the caller SDK's own types."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import openai
import pytest
from google.genai import types
from pydantic import TypeAdapter

from llmledger.providers.anthropic.adapter import AnthropicAdapter
from llmledger.providers.base import RequestInfo
from llmledger.providers.gemini.adapter import GeminiAdapter
from llmledger.providers.openai.adapter import OpenAIAdapter
from llmledger.providers.sse import SSEParser
from llmledger.routing.translate import TranslatedStream, translate
from llmledger.usage import Usage, UsageType
from tests.fakes.gemini_fake import load_recording, sse_body
from tests.fakes.upstream import recording

UPSTREAM = {
    # family: (its recorded stream, the text, prompt tokens, output tokens as callers count)
    "openai": (
        recording("openai", "chat_stream_usage.sse"),
        "Hello! How can I assist you today?",
        19,
        10,
    ),
    "anthropic": (
        recording("anthropic", "message_stream.sse"),
        "Hello! How can I help you today?",
        25,
        15,
    ),
    "google": (
        sse_body(load_recording("stream_chunks")),
        "The sky is blue because air molecules scatter short blue wavelengths more than red "
        "ones (Rayleigh scattering).",
        8,
        131,
    ),
}
CALLERS: dict[str, tuple[str, dict[str, Any]]] = {
    "openai": (
        "chat.completions",
        {
            "model": "gpt-4o",
            "messages": [{"role": "user", "content": "Hi"}],
            "stream": True,
            "stream_options": {"include_usage": True},
        },
    ),
    "anthropic": (
        "messages",
        {
            "model": "claude-sonnet-4-5",
            "max_tokens": 100,
            "stream": True,
            "messages": [{"role": "user", "content": "Hi"}],
        },
    ),
    "google": ("streamGenerateContent", {"contents": [{"parts": [{"text": "Hi"}]}]}),
}
ADAPTERS: dict[str, Any] = {
    "openai": OpenAIAdapter(),
    "anthropic": AnthropicAdapter(),
    "google": GeminiAdapter(),
}
PAIRS = [(c, u) for c in UPSTREAM for u in UPSTREAM if c != u]


def run(caller: str, upstream: str, piece: int, query: str = "alt=sse") -> tuple[bytes, Any]:
    operation, body = CALLERS[caller]
    translation = translate(caller, upstream, operation, body, "target-model", 100, query)
    call = translation.upstream
    info: RequestInfo = ADAPTERS[upstream].read_request("POST", call.subpath, {}, call.body)
    meter = ADAPTERS[upstream].stream_meter(info, {"content-type": "text/event-stream"})
    stream = translation.stream_meter(meter)
    assert isinstance(stream, TranslatedStream)
    raw = UPSTREAM[upstream][0]
    out = b"".join(stream.feed(raw[i : i + piece]) for i in range(0, len(raw), piece))
    return out, stream.finish(cut_off=False)


def events(out: bytes) -> list[Any]:
    parsed = SSEParser().feed(out)
    assert b"".join(e.raw for e in parsed) == out  # nothing left half-written
    return parsed


@pytest.mark.parametrize(("caller", "upstream"), PAIRS)
def test_the_same_stream_whatever_the_chunking(caller: str, upstream: str) -> None:
    whole, metered = run(caller, upstream, 1 << 20)
    for piece in (1, 7, 64):
        again, _ = run(caller, upstream, piece)
        # Only the ``created`` second of OpenAI chunks may differ between runs.
        assert _without_created(again) == _without_created(whole)
    # The meter reads the upstream's own usage for the ledger.
    _, prompt, output = UPSTREAM[upstream][1:]
    usage = metered.usage
    assert usage.get_quantity(UsageType.INPUT_TOKENS) == prompt
    produced = usage.get_quantity(UsageType.OUTPUT_TOKENS) + usage.get_quantity(
        UsageType.REASONING_TOKENS
    )
    assert produced == output and not metered.estimated


@pytest.mark.parametrize("upstream", ["anthropic", "google"])
def test_openai_callers_get_chat_completion_chunks(upstream: str) -> None:
    out, _ = run("openai", upstream, 5)
    said, prompt, output = UPSTREAM[upstream][1:]
    parsed = events(out)
    assert parsed[-1].data == "[DONE]"
    chunks = [
        openai.types.chat.ChatCompletionChunk.model_validate_json(e.data) for e in parsed[:-1]
    ]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == said
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (prompt, output)


@pytest.mark.parametrize("upstream", ["openai", "google"])
def test_anthropic_callers_get_message_events(upstream: str) -> None:
    out, _ = run("anthropic", upstream, 5)
    said, prompt, output = UPSTREAM[upstream][1:]
    parsed = events(out)
    adapter: TypeAdapter[Any] = TypeAdapter(anthropic.types.RawMessageStreamEvent)
    typed = [adapter.validate_json(e.data) for e in parsed]
    assert [e.event for e in parsed] == [t.type for t in typed]
    kinds = [t.type for t in typed]
    assert kinds[:2] == ["message_start", "content_block_start"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(kinds[2:-3]) == {"content_block_delta"}
    assert "".join(t.delta.text for t in typed if t.type == "content_block_delta") == said
    delta = typed[-2]
    assert delta.delta.stop_reason == "end_turn"
    assert (delta.usage.input_tokens, delta.usage.output_tokens) == (prompt, output)


@pytest.mark.parametrize("upstream", ["openai", "anthropic"])
def test_gemini_callers_get_responses_as_sse_or_one_json_array(upstream: str) -> None:
    said, prompt, output = UPSTREAM[upstream][1:]
    sse, _ = run("google", upstream, 5)
    assert b"\r\n\r\n" in sse
    from_sse = [json.loads(e.data) for e in events(sse)]
    array, _ = run("google", upstream, 5, query="")
    from_array = json.loads(array)
    assert from_array == from_sse
    chunks = [types.GenerateContentResponse.model_validate(c) for c in from_array]
    assert "".join(c.text or "" for c in chunks) == said
    last = chunks[-1]
    assert last.candidates and last.candidates[0].finish_reason == types.FinishReason.STOP
    assert last.usage_metadata is not None
    assert last.usage_metadata.prompt_token_count == prompt
    assert last.usage_metadata.candidates_token_count == output


def test_openai_callers_without_include_usage_get_no_usage_chunk() -> None:
    operation, body = CALLERS["openai"]
    plain = {k: v for k, v in body.items() if k != "stream_options"}
    translation = translate("openai", "anthropic", operation, plain, "claude-haiku-4-5", 100)
    meter = ADAPTERS["anthropic"].stream_meter(
        RequestInfo("messages", "claude-haiku-4-5", True, 100, Usage()), {}
    )
    out = translation.stream_meter(meter).feed(UPSTREAM["anthropic"][0])
    chunks = [json.loads(e.data) for e in events(out)[:-1]]
    assert all("usage" not in c and c["choices"] for c in chunks)


def _without_created(out: bytes) -> list[Any]:
    """The stream's events, with the (clock-dependent) ``created`` of OpenAI chunks left out."""
    if out.startswith(b"["):
        return [json.loads(out)]  # a Gemini JSON array
    read: list[Any] = []
    for event in SSEParser().feed(out):
        data = json.loads(event.data) if event.data and event.data != "[DONE]" else event.data
        if isinstance(data, dict):
            data.pop("created", None)
        read.append((event.event, data))
    return read
