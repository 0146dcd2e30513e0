"""Hostile input at the gateway, end to end through the real server (invariant 8).

Every refused request gets an error in OpenAI's own format (no 500) and leaves no event;
every forwarded one leaves exactly one settled event, whatever the upstream does.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.gateway.conftest import gateway_settings
from tests.gateway.harness import RunningGateway, serve
from tests.security.hostile import API_KEY, HostileUpstream, post, raw_http

CHAT = b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}'
PATH = "/openai/v1/chat/completions"


@pytest.fixture
async def hostile() -> AsyncIterator[HostileUpstream]:
    upstream = HostileUpstream()
    await upstream.start()
    try:
        yield upstream
    finally:
        await upstream.close()


@pytest.fixture
def gw(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hostile: HostileUpstream
) -> Iterator[RunningGateway]:
    monkeypatch.setenv("HOSTILE_KEY", API_KEY)
    settings = gateway_settings(
        tmp_path,
        openai={
            "base_url": hostile.url,
            "api_key_env": "HOSTILE_KEY",
            "first_byte_timeout_s": "1",
            "total_timeout_s": "1.5",
        },
    )
    settings.server.max_body_bytes = 64 * 1024
    with serve(settings) as running:
        yield running


async def send(gw: RunningGateway, request: bytes) -> Any:
    return await asyncio.to_thread(raw_http, gw.url, request)


def openai_error(reply: Any, status: int) -> str:
    assert reply.status == status, reply.body
    error = json.loads(reply.body)["error"]
    assert set(error) >= {"message", "type"}
    return str(error["message"])


async def events(gw: RunningGateway) -> list[dict[str, Any]]:
    return await asyncio.to_thread(gw.events)


async def test_refused_bodies_leave_nothing(gw: RunningGateway, hostile: HostileUpstream) -> None:
    key = await asyncio.to_thread(gw.key)
    auth = f"Authorization: Bearer {key}"
    big = b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "' + b"x" * 70_000
    assert "bytes" in openai_error(await send(gw, post(PATH, big + b'"}]}', auth)), 413)
    nested = b'{"model": "gpt-4o", "messages": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    openai_error(await send(gw, post(PATH, nested, auth)), 400)
    deep_object = (
        b'{"model": "gpt-4o", "messages": [' + b'{"a":' * 10_000 + b"1" + (b"}" * 10_000) + b"]}"
    )
    openai_error(await send(gw, post(PATH, deep_object, auth)), 400)
    bad_utf8 = b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "\xff\xfe\xc3"}]}'
    openai_error(await send(gw, post(PATH, bad_utf8, auth)), 400)
    not_json = b"\x00\x01\x02 not json at all"
    openai_error(await send(gw, post(PATH, not_json, auth)), 400)
    assert hostile.requests == []
    assert await events(gw) == []


async def test_header_injection(gw: RunningGateway, hostile: HostileUpstream) -> None:
    key = await asyncio.to_thread(gw.key, "Engineering", "", "", allow_attribution_headers=True)
    auth = f"Authorization: Bearer {key}"
    for value in (
        "evil%0d%0aX-Injected: 1",
        "a\tb",
        "\x7f",
        "x" * 300,
        "../../etc",
        "Backend/coder",
    ):
        reply = await send(gw, post(PATH, CHAT, auth, "X-Project: Backend", f"X-Agent: {value}"))
        assert "x-agent" in openai_error(reply, 400).lower()
        reply = await send(gw, post(PATH, CHAT, auth, f"X-Project: {value}"))
        assert "x-project" in openai_error(reply, 400).lower()
    # a raw CR inside a header value is refused by the HTTP parser itself (never reaches us)
    reply = await send(gw, post(PATH, CHAT, auth, "X-Agent: a\rX-Injected: 1"))
    assert reply.status == 400
    # the key header itself with a line break or junk is simply an unknown key
    reply = await send(gw, post(PATH, CHAT, f"Authorization: Bearer {key}%0d%0aHost: evil"))
    openai_error(reply, 401)
    assert hostile.requests == []
    assert await events(gw) == []


@pytest.mark.parametrize(
    "path",
    [
        "/openai/v1/../../api/v1/budgets",
        "/openai/v1/%2e%2e/%2e%2e/api/v1/budgets",
        "/openai/v1/%2E%2E%2F%2E%2E%2Fapi/v1/budgets",
        "/openai/v1//chat/completions",
        "/openai/v1/chat/completions/../../../keys",
        "/openai/v1/chat%2fcompletions/..%2f..%2fadmin",
        "/openai/v1/.%2e/chat/completions",
        "/openai/v1/chat/completions\\..\\..\\x",
    ],
)
async def test_path_traversal(gw: RunningGateway, hostile: HostileUpstream, path: str) -> None:
    key = await asyncio.to_thread(gw.key)
    reply = await send(gw, post(path, CHAT, f"Authorization: Bearer {key}"))
    assert reply.status in (400, 404), reply.body
    assert b"budgets" not in reply.body and b'"keys"' not in reply.body
    if reply.status == 400:
        openai_error(reply, 400)
    assert hostile.requests == []
    assert await events(gw) == []


async def test_the_upstream_host_comes_from_settings(
    gw: RunningGateway, hostile: HostileUpstream
) -> None:
    key = await asyncio.to_thread(gw.key)
    auth = f"Authorization: Bearer {key}"
    # an absolute-form request target naming another host is not a gateway path
    absolute = post(
        "http://evil.example/openai/v1/chat/completions", CHAT, auth, host="evil.example"
    )
    assert (await send(gw, absolute)).status in (400, 404)
    assert hostile.requests == []
    # Host and forwarding headers are not used to pick the upstream
    tricks = post(
        PATH,
        CHAT,
        auth,
        "X-Forwarded-Host: evil.example",
        "X-Forwarded-Proto: https",
        "Forwarded: host=evil.example",
        "X-Original-URL: http://evil.example/",
        host="evil.example:443",
    )
    reply = await send(gw, tricks)
    assert reply.status == 200, reply.body
    assert len(hostile.requests) == 1
    upstream_port = hostile.url.split(":")[2].split("/")[0]
    sent = {k.lower(): v for k, v in hostile.requests[0]["headers"].items()}
    assert sent["host"] == f"127.0.0.1:{upstream_port}"
    assert "evil" not in json.dumps(sent)
    assert sent["authorization"] == f"Bearer {API_KEY}"
    assert len(await events(gw)) == 1


async def test_a_stream_that_never_ends_is_cut_and_billed(
    gw: RunningGateway, hostile: HostileUpstream
) -> None:
    hostile.mode = "forever"
    key = await asyncio.to_thread(gw.key)
    body = b'{"model": "gpt-4o", "stream": true, "messages": [{"role": "user", "content": "hi"}]}'
    received = b""
    with pytest.raises(httpx.HTTPError):
        async with (
            httpx.AsyncClient(timeout=20) as client,
            client.stream(
                "POST",
                gw.url + PATH,
                content=body,
                headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
            ) as response,
        ):
            assert response.status_code == 200
            async for chunk in response.aiter_bytes():
                received += chunk
    assert b"word0" in received  # it did stream, until the total timeout cut it
    [event] = await events(gw)
    assert event["status"] != "reserved"
    assert event["cost_nanos"] > 0  # billed for the words it produced (estimated)


async def test_a_json_answer_that_never_ends(gw: RunningGateway, hostile: HostileUpstream) -> None:
    hostile.mode = "forever_json"
    key = await asyncio.to_thread(gw.key)
    reply = await send(gw, post(PATH, CHAT, f"Authorization: Bearer {key}"))
    assert reply.status in (502, 504)
    openai_error(reply, reply.status)
    [event] = await events(gw)
    assert event["status"] != "reserved" and event["http_status"] in (502, 504)


@pytest.mark.parametrize(
    "usage",
    [
        {"prompt_tokens": -5, "completion_tokens": -100, "total_tokens": -105},
        {"prompt_tokens": 10**30, "completion_tokens": 10**30},
        '{"prompt_tokens": 1e400, "completion_tokens": 1e308}',
        {"prompt_tokens": "lots", "completion_tokens": None},
        {"prompt_tokens": True, "completion_tokens": [1], "completion_tokens_details": "x"},
        None,
        "[]",
        '"usage"',
    ],
)
async def test_lying_usage(gw: RunningGateway, hostile: HostileUpstream, usage: Any) -> None:
    hostile.usage = usage
    key = await asyncio.to_thread(gw.key)
    reply = await send(gw, post(PATH, CHAT, f"Authorization: Bearer {key}"))
    assert reply.status == 200, reply.body
    assert json.loads(reply.body)["choices"][0]["message"]["content"] == "hi"
    [event] = await events(gw)
    assert event["status"] != "reserved"
    assert 0 <= event["cost_nanos"] < 10**15  # never negative, never absurd
    used = await asyncio.to_thread(gw.usage_of, event["id"])
    assert all(0 <= q < 10**13 for q in used.values()), used
