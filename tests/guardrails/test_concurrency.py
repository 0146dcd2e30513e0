"""Invariant 3 under concurrency: 300 calls at once against enforced budgets.

A slow fake OpenAI answers each call with gpt-4o usage worth exactly $0.01 (1,000 input
tokens at $2.50/M plus 750 output tokens at $10/M, openai.com/api/pricing).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path

import openai
import pytest
from aiohttp import web
from sqlalchemy import func, select

from llmledger.guardrails.budgets import set_budget
from llmledger.ledger import schema
from llmledger.settings import Settings
from tests.gateway.harness import ADMIN_TOKEN, RunningGateway, serve

UPSTREAM_KEY = "sk-slow-upstream"
CALLS = 300
COMPLETION = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1741569952,
    "model": "gpt-4o-2024-08-06",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "ok", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ],
    "usage": {
        "prompt_tokens": 1000,
        "completion_tokens": 750,
        "total_tokens": 1750,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    },
}


@pytest.fixture
async def slow_openai() -> AsyncIterator[str]:
    async def chat(request: web.Request) -> web.Response:
        assert request.headers["authorization"] == f"Bearer {UPSTREAM_KEY}"
        await request.read()
        await asyncio.sleep(0.05)
        return web.json_response(COMPLETION)

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/v1"
    await runner.cleanup()


@pytest.fixture
def gateway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slow_openai: str
) -> Iterator[RunningGateway]:
    monkeypatch.setenv("SLOW_OPENAI_KEY", UPSTREAM_KEY)
    settings = Settings(
        store={"url": f"sqlite:///{tmp_path / 'ledger.db'}"},
        providers={"openai": {"base_url": slow_openai, "api_key_env": "SLOW_OPENAI_KEY"}},
        admin_token=ADMIN_TOKEN,
    )
    with serve(settings) as running:
        yield running


async def hammer(gw: RunningGateway, key: str) -> list[int]:
    prompt = "x " * 500  # at most ~1,000 tokens: the reservation's input bound covers it
    async with openai.AsyncOpenAI(
        base_url=f"{gw.url}/openai/v1", api_key=key, max_retries=0, timeout=60
    ) as client:

        async def one() -> int:
            try:
                await client.chat.completions.create(
                    model="gpt-4o", max_tokens=750, messages=[{"role": "user", "content": prompt}]
                )
                return 200
            except openai.RateLimitError as exc:
                assert exc.body["type"] == "budget_exceeded"  # type: ignore[index]
                assert exc.response.headers.get("retry-after")
                return 429

        return await asyncio.gather(*(one() for _ in range(CALLS)))


def settled_spend(gw: RunningGateway, **where: str) -> tuple[int, dict[str, int]]:
    rows = gw.events(timeout=30)
    e = schema.events
    with gw.store.read() as conn:
        q = select(func.coalesce(func.sum(e.c.cost_nanos), 0)).where(e.c.status == "settled")
        for k, v in where.items():
            q = q.where(e.c[k] == v)
        spent = int(conn.execute(q).scalar_one())
    statuses: dict[str, int] = {}
    for r in rows:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    return spent, statuses


async def test_one_budget_is_never_overshot(gateway: RunningGateway) -> None:
    key = gateway.key("Marketing", "SEO", "seo-agent")
    with gateway.store.write() as conn:
        set_budget(conn, scope="agent:Marketing/SEO/seo-agent", limit_usd=Decimal("1.00"))
    gateway.app.runtime.budgets.invalidate()
    outcomes = await hammer(gateway, key)
    spent, statuses = await asyncio.to_thread(settled_spend, gateway)
    served = outcomes.count(200)
    assert served + outcomes.count(429) == CALLS
    assert spent <= 1_000_000_000
    assert spent == served * 10_000_000  # each served call billed exactly $0.01
    assert statuses == {"settled": served, "blocked": CALLS - served}  # one event per call
    assert 50 <= served <= 100  # the budget was used, not refused wholesale


async def test_a_chain_of_budgets_at_different_fills(gateway: RunningGateway) -> None:
    key = gateway.key("Engineering", "QA", "visual-checker")
    other = gateway.key("Engineering", "Backend", "coder")
    with gateway.store.write() as conn:
        set_budget(conn, scope="org", limit_usd=Decimal("100"))
        set_budget(conn, scope="department:Engineering", limit_usd=Decimal("2.00"))
        set_budget(conn, scope="project:Engineering/QA", limit_usd=Decimal("1.50"))
        set_budget(conn, scope="agent:Engineering/QA/visual-checker", limit_usd=Decimal("5"))
    gateway.app.runtime.budgets.invalidate()
    # Another project of the department spends first: $0.60 of Engineering's $2.00.
    warmup = await asyncio.gather(*(hammer_one(gateway, other) for _ in range(60)))
    assert warmup.count(200) == 60
    outcomes = await hammer(gateway, key)
    spent_qa, _ = await asyncio.to_thread(settled_spend, gateway, project="QA")
    spent_eng, statuses = await asyncio.to_thread(settled_spend, gateway, department="Engineering")
    # QA is bound by the department's remaining $1.40, below its own $1.50.
    assert spent_eng <= 2_000_000_000
    assert spent_qa <= 1_400_000_000
    assert spent_qa == outcomes.count(200) * 10_000_000
    assert statuses["blocked"] == outcomes.count(429)


async def hammer_one(gw: RunningGateway, key: str) -> int:
    async with openai.AsyncOpenAI(base_url=f"{gw.url}/openai/v1", api_key=key, max_retries=0) as c:
        await c.chat.completions.create(
            model="gpt-4o", max_tokens=750, messages=[{"role": "user", "content": "x " * 500}]
        )
    return 200
