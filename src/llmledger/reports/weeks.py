"""Digest weeks: ``YYYY-Www`` labels, their local dates, and when each one is due.

A week is named by its ISO label. With the default week start (Monday) it is exactly the
ISO week; with another start day it is the seven days beginning on that weekday that hold
the ISO week's Thursday (the same rule ISO uses to give a week to a year), so every label
names one week and consecutive labels never overlap.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_LABEL = re.compile(r"^(\d{4})-W(\d{2})$")
_SEND_AT = re.compile(r"^(MON|TUE|WED|THU|FRI|SAT|SUN)\s+([01]\d|2[0-3]):([0-5]\d)$")


class WeekError(ValueError):
    """A week label or schedule that cannot be read."""


@dataclass(frozen=True, slots=True, order=True)
class Week:
    """One digest week: an ISO label and the weekday it starts on (0 = Monday)."""

    year: int
    number: int
    start_weekday: int = 0

    @property
    def label(self) -> str:
        return f"{self.year:04d}-W{self.number:02d}"

    @property
    def start(self) -> date:
        thursday = date.fromisocalendar(self.year, self.number, 4)
        return thursday - timedelta(days=(thursday.weekday() - self.start_weekday) % 7)

    @property
    def end(self) -> date:
        """The last day, inclusive."""
        return self.start + timedelta(days=6)

    def shift(self, weeks: int) -> Week:
        return week_of(self.start + timedelta(days=7 * weeks), self.start_weekday)

    def previous(self) -> Week:
        return self.shift(-1)


def week_of(day: date, start_weekday: int = 0) -> Week:
    """The week that holds `day`."""
    start = day - timedelta(days=(day.weekday() - start_weekday) % 7)
    thursday = start + timedelta(days=(3 - start_weekday) % 7)
    year, number, _ = thursday.isocalendar()
    return Week(year, number, start_weekday)


def parse_week(text: str, start_weekday: int = 0) -> Week:
    match = _LABEL.match(text.strip())
    if not match:
        raise WeekError(f"expected a week YYYY-Www (e.g. 2026-W48), got {text!r}")
    year, number = int(match.group(1)), int(match.group(2))
    try:
        date.fromisocalendar(year, number, 1)
    except ValueError:
        raise WeekError(f"{text!r}: {year} has no week {number}") from None
    return Week(year, number, start_weekday)


def weekday_index(name: str) -> int:
    try:
        return WEEKDAYS.index(name.upper())
    except ValueError:
        raise WeekError(f"unknown weekday {name!r} (use one of {', '.join(WEEKDAYS)})") from None


@dataclass(frozen=True, slots=True)
class SendAt:
    weekday: int
    at: time


def parse_send_at(text: str) -> SendAt:
    """``"MON 08:00"``: a weekday and a 24-hour time in the organisation's zone."""
    match = _SEND_AT.match(text.strip().upper())
    if not match:
        raise WeekError(f"send_at: expected a weekday and time like 'MON 08:00', got {text!r}")
    return SendAt(WEEKDAYS.index(match.group(1)), time(int(match.group(2)), int(match.group(3))))


def due_at(week: Week, send_at: SendAt, zone: ZoneInfo) -> datetime:
    """The first `send_at` moment after the week has ended, as an aware local datetime."""
    first = week.end + timedelta(days=1)
    day = first + timedelta(days=(send_at.weekday - first.weekday()) % 7)
    return datetime.combine(day, send_at.at, zone)


def latest_due(now: datetime, send_at: SendAt, zone: ZoneInfo, start_weekday: int = 0) -> Week:
    """The most recent week whose digest is due at `now`."""
    week = week_of(now.astimezone(zone).date(), start_weekday).previous()
    while due_at(week, send_at, zone) > now:
        week = week.previous()
    return week
