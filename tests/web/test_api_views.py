"""The dashboard's API views on the known company: hierarchy, savings, events."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

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


def test_events_keyset_pages_cover_everything_once(running: Running) -> None:
    seen: list[dict[str, Any]] = []
    path = "/api/v1/events?department=Finance&limit=37"
    pages = 0
    while path:
        page = running.api(path).json()
        seen.extend(page["events"])
        pages += 1
        cursor = page["next_cursor"]
        path = f"/api/v1/events?department=Finance&limit=37&cursor={cursor}" if cursor else ""
    finance = [
        e
        for e in dataset.events(datetime.now(UTC).astimezone(dataset.ZONE).date())
        if e.department == "Finance"
    ]
    assert len(seen) == len(finance) and pages == -(-len(finance) // 37)
    assert len({e["id"] for e in seen}) == len(seen)
    stamps = [e["timestamp"] for e in seen]
    assert stamps == sorted(stamps, reverse=True)
    assert seen[0]["timestamp"].endswith(("-05:00", "-04:00"))  # New York time


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
