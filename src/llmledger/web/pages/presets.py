"""Named periods of the finance views, in the organisation's calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from llmledger.analytics import periods


@dataclass(frozen=True, slots=True)
class Preset:
    key: str
    label: str
    start: date
    end: date


def presets(today: date, fiscal_start_month: int) -> list[Preset]:
    month = periods.month_start(today)
    previous = periods.add_months(month, -1)
    fy = periods.fiscal_year_start(today, fiscal_start_month)
    ytd_label = "Year to date" if fiscal_start_month == 1 else f"FY{fy.year + 1} to date"
    return [
        Preset("1m", "This month", month, today),
        Preset("last", "Last month", previous, periods.month_end(previous)),
        Preset("3m", "3 months", periods.add_months(month, -2), today),
        Preset("ytd", ytd_label, fy, today),
        Preset("12m", "12 months", periods.add_months(month, -11), today),
    ]


def find(key: str, today: date, fiscal_start_month: int) -> Preset | None:
    for p in presets(today, fiscal_start_month):
        if p.key == key:
            return p
    return None
