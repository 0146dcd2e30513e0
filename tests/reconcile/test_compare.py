"""Reconciliation on known data: it finds the planted differences, and nothing else."""

from __future__ import annotations

from decimal import Decimal

from llmledger.ledger.store import Store
from llmledger.reconcile.compare import reconcile
from llmledger.reconcile.store import import_report
from tests.reconcile.dataset import FILES, fill, sample


def _all(store: Store) -> None:
    fill(store)
    for provider in FILES:
        result = import_report(store, provider, sample(provider))
        assert result.errors == []


def test_finds_the_known_differences_and_nothing_else(store: Store) -> None:
    _all(store)
    with store.read() as conn:
        result = reconcile(conn, "2026-11").as_json()
    flagged = {(d["day"], d["provider"]) for d in result["flagged"]}  # type: ignore[index]
    assert flagged == {
        ("2026-11-04", "openai"),
        ("2026-11-05", "google"),
        *{(f"2026-11-{d:02d}", "anthropic") for d in (7, 8, 9, 10)},
    }
    kinds = {(c["kind"], c["provider"], c["model"]) for c in result["causes"]}  # type: ignore[index]
    assert kinds == {
        ("bypassed_gateway", "openai", "gpt-4.1-2025-04-14"),
        ("price_change", "anthropic", "claude-sonnet-4-5"),
        ("bypassed_gateway", "google", "gemini-2.5-flash"),
        ("credits", "bedrock", ""),
        ("credits", "google", ""),
    }
    totals = result["totals"]
    assert totals == {  # type: ignore[comparison-overlap]
        "ledger_usd": "580",
        "invoice_usd": "600.52",
        "matched_ledger_usd": "580",
        "matched_invoice_usd": "593.02",
        "ledger_only_usd": "0",
        "invoice_only_usd": "7.5",
        "credits_usd": "-10.5",
        "difference_usd": "20.52",
        "difference_percent": "3.54",
    }
    assert result["missing_reports"] == []


def test_day_detail_and_explanations(store: Store) -> None:
    _all(store)
    with store.read() as conn:
        rec = reconcile(conn, "2026-11")
    day = next(d for d in rec.days if d.day == "2026-11-05" and d.provider == "google")
    assert (day.ledger_nanos, day.invoice_nanos) == (10 * 10**9, 15 * 10**9)
    assert day.difference_percent == Decimal("50.00")
    assert [c.kind for c in day.causes] == ["bypassed_gateway"]
    assert "$5.00" in day.causes[0].message
    price = next(c for c in rec.causes if c.kind == "price_change")
    assert price.message.startswith("from 2026-11-07 ") and "110.0%" in price.message
    nova = next(d for d in rec.days if d.day == "2026-11-09" and d.provider == "bedrock")
    assert not nova.flagged and nova.difference_nanos == 2 * 10**7


def test_a_higher_tolerance_flags_less(store: Store) -> None:
    _all(store)
    with store.read() as conn:
        result = reconcile(conn, "2026-11", tolerance=Decimal("0.2")).as_json()
    assert {(d["day"], d["provider"]) for d in result["flagged"]} == {  # type: ignore[index]
        ("2026-11-04", "openai"),
        ("2026-11-05", "google"),
    }


def test_reimport_replaces_and_missing_reports_are_named(store: Store) -> None:
    fill(store)
    first = import_report(store, "openai", sample("openai"))
    again = import_report(store, "openai", sample("openai"))
    assert (first.rows, first.replaced) == (again.rows, 0) or first.replaced == 0
    assert again.replaced == first.rows
    with store.read() as conn:
        result = reconcile(conn, "2026-11").as_json()
    assert result["missing_reports"] == ["anthropic", "bedrock", "google"]
    assert {(d["day"], d["provider"]) for d in result["flagged"]} == {  # type: ignore[index]
        ("2026-11-04", "openai")
    }
    assert result["totals"]["invoice_usd"] == "127.5"  # type: ignore[index]
