"""The official google-genai SDK parses what the fake sends: the fake speaks Gemini."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from google import genai
from google.genai import errors, types
from tests.fakes.gemini_fake import FakeGemini

from llmledger.providers.gemini import GeminiAdapter

# google-genai subclasses aiohttp.ClientSession for its async client; aiohttp warns.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Inheritance class AiohttpClientSession:DeprecationWarning"
)


@pytest.fixture
async def client(fake_gemini: FakeGemini) -> AsyncIterator[genai.Client]:
    client = genai.Client(
        api_key=fake_gemini.api_key,
        http_options=types.HttpOptions(
            base_url=fake_gemini.url, retry_options=types.HttpRetryOptions(attempts=1)
        ),
    )
    try:
        yield client
    finally:
        await client.aio.aclose()
        client.close()


async def test_generate_content(client: genai.Client, fake_gemini: FakeGemini) -> None:
    answer = await client.aio.models.generate_content(
        model="gemini-2.5-flash", contents="Why is the sky blue?"
    )
    assert answer.text and "Rayleigh" in answer.text
    assert answer.usage_metadata is not None
    assert answer.usage_metadata.prompt_token_count == 8
    assert answer.usage_metadata.prompt_tokens_details
    assert answer.usage_metadata.prompt_tokens_details[0].modality == types.MediaModality.TEXT
    sent = fake_gemini.requests[-1]
    assert sent.path.endswith("models/gemini-2.5-flash:generateContent")
    assert sent.headers["x-goog-api-key"] == fake_gemini.api_key


async def test_generate_content_multimodal_usage(
    client: genai.Client, fake_gemini: FakeGemini
) -> None:
    fake_gemini.use(recording="generate_content_multimodal")
    answer = await client.aio.models.generate_content(
        model="gemini-2.5-flash", contents="Describe."
    )
    assert answer.usage_metadata is not None
    details = {d.modality: d.token_count for d in answer.usage_metadata.prompt_tokens_details or []}
    assert details[types.MediaModality.VIDEO] == 4184


async def test_stream_sse(client: genai.Client, fake_gemini: FakeGemini) -> None:
    stream = await client.aio.models.generate_content_stream(
        model="gemini-2.5-flash", contents="Why is the sky blue?"
    )
    chunks = [chunk async for chunk in stream]
    assert len(chunks) == 3
    assert "".join(c.text or "" for c in chunks).endswith("(Rayleigh scattering).")
    assert chunks[-1].usage_metadata is not None
    assert chunks[-1].usage_metadata.thoughts_token_count == 110
    assert fake_gemini.requests[-1].query.get("alt") == "sse"


async def test_error_is_parsed(client: genai.Client, fake_gemini: FakeGemini) -> None:
    fake_gemini.use("429")
    with pytest.raises(errors.ClientError) as caught:
        await client.aio.models.generate_content(model="gemini-2.5-flash", contents="Hi")
    assert caught.value.code == 429
    assert caught.value.status == "RESOURCE_EXHAUSTED"


async def test_count_tokens_and_embed(client: genai.Client) -> None:
    counted = await client.aio.models.count_tokens(model="gemini-2.5-flash", contents="Hi")
    assert counted.total_tokens == 31
    embedded = await client.aio.models.embed_content(model="gemini-embedding-001", contents="Hi")
    assert embedded.embeddings


async def test_sdk_reads_the_gateway_budget_error() -> None:
    adapter = GeminiAdapter()

    async def refuse(request: web.Request) -> web.Response:
        body, content_type = adapter.error_body(
            429, "budget_exceeded", "Budget of department:QA exceeded: $500.00 of $500.00"
        )
        return web.Response(status=429, body=body, headers={"Content-Type": content_type})

    app = web.Application()
    app.router.add_post("/{tail:.*}", refuse)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    client = genai.Client(
        api_key="vk-agent",
        http_options=types.HttpOptions(
            base_url=f"http://127.0.0.1:{runner.addresses[0][1]}",
            retry_options=types.HttpRetryOptions(attempts=1),
        ),
    )
    try:
        with pytest.raises(errors.ClientError) as caught:
            await client.aio.models.generate_content(model="gemini-2.5-flash", contents="Hi")
    finally:
        await client.aio.aclose()
        client.close()
        await runner.cleanup()
    assert caught.value.code == 429
    assert caught.value.status == "RESOURCE_EXHAUSTED"
    assert "department:QA" in (caught.value.message or "")
