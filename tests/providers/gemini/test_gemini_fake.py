"""The fake Gemini's scenarios behave as the gateway's tests expect."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from tests.fakes.gemini_fake import FakeGemini

PATH = "/v1beta/models/gemini-2.5-flash:generateContent"


async def post(fake: FakeGemini, *, key: str | None = None) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{fake.url}{PATH}", params={"key": key or fake.api_key}, json={"contents": []}
        ) as response:
            return response.status, await response.read()


@pytest.mark.parametrize(("scenario", "status"), [("500", 500), ("429", 429), ("ok", 200)])
async def test_status_scenarios(fake_gemini: FakeGemini, scenario: str, status: int) -> None:
    fake_gemini.use(scenario)
    assert (await post(fake_gemini))[0] == status
    assert fake_gemini.requests[-1].query["key"] == fake_gemini.api_key


async def test_429_once_then_ok(fake_gemini: FakeGemini) -> None:
    fake_gemini.use("429_once")
    assert [(await post(fake_gemini))[0] for _ in range(2)] == [429, 200]


async def test_wrong_key(fake_gemini: FakeGemini) -> None:
    assert (await post(fake_gemini, key="nope"))[0] == 400


async def test_malformed(fake_gemini: FakeGemini) -> None:
    fake_gemini.use("malformed")
    status, body = await post(fake_gemini)
    assert status == 200 and body == b'{"candidates": ['


async def test_hang_until_closed(fake_gemini: FakeGemini) -> None:
    fake_gemini.use("hang")
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(post(fake_gemini), timeout=0.2)
