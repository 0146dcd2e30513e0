"""Known outcomes on top of the known company (tests/web/dataset.py), last calendar month.

- agent Engineering/Backend/coder: 20 pull requests (valued at $50 each);
- project Sales/Outreach, recorded without an agent: 8 meetings (against the whole project);
- agent Engineering/Backend/reviewer declares reviews_done but records none (unknown cost
  per outcome, not zero); Engineering/DevOps/deployer declares nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

from llmledger.analytics.periods import DateRange
from llmledger.ledger.store import Store
from llmledger.roi.metrics import declare_metric
from llmledger.roi.outcomes import import_outcomes
from tests.web import dataset
from tests.web.harness import Running, serve, settings_for

CODER = ("Engineering", "Backend", "coder")
CODER_PRS = 20
OUTREACH_MEETINGS = 8


def last_month(today: date) -> DateRange:
    end = today.replace(day=1) - timedelta(days=1)
    return DateRange(end.replace(day=1), end)


def _record(n: int, day: date, scope: tuple[str, ...], metric: str, qty: int) -> dict[str, object]:
    moment = datetime.combine(day, time(12), dataset.ZONE)
    return {
        "id": f"outcome-{n}",
        "timestamp": moment.isoformat(),
        "department": scope[0],
        "project": scope[1] if len(scope) > 1 else "",
        "agent": scope[2] if len(scope) > 2 else "",
        "metric": metric,
        "quantity": qty,
    }


def add_outcomes(store: Store, today: date) -> DateRange:
    """Declare the metrics and record the outcomes; returns the period they fall in."""
    period = last_month(today)
    with store.write() as conn:
        declare_metric(conn, "agent:Engineering/Backend/coder", "prs_merged", "pull request", "50")
        declare_metric(conn, "agent:Engineering/Backend/reviewer", "reviews_done", "review")
        declare_metric(conn, "project:Sales/Outreach", "meetings_booked", "meeting")
    first, mid = period.start, period.start + timedelta(days=10)
    records = [
        _record(1, first, CODER, "prs_merged", 4),
        _record(2, mid, CODER, "prs_merged", 6),
        _record(3, period.end, CODER, "prs_merged", CODER_PRS - 10),
        _record(4, mid, ("Sales", "Outreach"), "meetings_booked", OUTREACH_MEETINGS),
    ]
    report = import_outcomes(list(enumerate(records, start=1)), store, now=datetime.now(UTC))
    assert report.errors == [] and report.imported == len(records)
    return period


def expected_cost_usd(scope: tuple[str, ...], period: DateRange, today: date) -> Decimal:
    """The scope's cost in the period, summed from the dataset's events (local days)."""
    total = 0
    for event in dataset.events(today):
        names = (event.department, event.project, event.agent)[: len(scope)]
        if names == scope and period.start <= event.ts.astimezone(dataset.ZONE).date() <= (
            period.end
        ):
            total += sum(line.cost_nanos for line in event.costs.values())
    return Decimal(total) / 10**9


def per_outcome(cost: Decimal, outcomes: int) -> Decimal:
    """Rounded half to even to the nano-dollar, as docs/roi.md says."""
    return (cost / outcomes).quantize(Decimal("0.000000001"), rounding=ROUND_HALF_EVEN)


@contextmanager
def serve_with_outcomes(populated_db: Path, workdir: Path) -> Iterator[tuple[Running, DateRange]]:
    """A private copy of the populated store, with the outcomes, on loopback."""
    copy = workdir / "ledger.db"
    copy.write_bytes(populated_db.read_bytes())
    today = datetime.now(UTC).astimezone(dataset.ZONE).date()
    store = Store.open(f"sqlite:///{copy}", dataset.ZONE)
    try:
        period = add_outcomes(store, today)
    finally:
        store.close()
    with serve(settings_for(f"sqlite:///{copy}")) as live:
        yield live, period
