"""Cross-provider routing end to end: the official SDKs (openai, anthropic, google-genai)
through the gateway to fakes of another provider, answered in the caller's own format.

Prices (per million tokens, input / output): gpt-4o $2.50 / $10, gpt-4o-mini $0.15 /
$0.60, gpt-4.1 $2 / $8; claude-sonnet-4-5 $3 / $15, claude-haiku-4-5 $1 / $5,
claude-opus-4-1 $15 / $75; gemini-2.5-flash $0.30 / $2.50 (thinking billed as output),
gemini-2.5-pro $1.25 / $10. The fakes answer with their recordings: Anthropic's message
12 in / 12 out, its stream 25 / 15; OpenAI's completion and stream 19 / 10; Gemini's
generateContent 8 / 13, its stream 8 / 21 plus 110 thinking.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import anthropic
import openai
import pytest
from aiohttp import web
from google import genai
from google.genai import types

from llmledger.routing.rules import RoutingSettings
from tests.fakes.anthropic_fake import FakeAnthropic
from tests.fakes.gemini_fake import FakeGemini
from tests.fakes.openai_fake import FakeOpenAI
from tests.fakes.upstream import RecordedRequest, recording
from tests.gateway.conftest import gateway_settings
from tests.gateway.harness import ADMIN_TOKEN, RunningGateway, serve

# google-genai subclasses aiohttp.ClientSession for its async client; aiohttp warns.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Inheritance class AiohttpClientSession:DeprecationWarning"
)

QUESTION = "What is the capital of France?"
HELLO: Any = [{"role": "user", "content": QUESTION}]
CHAT: Any = [
    {"role": "system", "content": "Be brief."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello."},
    {"role": "user", "content": [{"type": "text", "text": QUESTION}]},
]
CLAUDE_TEXT = "Hello! How can I help you today?"
GPT_TEXT = "Hello! How can I assist you today?"
GEMINI_TEXT = "The sky appears blue because of Rayleigh scattering of sunlight."
GEMINI_STREAM_TEXT = (
    "The sky is blue because air molecules scatter short blue wavelengths more than red "
    "ones (Rayleigh scattering)."
)

RULES: list[dict[str, Any]] = [
    {
        "name": "4o to haiku",
        "from_model": "gpt-4o",
        "to_model": "claude-haiku-4-5",
        "when": {"max_complexity": 0.35},
        "mode": "enforce",
    },
    {
        "name": "sonnet to mini",
        "from_model": "claude-sonnet-4-5",
        "to_model": "gpt-4o-mini",
        "when": {"max_complexity": 0.35},
        "mode": "enforce",
    },
    {
        "name": "4.1 to flash",
        "from_model": "gpt-4.1",
        "to_model": "gemini-2.5-flash",
        "to_provider": "gemini",
        "mode": "enforce",
    },
    {
        "name": "opus to flash",
        "from_model": "claude-opus-4-1",
        "to_model": "gemini-2.5-flash",
        "mode": "enforce",
    },
    {
        "name": "pro to haiku",
        "from_model": "gemini-2.5-pro",
        "to_model": "claude-haiku-4-5",
        "mode": "enforce",
    },
    {
        "name": "o4-mini stays at OpenAI",
        "from_model": "o4-mini",
        "to_model": "claude-haiku-4-5",
        "mode": "enforce",
        "allow_cross_provider": False,
    },
]


@dataclass
class EchoOpenAI(FakeOpenAI):
    """Answers (its recordings) as the model asked for."""

    async def _chat(self, request: web.Request, received: RecordedRequest) -> web.StreamResponse:
        model = received.json()["model"].encode()
        if received.json().get("stream") is not True:
            answer = recording("openai", "chat_completion")
            return await self.send_json(request, answer.replace(b"gpt-4.1-2025-04-14", model))
        sse = recording("openai", "chat_stream_usage.sse")
        return await self.send_sse(request, sse.replace(b"gpt-4o-2024-08-06", model))


@dataclass
class EchoAnthropic(FakeAnthropic):
    async def _messages(
        self, request: web.Request, received: RecordedRequest
    ) -> web.StreamResponse:
        if "anthropic-version" not in received.headers:
            return self.error(400)
        model = received.json()["model"].encode()
        if received.json().get("stream") is True:
            sse = recording("anthropic", "message_stream.sse")
            return await self.send_sse(request, sse.replace(b"claude-sonnet-4-5-20250929", model))
        answer = recording("anthropic", "message")
        return await self.send_json(request, answer.replace(b"claude-sonnet-4-5-20250929", model))


@dataclass
class Fakes:
    openai: EchoOpenAI
    anthropic: EchoAnthropic
    gemini: FakeGemini


@pytest.fixture
async def fakes() -> AsyncIterator[Fakes]:
    f = Fakes(EchoOpenAI(), EchoAnthropic(), FakeGemini())
    for fake in (f.openai, f.anthropic, f.gemini):
        await fake.start()
    yield f
    for fake in (f.openai, f.anthropic, f.gemini):
        await fake.close()


def _serve(tmp_path: Path, mp: pytest.MonkeyPatch, f: Fakes, mode: str) -> Iterator[RunningGateway]:
    mp.setenv("TEST_OPENAI_KEY", f.openai.api_key)
    mp.setenv("TEST_ANTHROPIC_KEY", f.anthropic.api_key)
    mp.setenv("TEST_GEMINI_KEY", f.gemini.api_key)
    settings = gateway_settings(
        tmp_path,
        openai={"base_url": f.openai.url, "api_key_env": "TEST_OPENAI_KEY"},
        anthropic={"base_url": f.anthropic.url, "api_key_env": "TEST_ANTHROPIC_KEY"},
        gemini={"base_url": f.gemini.url, "api_key_env": "TEST_GEMINI_KEY"},
    )
    # Cross-provider routing allowed for every rule that does not say otherwise.
    routing = RoutingSettings(mode=mode, allow_cross_provider=True, rules=RULES)
    with serve(settings.model_copy(update={"routing": routing})) as gw:
        yield gw


@pytest.fixture
def gw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fakes: Fakes) -> Iterator[RunningGateway]:
    yield from _serve(tmp_path, monkeypatch, fakes, "enforce")


@pytest.fixture
def shadow_gw(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fakes: Fakes
) -> Iterator[RunningGateway]:
    yield from _serve(tmp_path, monkeypatch, fakes, "shadow")


def routing(event: dict[str, Any]) -> dict[str, Any]:
    detail: dict[str, Any] = json.loads(event["detail"])["routing"]
    return detail


def oai_sync(gw: RunningGateway, key: str, **headers: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{gw.url}/openai/v1", api_key=key, max_retries=0, default_headers=headers or None
    )


def oai(gw: RunningGateway, key: str, **headers: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=f"{gw.url}/openai/v1", api_key=key, max_retries=0, default_headers=headers or None
    )


def ant(gw: RunningGateway, key: str) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=f"{gw.url}/anthropic", api_key=key, max_retries=0)


def ant_sync(gw: RunningGateway, key: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=f"{gw.url}/anthropic", api_key=key, max_retries=0)


def gem(gw: RunningGateway, key: str) -> genai.Client:
    return genai.Client(
        api_key=key,
        http_options=types.HttpOptions(
            base_url=f"{gw.url}/gemini", retry_options=types.HttpRetryOptions(attempts=1)
        ),
    )


def assert_routed(
    event: dict[str, Any], provider: str, asked: str, used: str, cost: int, requested: int
) -> None:
    assert event["status"] == "settled"
    assert (event["provider"], event["model_requested"], event["model_used"]) == (
        provider,
        asked,
        used,
    )
    assert event["routed_from"] == asked
    assert (event["cost_nanos"], event["requested_cost_nanos"]) == (cost, requested)
    decision = routing(event)
    assert decision["mode"] == "enforce" and decision["to_provider"] == provider
    assert decision["saved_nanos"] == requested - cost


async def test_openai_client_served_by_anthropic_whole_answers(
    gw: RunningGateway, fakes: Fakes
) -> None:
    key = gw.key()

    def call() -> Any:
        with oai_sync(gw, key) as c:
            return c.chat.completions.with_raw_response.create(
                model="gpt-4o", messages=CHAT, temperature=0.2, stop="END"
            )

    raw = await asyncio.to_thread(call)
    completion = raw.parse()
    assert raw.headers["x-llmledger-routed-from"] == "gpt-4o"
    assert raw.headers["x-llmledger-cost-usd"] == "0.000072"
    assert isinstance(completion, openai.types.chat.ChatCompletion)
    assert completion.model == "claude-haiku-4-5"
    assert completion.choices[0].message.content == CLAUDE_TEXT
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens) == (12, 12)
    assert completion.usage.total_tokens == 24
    sent = fakes.anthropic.last
    assert sent.path == "/v1/messages"
    assert sent.headers["x-api-key"] == fakes.anthropic.api_key
    assert key not in str(sent.headers) and "authorization" not in sent.headers
    assert sent.json() == {
        "model": "claude-haiku-4-5",
        "max_tokens": 16_384,  # gpt-4o's most, below claude-haiku-4-5's
        "system": [{"type": "text", "text": "Be brief."}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "Hello."}]},
            {"role": "user", "content": [{"type": "text", "text": QUESTION}]},
        ],
        "temperature": 0.2,
        "stop_sequences": ["END"],
    }
    assert fakes.openai.requests == []

    async with oai(gw, key) as c:
        second = await c.chat.completions.create(model="gpt-4o", messages=HELLO, max_tokens=50)
    assert second.choices[0].message.content == CLAUDE_TEXT
    assert fakes.anthropic.last.json()["max_tokens"] == 50
    events = await asyncio.to_thread(gw.events)
    assert len(events) == 2
    for event in events:
        # 12 x $1 + 12 x $5 per million at haiku; 12 x $2.50 + 12 x $10 at gpt-4o.
        assert_routed(event, "anthropic", "gpt-4o", "claude-haiku-4-5", 72_000, 150_000)
        assert event["operation"] == "messages"
        assert gw.usage_of(event["id"]) == {"input_tokens": 12, "output_tokens": 12}


async def test_openai_stream_served_by_anthropic(gw: RunningGateway, fakes: Fakes) -> None:
    key = gw.key()
    async with oai(gw, key) as c:
        stream = await c.chat.completions.create(
            model="gpt-4o", messages=HELLO, stream=True, stream_options={"include_usage": True}
        )
        assert stream.response.headers["x-llmledger-routed-from"] == "gpt-4o"
        assert stream.response.headers["content-type"].startswith("text/event-stream")
        chunks = [ch async for ch in stream]

    def sync_stream() -> list[Any]:
        with oai_sync(gw, key) as c:
            return list(c.chat.completions.create(model="gpt-4o", messages=HELLO, stream=True))

    plain = await asyncio.to_thread(sync_stream)
    for got in (chunks, plain):
        assert all(ch.object == "chat.completion.chunk" for ch in got)
        assert all(ch.model == "claude-haiku-4-5" for ch in got)
        assert "".join(ch.choices[0].delta.content or "" for ch in got if ch.choices) == (
            CLAUDE_TEXT
        )
        assert [ch.choices[0].finish_reason for ch in got if ch.choices][-1] == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (25, 15)
    assert all(ch.usage is None for ch in plain)  # no usage chunk unless asked for
    assert [r.json()["stream"] for r in fakes.anthropic.requests] == [True, True]
    events = await asyncio.to_thread(gw.events)
    assert len(events) == 2
    for event in events:
        # 25 x $1 + 15 x $5 at haiku; 25 x $2.50 + 15 x $10 at gpt-4o.
        assert_routed(event, "anthropic", "gpt-4o", "claude-haiku-4-5", 100_000, 212_500)


async def test_anthropic_client_served_by_openai(gw: RunningGateway, fakes: Fakes) -> None:
    key = gw.key()

    def call() -> Any:
        with ant_sync(gw, key) as c:
            return c.messages.create(
                model="claude-sonnet-4-5",
                max_tokens=100,
                system="Be brief.",
                stop_sequences=["END"],
                messages=HELLO,
            )

    message = await asyncio.to_thread(call)
    assert isinstance(message, anthropic.types.Message)
    assert message.model == "gpt-4o-mini"
    assert [b.type for b in message.content] == ["text"]
    assert message.content[0].text == GPT_TEXT  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (19, 10)
    assert fakes.openai.last.headers["authorization"] == f"Bearer {fakes.openai.api_key}"
    assert fakes.openai.last.json() == {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": QUESTION},
        ],
        "max_completion_tokens": 100,
        "stop": ["END"],
    }
    async with ant(gw, key) as c:
        async with c.messages.stream(
            model="claude-sonnet-4-5", max_tokens=100, messages=HELLO
        ) as stream:
            text = "".join([t async for t in stream.text_stream])
            final = await stream.get_final_message()
    assert text == GPT_TEXT and final.model == "gpt-4o-mini"
    assert final.stop_reason == "end_turn"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (19, 10)
    assert fakes.openai.last.json()["stream_options"] == {"include_usage": True}
    assert fakes.anthropic.requests == []
    events = await asyncio.to_thread(gw.events)
    assert len(events) == 2
    for event in events:
        # 19 x $0.15 + 10 x $0.60 at mini; 19 x $3 + 10 x $15 at sonnet.
        assert_routed(event, "openai", "claude-sonnet-4-5", "gpt-4o-mini", 8_850, 207_000)


async def test_openai_and_anthropic_clients_served_by_gemini(
    gw: RunningGateway, fakes: Fakes
) -> None:
    key = gw.key()
    async with oai(gw, key) as c:
        completion = await c.chat.completions.create(
            model="gpt-4.1", messages=CHAT, max_completion_tokens=200
        )
        stream = await c.chat.completions.create(
            model="gpt-4.1", messages=HELLO, stream=True, stream_options={"include_usage": True}
        )
        chunks = [ch async for ch in stream]
    assert completion.model == "gemini-2.5-flash"
    assert completion.choices[0].message.content == GEMINI_TEXT
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.prompt_tokens == 8
    plain, streamed = fakes.gemini.requests
    assert plain.path == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert plain.headers["x-goog-api-key"] == fakes.gemini.api_key
    assert plain.json() == {
        "contents": [
            {"role": "user", "parts": [{"text": "Hi"}]},
            {"role": "model", "parts": [{"text": "Hello."}]},
            {"role": "user", "parts": [{"text": QUESTION}]},
        ],
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "generationConfig": {"maxOutputTokens": 200, "thinkingConfig": {"thinkingBudget": 0}},
    }
    assert streamed.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent"
    assert streamed.query == {"alt": "sse"}
    assert "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices) == (
        GEMINI_STREAM_TEXT
    )
    usage = chunks[-1].usage
    assert usage is not None and (usage.prompt_tokens, usage.completion_tokens) == (8, 131)
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 110

    async with ant(gw, key) as a:
        message = await a.messages.create(model="claude-opus-4-1", max_tokens=64, messages=HELLO)
    assert message.content[0].text == GEMINI_TEXT  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn" and message.model == "gemini-2.5-flash"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (8, 13)
    assert fakes.gemini.requests[-1].json()["generationConfig"]["maxOutputTokens"] == 64
    first, second, third = await asyncio.to_thread(gw.events)
    # 8 x $0.30 + 13 x $2.50 at flash; 8 x $2 + 13 x $8 at gpt-4.1.
    assert_routed(first, "google", "gpt-4.1", "gemini-2.5-flash", 34_900, 120_000)
    # 8 x $0.30 + (21 + 110) x $2.50; 8 x $2 + 131 x $8.
    assert_routed(second, "google", "gpt-4.1", "gemini-2.5-flash", 329_900, 1_064_000)
    assert gw.usage_of(second["id"])["reasoning_tokens"] == 110
    # 8 x $15 + 13 x $75 at opus.
    assert_routed(third, "google", "claude-opus-4-1", "gemini-2.5-flash", 34_900, 1_095_000)


async def test_gemini_client_served_by_anthropic(gw: RunningGateway, fakes: Fakes) -> None:
    key = gw.key()
    config = types.GenerateContentConfig(
        system_instruction="Be brief.", max_output_tokens=300, temperature=0.5
    )

    def call() -> types.GenerateContentResponse:
        with gem(gw, key) as c:
            return c.models.generate_content(
                model="gemini-2.5-pro", contents=QUESTION, config=config
            )

    answer = await asyncio.to_thread(call)
    assert answer.text == CLAUDE_TEXT and answer.model_version == "claude-haiku-4-5"
    assert answer.candidates and answer.candidates[0].finish_reason == types.FinishReason.STOP
    assert answer.usage_metadata is not None
    assert answer.usage_metadata.prompt_token_count == 12
    assert answer.usage_metadata.candidates_token_count == 12
    assert fakes.anthropic.last.json() == {
        "model": "claude-haiku-4-5",
        "max_tokens": 300,
        "system": [{"type": "text", "text": "Be brief."}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": QUESTION}]}],
        "temperature": 0.5,
    }
    client = gem(gw, key)
    try:
        stream = await client.aio.models.generate_content_stream(
            model="gemini-2.5-pro", contents=QUESTION
        )
        chunks = [chunk async for chunk in stream]
    finally:
        await client.aio.aclose()
        client.close()
    assert "".join(c.text or "" for c in chunks) == CLAUDE_TEXT
    last = chunks[-1]
    assert last.candidates and last.candidates[0].finish_reason == types.FinishReason.STOP
    assert last.usage_metadata is not None
    assert last.usage_metadata.prompt_token_count == 25
    assert last.usage_metadata.candidates_token_count == 15
    assert fakes.gemini.requests == []
    plain, streamed = await asyncio.to_thread(gw.events)
    # 12 x $1 + 12 x $5 at haiku; 12 x $1.25 + 12 x $10 at gemini-2.5-pro.
    assert_routed(plain, "anthropic", "gemini-2.5-pro", "claude-haiku-4-5", 72_000, 135_000)
    # 25 x $1 + 15 x $5; 25 x $1.25 + 15 x $10.
    assert_routed(streamed, "anthropic", "gemini-2.5-pro", "claude-haiku-4-5", 100_000, 181_250)


async def test_gemini_json_array_stream_is_answered_as_one(
    gw: RunningGateway, fakes: Fakes
) -> None:
    """Without ``alt=sse`` a Gemini caller gets the JSON-array stream it asked for."""
    url = f"{gw.url}/gemini/v1beta/models/gemini-2.5-pro:streamGenerateContent"
    body = {"contents": [{"role": "user", "parts": [{"text": QUESTION}]}]}
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json=body, headers={"x-goog-api-key": gw.key()}) as resp:
            assert resp.status == 200
            assert resp.headers["content-type"].startswith("application/json")
            chunks = json.loads(await resp.read())
    assert isinstance(chunks, list) and len(chunks) == 4
    texts = [p["text"] for c in chunks for p in c["candidates"][0]["content"]["parts"]]
    assert "".join(texts) == CLAUDE_TEXT
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"
    assert chunks[-1]["usageMetadata"] == {
        "promptTokenCount": 25,
        "candidatesTokenCount": 15,
        "totalTokenCount": 40,
    }
    assert fakes.anthropic.last.json()["stream"] is True


async def test_a_failing_routed_provider_falls_back_to_the_requested_model(
    gw: RunningGateway, fakes: Fakes
) -> None:
    fakes.anthropic.use("529")
    async with oai(gw, gw.key()) as c:
        raw = await c.chat.completions.with_raw_response.create(model="gpt-4o", messages=HELLO)
        stream = await c.chat.completions.create(model="gpt-4o", messages=HELLO, stream=True)
        chunks = [ch async for ch in stream]
    assert raw.parse().model == "gpt-4o" and "x-llmledger-routed-from" not in raw.headers
    assert "x-llmledger-routed-from" not in stream.response.headers
    assert all(ch.model == "gpt-4o" for ch in chunks)
    assert [r.json()["model"] for r in fakes.anthropic.requests] == ["claude-haiku-4-5"] * 2
    assert [r.json()["model"] for r in fakes.openai.requests] == ["gpt-4o"] * 2
    events = await asyncio.to_thread(gw.events)
    failed = [e for e in events if e["status"] == "failed"]
    retried = [e for e in events if e["status"] == "settled"]
    assert len(failed) == 2 and len(retried) == 2
    for event in failed:
        assert (event["provider"], event["http_status"], event["model_used"]) == (
            "anthropic",
            529,
            "claude-haiku-4-5",
        )
        assert event["routed_from"] is None and routing(event)["fallback"] == "529"
    for event in retried:
        assert (event["provider"], event["model_used"], event["routed_from"]) == (
            "openai",
            "gpt-4o",
            None,
        )
        assert routing(event)["mode"] == "fallback"
    assert retried[0]["cost_nanos"] == 147_500  # 19 x $2.50 + 10 x $10


async def test_an_answer_that_cannot_be_translated_falls_back(
    gw: RunningGateway, fakes: Fakes
) -> None:
    fakes.anthropic.use("malformed")  # a 200 whose body is cut in half
    async with oai(gw, gw.key()) as c:
        completion = await c.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert completion.model == "gpt-4o" and completion.choices[0].message.content
    first, retried = await asyncio.to_thread(gw.events)
    assert (first["provider"], first["routed_from"]) == ("anthropic", None)
    assert routing(first)["fallback"] == "untranslatable answer"
    assert (retried["provider"], retried["model_used"]) == ("openai", "gpt-4o")
    assert routing(retried)["mode"] == "fallback"


async def test_guards_keep_untranslatable_calls_at_the_requested_model(
    gw: RunningGateway, fakes: Fakes
) -> None:
    tool: Any = {
        "type": "function",
        "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}},
    }
    schema: Any = {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}
    image: Any = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
            ],
        }
    ]
    key = gw.key()
    async with oai(gw, key) as c:
        await c.chat.completions.create(model="gpt-4o", messages=HELLO, tools=[tool])
        await c.chat.completions.create(model="gpt-4o", messages=HELLO, response_format=schema)
        await c.chat.completions.create(model="gpt-4o", messages=image)
        await c.chat.completions.create(model="o4-mini", messages=HELLO)
    async with oai(gw, key, **{"X-Route": "off"}) as c:
        raw = await c.chat.completions.with_raw_response.create(model="gpt-4o", messages=HELLO)
        assert "x-llmledger-routed-from" not in raw.headers
    async with ant(gw, key) as a:
        await a.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=2000,
            messages=HELLO,
            thinking={"type": "enabled", "budget_tokens": 1024},
        )
    assert fakes.gemini.requests == []
    assert [r.json()["model"] for r in fakes.anthropic.requests] == ["claude-sonnet-4-5"]
    assert [r.json()["model"] for r in fakes.openai.requests] == [
        "gpt-4o",
        "gpt-4o",
        "gpt-4o",
        "o4-mini",
        "gpt-4o",
    ]
    events = await asyncio.to_thread(gw.events)
    assert all(e["routed_from"] is None for e in events)
    assert all(routing(e)["mode"] == "skipped" for e in events)
    assert [routing(e)["why"][0] for e in events] == [
        "not translated to anthropic: tools is not translated (only its default is)",
        "not translated to anthropic: response_format is not translated (only its default is)",
        "not translated to anthropic: a user message's content part 'image_url' is not translated",
        "cross-provider routing is not allowed by the rule",
        "opted out (x-route)",
        "gpt-4o-mini does not support reasoning",
    ]


async def test_shadow_records_the_cross_provider_saving_without_forwarding(
    shadow_gw: RunningGateway, fakes: Fakes
) -> None:
    gw = shadow_gw
    async with oai(gw, gw.key()) as c:
        raw = await c.chat.completions.with_raw_response.create(model="gpt-4o", messages=HELLO)
    assert "x-llmledger-routed-from" not in raw.headers
    assert raw.parse().model == "gpt-4o"
    assert fakes.openai.last.json()["model"] == "gpt-4o"
    assert fakes.anthropic.requests == []
    [event] = await asyncio.to_thread(gw.events)
    assert (event["provider"], event["routed_from"], event["cost_nanos"]) == (
        "openai",
        None,
        147_500,
    )
    decision = routing(event)
    assert decision["mode"] == "shadow" and decision["to_provider"] == "anthropic"
    # The same usage (19 in, 10 out) at claude-haiku-4-5: 19 x $1 + 10 x $5.
    assert (decision["would_cost_nanos"], decision["saved_nanos"]) == (69_000, 78_500)
    async with aiohttp.ClientSession() as http:
        async with http.get(
            f"{gw.url}/api/v1/savings",
            params={"mode": "shadow"},
            headers={"authorization": f"Bearer {ADMIN_TOKEN}"},
        ) as resp:
            assert resp.status == 200
            assert (await resp.json())["total_usd"] == "0.0000785"


async def test_a_target_provider_without_a_credential_is_never_tried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fakes: Fakes
) -> None:
    monkeypatch.setenv("TEST_OPENAI_KEY", fakes.openai.api_key)
    monkeypatch.delenv("TEST_UNSET_GEMINI_KEY", raising=False)
    settings = gateway_settings(
        tmp_path,
        openai={"base_url": fakes.openai.url, "api_key_env": "TEST_OPENAI_KEY"},
        gemini={"base_url": fakes.gemini.url, "api_key_env": "TEST_UNSET_GEMINI_KEY"},
    )
    rules = RoutingSettings(allow_cross_provider=True, rules=RULES)
    with serve(settings.model_copy(update={"routing": rules})) as gw:
        async with oai(gw, gw.key()) as c:
            completion = await c.chat.completions.create(model="gpt-4.1", messages=HELLO)
        [event] = await asyncio.to_thread(gw.events)
    assert completion.model == "gpt-4.1" and fakes.gemini.requests == []
    assert (event["provider"], event["model_used"], event["routed_from"]) == (
        "openai",
        "gpt-4.1",
        None,
    )
    assert routing(event)["why"] == ["not routable: no credential is set up for google"]
