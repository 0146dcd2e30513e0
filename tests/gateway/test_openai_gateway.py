"""The official openai SDK through the gateway to a fake OpenAI on loopback.

Expected costs are written from OpenAI's published prices (openai.com/api/pricing):
gpt-4.1 $2.00 in / $8.00 out, gpt-4o $2.50 in / $10.00 out, per million tokens.
"""

from __future__ import annotations

import asyncio

import aiohttp
import openai
import pytest

from tests.fakes.openai_fake import FakeOpenAI
from tests.gateway.harness import RunningGateway


def client(gw: RunningGateway, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{gw.url}/openai/v1", api_key=key, max_retries=0)


def aclient(gw: RunningGateway, key: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{gw.url}/openai/v1", api_key=key, max_retries=0)


async def test_chat_is_priced_and_attributed(
    gateway: RunningGateway, fake_openai: FakeOpenAI
) -> None:
    key = gateway.key("Engineering", "Backend", "coder")

    def call() -> openai.types.chat.ChatCompletion:
        with client(gateway, key) as c:
            raw = c.chat.completions.with_raw_response.create(
                model="gpt-4.1", messages=[{"role": "user", "content": "Hello"}]
            )
            assert raw.headers["x-llmledger-cost-usd"] == "0.000118"
            assert len(raw.headers["x-llmledger-request-id"]) == 32
            return raw.parse()

    completion = await asyncio.to_thread(call)
    assert completion.choices[0].message.content == "Hello! How can I assist you today?"
    # The provider saw the gateway's credential, never the virtual key.
    assert fake_openai.last.headers["authorization"] == f"Bearer {fake_openai.api_key}"
    assert key not in str(fake_openai.last.headers)
    [event] = await asyncio.to_thread(gateway.events)
    assert (event["department"], event["project"], event["agent"]) == (
        "Engineering",
        "Backend",
        "coder",
    )
    assert event["model_requested"] == "gpt-4.1"
    assert event["model_used"] == "gpt-4.1-2025-04-14"
    assert event["status"] == "settled"
    assert event["cost_nanos"] == 118_000
    assert event["reserved_nanos"] >= event["cost_nanos"]
    assert gateway.usage_of(event["id"]) == {"input_tokens": 19, "output_tokens": 10}


async def test_stream_hides_the_usage_chunk_it_asked_for(
    gateway: RunningGateway, fake_openai: FakeOpenAI
) -> None:
    key = gateway.key()
    async with aclient(gateway, key) as c:
        stream = await c.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "Hi"}], stream=True
        )
        chunks = [chunk async for chunk in stream]
    assert fake_openai.last.json()["stream_options"] == {"include_usage": True}
    assert chunks and all(ch.choices for ch in chunks)
    assert all(ch.usage is None for ch in chunks)
    text = "".join(ch.choices[0].delta.content or "" for ch in chunks)
    assert text
    [event] = await asyncio.to_thread(gateway.events)
    assert gateway.usage_of(event["id"]) == {"input_tokens": 19, "output_tokens": 10}
    assert event["cost_nanos"] == 147_500  # 19 x $2.50/M + 10 x $10/M
    assert event["flags"] == 0


async def test_stream_keeps_the_usage_chunk_the_caller_asked_for(
    gateway: RunningGateway, fake_openai: FakeOpenAI
) -> None:
    async with aclient(gateway, gateway.key()) as c:
        stream = await c.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "Hi"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [chunk async for chunk in stream]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.prompt_tokens == 19


async def test_missing_and_wrong_keys_get_openai_errors(gateway: RunningGateway) -> None:
    async with aclient(gateway, "llk_not-a-real-key") as c:
        with pytest.raises(openai.AuthenticationError) as err:
            await c.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "x"}]
            )
    assert err.value.status_code == 401
    assert err.value.body["type"] == "authentication_error"  # type: ignore[index]
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{gateway.url}/openai/v1/chat/completions", json={}) as resp:
            assert resp.status == 401
            body = await resp.json()
            assert body["error"]["message"] == "missing llmledger key"
    assert await asyncio.to_thread(gateway.events) == []


async def test_model_the_key_may_not_use(gateway: RunningGateway, fake_openai: FakeOpenAI) -> None:
    key = gateway.key(allowed_models=("gpt-4o-mini",))
    async with aclient(gateway, key) as c:
        with pytest.raises(openai.PermissionDeniedError):
            await c.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "x"}]
            )
    assert fake_openai.requests == []
    assert await asyncio.to_thread(gateway.events) == []


async def test_malformed_body_changes_nothing(
    gateway: RunningGateway, fake_openai: FakeOpenAI
) -> None:
    key = gateway.key()
    async with aiohttp.ClientSession() as http:
        for body in (b"{not json", b"[]", b'{"model": 3}', b'{"model": "gpt-4o"}', b"\xff\xfe"):
            async with http.post(
                f"{gateway.url}/openai/v1/chat/completions",
                data=body,
                headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
            ) as resp:
                assert resp.status == 400, body
                error = (await resp.json())["error"]
                assert error["type"] == "invalid_request_error" and error["message"]
        async with http.post(
            f"{gateway.url}/openai/v1/chat/completions",
            data=b"x" * (33 * 1024 * 1024),
            headers={"authorization": f"Bearer {key}"},
        ) as resp:
            assert resp.status == 413
    assert fake_openai.requests == []
    assert await asyncio.to_thread(gateway.events) == []


async def test_upstream_errors_pass_through_and_are_recorded(
    gateway: RunningGateway, fake_openai: FakeOpenAI
) -> None:
    fake_openai.use("429")
    async with aclient(gateway, gateway.key()) as c:
        with pytest.raises(openai.RateLimitError) as err:
            await c.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "x"}]
            )
    assert err.value.response.headers["retry-after"] == "7"
    assert err.value.body["code"] == "rate_limit_exceeded"  # type: ignore[index]
    [event] = await asyncio.to_thread(gateway.events)
    assert (event["status"], event["http_status"], event["cost_nanos"]) == ("failed", 429, 0)


async def test_cut_off_stream_is_billed_for_what_was_produced(
    gateway: RunningGateway, fake_openai: FakeOpenAI
) -> None:
    fake_openai.use("cut")
    async with aclient(gateway, gateway.key()) as c:
        stream = await c.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "Hi"}], stream=True
        )
        with pytest.raises(openai.APIError):
            async for _ in stream:
                pass
    [event] = await asyncio.to_thread(gateway.events)
    assert event["status"] in ("settled", "failed")
    assert event["flags"] & 2  # estimated
    usage = gateway.usage_of(event["id"])
    assert usage.get("input_tokens", 0) > 0
    assert event["cost_nanos"] > 0


async def test_upstream_timeout_is_a_504_in_openai_format(
    gateway: RunningGateway, fake_openai: FakeOpenAI
) -> None:
    fake_openai.use("hang")
    async with aclient(gateway, gateway.key()) as c:
        with pytest.raises(openai.APIStatusError) as err:
            await c.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "x"}]
            )
    assert err.value.status_code == 504
    [event] = await asyncio.to_thread(gateway.events)
    assert (event["status"], event["http_status"]) == ("failed", 504)
