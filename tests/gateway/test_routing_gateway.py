"""Smart routing end to end: the official SDKs through the gateway to fakes that answer
as the model they were asked for.

Prices (per million tokens): gpt-4o $2.50 in / $10 out, gpt-4o-mini $0.15 / $0.60;
claude-sonnet-4-5 $3 / $15, claude-haiku-4-5 $1 / $5.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import anthropic
import openai
import pytest
from aiohttp import web

from tests.fakes.anthropic_fake import FakeAnthropic
from tests.fakes.openai_fake import FakeOpenAI
from tests.fakes.upstream import RecordedRequest, recording
from tests.gateway.conftest import gateway_settings
from tests.gateway.harness import ADMIN_TOKEN, RunningGateway, serve

HELLO: Any = [{"role": "user", "content": "What is the capital of France?"}]


@dataclass
class EchoOpenAI(FakeOpenAI):
    """Answers as the model asked for; `failing` models answer 503."""

    failing: str = ""

    async def _chat(self, request: web.Request, received: RecordedRequest) -> web.StreamResponse:
        model = received.json()["model"]
        if model == self.failing:
            return self.error(503)
        body = received.json()
        if body.get("stream") is not True:
            answer = json.loads(recording("openai", "chat_completion"))
            answer["model"] = model
            return await self.send_json(request, json.dumps(answer).encode())
        sse = recording("openai", "chat_stream_usage.sse")
        return await self.send_sse(request, sse.replace(b"gpt-4o-2024-08-06", model.encode()))


@dataclass
class EchoAnthropic(FakeAnthropic):
    async def _messages(
        self, request: web.Request, received: RecordedRequest
    ) -> web.StreamResponse:
        model = received.json()["model"].encode()
        if received.json().get("stream") is True:
            sse = recording("anthropic", "message_stream.sse")
            return await self.send_sse(request, sse.replace(b"claude-sonnet-4-5-20250929", model))
        answer = recording("anthropic", "message")
        return await self.send_json(request, answer.replace(b"claude-sonnet-4-5-20250929", model))


RULES: list[dict[str, Any]] = [
    {
        "name": "simple 4o to mini",
        "from_model": "gpt-4o",
        "to_model": "gpt-4o-mini",
        "when": {"max_complexity": 0.35},
        "mode": "enforce",
        "exclude_agents": ["auditor"],
    },
    {
        "name": "json to 3.5",
        "scope": "department:Legal",
        "from_model": "gpt-4.1",
        "to_model": "gpt-3.5-turbo",
        "mode": "enforce",
    },
    {
        "name": "sonnet to haiku",
        "from_model": "claude-sonnet-4-5",
        "to_model": "claude-haiku-4-5",
        "when": {"max_complexity": 0.35},
        "mode": "enforce",
    },
    {
        "name": "sonnet to 3.5 haiku",
        "scope": "department:Legal",
        "from_model": "claude-opus-4-1",
        "to_model": "claude-3-5-haiku-20241022",
        "mode": "enforce",
    },
]


@pytest.fixture
async def fakes() -> Any:
    fo, fa = EchoOpenAI(), EchoAnthropic()
    await fo.start()
    await fa.start()
    yield fo, fa
    await fo.close()
    await fa.close()


def _settings(tmp_path: Path, fo: FakeOpenAI, fa: FakeAnthropic, mode: str) -> Any:
    settings = gateway_settings(
        tmp_path,
        openai={"base_url": fo.url, "api_key_env": "TEST_OPENAI_KEY"},
        anthropic={"base_url": fa.url, "api_key_env": "TEST_ANTHROPIC_KEY"},
    )
    from llmledger.routing.rules import RoutingSettings

    return settings.model_copy(update={"routing": RoutingSettings(mode=mode, rules=RULES)})


@pytest.fixture
def routed_gw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fakes: Any) -> Iterator[Any]:
    fo, fa = fakes
    monkeypatch.setenv("TEST_OPENAI_KEY", fo.api_key)
    monkeypatch.setenv("TEST_ANTHROPIC_KEY", fa.api_key)
    with serve(_settings(tmp_path, fo, fa, "enforce")) as gw:
        yield gw, fo, fa


@pytest.fixture
def shadow_gw(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fakes: Any) -> Iterator[Any]:
    fo, fa = fakes
    monkeypatch.setenv("TEST_OPENAI_KEY", fo.api_key)
    monkeypatch.setenv("TEST_ANTHROPIC_KEY", fa.api_key)
    with serve(_settings(tmp_path, fo, fa, "shadow")) as gw:
        yield gw, fo, fa


def oai(gw: RunningGateway, key: str, **headers: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=f"{gw.url}/openai/v1", api_key=key, max_retries=0, default_headers=headers or None
    )


def ant(gw: RunningGateway, key: str) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=f"{gw.url}/anthropic", api_key=key, max_retries=0)


def routing(event: dict[str, Any]) -> dict[str, Any]:
    detail: dict[str, Any] = json.loads(event["detail"])["routing"]
    return detail


async def test_simple_chat_is_routed_and_saving_is_exact(routed_gw: Any) -> None:
    gw, fo, _ = routed_gw
    async with oai(gw, gw.key()) as c:
        raw = await c.chat.completions.with_raw_response.create(model="gpt-4o", messages=HELLO)
    completion = raw.parse()
    assert raw.headers["x-llmledger-routed-from"] == "gpt-4o"
    assert raw.headers["x-llmledger-cost-usd"] == "0.00000885"
    assert completion.model == "gpt-4o-mini"
    assert completion.choices[0].message.content
    assert fo.last.json()["model"] == "gpt-4o-mini"
    [event] = await asyncio.to_thread(gw.events)
    assert (event["model_requested"], event["model_used"], event["routed_from"]) == (
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4o",
    )
    assert event["cost_nanos"] == 8_850  # 19 x 0.15 + 10 x 0.60 micro-dollars
    assert event["requested_cost_nanos"] == 147_500  # 19 x 2.50 + 10 x 10
    decision = routing(event)
    assert decision["mode"] == "enforce" and decision["rule"] == "simple 4o to mini"
    assert decision["saved_nanos"] == 138_650 and decision["score"] < 0.35
    assert decision["score_reasons"]


async def test_routed_stream_comes_back_as_a_chat_stream(routed_gw: Any) -> None:
    gw, fo, _ = routed_gw
    async with oai(gw, gw.key()) as c:
        stream = await c.chat.completions.create(model="gpt-4o", messages=HELLO, stream=True)
        assert stream.response.headers["x-llmledger-routed-from"] == "gpt-4o"
        chunks = [ch async for ch in stream]
    assert "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices)
    assert all(ch.model == "gpt-4o-mini" for ch in chunks)
    assert all(ch.usage is None for ch in chunks)  # the usage chunk it asked for is hidden
    assert fo.last.json()["stream_options"] == {"include_usage": True}
    [event] = await asyncio.to_thread(gw.events)
    assert (event["routed_from"], event["cost_nanos"], event["requested_cost_nanos"]) == (
        "gpt-4o",
        8_850,
        147_500,
    )


async def test_anthropic_routed_plain_and_streamed(routed_gw: Any) -> None:
    gw, _, fa = routed_gw
    async with ant(gw, gw.key()) as c:
        raw = await c.messages.with_raw_response.create(
            model="claude-sonnet-4-5", max_tokens=100, messages=HELLO
        )
        message = await raw.parse()
        assert raw.headers["x-llmledger-routed-from"] == "claude-sonnet-4-5"
        async with c.messages.stream(
            model="claude-sonnet-4-5", max_tokens=100, messages=HELLO
        ) as stream:
            text = "".join([t async for t in stream.text_stream])
    assert message.model == "claude-haiku-4-5" and text
    assert [r.json()["model"] for r in fa.requests] == ["claude-haiku-4-5"] * 2
    events = await asyncio.to_thread(gw.events)
    assert [e["routed_from"] for e in events] == ["claude-sonnet-4-5"] * 2
    assert events[0]["cost_nanos"] == 72_000  # 12 x $1 + 12 x $5 per million
    assert events[0]["requested_cost_nanos"] == 216_000  # 12 x $3 + 12 x $15
    assert all(e["requested_cost_nanos"] > e["cost_nanos"] > 0 for e in events)


async def test_opt_out_exclusion_and_complexity_keep_the_requested_model(
    routed_gw: Any,
) -> None:
    gw, fo, _ = routed_gw
    hard = (
        "Refactor this service step by step: first analyze the race condition, then "
        "implement a fix with unit tests, and finally compare the trade-offs.\n"
        "```python\ndef handle(self):\n    self.lock.acquire()\n```"
    )
    async with oai(gw, gw.key(), **{"X-Route": "off"}) as c:
        raw = await c.chat.completions.with_raw_response.create(model="gpt-4o", messages=HELLO)
        assert "x-llmledger-routed-from" not in raw.headers
    async with oai(gw, gw.key(agent="auditor")) as c:
        await c.chat.completions.create(model="gpt-4o", messages=HELLO)
    async with oai(gw, gw.key()) as c:
        await c.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": hard}]
        )
    assert [r.json()["model"] for r in fo.requests] == ["gpt-4o"] * 3
    events = await asyncio.to_thread(gw.events)
    assert all(e["routed_from"] is None for e in events)
    why = [routing(e)["why"][0] for e in events]
    assert why[0].startswith("opted out")
    assert why[1] == "agent 'auditor' is excluded"
    assert why[2].startswith("complexity")
    assert all(routing(e)["mode"] == "skipped" for e in events)


async def test_capability_guard_never_routes_what_the_target_cannot_do(
    routed_gw: Any,
) -> None:
    gw, fo, fa = routed_gw
    key = gw.key(department="Legal", project="Contracts", agent="reviewer")
    schema: Any = {
        "type": "json_schema",
        "json_schema": {"name": "x", "schema": {"type": "object"}},
    }
    image: Any = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
            ],
        }
    ]
    async with oai(gw, key) as c:
        await c.chat.completions.create(model="gpt-4.1", messages=HELLO, response_format=schema)
        await c.chat.completions.create(model="gpt-4.1", messages=image)
        await c.chat.completions.create(model="gpt-4.1", messages=HELLO)
    async with ant(gw, key) as c:
        await c.messages.create(
            model="claude-opus-4-1",
            max_tokens=2000,
            messages=HELLO,
            thinking={"type": "enabled", "budget_tokens": 1024},
        )
    assert [r.json()["model"] for r in fo.requests] == ["gpt-4.1", "gpt-4.1", "gpt-3.5-turbo"]
    assert fa.last.json()["model"] == "claude-opus-4-1"
    events = await asyncio.to_thread(gw.events)
    reasons = [routing(e)["why"][0] for e in events]
    assert reasons[0] == "gpt-3.5-turbo does not support JSON schema output"
    assert reasons[1] == "gpt-3.5-turbo does not read images"
    assert events[2]["routed_from"] == "gpt-4.1"
    assert reasons[3] == "claude-3-5-haiku-20241022 does not support reasoning"


async def test_a_failing_routed_model_falls_back_to_the_requested_one(routed_gw: Any) -> None:
    gw, fo, _ = routed_gw
    fo.failing = "gpt-4o-mini"
    async with oai(gw, gw.key()) as c:
        raw = await c.chat.completions.with_raw_response.create(model="gpt-4o", messages=HELLO)
    assert raw.parse().model == "gpt-4o"
    assert "x-llmledger-routed-from" not in raw.headers
    assert [r.json()["model"] for r in fo.requests] == ["gpt-4o-mini", "gpt-4o"]
    failed, retried = await asyncio.to_thread(gw.events)
    assert (failed["status"], failed["http_status"], failed["model_used"]) == (
        "failed",
        503,
        "gpt-4o-mini",
    )
    assert failed["routed_from"] is None and routing(failed)["fallback"] == "503"
    assert (retried["status"], retried["model_used"], retried["cost_nanos"]) == (
        "settled",
        "gpt-4o",
        147_500,
    )
    assert routing(retried)["mode"] == "fallback"


async def _savings(gw: RunningGateway, **params: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http:
        async with http.get(
            f"{gw.url}/api/v1/savings",
            params=params,
            headers={"authorization": f"Bearer {ADMIN_TOKEN}"},
        ) as resp:
            assert resp.status == 200, await resp.text()
            body: dict[str, Any] = await resp.json()
    return body


async def test_savings_api_totals_routed_calls_with_non_attributed(routed_gw: Any) -> None:
    gw, _, _ = routed_gw
    for key in (gw.key(), gw.key(department="unattributed", project="", agent="")):
        async with oai(gw, key) as c:
            await c.chat.completions.create(model="gpt-4o", messages=HELLO)
    await asyncio.to_thread(gw.events)
    body = await _savings(gw, group_by="department")
    assert body["total_usd"] == "0.0002773"
    assert sorted((r["department"], r["saved_usd"], r["requests"]) for r in body["rows"]) == [
        ("Engineering", "0.00013865", 1),
        ("Non-attributed", "0.00013865", 1),
    ]
    assert body["rows"][0]["requested_cost_usd"] == "0.0001475"
    assert body["rows"][0]["actual_cost_usd"] == "0.00000885"


async def test_shadow_records_the_saving_and_forwards_as_requested(shadow_gw: Any) -> None:
    gw, fo, _ = shadow_gw
    async with oai(gw, gw.key()) as c:
        raw = await c.chat.completions.with_raw_response.create(model="gpt-4o", messages=HELLO)
    assert "x-llmledger-routed-from" not in raw.headers
    assert fo.last.json()["model"] == "gpt-4o"
    [event] = await asyncio.to_thread(gw.events)
    assert event["routed_from"] is None and event["cost_nanos"] == 147_500
    decision = routing(event)
    assert decision["mode"] == "shadow"
    assert (decision["would_cost_nanos"], decision["saved_nanos"]) == (8_850, 138_650)
    shadow = await _savings(gw, group_by="department,model", mode="shadow")
    assert shadow["total_usd"] == "0.00013865"
    assert shadow["rows"] == [
        {
            "department": "Engineering",
            "model": "gpt-4o",
            "requested_cost_usd": "0.0001475",
            "actual_cost_usd": "0.00000885",
            "saved_usd": "0.00013865",
            "requests": 1,
        }
    ]
    assert (await _savings(gw))["total_usd"] == "0"
