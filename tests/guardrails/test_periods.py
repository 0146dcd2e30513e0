"""Budget periods start and end at local midnight of the organisation's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from llmledger.guardrails.periods import Period, window

TOKYO, NEW_YORK, KOLKATA = (
    ZoneInfo("Asia/Tokyo"),
    ZoneInfo("America/New_York"),
    ZoneInfo("Asia/Kolkata"),
)


@pytest.mark.parametrize(
    ("now", "zone", "period", "start", "end"),
    [
        # 31 Oct 20:00 UTC is already 1 Nov in Tokyo, still 31 Oct in New York.
        (
            datetime(2026, 10, 31, 20, tzinfo=UTC),
            TOKYO,
            Period.MONTH,
            date(2026, 11, 1),
            date(2026, 12, 1),
        ),
        (
            datetime(2026, 10, 31, 20, tzinfo=UTC),
            NEW_YORK,
            Period.MONTH,
            date(2026, 10, 1),
            date(2026, 11, 1),
        ),
        # a half-hour zone
        (
            datetime(2026, 12, 31, 18, 29, tzinfo=UTC),
            KOLKATA,
            Period.MONTH,
            date(2026, 12, 1),
            date(2027, 1, 1),
        ),
        (
            datetime(2026, 12, 31, 18, 30, tzinfo=UTC),
            KOLKATA,
            Period.MONTH,
            date(2027, 1, 1),
            date(2027, 2, 1),
        ),
        (
            datetime(2026, 5, 15, tzinfo=UTC),
            NEW_YORK,
            Period.QUARTER,
            date(2026, 4, 1),
            date(2026, 7, 1),
        ),
        (
            datetime(2026, 5, 15, tzinfo=UTC),
            NEW_YORK,
            Period.YEAR,
            date(2026, 1, 1),
            date(2027, 1, 1),
        ),
    ],
)
def test_calendar_windows(
    now: datetime, zone: ZoneInfo, period: Period, start: date, end: date
) -> None:
    w = window(period, now, zone)
    assert (w.start, w.end) == (start, end)
    assert datetime.fromtimestamp(w.start_us / 1_000_000, zone).replace(tzinfo=None) == datetime(
        start.year, start.month, start.day
    )


def test_fiscal_year_starting_in_april() -> None:
    before = window(Period.FISCAL_YEAR, datetime(2026, 3, 31, 12, tzinfo=UTC), NEW_YORK, 4)
    after = window(Period.FISCAL_YEAR, datetime(2026, 4, 1, 12, tzinfo=UTC), NEW_YORK, 4)
    assert (before.start, before.end) == (date(2025, 4, 1), date(2026, 4, 1))
    assert (after.start, after.end) == (date(2026, 4, 1), date(2027, 4, 1))
    # The boundary is local midnight: 1 Apr 03:59 UTC is still 31 Mar in New York.
    edge = window(Period.FISCAL_YEAR, datetime(2026, 4, 1, 3, 59, tzinfo=UTC), NEW_YORK, 4)
    assert edge.start == date(2025, 4, 1)


def test_dst_month_boundary_is_exact() -> None:
    # November in New York has a DST change: the window is 30 days and one hour long.
    w = window(Period.MONTH, datetime(2026, 11, 15, tzinfo=UTC), NEW_YORK)
    assert w.end_us - w.start_us == (30 * 24 + 1) * 3_600_000_000
