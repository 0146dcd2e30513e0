"""/metrics, /readyz, JSON logs and the lease, in process on SQLite (fast)."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from llmledger.ledger import reservations
from llmledger.ledger.event import EventSource, EventStatus, UsageEvent
from llmledger.ops.lease import LeaseKeeper
from llmledger.ops.logging import JsonFormatter, request_id
from llmledger.settings import Settings
from tests.gateway.harness import ADMIN_TOKEN, RunningGateway, serve
from tests.guardrails.test_concurrency import UPSTREAM_KEY, hammer_one, slow_openai

__all__ = ["slow_openai"]  # the fixture, used by name


@pytest.fixture
def gateway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slow_openai: str
) -> Iterator[RunningGateway]:
    monkeypatch.setenv("SLOW_OPENAI_KEY", UPSTREAM_KEY)
    settings = Settings(
        store={"url": f"sqlite:///{tmp_path / 'ledger.db'}"},
        providers={"openai": {"base_url": slow_openai, "api_key_env": "SLOW_OPENAI_KEY"}},
        admin_token=ADMIN_TOKEN,
        anomalies={"enabled": False},
    )
    with serve(settings) as running:
        yield running


async def test_metrics_count_calls_cost_and_latency(gateway: RunningGateway) -> None:
    key = gateway.key("Marketing", "SEO", "seo-agent")
    await asyncio.gather(*(hammer_one(gateway, key) for _ in range(3)))
    async with httpx.AsyncClient(base_url=gateway.url) as client:
        text = (await client.get("/metrics")).text
        ready = await client.get("/readyz")
    assert 'llmledger_requests_total{provider="openai",status="200"} 3.0' in text
    assert (
        'llmledger_cost_usd_total{department="Marketing",model="gpt-4o-2024-08-06",'
        'provider="openai"} 0.03'
    ) in text
    assert 'usage_type="output_tokens"} 2250.0' in text
    assert 'llmledger_added_latency_seconds_count{provider="openai"} 3.0' in text
    assert "llmledger_reservations_in_flight 0.0" in text
    assert "llmledger_writer_queue" in text
    assert ready.status_code == 200
    body = ready.json()
    assert body["store"] is True and body["upstreams"]["openai"] is True


def test_json_log_lines_carry_the_request_id() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    log = logging.getLogger("llmledger.test-json")
    log.addHandler(handler)
    log.propagate = False
    try:
        token = request_id.set("abc123")
        log.warning("upstream slow", extra={"provider": "openai"})
        request_id.reset(token)
    finally:
        log.removeHandler(handler)
    line = json.loads(out.getvalue())
    assert line["request_id"] == "abc123"
    assert line["message"] == "upstream slow" and line["provider"] == "openai"
    assert line["level"] == "warning"


async def test_lease_settles_once(gateway: RunningGateway) -> None:
    """Two keepers (two replicas) and a late settlement: booked once."""
    store = gateway.store
    old = datetime.now(UTC) - timedelta(hours=1)
    event = UsageEvent(
        id="abandoned-1",
        ts=old,
        provider="openai",
        model_requested="gpt-4o",
        source=EventSource.GATEWAY,
        reserved_nanos=5_000,
    )
    with store.write() as conn:
        reservations.reserve(conn, event, [])
    writer = gateway.app.runtime.writer
    a, b = LeaseKeeper(writer, 60, 1), LeaseKeeper(writer, 60, 1)
    assert sorted(await asyncio.gather(a.run_once(), b.run_once())) == [0, 1]
    late = UsageEvent(
        id="abandoned-1",
        ts=old,
        provider="openai",
        model_requested="gpt-4o",
        source=EventSource.GATEWAY,
        status=EventStatus.SETTLED,
    )
    with store.write() as conn:
        assert reservations.settle_many(conn, [late, late], store.zone) == [False, False]
    rows = gateway.events()
    assert [(r["status"], r["cost_nanos"]) for r in rows] == [("unsettled", 5_000)]
