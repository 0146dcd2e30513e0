"""Outcomes (declared metrics, dedupe, bad rows by line) and cost per outcome on known data."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from llmledger.analytics.periods import DateRange
from llmledger.ledger.recording import record_events
from llmledger.ledger.store import Store
from llmledger.roi.figures import cost_per_outcome_changes, roi
from llmledger.roi.metrics import MetricError, declare_metric
from llmledger.roi.outcomes import import_outcomes, read_csv, read_jsonl
from tests.web.dataset import text_event

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)


def _spend(store: Store) -> None:
    """Content writer: $30 in October, $40 in November; SEO: $50 each month; lead scorer:
    $12 in November (no outcomes)."""
    events = []
    for month, writer, seo in ((10, "30", "50"), (11, "40", "50")):
        at = datetime(2026, month, 10, 15, tzinfo=UTC)
        events.append(
            text_event(
                f"w{month}", at, "Marketing", "Content", "writer", "openai", "gpt-4o", writer
            )
        )
        events.append(
            text_event(f"s{month}", at, "Marketing", "SEO", "seo", "openai", "gpt-4o", seo)
        )
    events.append(
        text_event(
            "l11",
            datetime(2026, 11, 3, 15, tzinfo=UTC),
            "Sales",
            "Outreach",
            "lead-scorer",
            "openai",
            "gpt-4o",
            "12",
        )
    )
    with store.write() as conn:
        record_events(conn, events, store.zone)
        declare_metric(
            conn, "agent:Marketing/Content/writer", "articles_published", "article", "25"
        )
        declare_metric(conn, "project:Marketing/SEO", "pages_ranked", "page")
        declare_metric(conn, "agent:Sales/Outreach/lead-scorer", "leads_qualified", "lead")


def _line(
    i: str, ts: str, agent: str, metric: str, qty: object, project: str = "Content", **extra: object
) -> bytes:
    import json

    record = {
        "id": i,
        "timestamp": ts,
        "department": "Marketing",
        "project": project,
        "agent": agent,
        "metric": metric,
        "quantity": qty,
        **extra,
    }
    return (json.dumps(record) + "\n").encode()


def _outcomes() -> bytes:
    return b"".join(
        [
            _line("a1", "2026-10-05T10:00:00-04:00", "writer", "articles_published", 3),
            _line("a2", "2026-10-20T10:00:00-04:00", "writer", "articles_published", 3),
            _line("a3", "2026-11-05T10:00:00-05:00", "writer", "articles_published", 4),
            _line("p1", "2026-10-05T10:00:00-04:00", "", "pages_ranked", 10, project="SEO"),
            _line(
                "p2",
                "2026-11-05T10:00:00-05:00",
                "",
                "pages_ranked",
                4,
                project="SEO",
                value_usd="100",
            ),
        ]
    )


def test_cost_per_outcome_on_known_data(store: Store) -> None:
    _spend(store)
    report = import_outcomes(read_jsonl(io.BytesIO(_outcomes())), store, now=NOW)
    assert (report.imported, report.duplicates, report.errors) == (5, 0, [])
    with store.read() as conn:
        result = roi(conn, DateRange(date(2026, 10, 1), date(2026, 11, 30))).as_json()
    rows = {(r["project"], r["agent"], r["metric"]): r for r in result["rows"]}  # type: ignore[union-attr, index]
    writer = rows[("Content", "writer", "articles_published")]
    assert (writer["outcomes"], writer["cost_usd"], writer["cost_per_outcome_usd"]) == (
        10,
        "70",
        "7",
    )
    assert (writer["value_usd"], writer["net_usd"]) == ("250", "180")
    assert [(p["month"], p["cost_per_outcome_usd"]) for p in writer["trend"]] == [
        ("2026-10", "5"),
        ("2026-11", "10"),
    ]
    seo = rows[("SEO", "", "pages_ranked")]
    assert (seo["outcomes"], seo["cost_usd"], seo["cost_per_outcome_usd"]) == (
        14,
        "100",
        "7.142857143",
    )  # 100/14 rounded to the nano-dollar
    assert "value_usd" not in seo  # October's pages carry no value and the metric has none
    scorer = rows[("Outreach", "lead-scorer", "leads_qualified")]
    assert (scorer["outcomes"], scorer["cost_usd"], scorer["cost_per_outcome_usd"]) == (
        0,
        "12",
        None,
    )
    risers = result["risers"]
    assert [(r["agent"] or r["project"], r["change_percent"]) for r in risers] == [  # type: ignore[union-attr, index]
        ("SEO", "150.0"),
        ("writer", "100.0"),
    ]


def test_outcomes_dedupe_and_bad_rows_by_line(store: Store) -> None:
    _spend(store)
    import_outcomes(read_jsonl(io.BytesIO(_outcomes())), store, now=NOW)
    again = import_outcomes(read_jsonl(io.BytesIO(_outcomes())), store, now=NOW)
    assert (again.imported, again.duplicates, again.errors) == (0, 5, [])
    text = (
        "id,timestamp,department,project,agent,metric,quantity,value_usd\n"
        "c1,2026-11-06T10:00:00Z,Marketing,Content,writer,articles_published,2,\n"
        "c2,2026-11-06T10:00:00Z,Marketing,Content,writer,tweets,2,\n"
        "c3,2026-11-06T10:00:00,Marketing,Content,writer,articles_published,2,\n"
        "c4,2026-11-06T10:00:00Z,Marketing,Content,writer,articles_published,-1,\n"
        "c5,2026-11-06T10:00:00Z,Marketing,Content,writer,articles_published,1.5,0.1\n"
        "c1,2026-11-06T10:00:00Z,Marketing,Content,writer,articles_published,2,\n"
    )
    report = import_outcomes(read_csv(io.StringIO(text)), store, now=NOW)
    assert report.imported == 2 and report.duplicates == 1
    assert [(n, m.split(":")[0]) for n, m in report.errors] == [
        (3, "metric"),
        (4, "timestamp"),
        (5, "quantity"),
    ]
    assert "not declared for Marketing/Content/writer" in report.errors[0][1]


def test_metric_declarations_are_checked(sqlite_store: Store) -> None:
    with sqlite_store.write() as conn:
        with pytest.raises(MetricError):
            declare_metric(conn, "key:abc", "leads", "lead")
        with pytest.raises(MetricError):
            declare_metric(conn, "agent:A/B/C", "Leads!", "lead")
        with pytest.raises(MetricError):
            declare_metric(conn, "agent:A/B/C", "leads", "lead", "-1")
        metric = declare_metric(conn, "agent:A/B/C", "leads", "lead", Decimal("12.5"))
    assert metric.as_json()["value_per_unit_usd"] == "12.5"


def test_changes_in_cost_per_outcome(store: Store) -> None:
    _spend(store)
    import_outcomes(read_jsonl(io.BytesIO(_outcomes())), store, now=NOW)
    with store.read() as conn:
        changes = cost_per_outcome_changes(
            conn,
            DateRange(date(2026, 11, 1), date(2026, 11, 30)),
            DateRange(date(2026, 10, 1), date(2026, 10, 31)),
        )
    assert [
        (c.name, c.as_json()["previous_usd"], c.as_json()["current_usd"], str(c.percent))
        for c in changes
    ] == [("Marketing/SEO", "5", "12.5", "150.0"), ("Marketing/Content/writer", "5", "10", "100.0")]
