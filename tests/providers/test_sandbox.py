"""The sandbox upstream speaks both wire formats: the official SDKs parse it, and the
adapters meter what it sends."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from anthropic import AsyncAnthropic
from openai import AsyncOpenAI

from llmledger.gateway.sandbox import REPLY, sandbox_app
from llmledger.providers.anthropic import AnthropicAdapter
from llmledger.providers.openai import OpenAIAdapter
from llmledger.usage import UsageType


@pytest.fixture
async def sandbox() -> AsyncIterator[str]:
    runner = web.AppRunner(sandbox_app(latency=0.001), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def test_openai_sdk_on_the_sandbox(sandbox: str) -> None:
    async with AsyncOpenAI(base_url=f"{sandbox}/v1", api_key="sk-demo", max_retries=0) as sdk:
        whole = await sdk.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi there"}]
        )
        stream = await sdk.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Hi there"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [c async for c in stream]
        plain = await sdk.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}], stream=True
        )
        plain_chunks = [c async for c in plain]
        response = await sdk.responses.create(model="gpt-4o", input="Hello")
        events = [
            e async for e in await sdk.responses.create(model="gpt-4o", input="Hello", stream=True)
        ]
        embedded = await sdk.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
        models = await sdk.models.list()
    assert whole.choices[0].message.content == REPLY and whole.usage is not None
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == REPLY
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens > 0
    assert all(c.usage is None for c in plain_chunks)
    assert response.output_text == REPLY
    assert events[-1].type == "response.completed"
    assert len(embedded.data) == 2 and len(embedded.data[0].embedding) == 8
    assert len(models.data) >= 1


async def test_anthropic_sdk_on_the_sandbox(sandbox: str) -> None:
    async with AsyncAnthropic(base_url=sandbox, api_key="sk-ant-demo", max_retries=0) as sdk:
        message = await sdk.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=100,
            messages=[{"role": "user", "content": "Hello"}],
        )
        async with sdk.messages.stream(
            model="claude-sonnet-4-5",
            max_tokens=100,
            messages=[{"role": "user", "content": "Hello"}],
        ) as stream:
            text = "".join([t async for t in stream.text_stream])
            final = await stream.get_final_message()
    assert message.content[0].type == "text" and message.content[0].text == REPLY
    assert text == REPLY and final.usage.output_tokens == message.usage.output_tokens


async def test_the_adapters_meter_the_sandbox(sandbox: str) -> None:
    openai_adapter, anthropic_adapter = OpenAIAdapter(), AnthropicAdapter()
    chat = (
        b'{"model":"gpt-4o","stream":true,'
        b'"messages":[{"role":"user","content":"How much did we spend?"}]}'
    )
    info = openai_adapter.read_request("POST", "chat/completions", {}, chat)
    claude = anthropic_adapter.read_request(
        "POST",
        "messages",
        {},
        b'{"model":"claude-haiku-4-5","max_tokens":50,"stream":true,'
        b'"messages":[{"role":"user","content":"Hi"}]}',
    )
    async with aiohttp.ClientSession() as session:
        meter = openai_adapter.stream_meter(info, {})
        out = b""
        async with session.post(
            f"{sandbox}/v1/chat/completions", data=info.body, headers={"Authorization": "Bearer sk"}
        ) as answer:
            async for chunk in answer.content.iter_any():
                out += meter.feed(chunk)
        metered = meter.finish(cut_off=False)
        claude_meter = anthropic_adapter.stream_meter(claude, {})
        async with session.post(
            f"{sandbox}/v1/messages",
            data=claude.body,
            headers={"x-api-key": "sk", "anthropic-version": "2023-06-01"},
        ) as answer:
            async for chunk in answer.content.iter_any():
                claude_meter.feed(chunk)
        claude_metered = claude_meter.finish(cut_off=False)
    assert b'"usage"' not in out and out.endswith(b"data: [DONE]\n\n")
    assert metered.usage[UsageType.INPUT_TOKENS] > 0 and not metered.estimated
    assert metered.usage[UsageType.OUTPUT_TOKENS] == -(-len(REPLY) // 4)
    assert claude_metered.usage[UsageType.OUTPUT_TOKENS] == -(-len(REPLY) // 4)
    assert claude_metered.model_used == "claude-haiku-4-5"


async def test_the_sandbox_answers_errors_in_each_format(sandbox: str) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{sandbox}/v1/chat/completions", data=b"{}") as answer:
            assert answer.status == 401
            assert (await answer.json())["error"]["type"] == "invalid_request_error"
        async with session.post(
            f"{sandbox}/v1/messages", data=b"nope", headers={"x-api-key": "k"}
        ) as answer:
            assert answer.status == 400
            assert (await answer.json())["type"] == "error"
