"""Keys in URLs and headers never reach a log line; prompts never reach the store."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx
import pytest

from llmledger import redact
from tests.gateway.harness import RunningGateway

SECRET = "AIzaSyD-very-secret-caller-key"


def test_access_log_lines_are_scrubbed(caplog: pytest.LogCaptureFixture) -> None:
    redact.install()
    # uvicorn's own logging config stops these loggers from propagating: listen on them
    access, errors = logging.getLogger("uvicorn.access"), logging.getLogger("uvicorn.error")
    for logger in (access, errors):
        caplog.set_level(logging.INFO, logger=logger.name)
        logger.addHandler(caplog.handler)
    try:
        path = f"/gemini/v1beta/models/gemini-2.5-flash:generateContent?alt=sse&key={SECRET}"
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5555", "POST", path, "1.1", 200)
        errors.warning(
            "bad request: Authorization: Bearer llk_abcdefghijklmnop x-goog-api-key: %s", SECRET
        )
    finally:
        for logger in (access, errors):
            logger.removeHandler(caplog.handler)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert SECRET not in text and "llk_abcdefghijklmnop" not in text
    assert "generateContent?alt=sse&key=[redacted]" in text


@pytest.mark.parametrize(
    "line, kept",
    [
        ("GET /x?api_key=s3cr3t&b=1", "GET /x?api_key=[redacted]&b=1"),
        ('{"authorization": "Bearer sk-abc123456789"}', '{"authorization": "Bearer [redacted]"}'),
        ("x-api-key: sk-ant-123456789", "x-api-key: [redacted]"),
        ("token lla_ABCDEFGHIJKLMNOP used", "token lla_[redacted] used"),
        ("nothing secret here", "nothing secret here"),
    ],
)
def test_scrub(line: str, kept: str) -> None:
    assert redact.scrub(line) == kept


async def test_gateway_logs_no_url_key(
    gateway: RunningGateway, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    key = await asyncio.to_thread(gateway.key)
    async with httpx.AsyncClient(timeout=20) as client:
        # a key in the query of a provider that does not take one there, and a bad path
        await client.post(
            f"{gateway.url}/openai/v1/chat/completions?key={SECRET}",
            headers={"authorization": f"Bearer {key}"},
            json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
        )
        await client.get(f"{gateway.url}/openai/v1/../x?key={SECRET}")
        await client.get(f"{gateway.url}/api/v1/summary?key={SECRET}")
    await asyncio.to_thread(gateway.events)
    text = "\n".join(
        f"{r.name} {r.getMessage()}"
        for r in caplog.records
        if not r.name.startswith(("httpx", "httpcore"))
    )
    assert SECRET not in text and key not in text
    store = b"".join(p.read_bytes() for p in tmp_path.glob("ledger.db*")).decode("latin-1")
    assert SECRET not in store and key not in store
