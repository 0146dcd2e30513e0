"""Per-key rate limits and revocations across replicas: two gateways sharing one store and
a real Redis enforce one limit between them; without Redis each falls back to its own
buckets and serves the calls; a revocation on one reaches the other at once."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import redis
from typer.testing import CliRunner

from llmledger.cli.main import app as cli
from llmledger.gateway.shared_limits import PREFIX, SharedRateLimits
from llmledger.ledger import keys
from llmledger.settings import Settings
from tests.fakes.openai_fake import FakeOpenAI
from tests.gateway.harness import ADMIN_TOKEN, RunningGateway, serve
from tests.services import fresh_postgres_database, redis_url

pytestmark = [pytest.mark.redis, pytest.mark.postgres]
HI: Any = [{"role": "user", "content": "hi"}]


def _settings(store_url: str, fake: FakeOpenAI, redis_at: str) -> Settings:
    return Settings(
        store={"url": store_url, "redis_url": redis_at},
        organisation={"timezone": "America/New_York"},
        providers={"openai": {"base_url": fake.url, "api_key_env": "TEST_OPENAI_KEY"}},
        admin_token=ADMIN_TOKEN,
    )


@contextmanager
def replicas(
    tmp_path: Path, fake: FakeOpenAI, redis_at: str
) -> Iterator[tuple[RunningGateway, RunningGateway]]:
    """Two gateway applications, each its own server, one PostgreSQL store, one Redis
    (a SQLite store belongs to one process)."""
    with ExitStack() as stack:
        url = stack.enter_context(fresh_postgres_database())
        settings = _settings(url, fake, redis_at)
        a = stack.enter_context(serve(settings))
        b = stack.enter_context(serve(settings))
        yield a, b


def _limits(gateway: RunningGateway) -> SharedRateLimits:
    limits = gateway.app.shared_limits
    assert limits is not None
    return limits


async def _call(gateway: RunningGateway, key: str) -> openai.APIStatusError | None:
    async with openai.AsyncOpenAI(
        base_url=f"{gateway.url}/openai/v1", api_key=key, max_retries=0
    ) as client:
        try:
            await client.chat.completions.create(model="gpt-4o", messages=HI)
        except openai.APIStatusError as exc:
            return exc
    return None


@pytest.fixture
def shared_redis(monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAI) -> str:
    monkeypatch.setenv("TEST_OPENAI_KEY", fake_openai.api_key)
    return redis_url()


async def test_two_replicas_enforce_one_request_limit(
    tmp_path: Path, shared_redis: str, fake_openai: FakeOpenAI
) -> None:
    with replicas(tmp_path, fake_openai, shared_redis) as (a, b):
        key = await asyncio.to_thread(a.key, rpm_limit=4)
        outcomes = [await _call(a if i % 2 == 0 else b, key) for i in range(8)]
        events = await asyncio.to_thread(a.events)
        assert _limits(a).fallbacks == 0 and _limits(b).fallbacks == 0
    served = [o for o in outcomes if o is None]
    refused = [o for o in outcomes if o is not None]
    # each replica alone would have let 4 through: 8 in all
    assert len(served) == 4 and outcomes[:4] == [None] * 4
    assert len(refused) == 4 and len(events) == 4  # refused calls leave nothing
    for err in refused:
        assert isinstance(err, openai.RateLimitError)
        assert isinstance(err.body, dict) and err.body["type"] == "rate_limit_exceeded"
        assert "4 requests per minute" in err.body["message"]
        assert 1 <= int(err.response.headers["retry-after"]) <= 15


async def test_two_replicas_share_the_token_budget(
    tmp_path: Path, shared_redis: str, fake_openai: FakeOpenAI
) -> None:
    client = redis.Redis.from_url(shared_redis)
    with replicas(tmp_path, fake_openai, shared_redis) as (a, b), client:
        key = await asyncio.to_thread(a.key, tpm_limit=20)
        with a.store.read() as conn:
            key_id = keys.list_keys(conn)[0].id
        assert await _call(a, key) is None  # 29 tokens (19 in, 10 out): the bucket is at -9
        deadline = time.monotonic() + 5
        while float(client.hget(PREFIX + key_id, "t") or 0) > 0:  # charged after settling
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        refused = await _call(b, key)
        assert isinstance(refused, openai.RateLimitError)
        assert isinstance(refused.body, dict)
        assert "20 tokens per minute" in refused.body["message"]
        assert 28 <= int(refused.response.headers["retry-after"]) <= 31  # 10 tokens at 1/3s
        assert 0 < client.pttl(PREFIX + key_id) <= 90_000  # gone once it would be full


def _silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers (a Redis that hangs)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


def _closed_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    yield port


@pytest.mark.parametrize("redis_down", [_closed_port, _silent_port], ids=["refused", "hangs"])
async def test_redis_down_falls_back_to_local_limits(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_openai: FakeOpenAI,
    caplog: pytest.LogCaptureFixture,
    redis_down: Any,
) -> None:
    monkeypatch.setenv("TEST_OPENAI_KEY", fake_openai.api_key)
    caplog.set_level(logging.WARNING, logger="llmledger.ratelimit")
    for port in redis_down():
        settings = _settings(
            f"sqlite:///{tmp_path / 'ledger.db'}", fake_openai, f"redis://127.0.0.1:{port}/0"
        )
        with serve(settings) as gateway:
            key = await asyncio.to_thread(gateway.key, rpm_limit=2)
            started = time.monotonic()
            outcomes = [await _call(gateway, key) for _ in range(3)]
            took = time.monotonic() - started
            unlimited = await asyncio.to_thread(gateway.key)
            assert [await _call(gateway, unlimited) for _ in range(3)] == [None] * 3
            assert _limits(gateway).down and _limits(gateway).fallbacks == 3
    assert outcomes[:2] == [None, None]  # served: Redis never fails a call
    assert isinstance(outcomes[2], openai.RateLimitError)  # this replica's own limit
    assert took < 10
    warned = [r.getMessage() for r in caplog.records if r.name == "llmledger.ratelimit"]
    assert len(warned) == 1 and "Redis cannot be reached" in warned[0]


def _wait_refused(gateway: RunningGateway, key: str) -> float:
    """Seconds until `gateway` refuses `key` as invalid."""
    started = time.monotonic()
    while True:
        outcome = asyncio.run(_call(gateway, key))
        if isinstance(outcome, openai.AuthenticationError):
            return time.monotonic() - started
        assert time.monotonic() - started < 10, outcome
        time.sleep(0.05)


async def test_revocation_reaches_every_replica_at_once(
    tmp_path: Path, shared_redis: str, fake_openai: FakeOpenAI
) -> None:
    with replicas(tmp_path, fake_openai, shared_redis) as (a, b):
        for gateway in (a, b):
            feed = gateway.app.revocations
            assert feed is not None
            deadline = time.monotonic() + 10
            while not feed.listening.is_set():
                assert time.monotonic() < deadline
                await asyncio.sleep(0.02)
            # Only the broadcast can make a replica drop a key it has cached for an hour.
            gateway.app.runtime.keys.ttl = 3600
        by_api = await asyncio.to_thread(a.key)
        by_cli = await asyncio.to_thread(a.key)
        for key in (by_api, by_cli):
            assert await _call(a, key) is None and await _call(b, key) is None  # cached
        with a.store.read() as conn:
            ids = {k.prefix: k.id for k in keys.list_keys(conn)}
        reply = httpx.delete(
            f"{a.url}/api/v1/keys/{ids[by_api[:12]]}",
            headers={"authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert reply.status_code == 200
        assert await asyncio.to_thread(_wait_refused, b, by_api) < 5
        config = tmp_path / "llmledger.toml"
        config.write_text(
            f'[store]\nurl = "{a.app.runtime.settings.store.url}"\nredis_url = "{shared_redis}"\n'
        )
        result = CliRunner().invoke(
            cli, ["--config", str(config), "keys", "revoke", ids[by_cli[:12]]]
        )
        assert result.exit_code == 0, result.output
        for gateway in (a, b):
            assert await asyncio.to_thread(_wait_refused, gateway, by_cli) < 5
        assert b.app.revocations is not None and b.app.revocations.received == 2
