"""Every role on every page and API route: who may read, who may change, and an owner of
Marketing never reaches Engineering (by URL, query parameter or API, session or token)."""

from __future__ import annotations

import json
import urllib.request

import pytest

from llmledger.ledger.tokens import create_token
from llmledger.ledger.users import Role
from tests.web.dataset import PASSWORD
from tests.web.harness import Client, Reply, Running

ORG_WIDE = {"admin", "finance", "viewer"}
EVERYONE = ORG_WIDE | {"owner"}
#: API route -> the roles that may read it (everyone else: 403; nobody signed in: 401).
API_READS = {
    "/api/v1/summary": ORG_WIDE,
    "/api/v1/costs?group_by=department": ORG_WIDE,
    "/api/v1/costs?group_by=project&department=Marketing": EVERYONE,
    "/api/v1/costs?group_by=project&department=Engineering": ORG_WIDE,
    "/api/v1/hierarchy": EVERYONE,
    "/api/v1/hierarchy?department=Engineering": ORG_WIDE,
    "/api/v1/events": EVERYONE,
    "/api/v1/events?department=Engineering": ORG_WIDE,
    "/api/v1/savings": EVERYONE,
    "/api/v1/savings?department=Engineering": ORG_WIDE,
    "/api/v1/anomalies": EVERYONE,
    "/api/v1/budgets": ORG_WIDE,
    "/api/v1/keys": ORG_WIDE,
    "/api/v1/export/focus": ORG_WIDE,
    "/api/v1/audit": {"admin"},
}
#: Page -> the roles that may see it (owners see theirs only; nobody signed in: sign-in).
PAGES = {
    "/": ORG_WIDE,
    "/organisation": ORG_WIDE,
    "/settings": ORG_WIDE,
    "/anomalies": EVERYONE,
    "/attribution": EVERYONE,
    "/attribution?department=Engineering": EVERYONE,
    "/attribution.csv": EVERYONE,
    "/attribution.csv?department=Engineering": EVERYONE,
    "/guardrails": EVERYONE,
    "/requests": EVERYONE,
    "/savings": EVERYONE,
    "/savings?department=Engineering": EVERYONE,
}
SESSIONS = {
    "admin": "admin@example.com",
    "finance": "cfo@example.com",
    "viewer": "viewer@example.com",
    "owner": "marketing@example.com",
}


def tokens(live: Running) -> dict[str, str]:
    with live.app.runtime.store.write() as conn:
        return {
            role: create_token(conn, Role(role), "department:Marketing" if role == "owner" else "")[
                1
            ]
            for role in SESSIONS
        }


def call(live: Running, method: str, path: str, token: str, body: object = None) -> Reply:
    req = urllib.request.Request(
        live.url + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return Reply(resp.status, dict(resp.headers.items()), resp.read())
    except urllib.error.HTTPError as err:
        with err:
            return Reply(err.code, dict(err.headers.items()), err.read())


def test_api_reads_by_role(running: Running) -> None:
    by_token = tokens(running)
    sessions: dict[str, Client] = {}
    for role, email in SESSIONS.items():
        sessions[role] = running.client()
        assert sessions[role].sign_in(email, PASSWORD).status == 303
    for path, allowed in API_READS.items():
        assert running.client().get(path).status == 401, path
        for role in SESSIONS:
            want = 200 if role in allowed else 403
            assert call(running, "GET", path, by_token[role]).status == want, (path, role)
            assert sessions[role].get(path).status == want, (path, role, "session")
    owner = sessions["owner"]
    for path in (
        "/api/v1/hierarchy",
        "/api/v1/events?limit=500",
        "/api/v1/savings",
        "/api/v1/anomalies",
    ):
        assert "Engineering" not in owner.get(path).text, path
        assert "Engineering" not in call(running, "GET", path, by_token["owner"]).text, path


def test_pages_by_role(running: Running) -> None:
    for path, allowed in PAGES.items():
        assert running.client().get(path).status == 303, path
        for role, email in SESSIONS.items():
            client = running.client()
            assert client.sign_in(email, PASSWORD).status == 303
            reply = client.get(path)
            assert reply.status == (200 if role in allowed else 403), (path, role)
            if role == "owner" and reply.status == 200:
                assert "Engineering" not in reply.text, path


@pytest.mark.parametrize("role", ["finance", "viewer", "owner"])
def test_writes_by_role(fresh: Running, role: str) -> None:
    token = tokens(fresh)[role]
    budgets = call(fresh, "GET", "/api/v1/budgets", tokens(fresh)["admin"]).json()["budgets"]
    engineering = next(
        b for b in budgets if "Engineering" in b["scope"] or b["scope"].startswith("agent:Finance")
    )["id"]
    key = call(
        fresh, "POST", "/api/v1/keys", tokens(fresh)["admin"], {"department": "Engineering"}
    ).json()["id"]
    may_budget = role == "finance"
    writes: list[tuple[str, str, object, int]] = [
        (
            "POST",
            "/api/v1/budgets",
            {"scope": "department:Engineering", "limit_usd": "5"},
            201 if may_budget else 403,
        ),
        (
            "PATCH",
            f"/api/v1/budgets/{engineering}",
            {"limit_usd": "1", "reason": "x"},
            200 if may_budget else 403,
        ),
        ("POST", "/api/v1/keys", {"department": "Engineering"}, 403),
        ("DELETE", f"/api/v1/keys/{key}", None, 403),
        ("POST", "/api/v1/usage", [], 403),
        (
            "POST",
            "/api/v1/anomalies/mutes",
            {"scope": "department:Engineering", "until": "2099-01-01", "reason": "x"},
            201 if may_budget else 403,
        ),
    ]
    for method, path, body, want in writes:
        got = call(fresh, method, path, token, body).status
        assert got == want, (method, path, role, got)
    if role == "owner":  # inside their scope, an owner may raise a cap (as on the page)
        seo = next(b for b in budgets if b["scope"].endswith("/seo"))["id"]
        reply = call(
            fresh,
            "PATCH",
            f"/api/v1/budgets/{seo}",
            token,
            {"limit_usd": "7000", "reason": "campaign"},
        )
        assert reply.status == 403  # the organisation-wide budgets API is not an owner's
