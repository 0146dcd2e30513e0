"""Sign-in, session cookies, CSRF, roles and owner scopes."""

from __future__ import annotations

from sqlalchemy import select

from llmledger.ledger import schema
from tests.web.dataset import PASSWORD
from tests.web.harness import Client, Running


def signed_in(live: Running, email: str) -> Client:
    client = live.client()
    assert client.sign_in(email, PASSWORD).status == 303
    return client


def test_pages_need_sign_in(running: Running) -> None:
    client = running.client()
    for path in (
        "/",
        "/organisation",
        "/attribution",
        "/guardrails",
        "/requests",
        "/savings",
        "/anomalies",
        "/settings",
        "/attribution.csv",
    ):
        reply = client.get(path)
        assert reply.status == 303
        assert reply.headers["location"].startswith("/login?next=" + path)
    assert client.get("/api/v1/hierarchy").status == 401
    assert client.get("/api/v1/summary").status == 401
    assert client.get("/login").status == 200
    assert client.get("/static/vendor/echarts.min.js").status == 200


def test_cookie_flags_and_sign_out(running: Running) -> None:
    client = running.client()
    reply = client.sign_in("viewer@example.com", PASSWORD)
    cookie = reply.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    assert reply.headers["location"] == "/"
    assert client.get("/").status == 200
    assert client.get("/api/v1/hierarchy").status == 200  # the session authorises the API
    csrf = client.csrf("/")
    assert client.post("/logout", {"csrf_token": "wrong"}).status == 303
    assert client.get("/").status == 200  # a forged sign-out does nothing
    assert client.post("/logout", {"csrf_token": csrf}).headers["location"] == "/login"
    assert client.get("/").status == 303


def test_wrong_password_and_forged_login(running: Running) -> None:
    client = running.client()
    assert client.sign_in("admin@example.com", "not the password").status == 401
    assert client.sign_in("nobody@example.com", PASSWORD).status == 401
    reply = running.client().post(
        "/login", {"email": "admin@example.com", "password": PASSWORD, "csrf_token": "x"}
    )
    assert reply.status == 400  # no sign-in without the form's CSRF token


def test_next_is_local_only(running: Running) -> None:
    client = running.client()
    token = client.csrf("/login")
    reply = client.post(
        "/login",
        {
            "email": "admin@example.com",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/x",
        },
    )
    assert reply.headers["location"] == "/"


def test_raise_cap_needs_csrf_and_a_role_that_may(fresh: Running) -> None:
    budget = fresh.api("/api/v1/budgets").json()["budgets"][0]["id"]
    viewer = signed_in(fresh, "viewer@example.com")
    csrf = viewer.csrf("/guardrails")
    form = {"limit_usd": "9999", "reason": "more room"}
    assert viewer.post(f"/guardrails/{budget}/cap", {**form, "csrf_token": csrf}).status == 403
    cfo = signed_in(fresh, "cfo@example.com")
    assert cfo.post(f"/guardrails/{budget}/cap", form).status == 403  # no CSRF token
    assert cfo.post(f"/guardrails/{budget}/cap", {**form, "csrf_token": csrf}).status == 403
    good = cfo.csrf("/guardrails")
    reply = cfo.post(f"/guardrails/{budget}/cap", {**form, "csrf_token": good})
    assert reply.status == 303
    after = {b["id"]: b for b in fresh.api("/api/v1/budgets").json()["budgets"]}[budget]
    assert after["limit_usd"] == "9999"
    with fresh.app.runtime.store.read() as conn:
        audit = conn.execute(
            select(schema.audit_log)
            .where(schema.audit_log.c.target == budget)
            .order_by(schema.audit_log.c.id.desc())
        ).first()
    assert audit is not None
    assert audit.actor == "user:cfo@example.com" and audit.reason == "more room"


def test_session_api_writes_need_the_csrf_header(fresh: Running) -> None:
    cfo = signed_in(fresh, "cfo@example.com")
    budget = fresh.api("/api/v1/budgets").json()["budgets"][0]["id"]
    body = '{"limit_usd": "12345", "reason": "quarter end"}'
    path = f"/api/v1/budgets/{budget}"

    def patch(headers: dict[str, str]) -> int:
        import urllib.request

        req = urllib.request.Request(
            fresh.url + path,
            data=body.encode(),
            method="PATCH",
            headers={"content-type": "application/json", **headers},
        )
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cfo.jar))
        try:
            with opener.open(req) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as err:
            with err:
                return err.code

    assert patch({}) == 403
    assert patch({"x-csrf-token": cfo.csrf("/")}) == 200
    viewer = signed_in(fresh, "viewer@example.com")
    assert viewer.post("/api/v1/keys", {}, **{"x-csrf-token": viewer.csrf("/")}).status == 403


def test_owner_sees_only_their_scope(running: Running) -> None:
    owner = signed_in(running, "marketing@example.com")
    tree = owner.get("/api/v1/hierarchy?from=2026-01-01").json()
    assert [d["department"] for d in tree["departments"]] == ["Marketing"]
    assert owner.get("/api/v1/hierarchy?department=Sales").status == 403
    assert owner.get("/api/v1/summary").status == 403
    assert owner.get("/api/v1/costs?group_by=project").status == 403
    assert owner.get("/api/v1/costs?group_by=project&department=Marketing").status == 200
    events = owner.get("/api/v1/events?limit=200").json()["events"]
    assert events and {e["department"] for e in events} == {"Marketing"}
    assert owner.get("/").status == 403
    assert owner.get("/organisation").status == 403
    page = owner.get("/attribution?period=12m").text
    assert "Marketing" in page and "Engineering" not in page
    guardrails = owner.get("/guardrails").text
    assert "seo" in guardrails and "invoice-processing" not in guardrails
    assert "Raise cap" in guardrails


def test_owner_cannot_raise_a_cap_outside_their_scope(fresh: Running) -> None:
    budgets = fresh.api("/api/v1/budgets").json()["budgets"]
    finance = next(b for b in budgets if b["scope"].startswith("agent:Finance"))["id"]
    seo = next(b for b in budgets if b["scope"].endswith("/seo"))["id"]
    owner = signed_in(fresh, "marketing@example.com")
    csrf = owner.csrf("/guardrails")
    form = {"limit_usd": "8000", "reason": "campaign week", "csrf_token": csrf}
    assert owner.post(f"/guardrails/{finance}/cap", form).status == 404
    assert owner.post(f"/guardrails/{seo}/cap", form).status == 303
