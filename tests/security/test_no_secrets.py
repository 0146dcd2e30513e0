"""Provider keys and prompts never reach logs, responses or the store (invariant 7)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import openai
import pytest

from tests.fakes.anthropic_fake import FakeAnthropic
from tests.fakes.openai_fake import FakeOpenAI
from tests.gateway.harness import RunningGateway

PROMPT = "The secret launch codename is PELICAN-7731, summarise the plan"


async def test_nothing_secret_is_kept(
    gateway: RunningGateway,
    fake_openai: FakeOpenAI,
    fake_anthropic: FakeAnthropic,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    key = gateway.key()
    seen: list[str] = []
    async with openai.AsyncOpenAI(
        base_url=f"{gateway.url}/openai/v1", api_key=key, max_retries=0
    ) as client:
        raw = await client.chat.completions.with_raw_response.create(
            model="gpt-4o", messages=[{"role": "user", "content": PROMPT}]
        )
        seen.append(str(raw.headers) + raw.http_response.text)
        stream = await client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": PROMPT}], stream=True
        )
        seen.extend(str(chunk) for chunk in [c async for c in stream])
        fake_openai.use("429")
        with pytest.raises(openai.RateLimitError) as err:
            await client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": PROMPT}]
            )
        seen.append(str(err.value.body) + str(err.value.response.headers))
    # the upstream did get the prompt: the scan below is not vacuous
    assert PROMPT in fake_openai.requests[0].body.decode()
    await asyncio.to_thread(gateway.events)
    store_bytes = b"".join(p.read_bytes() for p in tmp_path.glob("ledger.db*"))
    # The server side's logs only: the SDK's own debug log of its request is the caller's.
    client_side = ("openai", "httpx", "httpcore", "anthropic")
    server_logs = "\n".join(
        f"{r.name} {r.getMessage()}" for r in caplog.records if not r.name.startswith(client_side)
    )
    texts = {
        "logs": server_logs,
        "responses": "\n".join(seen),
        "store": store_bytes.decode("latin-1"),
    }
    for secret in (fake_openai.api_key, fake_anthropic.api_key, "PELICAN-7731"):
        for where, text in texts.items():
            assert secret not in text, f"{secret!r} found in {where}"
    # the virtual key itself is stored only as a hash
    assert key not in texts["store"] and key[:12] in texts["store"]
