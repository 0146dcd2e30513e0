"""Budget periods in the organisation's time zone. A period is found from the clock
at each call, so it resets on its boundary with no job that could miss it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from llmledger.analytics.periods import add_months, fiscal_year_start, month_start
from llmledger.ledger.event import to_us


class Period(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    FISCAL_YEAR = "fiscal_year"


@dataclass(frozen=True, slots=True)
class PeriodWindow:
    start: date
    end: date  # exclusive: the first day of the next period
    start_us: int
    end_us: int


def window(
    period: Period, now: datetime, zone: ZoneInfo, fiscal_start_month: int = 1
) -> PeriodWindow:
    today = now.astimezone(zone).date()
    if period is Period.MONTH:
        start = month_start(today)
        end = add_months(start, 1)
    elif period is Period.QUARTER:
        start = add_months(month_start(today), -((today.month - 1) % 3))
        end = add_months(start, 3)
    elif period is Period.YEAR:
        start = date(today.year, 1, 1)
        end = date(today.year + 1, 1, 1)
    else:
        start = fiscal_year_start(today, fiscal_start_month)
        end = add_months(start, 12)
    return PeriodWindow(
        start,
        end,
        to_us(datetime.combine(start, time(0), zone)),
        to_us(datetime.combine(end, time(0), zone)),
    )
