"""Live traffic while the demo runs: the official SDKs call the gateway, which answers from
its sandbox upstream, so new requests keep arriving in the views.

A few calls a minute with the demo agents' keys, OpenAI and Anthropic alike; the SEO agent
is over its cap, so its calls come back as 429 ``budget_exceeded`` (and are counted as
blocked), as they would in production.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from collections.abc import Sequence

from llmledger.demo.setup import DemoKey

log = logging.getLogger("llmledger.demo")

PROMPTS = (
    "Summarise this customer ticket in two sentences.",
    "Draft a short follow-up email to a prospect who asked about pricing.",
    "Review this diff for obvious bugs and missing tests.",
    "Write a product description for a waterproof hiking backpack.",
    "Classify this support request: billing, technical or account.",
    "Suggest three SEO titles for an article about budgeting for AI.",
)


async def call_once(base_url: str, key: DemoKey, prompt: str) -> str:
    """One call through the gateway with the provider's own SDK; returns its outcome."""
    # The SDKs load in about a second: imported when the demo's traffic starts, not
    # with every command of the CLI.
    import anthropic
    import openai

    try:
        if key.provider == "openai":
            async with openai.AsyncOpenAI(
                base_url=f"{base_url}/openai/v1", api_key=key.secret, max_retries=0
            ) as oai:
                await oai.chat.completions.create(
                    model=key.model, messages=[{"role": "user", "content": prompt}], max_tokens=256
                )
        else:
            async with anthropic.AsyncAnthropic(
                base_url=f"{base_url}/anthropic", api_key=key.secret, max_retries=0
            ) as ant:
                await ant.messages.create(
                    model=key.model, max_tokens=256, messages=[{"role": "user", "content": prompt}]
                )
    except (openai.RateLimitError, anthropic.RateLimitError):
        return "blocked"
    except (openai.APIError, anthropic.APIError) as exc:
        log.debug("demo call failed: %s", exc)
        return "error"
    return "ok"


async def run_live_traffic(
    base_url: str,
    keys: Sequence[DemoKey],
    *,
    seed: int = 0,
    mean_interval_s: float = 12.0,
    calls: int | None = None,
) -> Counter[str]:
    """Call the gateway at random intervals (`calls` times, or until cancelled); returns
    how many calls went through, were blocked or failed."""
    rng = random.Random(seed)
    outcomes: Counter[str] = Counter()
    made = 0
    while calls is None or made < calls:
        key = rng.choice(list(keys))
        outcomes[await call_once(base_url, key, rng.choice(PROMPTS))] += 1
        made += 1
        if calls is None or made < calls:
            await asyncio.sleep(rng.expovariate(1 / mean_interval_s) if mean_interval_s else 0)
    return outcomes
