"""The official anthropic SDK through the gateway to a fake Anthropic on loopback.

Expected costs from Anthropic's published prices (claude.com/pricing): Claude Sonnet 4.5
$3 input / $15 output per million tokens.
"""

from __future__ import annotations

import asyncio

import anthropic
import pytest

from tests.fakes.anthropic_fake import FakeAnthropic
from tests.gateway.harness import RunningGateway


async def test_message_is_priced(gateway: RunningGateway, fake_anthropic: FakeAnthropic) -> None:
    key = gateway.key("Marketing", "Content", "writer")

    def call() -> anthropic.types.Message:
        c = anthropic.Anthropic(base_url=f"{gateway.url}/anthropic", api_key=key, max_retries=0)
        with c:
            raw = c.messages.with_raw_response.create(
                model="claude-sonnet-4-5",
                max_tokens=256,
                messages=[{"role": "user", "content": "Hello"}],
            )
            assert raw.headers["x-llmledger-cost-usd"] == "0.000216"
            return raw.parse()

    message = await asyncio.to_thread(call)
    assert message.usage.output_tokens == 12
    assert fake_anthropic.last.headers.get("x-api-key") == fake_anthropic.api_key
    assert "anthropic-version" in fake_anthropic.last.headers
    [event] = await asyncio.to_thread(gateway.events)
    assert (event["department"], event["agent"], event["cost_nanos"]) == (
        "Marketing",
        "writer",
        216_000,
    )


async def test_stream_is_metered_from_its_events(
    gateway: RunningGateway, fake_anthropic: FakeAnthropic
) -> None:
    c = anthropic.AsyncAnthropic(
        base_url=f"{gateway.url}/anthropic", api_key=gateway.key(), max_retries=0
    )
    async with c:
        async with c.messages.stream(
            model="claude-sonnet-4-5", max_tokens=100, messages=[{"role": "user", "content": "Hi"}]
        ) as stream:
            final = await stream.get_final_message()
    assert final.usage.output_tokens == 15
    [event] = await asyncio.to_thread(gateway.events)
    assert gateway.usage_of(event["id"]) == {"input_tokens": 25, "output_tokens": 15}
    assert event["cost_nanos"] == 300_000


async def test_budget_blocks_with_anthropic_error(
    gateway: RunningGateway, fake_anthropic: FakeAnthropic
) -> None:
    from decimal import Decimal

    from llmledger.guardrails.budgets import set_budget

    key = gateway.key("Marketing", "SEO", "seo-agent")
    with gateway.store.write() as conn:
        set_budget(conn, scope="agent:Marketing/SEO/seo-agent", limit_usd=Decimal("0.001"))
    gateway.app.runtime.budgets.invalidate()
    c = anthropic.AsyncAnthropic(base_url=f"{gateway.url}/anthropic", api_key=key, max_retries=0)
    async with c:
        with pytest.raises(anthropic.RateLimitError) as err:
            await c.messages.create(
                model="claude-sonnet-4-5",
                max_tokens=4096,
                messages=[{"role": "user", "content": "Hi"}],
            )
    assert err.value.body["error"]["type"] == "budget_exceeded"  # type: ignore[index]
    assert "agent:Marketing/SEO/seo-agent" in err.value.message
    assert int(err.value.response.headers["retry-after"]) > 0
    assert fake_anthropic.requests == []
    [event] = await asyncio.to_thread(gateway.events)
    assert event["status"] == "blocked"
