"""The dashboard's API views on the known company: hierarchy, savings, events."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest

from llmledger.ledger.recording import record_events
from tests.web import dataset
from tests.web.harness import Running


def _today() -> str:
    return datetime.now(UTC).astimezone(dataset.ZONE).date().isoformat()


def test_hierarchy_levels_add_up_and_match_costs(running: Running) -> None:
    tree = running.api("/api/v1/hierarchy?from=2026-01-01&to=" + _today()).json()
    flat = running.api(
        "/api/v1/costs?group_by=department,project,agent&from=2026-01-01&to=" + _today()
    ).json()
    assert tree["total_usd"] == flat["total_usd"]
    leaves = {(r["department"], r["project"], r["agent"]): r["cost_usd"] for r in flat["rows"]}
    seen = {}
    for d in tree["departments"]:
        assert Decimal(d["cost_usd"]) == sum(Decimal(p["cost_usd"]) for p in d["projects"])
        for p in d["projects"]:
            assert Decimal(p["cost_usd"]) == sum(Decimal(a["cost_usd"]) for a in p["agents"])
            for a in p["agents"]:
                seen[(d["department"], p["project"], a["agent"])] = a["cost_usd"]
    assert seen == leaves


def test_hierarchy_carries_every_usage_type(running: Running) -> None:
    today = _today()
    tree = running.api(f"/api/v1/hierarchy?from={today}&to={today}").json()
    eng = next(d for d in tree["departments"] if d["department"] == "Engineering")
    qa = next(p for p in eng["projects"] if p["project"] == "QA")
    agent = qa["agents"][0]
    assert agent["agent"] == "visual-tester"
    assert agent["usage"] == {
        "input_tokens": 1000,
        "images": 25,
        "audio_seconds": 2,
        "video_seconds": "4.5",
    }
    assert agent["usage_cost_usd"]["images"] == "20"
    assert agent["usage_cost_usd"]["video_seconds"] == "9"


def test_hierarchy_filters_by_provider(running: Running) -> None:
    tree = running.api("/api/v1/hierarchy?provider=bedrock").json()
    assert {d["department"] for d in tree["departments"]} <= {"Engineering", "Finance"}


def test_savings_by_agent(running: Running) -> None:
    today = _today()
    data = running.api(f"/api/v1/savings?from={today}&to={today}&group_by=department,agent").json()
    assert data["total_usd"] == "9"
    assert data["rows"] == [
        {
            "department": "Sales",
            "agent": "sdr-agent",
            "requested_cost_usd": "10",
            "actual_cost_usd": "1",
            "saved_usd": "9",
            "requests": 1,
        }
    ]


def test_savings_names_missing_attribution(fresh: Running) -> None:
    store = fresh.app.runtime.store
    moment = dataset.at(datetime.now(UTC).astimezone(dataset.ZONE).date(), 59)
    event = dataset.text_event(
        "routed-anon",
        moment,
        "unattributed",
        "",
        "",
        "openai",
        "gpt-4o-mini",
        "2",
        requested="gpt-4o",
        routed_from="gpt-4o",
        requested_usd="5",
    )
    with store.write() as conn:
        record_events(conn, [event], store.zone)
    today = _today()
    rows = fresh.api(f"/api/v1/savings?from={today}&to={today}&group_by=department,project").json()[
        "rows"
    ]
    assert {
        "department": "Non-attributed",
        "project": "Non-attributed",
        "requested_cost_usd": "5",
        "actual_cost_usd": "2",
        "saved_usd": "3",
        "requests": 1,
    } in rows


#: Public filter -> the event's attribute it reads.
_ATTRIBUTE = {"model": "model_used", "key": "key_id"}


def _pages(running: Running, query: str, limit: int) -> list[list[dict[str, Any]]]:
    pages = []
    path = f"/api/v1/events?{query}&limit={limit}"
    while path:
        page = running.api(path).json()
        pages.append(page["events"])
        cursor = page["next_cursor"]
        path = f"/api/v1/events?{query}&limit={limit}&cursor={cursor}" if cursor else ""
    return pages


@pytest.mark.parametrize(
    "filters",
    [
        {"department": "Finance"},
        {"project": "Outreach"},
        {"agent": "visual-tester"},
        {"provider": "bedrock"},
        {"model": "gpt-4o-mini"},
        {"department": "Sales", "agent": "sdr-agent"},
    ],
    ids=lambda f: "+".join(f),
)
def test_events_keyset_pages_cover_everything_once(
    running: Running, filters: dict[str, str]
) -> None:
    pages = _pages(running, urlencode(filters), 37)
    seen = [e for page in pages for e in page]
    expected = [
        e
        for e in dataset.events(datetime.now(UTC).astimezone(dataset.ZONE).date())
        if all(getattr(e, _ATTRIBUTE.get(k, k)) == v for k, v in filters.items())
    ]
    assert len(seen) == len(expected) > 37 and len(pages) == -(-len(expected) // 37)
    assert {e["id"] for e in seen} == {e.id for e in expected}
    assert len({e["id"] for e in seen}) == len(seen)
    stamps = [e["timestamp"] for e in seen]
    assert stamps == sorted(stamps, reverse=True)
    assert seen[0]["timestamp"].endswith(("-05:00", "-04:00"))  # New York time


def test_events_by_key_and_end_user(fresh: Running) -> None:
    """Keys and end users (none in the known company): calls of three keys, two in three
    with an end user, six a second (a page may end inside a second), paged by the
    public names."""
    store = fresh.app.runtime.store
    day = datetime.now(UTC).astimezone(dataset.ZONE).date()
    calls = []
    for i in range(60):
        event = dataset.text_event(
            f"keyed-{i:02d}",
            dataset.at(day, 200 + i // 6),
            "Sales",
            "Outreach",
            "sdr-agent",
            "openai",
            "gpt-4o",
            "1",
        )
        event.key_id = f"vk-{i % 3}"
        event.end_user = f"customer-{i % 2}" if i % 3 != 2 else ""
        calls.append(event)
    with store.write() as conn:
        record_events(conn, calls, store.zone)
    for name, value in (("key", "vk-1"), ("end_user", "customer-0")):
        pages = _pages(fresh, urlencode({name: value}), 7)
        ids = [e["id"] for page in pages for e in page]
        attribute = _ATTRIBUTE.get(name, name)
        chosen = [e for e in calls if getattr(e, attribute) == value]
        assert ids == [e.id for e in sorted(chosen, key=lambda e: (e.ts_us, e.id), reverse=True)]
        assert all(e[attribute] == value for page in pages for e in page)


def test_events_filters_and_usage(running: Running) -> None:
    page = running.api("/api/v1/events?agent=visual-tester&limit=1").json()
    event = page["events"][0]
    assert event["usage"] == {
        "input_tokens": 1000,
        "images": 25,
        "audio_seconds": 2,
        "video_seconds": "4.5",
    }
    assert event["cost_usd"] == "29.512"
    today = _today()
    day = running.api(f"/api/v1/events?from={today}&to={today}&limit=500").json()
    assert day["next_cursor"] is None
    assert all(e["timestamp"].startswith(today) for e in day["events"])
