"""Hourly rollup rows written straight into a store, for the runner, CLI and API tests."""

from __future__ import annotations

import random
from typing import Any

from llmledger.ledger import schema
from llmledger.ledger.store import Store
from tests.anomalies.builders import CPC, DIMS, hour_us, office_calls


def _calls_row(t: int, calls: int, cost: int) -> dict[str, Any]:
    dept, project, agent, key_id = DIMS
    return {
        "hour_us": hour_us(t),
        "department": dept,
        "project": project,
        "agent": agent,
        "key_id": key_id,
        "provider": "openai",
        "model": "gpt-4o-mini",
        "calls": calls,
        "cost_nanos": cost,
        "list_cost_nanos": cost,
        "unpriced_calls": 0,
        "routed_calls": 0,
        "routed_cost_nanos": 0,
        "requested_cost_nanos": 0,
    }


def _usage_row(t: int, usage_type: str, cost: int) -> dict[str, Any]:
    dept, project, agent, key_id = DIMS
    return {
        "hour_us": hour_us(t),
        "department": dept,
        "project": project,
        "agent": agent,
        "key_id": key_id,
        "provider": "openai",
        "model": "gpt-4o-mini",
        "usage_type": usage_type,
        "quantity_milli": cost,
        "cost_nanos": cost,
        "list_cost_nanos": cost,
    }


def fill(store: Store, hours: int, spikes: dict[int, int], seed: int = 1) -> None:
    """An office agent for `hours` hours; `spikes` adds calls to given hours."""
    rng = random.Random(seed)
    calls_rows, usage_rows = [], []
    for t in range(hours):
        calls = office_calls(t, rng) + spikes.get(t, 0)
        cost = calls * CPC
        calls_rows.append(_calls_row(t, calls, cost))
        usage_rows.append(_usage_row(t, "input_tokens", cost * 4 // 10))
        usage_rows.append(_usage_row(t, "output_tokens", cost - cost * 4 // 10))
    with store.write() as conn:
        conn.execute(schema.calls_hourly.insert(), calls_rows)
        conn.execute(schema.usage_hourly.insert(), usage_rows)
