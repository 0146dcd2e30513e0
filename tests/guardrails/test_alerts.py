"""Budget alerts through a real SMTP server (aiosmtpd) and a real webhook receiver:
exactly one message per threshold crossing, with the ledger's figures, none repeated
after a restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import openai
import pytest

from llmledger.guardrails.budgets import set_budget
from llmledger.settings import Settings
from tests.gateway.harness import ADMIN_TOKEN, RunningGateway, serve
from tests.guardrails.test_concurrency import UPSTREAM_KEY, slow_openai  # noqa: F401
from tests.notify.servers import Inbox, WebhookReceiver, parts, smtp_server, webhook_server

SECRET = b"hook-secret"


def settings_for(tmp_path: Path, upstream: str, smtp_port: int) -> Settings:
    return Settings(
        store={"url": f"sqlite:///{tmp_path / 'ledger.db'}"},
        providers={"openai": {"base_url": upstream, "api_key_env": "SLOW_OPENAI_KEY"}},
        notify={
            "smtp": {
                "host": "127.0.0.1",
                "port": smtp_port,
                "starttls": False,
                "from": "llmledger@acme.test",
            },
            "webhook": {"url_env": "ALERT_HOOK_URL", "secret_env": "ALERT_HOOK_SECRET"},
            "budget_check_s": 0.2,
            "poll_interval_s": 1,
        },
        digest={"recipients": ["cfo@acme.test"]},
        admin_token=ADMIN_TOKEN,
    )


async def call(gw: RunningGateway, key: str, n: int) -> list[int]:
    out = []
    async with openai.AsyncOpenAI(base_url=f"{gw.url}/openai/v1", api_key=key, max_retries=0) as c:
        for _ in range(n):
            try:
                await c.chat.completions.create(
                    model="gpt-4o", max_tokens=750, messages=[{"role": "user", "content": "hi"}]
                )
                out.append(200)
            except openai.RateLimitError:
                out.append(429)
    return out


def crossings(inbox: Inbox) -> list[EmailMessage]:
    """Threshold and block alerts (the digest and the projection alert aside)."""
    return [
        m
        for m in inbox.messages
        if m["subject"].startswith("[llmledger] Budget") and "projected" not in m["subject"]
    ]


def hook_crossings(hook: WebhookReceiver) -> list[dict[str, Any]]:
    return [r["body"] for r in hook.received if r["body"].get("event") not in (None, "projected")]


async def wait_for(predicate: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    with smtp_server() as server:
        yield server


async def test_one_message_per_threshold_and_none_after_restart(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    slow_openai: str,  # noqa: F811
    smtp: tuple[Inbox, int],
) -> None:
    inbox, port = smtp
    monkeypatch.setenv("SLOW_OPENAI_KEY", UPSTREAM_KEY)
    monkeypatch.setenv("ALERT_HOOK_SECRET", SECRET.decode())
    async with webhook_server(WebhookReceiver(SECRET)) as hook:
        monkeypatch.setenv("ALERT_HOOK_URL", hook.url)
        settings = settings_for(tmp_path, slow_openai, port)
        with serve(settings) as gw:
            key = gw.key("Marketing", "Content", "writer")
            with gw.store.write() as conn:
                set_budget(
                    conn,
                    scope="agent:Marketing/Content/writer",
                    limit_usd=Decimal("0.10"),
                    owners=["owner@acme.test"],
                )
            assert await call(gw, key, 8) == [200] * 8  # $0.08: 80%
            await wait_for(lambda: len(crossings(inbox)) == 1 and len(hook_crossings(hook)) == 1)
            [mail] = crossings(inbox)
            assert sorted(inbox.envelopes[inbox.messages.index(mail)][1]) == [
                "cfo@acme.test",
                "owner@acme.test",
            ]
            assert "passed 80%" in mail["subject"]
            text = mail.get_content() if not mail.is_multipart() else parts(mail)[0]
            assert "Spent:      $0.08 of $0.10 (80.0%)" in text
            [body] = hook_crossings(hook)
            assert (body["event"], body["spent_usd"], body["limit_usd"]) == ("0.8", "0.08", "0.1")
            await asyncio.sleep(1)
            assert len(crossings(inbox)) == 1  # not twice
            assert await call(gw, key, 1) == [200]  # $0.09: 90%
            await wait_for(lambda: len(crossings(inbox)) == 2)
            assert "passed 90%" in crossings(inbox)[1]["subject"]
        with serve(settings) as gw:  # a restart sends nothing again
            await asyncio.sleep(1.5)
            # (messages queued before the restart, such as the digest, may still go out now)
            assert len(crossings(inbox)) == 2
            assert len(hook_crossings(hook)) == 2
            # the last $0.01 fits; the next call is blocked, and that is told once
            assert await call(gw, key, 2) == [200, 429]
            await wait_for(lambda: any("blocked" in m["subject"] for m in inbox.messages))
            await asyncio.sleep(1)
            subjects = [m["subject"] for m in crossings(inbox)]
            assert sum("blocked" in s for s in subjects) == 1
            assert sum("passed 80%" in s for s in subjects) == 1
