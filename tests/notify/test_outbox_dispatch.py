"""The outbox and dispatcher against real receivers: SMTP (aiosmtpd) and an aiohttp webhook."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from pathlib import Path

import aiohttp
import pytest

from llmledger.ledger.store import Store
from llmledger.notify import (
    Dispatcher,
    EmailChannel,
    Message,
    Outbox,
    RetryPolicy,
    SlackChannel,
    WebhookChannel,
    email,
)
from llmledger.settings import SlackSettings, SmtpSettings, WebhookSettings
from tests.conftest import ZONE
from tests.notify.servers import (
    FakeClock,
    WebhookReceiver,
    parts,
    password_checker,
    self_signed,
    smtp_server,
    webhook_server,
)

T0 = dt.datetime(2026, 11, 30, 13, 0, tzinfo=dt.UTC)
SECRET = "s3cret-signing-key"


def smtp(port: int, **kw: object) -> SmtpSettings:
    return SmtpSettings.model_validate(
        {"host": "127.0.0.1", "port": port, "from": "ledger@example.com", "starttls": False, **kw}
    )


def test_enqueue_is_deduplicated(store: Store) -> None:
    outbox = Outbox(store, FakeClock(T0))
    msg = email("k-1", ["cfo@example.com"], "hello", "text")
    assert outbox.enqueue(msg) is True
    assert outbox.enqueue(msg) is False
    again = Outbox(store, FakeClock(T0))  # a restarted process
    assert again.enqueue(email("k-1", ["other@example.com"], "changed", "x")) is False
    entry = again.get("k-1")
    assert entry is not None and entry.subject == "hello" and entry.state == "pending"
    assert again.counts() == {"sent": 0, "pending": 1, "failed": 0}


async def test_email_arrives_once_multipart(sqlite_store: Store) -> None:
    clock = FakeClock(T0)
    outbox = Outbox(sqlite_store, clock)
    with smtp_server() as (inbox, port):
        outbox.enqueue(
            email(
                "m-1", ["cfo@example.com", "fin@example.com"], "Digest", "plain £1", "<p>html</p>"
            )
        )
        dispatcher = Dispatcher(outbox, {"email": EmailChannel(smtp(port))})
        report = await dispatcher.run_once()
        assert report.sent == ["m-1"]
        assert (await dispatcher.run_once()).sent == []
    assert len(inbox.messages) == 1
    msg = inbox.messages[0]
    assert msg["Subject"] == "Digest" and msg["X-LLMLedger-Key"] == "m-1"
    assert inbox.envelopes[0] == ("ledger@example.com", ["cfo@example.com", "fin@example.com"])
    text, html = parts(msg)
    assert text.strip() == "plain £1" and "<p>html</p>" in html
    entry = outbox.get("m-1")
    assert entry is not None and entry.state == "sent" and entry.attempts == 1
    attempts = outbox.attempts(entry.id)
    assert [(a.attempt, a.ok) for a in attempts] == [(1, True)]


async def test_starttls_and_auth(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cert, key = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    monkeypatch.setenv("T_SMTP_USER", "mailer")
    monkeypatch.setenv("T_SMTP_PASSWORD", "pw-123")
    outbox = Outbox(sqlite_store, FakeClock(T0))
    outbox.enqueue(email("tls-1", ["cfo@example.com"], "Secure", "text", "<b>html</b>"))
    with smtp_server(
        tls_context=server_tls,
        require_starttls=True,
        auth_require_tls=True,
        authenticator=lambda *a: checker(*a),
    ) as (inbox, port):
        checker = password_checker("mailer", "pw-123", inbox)
        settings = smtp(
            port,
            starttls=True,
            ca_file=str(cert),
            username_env="T_SMTP_USER",
            password_env="T_SMTP_PASSWORD",
        )
        report = await Dispatcher(outbox, {"email": EmailChannel(settings)}).run_once()
    assert report.sent == ["tls-1"]
    assert inbox.logins == ["mailer"] and inbox.tls == [True]
    assert len(inbox.messages) == 1


async def test_webhook_signed_and_retried_with_backoff(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(T0)
    outbox = Outbox(sqlite_store, clock)
    outbox.enqueue(
        Message("w-1", "webhook", "webhook", "budget", {"event": "budget.alert", "usd": "12.5"})
    )
    policy = RetryPolicy(max_attempts=5, base_s=30, max_s=3600)
    async with webhook_server(WebhookReceiver(SECRET.encode(), fail_first=2)) as receiver:
        monkeypatch.setenv("T_HOOK_URL", receiver.url)
        monkeypatch.setenv("T_HOOK_SECRET", SECRET)
        async with aiohttp.ClientSession() as session:
            hook = WebhookChannel(
                WebhookSettings(url_env="T_HOOK_URL", secret_env="T_HOOK_SECRET"), session
            )
            d = Dispatcher(outbox, {"webhook": hook}, policy)
            assert (await d.run_once()).retrying == ["w-1"]
            entry = outbox.get("w-1")
            assert entry is not None and entry.next_attempt_us is not None
            assert entry.next_attempt_us - int(clock().timestamp() * 1_000_000) == 30_000_000
            assert "HTTP 500" in (entry.last_error or "")
            clock.advance(seconds=29)
            assert (await d.run_once()).retrying == []  # not due yet
            clock.advance(seconds=1)
            assert (await d.run_once()).retrying == ["w-1"]  # second failure: wait doubles
            entry = outbox.get("w-1")
            assert entry is not None and entry.next_attempt_us is not None
            assert entry.next_attempt_us - int(clock().timestamp() * 1_000_000) == 60_000_000
            clock.advance(seconds=60)
            assert (await d.run_once()).sent == ["w-1"]
    assert receiver.bad_signatures == 0
    assert receiver.received == [
        {"body": {"event": "budget.alert", "usd": "12.5"}, "delivery": "w-1"}
    ]
    entry = outbox.get("w-1")
    assert entry is not None and entry.state == "sent"
    assert [a.ok for a in outbox.attempts(entry.id)] == [False, False, True]


async def test_gives_up_after_max_attempts(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(T0)
    outbox = Outbox(sqlite_store, clock)
    outbox.enqueue(Message("w-2", "webhook", "webhook", "x", {"n": 1}))
    async with webhook_server(
        WebhookReceiver(b"other-secret")
    ) as receiver:  # rejects our signature
        monkeypatch.setenv("T_HOOK_URL", receiver.url)
        monkeypatch.setenv("T_HOOK_SECRET", SECRET)
        async with aiohttp.ClientSession() as session:
            hook = WebhookChannel(
                WebhookSettings(url_env="T_HOOK_URL", secret_env="T_HOOK_SECRET"), session
            )
            d = Dispatcher(outbox, {"webhook": hook}, RetryPolicy(max_attempts=2, base_s=1))
            assert (await d.run_once()).retrying == ["w-2"]
            clock.advance(seconds=1)
            assert (await d.run_once()).given_up == ["w-2"]
            clock.advance(days=1)
            assert (await d.run_once()).sent == []
    assert receiver.bad_signatures == 2
    assert outbox.counts()["failed"] == 1


async def test_slack_payload(sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    outbox = Outbox(sqlite_store, FakeClock(T0))
    payload = {
        "text": "Digest",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
    }
    outbox.enqueue(Message("s-1", "slack", "slack", "Digest", payload))
    got: list[object] = []

    async def slack(request: aiohttp.web.Request) -> aiohttp.web.Response:
        got.append(await request.json())
        return aiohttp.web.Response(text="ok")

    app = aiohttp.web.Application()
    app.router.add_post("/services/T/B/X", slack)
    runner = aiohttp.web.AppRunner(app, access_log=None)
    await runner.setup()
    site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    monkeypatch.setenv("T_SLACK", f"http://{host}:{port}/services/T/B/X")
    try:
        async with aiohttp.ClientSession() as session:
            channel = SlackChannel(SlackSettings(webhook_url_env="T_SLACK"), session)
            assert (await Dispatcher(outbox, {"slack": channel}).run_once()).sent == ["s-1"]
    finally:
        await runner.cleanup()
    assert got == [payload]


async def test_unconfigured_channel_waits(sqlite_store: Store) -> None:
    outbox = Outbox(sqlite_store, FakeClock(T0))
    outbox.enqueue(Message("x-1", "slack", "slack", "x", {"text": "x"}))
    report = await Dispatcher(outbox, {}).run_once()
    entry = outbox.get("x-1")
    assert report.retrying == ["x-1"] and entry is not None
    assert "not configured" in (entry.last_error or "")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
async def test_exactly_once_across_two_dispatchers(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Two dispatchers (as two replicas would, each with its own store connection pool)
    deliver a shared outbox: every message arrives exactly once."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'shared.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    stores = [Store.open(url, ZONE) for _ in range(2)]
    stores[0].upgrade()
    clock = FakeClock(T0)
    try:
        with smtp_server() as (inbox, port):
            outboxes = [Outbox(s, clock) for s in stores]
            for i in range(20):
                # both replicas decide to send the same 20 messages
                for o in outboxes:
                    o.enqueue(email(f"once-{i}", ["cfo@example.com"], f"n{i}", "t"))
            channel = EmailChannel(smtp(port))
            d1 = Dispatcher(outboxes[0], {"email": channel}, worker="a")
            d2 = Dispatcher(outboxes[1], {"email": channel}, worker="b")
            r1, r2 = await asyncio.gather(d1.run_once(), d2.run_once())
            again = await asyncio.gather(d1.run_once(), d2.run_once())
        assert sorted(r1.sent + r2.sent) == sorted(f"once-{i}" for i in range(20))
        assert not set(r1.sent) & set(r2.sent)
        assert all(not r.sent for r in again)
        assert sorted(inbox.subjects()) == sorted(f"n{i}" for i in range(20))
        assert outboxes[0].counts() == {"sent": 20, "pending": 0, "failed": 0}
    finally:
        for s in stores:
            s.close()
