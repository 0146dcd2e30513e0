"""Calendar arithmetic in the organisation's time zone: months, quarters, fiscal years."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class DateRange:
    """Inclusive local dates."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"date range ends ({self.end}) before it starts ({self.start})")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def local_today(zone: ZoneInfo, now: datetime) -> date:
    return now.astimezone(zone).date()


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    """The first day of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_end(day: date) -> date:
    return add_months(day, 1) - timedelta(days=1)


def quarter_start(day: date, fiscal_start_month: int = 1) -> date:
    offset = (day.month - fiscal_start_month) % 3
    return add_months(month_start(day), -offset)


def fiscal_year_start(day: date, fiscal_start_month: int) -> date:
    year = day.year if day.month >= fiscal_start_month else day.year - 1
    return date(year, fiscal_start_month, 1)


def fiscal_year_end(day: date, fiscal_start_month: int) -> date:
    return add_months(fiscal_year_start(day, fiscal_start_month), 12) - timedelta(days=1)


def month_to_date(day: date) -> DateRange:
    return DateRange(month_start(day), day)


def year_to_date(day: date, fiscal_start_month: int) -> DateRange:
    return DateRange(fiscal_year_start(day, fiscal_start_month), day)


def same_day_last_month(day: date) -> date:
    previous = add_months(day, -1)
    return previous.replace(day=min(day.day, month_end(previous).day))


def parse_date(text: str, field: str = "date") -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{field}: expected a date YYYY-MM-DD, got {text!r}") from None
