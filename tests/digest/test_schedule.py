"""The digest on schedule, with a clock the test moves and a real SMTP server."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import aiohttp

from llmledger.analytics.costs import breakdown
from llmledger.analytics.periods import DateRange
from llmledger.analytics.summary import summary
from llmledger.ledger.store import Store
from llmledger.money import cents, usd_to_nanos
from llmledger.notify import Dispatcher, Outbox, channels_from_settings
from llmledger.reports.schedule import DigestScheduler, audiences
from llmledger.reports.weeks import parse_week
from tests.digest.data import load
from tests.digest.replica import replica_settings
from tests.notify.servers import FakeClock, Inbox, parts, smtp_server

NY = dt.timezone(dt.timedelta(hours=-5))  # New York in winter
MONDAY_0800 = dt.datetime(2026, 11, 30, 8, 0, tzinfo=NY)
ROOT = Path(__file__).resolve().parents[2]


async def deliver(store: Store, port: int, clock: FakeClock) -> list[str]:
    settings = replica_settings(store.url, port)
    async with aiohttp.ClientSession() as session:
        d = Dispatcher(Outbox(store, clock), channels_from_settings(settings.notify, session))
        return (await d.run_once()).sent


def scheduler(store: Store, port: int, clock: FakeClock) -> DigestScheduler:
    settings = replica_settings("sqlite://", port)
    return DigestScheduler(settings, store, Outbox(store, clock), clock)


def test_audiences_and_keys() -> None:
    settings = replica_settings("sqlite://", 25)
    names = [a.name for a in audiences(settings)]
    assert names == ["email:finance", "email:department:Engineering"]
    a = audiences(settings)[0]
    assert a.dedupe_key(parse_week("2026-W48")) == f"digest:2026-W48:{a.hash}"


async def test_sent_once_on_monday_with_api_figures(sqlite_store: Store) -> None:
    load(sqlite_store)
    clock = FakeClock(MONDAY_0800 - dt.timedelta(minutes=1))
    with smtp_server() as (inbox, port):
        sched = scheduler(sqlite_store, port, clock)
        first = sched.run_once()  # first start: the latest week due is W47, a week late
        assert [(c.week.label, c.late) for c in first] == [("2026-W47", True)] * 2
        await deliver(sqlite_store, port, clock)
        inbox.messages.clear()
        assert sched.run_once() == []
        clock.advance(minutes=1)  # Monday 08:00 in New York
        claims = sched.run_once()
        assert [(c.week.label, c.late, c.audience.name) for c in claims] == [
            ("2026-W48", False, "email:finance"),
            ("2026-W48", False, "email:department:Engineering"),
        ]
        assert sched.run_once() == []
        assert len(await deliver(sqlite_store, port, clock)) == 2
        assert await deliver(sqlite_store, port, clock) == []
    finance = [m for m in inbox.messages if "cfo@example.com" in str(m["To"])]
    assert len(finance) == 1 and len(inbox.messages) == 2
    msg = finance[0]
    assert str(msg["Subject"]).strip().startswith("Acme LLM spend, week 2026-W48: $6,200.00")
    text, html = parts(msg)
    check_api_figures(sqlite_store, text, html)
    eng = next(m for m in inbox.messages if "eng-lead@example.com" in str(m["To"]))
    eng_text, _ = parts(eng)
    assert "Acme / Engineering" in eng_text and "Sales" not in eng_text


def check_api_figures(store: Store, text: str, html: str) -> None:
    """Every figure the API gives for the week appears, identically, in both bodies."""
    week = parse_week("2026-W48")
    prev = week.previous()
    with store.read() as conn:
        s = summary(
            conn,
            week.end,
            fiscal_start_month=1,
            annual_budget_usd=usd_to_nanos("80000") // 10**9,
            monthly_budget_usd=usd_to_nanos("15000") // 10**9,
        ).as_json()
        now = breakdown(conn, DateRange(week.start, week.end), ["department"]).as_json()
        then = breakdown(conn, DateRange(prev.start, prev.end), ["department"]).as_json()
    amounts = [
        now["total_usd"],
        then["total_usd"],
        s["projected_annual_usd"],
        s["savings_mtd_usd"],
        s["ytd"]["spend_usd"],
        s["ytd"]["budget_usd"],
        s["mtd"]["spend_usd"],  # type: ignore[index]
        s["mtd"]["budget_usd"],  # type: ignore[index]
    ]
    for row in now["rows"] + then["rows"]:  # type: ignore[operator]
        if row["department"] != "Finance":  # Finance did not move
            amounts.append(row["cost_usd"])
    for usd in amounts:
        shown = cents(usd_to_nanos(str(usd)))
        assert shown in text, shown
        assert shown in html, shown
    for reason in (
        "new model gpt-image-1",
        "agent Outreach/mailer stopped",
        "new agent SEO/seo-writer",
    ):
        assert reason in text and reason in html
    assert "https://ledger.example.com" in text and 'href="https://ledger.example.com"' in html
    assert "<script" not in html.lower()


async def test_restart_and_missed_weeks_are_sent_late(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    clock = FakeClock(MONDAY_0800 + dt.timedelta(minutes=5))
    with smtp_server() as (inbox, port):
        store = Store.open(url, NY_ZONE)
        store.upgrade()
        assert [c.week.label for c in scheduler(store, port, clock).run_once()] == ["2026-W48"] * 2
        store.close()
        # restart the same Monday: nothing more
        store = Store.open(url, NY_ZONE)
        assert scheduler(store, port, clock).run_once() == []
        # down for three weeks; back on Wednesday 16 December
        clock.advance(days=16, hours=3)
        claims = scheduler(store, port, clock).run_once()
        finance = [(c.week.label, c.late) for c in claims if c.audience.department is None]
        assert finance == [("2026-W49", True), ("2026-W50", True)]
        assert scheduler(store, port, clock).run_once() == []
        await deliver(store, port, clock)
        store.close()
    subjects = sorted(s.strip() for s in inbox.subjects())
    assert sum(s.startswith("[late]") for s in subjects) == 4
    assert sum("2026-W48" in s for s in subjects) == 2


def test_two_server_processes_share_postgres(postgres_url: str) -> None:
    store = Store.open(postgres_url, NY_ZONE)
    store.upgrade()
    load(store)
    now = (MONDAY_0800 + dt.timedelta(seconds=30)).isoformat()
    with smtp_server() as (inbox, port):
        env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'src'}"}
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    str(ROOT / "tests/digest/replica.py"),
                    postgres_url,
                    str(port),
                    now,
                    "3",
                ],
                env=env,
                cwd=ROOT,
                stderr=subprocess.PIPE,
            )
            for _ in range(2)
        ]
        for p in procs:
            _, err = p.communicate(timeout=120)
            assert p.returncode == 0, err.decode()
    rows = Outbox(store, lambda: MONDAY_0800).entries("digest:")
    store.close()
    assert sorted(r.dedupe_key.split(":")[1] for r in rows) == ["2026-W48", "2026-W48"]
    assert all(r.state == "sent" and r.attempts == 1 for r in rows)
    assert len(inbox.messages) == 2  # finance once, Engineering's owners once
    assert sorted(len(to) for _, to in inbox.envelopes) == [1, 2]


def _unused(_: Inbox) -> None:  # keeps the helper import meaningful for readers
    return None


NY_ZONE = replica_settings("sqlite://", 25).organisation.zone
_ = asyncio
