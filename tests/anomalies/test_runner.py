from __future__ import annotations

from datetime import date, timedelta

import pytest

from llmledger.analytics.periods import DateRange
from llmledger.anomalies import records
from llmledger.anomalies.runner import AnomalyRunner, DigestAnomalies
from llmledger.anomalies.series import HOUR_US
from llmledger.ledger.event import from_us
from llmledger.ledger.store import Store
from llmledger.notify.outbox import Outbox
from llmledger.settings import Settings
from tests.anomalies.builders import AGENT, START, at, hour_us
from tests.anomalies.store_data import fill

SPIKE = at(10, 2, 15)  # a Wednesday, 15:00 UTC, week 10


def _settings() -> Settings:
    return Settings(
        organisation={"timezone": "America/New_York"},
        notify={"webhook": {}},
        anomalies={"min_impact_usd": "0.05"},
    )


def _runner(store: Store, minutes: int = 40) -> tuple[AnomalyRunner, Outbox]:
    now = from_us(hour_us(SPIKE) + minutes * 60_000_000)
    outbox = Outbox(store, lambda: now)
    return AnomalyRunner(_settings(), store, outbox, lambda: now), outbox


@pytest.fixture
def spiky(store: Store) -> Store:
    fill(store, SPIKE + 1, {SPIKE: 300})
    return store


def test_a_spike_is_recorded_once_and_alerted_once(spiky: Store) -> None:
    runner, outbox = _runner(spiky)
    result = runner.run()
    (anomaly,) = result.touched
    assert anomaly.kind in ("spend_spike", "runaway_agent") and anomaly.scope == AGENT
    assert anomaly.started_us == hour_us(SPIKE) and anomaly.status == "open"
    assert anomaly.observed_nanos > 5 * anomaly.expected_nanos
    assert anomaly.impact_nanos == anomaly.observed_nanos - anomaly.expected_nanos
    # (the keys come from the outbox: on PostgreSQL `Outbox.enqueue` reports False)
    alerts = [f"anomaly:{anomaly.id}:webhook"]
    assert [e.dedupe_key for e in outbox.entries("anomaly:")] == alerts
    # again, from a fresh process, and as a catch-up over the whole week: nothing new
    again, _ = _runner(spiky)
    again.run()
    again.run(since=START + timedelta(weeks=10))
    with spiky.read() as conn:
        (stored,) = records.list_anomalies(conn)
    assert stored.id == anomaly.id and stored.impact_nanos == anomaly.impact_nanos
    assert [e.dedupe_key for e in outbox.entries("anomaly:")] == alerts
    body = stored.as_json()
    assert set(body) >= {
        "id",
        "kind",
        "scope",
        "started_at",
        "observed_usd",
        "expected_usd",
        "impact_usd",
        "status",
        "evidence",
        "note",
        "detected_at",
    }
    assert body["evidence"]["points"][-1]["hour"] == body["started_at"]  # type: ignore[index]


def test_lifecycle_acknowledge_with_a_note_then_resolve(spiky: Store) -> None:
    runner, _ = _runner(spiky)
    (anomaly,) = runner.run().touched
    now = hour_us(SPIKE + 1)
    with spiky.write() as conn:
        with pytest.raises(records.AnomalyError):
            records.acknowledge(conn, anomaly.id, " ", actor="t", now_us=now)
        acked = records.acknowledge(conn, anomaly.id, "nightly backfill", actor="t", now_us=now)
        assert (acked.status, acked.note) == ("acknowledged", "nightly backfill")
        assert records.resolve(conn, anomaly.id, actor="t", now_us=now).status == "resolved"
        with pytest.raises(records.AnomalyError):
            records.acknowledge(conn, anomaly.id, "late", actor="t", now_us=now)
        with pytest.raises(LookupError):
            records.resolve(conn, "an_missing", actor="t", now_us=now)
    # the spike still shows in the data: the resolved record is kept, not reopened
    later, outbox = _runner(spiky, minutes=50)
    later.run()
    assert len(outbox.entries("anomaly:")) == 1
    with spiky.read() as conn:
        assert [a.status for a in records.list_anomalies(conn)] == ["resolved"]


def test_a_muted_scope_records_nothing(spiky: Store) -> None:
    runner, _ = _runner(spiky)
    with spiky.write() as conn:
        records.mute(
            conn,
            "project:Eng/search",
            hour_us(SPIKE) + 7 * 24 * HOUR_US,
            reason="load test",
            actor="t",
            now_us=hour_us(SPIKE),
        )
        with pytest.raises(records.AnomalyError):
            records.mute(
                conn, "org", hour_us(SPIKE) - 1, reason="", actor="t", now_us=hour_us(SPIKE)
            )
    assert runner.run().touched == []
    with spiky.read() as conn:
        assert records.list_anomalies(conn) == []


def test_small_impacts_are_listed_but_not_alerted(spiky: Store) -> None:
    runner, outbox = _runner(spiky)
    runner.settings = Settings(notify={"webhook": {}}, anomalies={"min_impact_usd": "1000"})
    assert runner.run().touched
    assert outbox.entries("anomaly:") == []


def test_the_digest_lists_the_week_anomalies(spiky: Store) -> None:
    runner, _ = _runner(spiky)
    runner.run()
    source = DigestAnomalies(_settings())
    day = from_us(hour_us(SPIKE)).date()
    week = DateRange(day - timedelta(days=2), day + timedelta(days=4))
    with spiky.read() as conn:
        (line,) = source(conn, week, None)
        assert line.scope == AGENT and line.impact_nanos > 0
        assert source(conn, week, "Sales") == []
        assert source(conn, DateRange(date(2026, 1, 5), date(2026, 1, 11)), None) == []


@pytest.mark.parametrize("minutes", [20, 10 * 60 + 20], ids=["afternoon", "past-midnight"])
def test_runs_within_a_day_carry_the_memos_of_complete_hours(spiky: Store, minutes: int) -> None:
    # past midnight, the first run's three hours of look-back reach into yesterday
    runner, _ = _runner(spiky, minutes=minutes)
    first = runner.run()
    earlier = runner.last_frame
    again = runner.run()
    assert earlier is not None and runner.last_frame is not None
    assert runner.last_frame is not earlier  # loaded afresh...
    assert runner.last_frame.start_us == earlier.start_us
    # ...with the first run's memos
    assert runner.last_frame.scopes[AGENT].cost.memo is earlier.scopes[AGENT].cost.memo
    assert first.hours == 4 and again.hours == 1
