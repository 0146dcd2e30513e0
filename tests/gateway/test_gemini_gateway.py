"""The official google-genai SDK through the gateway to a fake Gemini API on loopback.

Expected costs are written by hand from Google's published prices
(ai.google.dev/gemini-api/docs/pricing, Gemini 2.5 Flash, paid tier, per million tokens):
input text / image / video $0.30, input audio $1.00, output (thinking included) $2.50.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from google import genai
from google.genai import errors, types
from sqlalchemy import select

from llmledger.guardrails.budgets import set_budget
from llmledger.ledger import schema
from tests.fakes.gemini_fake import FakeGemini
from tests.gateway.harness import RunningGateway

# google-genai subclasses aiohttp.ClientSession for its async client; aiohttp warns.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Inheritance class AiohttpClientSession:DeprecationWarning"
)

MODEL = "gemini-2.5-flash"


@pytest.fixture
def key(gemini_gateway: RunningGateway) -> str:
    return gemini_gateway.key("QA", "Vision", "inspector")


def make_client(gw: RunningGateway, key: str) -> genai.Client:
    return genai.Client(
        api_key=key,
        http_options=types.HttpOptions(
            base_url=f"{gw.url}/gemini", retry_options=types.HttpRetryOptions(attempts=1)
        ),
    )


@pytest.fixture
async def client(gemini_gateway: RunningGateway, key: str) -> AsyncIterator[genai.Client]:
    c = make_client(gemini_gateway, key)
    try:
        yield c
    finally:
        await c.aio.aclose()
        c.close()


def usage_milli(gw: RunningGateway, event_id: str) -> dict[str, int]:
    with gw.store.read() as conn:
        return {
            r.usage_type: r.quantity_milli
            for r in conn.execute(
                select(schema.event_usage).where(schema.event_usage.c.event_id == event_id)
            )
        }


def assert_upstream_saw_only_the_gateway_key(fake: FakeGemini, key: str) -> None:
    for sent in fake.requests:
        headers = {k.lower(): v for k, v in sent.headers.items()}
        assert headers["x-goog-api-key"] == fake.api_key
        assert "key" not in sent.query
        assert key not in str(sent.headers) + str(sent.query) + sent.body.decode()


async def test_generate_content_sync_is_priced(
    gemini_gateway: RunningGateway, fake_gemini: FakeGemini, key: str
) -> None:
    def call() -> types.GenerateContentResponse:
        c = make_client(gemini_gateway, key)
        try:
            return c.models.generate_content(model=MODEL, contents="Why is the sky blue?")
        finally:
            c.close()

    answer = await asyncio.to_thread(call)
    assert answer.text and "Rayleigh" in answer.text
    sent = fake_gemini.requests[-1]
    # The SDK appends its API version to the base URL itself (google-genai 3.x: v1).
    assert sent.path.startswith("/v1/")
    assert sent.path.endswith(f"models/{MODEL}:generateContent")
    assert_upstream_saw_only_the_gateway_key(fake_gemini, key)
    [event] = await asyncio.to_thread(gemini_gateway.events)
    assert (event["provider"], event["operation"], event["status"]) == (
        "google",
        "generateContent",
        "settled",
    )
    assert (event["department"], event["project"], event["agent"]) == ("QA", "Vision", "inspector")
    usage = gemini_gateway.usage_of(event["id"])
    assert usage["input_tokens"] == 8
    # (input + output + thinking) tokens at $0.30 / $2.50 per million.
    expected = (
        Decimal(usage["input_tokens"]) * Decimal("0.30")
        + Decimal(usage["output_tokens"] + usage.get("reasoning_tokens", 0)) * Decimal("2.50")
    ) / 1_000_000
    assert event["cost_nanos"] == int(expected * 1_000_000_000)


async def test_stream_async_and_sync(
    gemini_gateway: RunningGateway, fake_gemini: FakeGemini, client: genai.Client, key: str
) -> None:
    stream = await client.aio.models.generate_content_stream(
        model=MODEL, contents="Why is the sky blue?"
    )
    chunks = [chunk async for chunk in stream]
    assert "".join(c.text or "" for c in chunks).endswith("(Rayleigh scattering).")
    assert fake_gemini.requests[-1].query == {"alt": "sse"}

    def call() -> list[types.GenerateContentResponse]:
        c = make_client(gemini_gateway, key)
        try:
            return list(c.models.generate_content_stream(model=MODEL, contents="Why?"))
        finally:
            c.close()

    sync_chunks = await asyncio.to_thread(call)
    assert len(sync_chunks) == len(chunks)
    events = await asyncio.to_thread(gemini_gateway.events)
    assert len(events) == 2
    for event in events:
        assert event["operation"] == "streamGenerateContent"
        assert event["status"] == "settled" and event["flags"] == 0
        usage = gemini_gateway.usage_of(event["id"])
        assert usage["reasoning_tokens"] == 110
        assert event["cost_nanos"] > 0
    assert events[0]["cost_nanos"] == events[1]["cost_nanos"]
    assert_upstream_saw_only_the_gateway_key(fake_gemini, key)


async def test_count_tokens_is_free_and_embeddings_are_estimated(
    gemini_gateway: RunningGateway, client: genai.Client
) -> None:
    counted = await client.aio.models.count_tokens(model=MODEL, contents="Hi")
    assert counted.total_tokens == 31
    embedded = await client.aio.models.embed_content(
        model="gemini-embedding-001", contents="Hello there"
    )
    assert embedded.embeddings
    events = {e["operation"]: e for e in await asyncio.to_thread(gemini_gateway.events)}
    assert events["countTokens"]["cost_nanos"] == 0
    assert events["countTokens"]["reserved_nanos"] == 0
    assert gemini_gateway.usage_of(events["countTokens"]["id"]) == {}
    # The SDK sends embed_content as batchEmbedContents; Gemini reports no usage for it.
    embedding = events["batchEmbedContents"]
    assert embedding["flags"] & 2  # estimated
    assert gemini_gateway.usage_of(embedding["id"])["input_tokens"] > 0
    assert embedding["cost_nanos"] > 0


async def test_key_query_parameter_never_reaches_upstream_or_ledger(
    gemini_gateway: RunningGateway, fake_gemini: FakeGemini, key: str
) -> None:
    url = f"{gemini_gateway.url}/gemini/v1beta/models/{MODEL}:generateContent?key={key}"
    body = {"contents": [{"parts": [{"text": "Hi"}]}]}
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json=body) as resp:
            assert resp.status == 200
            assert (await resp.json())["usageMetadata"]["promptTokenCount"] == 8
        stream_url = (
            f"{gemini_gateway.url}/gemini/v1beta/models/{MODEL}"
            f":streamGenerateContent?alt=sse&key={key}"
        )
        async with http.post(stream_url, json=body) as resp:
            assert resp.status == 200
            assert (await resp.read()).startswith(b"data: ")
    assert [r.query for r in fake_gemini.requests] == [{}, {"alt": "sse"}]
    assert_upstream_saw_only_the_gateway_key(fake_gemini, key)
    events = await asyncio.to_thread(gemini_gateway.events)
    assert len(events) == 2
    assert all(key not in str(e) for e in events)
    with gemini_gateway.store.read() as conn:
        rows = [
            str(dict(r))
            for t in (schema.events, schema.event_usage)
            for r in conn.execute(select(t)).mappings()
        ]
    assert rows and all(key not in r for r in rows)


async def test_multimodal_request_is_attributed_per_modality(
    gemini_gateway: RunningGateway, fake_gemini: FakeGemini, client: genai.Client
) -> None:
    fake_gemini.use(recording="generate_content_multimodal")
    answer = await client.aio.models.generate_content(
        model=MODEL,
        contents=[
            types.Content(
                role="user",
                parts=[
                    types.Part.from_text(text="Describe the photo, the recording and the clip."),
                    types.Part.from_bytes(
                        data=b"\x89PNG\r\n\x1a\n" + b"\0" * 2_000, mime_type="image/png"
                    ),
                    types.Part.from_bytes(data=b"ID3" + b"\0" * 40_000, mime_type="audio/mp3"),
                    types.Part.from_bytes(
                        data=b"\0\0\0\x18ftypmp42" + b"\0" * 200_000, mime_type="video/mp4"
                    ),
                ],
            )
        ],
    )
    assert answer.text and answer.text.startswith("A dog runs")
    sent = fake_gemini.requests[-1].json()
    assert [next(iter(p)) for p in sent["contents"][0]["parts"]] == [
        "text",
        "inlineData",
        "inlineData",
        "inlineData",
    ]
    [event] = await asyncio.to_thread(gemini_gateway.events)
    # usageMetadata: TEXT 12, IMAGE 258, AUDIO 640, VIDEO 4184 prompt tokens; 22 output.
    assert usage_milli(gemini_gateway, event["id"]) == {
        "input_tokens": 12_000,
        "input_image_tokens": 258_000,
        "input_audio_tokens": 640_000,
        "input_video_tokens": 4_184_000,
        "output_tokens": 22_000,
        "input_images": 1_000,  # one image part in the request
        "audio_seconds": 20_000,  # 640 tokens / 32 per second
        "video_seconds": 15_909,  # 4184 tokens / 263 per second, to the millisecond
    }
    # 12 x $0.30/M     = $0.0000036   text
    # 258 x $0.30/M    = $0.0000774   image
    # 640 x $1.00/M    = $0.00064     audio
    # 4184 x $0.30/M   = $0.0012552   video
    # 22 x $2.50/M     = $0.000055    output
    #                    $0.0020312 (the derived counts are informational: priced at zero)
    assert event["cost_nanos"] == 2_031_200
    with gemini_gateway.store.read() as conn:
        costs = {
            r.usage_type: r.cost_nanos
            for r in conn.execute(
                select(schema.event_usage).where(schema.event_usage.c.event_id == event["id"])
            )
        }
    assert costs["input_audio_tokens"] == 640_000
    assert costs["input_video_tokens"] == 1_255_200
    assert costs["input_image_tokens"] == 77_400
    assert costs.get("video_seconds", 0) == costs.get("audio_seconds", 0) == 0


async def test_missing_and_invalid_keys_get_google_errors(
    gemini_gateway: RunningGateway, fake_gemini: FakeGemini
) -> None:
    url = f"{gemini_gateway.url}/gemini/v1beta/models/{MODEL}:generateContent"
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json={"contents": [{"parts": [{"text": "x"}]}]}) as resp:
            assert resp.status == 401
            error = (await resp.json())["error"]
    assert (error["code"], error["status"]) == (401, "UNAUTHENTICATED")
    assert error["message"] == "missing llmledger key"
    c = make_client(gemini_gateway, "llk_not-a-real-key")
    try:
        with pytest.raises(errors.ClientError) as caught:
            await c.aio.models.generate_content(model=MODEL, contents="Hi")
    finally:
        await c.aio.aclose()
        c.close()
    assert (caught.value.code, caught.value.status) == (401, "UNAUTHENTICATED")
    assert fake_gemini.requests == []
    assert await asyncio.to_thread(gemini_gateway.events) == []


async def test_model_the_key_may_not_use_is_permission_denied(
    gemini_gateway: RunningGateway, fake_gemini: FakeGemini
) -> None:
    c = make_client(gemini_gateway, gemini_gateway.key(allowed_models=("gemini-2.5-flash-lite",)))
    try:
        with pytest.raises(errors.ClientError) as caught:
            await c.aio.models.generate_content(model=MODEL, contents="Hi")
    finally:
        await c.aio.aclose()
        c.close()
    assert (caught.value.code, caught.value.status) == (403, "PERMISSION_DENIED")
    assert fake_gemini.requests == []


async def test_budget_exceeded_is_resource_exhausted(
    gemini_gateway: RunningGateway, fake_gemini: FakeGemini, client: genai.Client
) -> None:
    with gemini_gateway.store.write() as conn:
        set_budget(conn, scope="agent:QA/Vision/inspector", limit_usd=Decimal("0.001"))
    gemini_gateway.app.runtime.budgets.invalidate()
    with pytest.raises(errors.ClientError) as caught:
        await client.aio.models.generate_content(
            model=MODEL,
            contents="Hi",
            config=types.GenerateContentConfig(max_output_tokens=60_000),
        )
    assert (caught.value.code, caught.value.status) == (429, "RESOURCE_EXHAUSTED")
    assert "agent:QA/Vision/inspector" in (caught.value.message or "")
    details: Any = caught.value.details
    assert details["error"]["details"][0]["reason"] == "BUDGET_EXCEEDED"
    assert int(caught.value.response.headers["retry-after"]) > 0  # type: ignore[union-attr]
    assert fake_gemini.requests == []
    [event] = await asyncio.to_thread(gemini_gateway.events)
    assert event["status"] == "blocked"


@pytest.mark.parametrize(
    ("scenario", "status", "code"), [("429", 429, "RESOURCE_EXHAUSTED"), ("500", 500, "INTERNAL")]
)
async def test_upstream_errors_pass_through(
    gemini_gateway: RunningGateway,
    fake_gemini: FakeGemini,
    client: genai.Client,
    scenario: str,
    status: int,
    code: str,
) -> None:
    fake_gemini.use(scenario)
    with pytest.raises(errors.APIError) as caught:
        await client.aio.models.generate_content(model=MODEL, contents="Hi")
    assert (caught.value.code, caught.value.status) == (status, code)
    [event] = await asyncio.to_thread(gemini_gateway.events)
    assert (event["status"], event["http_status"], event["cost_nanos"]) == ("failed", status, 0)


async def test_cut_stream_is_billed_as_estimated(
    gemini_gateway: RunningGateway, fake_gemini: FakeGemini, client: genai.Client
) -> None:
    fake_gemini.use("cut")
    with pytest.raises(Exception):  # noqa: B017 - the SDK surfaces aiohttp's own error
        stream = await client.aio.models.generate_content_stream(model=MODEL, contents="Hi")
        async for _ in stream:
            pass
    [event] = await asyncio.to_thread(gemini_gateway.events)
    assert event["flags"] & 2  # estimated
    assert event["cost_nanos"] > 0
    assert gemini_gateway.usage_of(event["id"]).get("input_tokens", 0) > 0
