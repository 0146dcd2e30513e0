"""Bad input to the API and pages: a clear 4xx, never a 500."""

from __future__ import annotations

import pytest

from tests.web.dataset import PASSWORD
from tests.web.harness import Running

API_CASES = [
    ("/api/v1/hierarchy?department=Nope", 404),
    ("/api/v1/hierarchy?from=2026-05-01&to=2026-04-01", 422),
    ("/api/v1/hierarchy?from=yesterday", 422),
    ("/api/v1/hierarchy?from=2026-02-30", 422),
    ("/api/v1/hierarchy?department=" + "x" * 500, 422),
    ("/api/v1/events?limit=0", 422),
    ("/api/v1/events?limit=99999999999999999999999", 422),
    ("/api/v1/events?cursor=%%%not-a-cursor", 422),
    ("/api/v1/events?cursor=" + "A" * 5000, 422),
    ("/api/v1/events?cursor=MTIzOg", 422),
    ("/api/v1/events?status=exploded", 422),
    ("/api/v1/events?department=Nope", 404),
    ("/api/v1/events?from=2026-05-01&to=2026-04-01", 422),
    ("/api/v1/savings?group_by=usage_type", 422),
    ("/api/v1/savings?group_by=", 422),
    ("/api/v1/savings?group_by=department,department", 422),
    ("/api/v1/savings?department=Nope", 404),
    ("/api/v1/costs?group_by=color", 422),
    ("/api/v1/costs?from=2026-05-01&to=2026-04-01", 422),
    ("/api/v1/summary?as_of=13/13/2026", 422),
]

PAGE_CASES = [
    ("/organisation?period=forever", 422),
    ("/attribution?period=forever", 422),
    ("/attribution?sort=colour", 422),
    ("/attribution?order=sideways", 422),
    ("/attribution?from=2026-05-01&to=2026-04-01", 422),
    ("/attribution?from=not-a-date", 422),
    ("/attribution?provider=nope", 404),
    ("/attribution.csv?from=2026-05-01&to=2026-04-01", 422),
    ("/requests?department=Nope", 404),
    ("/requests?cursor=garbage!!", 422),
    ("/requests?from=2026-13-01", 422),
    ("/savings?group_by=colour", 422),
    ("/savings?period=99999999999999999999", 422),
    ("/guardrails/bud_nope/cap", 405),
    ("/no-such-page", 404),
]


@pytest.mark.parametrize(("path", "status"), API_CASES)
def test_api_bad_input(running: Running, path: str, status: int) -> None:
    reply = running.api(path)
    assert reply.status == status, reply.text
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.json()["detail"]


def test_pages_bad_input(running: Running) -> None:
    client = running.client()
    assert client.sign_in("admin@example.com", PASSWORD).status == 303
    for path, status in PAGE_CASES:
        reply = client.get(path)
        assert reply.status == status, (path, reply.text[:500])
        assert reply.headers["content-type"].startswith("text/html"), path
        assert 'class="card error-card"' in reply.text, path


def test_raise_cap_bad_input(fresh: Running) -> None:
    client = fresh.client()
    client.sign_in("cfo@example.com", PASSWORD)
    budget = fresh.api("/api/v1/budgets").json()["budgets"][0]["id"]
    csrf = client.csrf("/guardrails")
    for form, status in (
        ({"limit_usd": "lots", "reason": "x"}, 422),
        ({"limit_usd": "-5", "reason": "x"}, 422),
        ({"limit_usd": "1e400", "reason": "x"}, 422),
        ({"limit_usd": "7000.001", "reason": "x"}, 422),
        ({"limit_usd": "7000", "reason": "  "}, 422),
        ({"limit_usd": "7000"}, 422),
    ):
        reply = client.post(f"/guardrails/{budget}/cap", {**form, "csrf_token": csrf})
        assert reply.status == status, (form, reply.text[:300])
    reply = client.post(
        "/guardrails/bud_nope/cap", {"limit_usd": "1", "reason": "x", "csrf_token": csrf}
    )
    assert reply.status == 404
