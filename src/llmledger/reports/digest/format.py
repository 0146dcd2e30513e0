"""How the digest writes its figures, shared by the HTML, the text and Slack versions,
so the same amount reads the same everywhere."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from llmledger.analytics.summary import BudgetPosition
from llmledger.money import cents
from llmledger.reports.digest.movers import Change


def usd(nanos: int) -> str:
    """``$1,234.56``."""
    return cents(nanos)


def signed_usd(nanos: int) -> str:
    """``+$1,234.56`` / ``-$1,234.56`` / ``$0.00``."""
    text = cents(nanos)
    return "+" + text if nanos > 0 and text != "$0.00" else text


def pct(value: Decimal | None) -> str:
    """``+8.2%`` / ``-3.0%``; ``new`` when there was nothing to compare with."""
    if value is None:
        return "new"
    return f"+{value}%" if value > 0 else f"{value}%"


def change_percent(c: Change) -> str:
    """``+8.2%``; ``new`` when last week had nothing; ``no change`` when neither had."""
    if c.current_nanos == 0 and c.previous_nanos == 0:
        return "no change"
    return pct(c.percent)


def change(c: Change) -> str:
    """``+$120.00 (+8.2%)``."""
    return f"{signed_usd(c.delta_nanos)} ({change_percent(c)})"


def position(p: BudgetPosition) -> str:
    """``$16,240.00 of $15,000.00 (108.27%), $1,240.00 over``."""
    if not p.budget_nanos:
        return f"{usd(p.spend_nanos)} (no budget set)"
    over = p.variance_nanos < 0
    left = f"{usd(abs(p.variance_nanos))} {'over' if over else 'left'}"
    return f"{usd(p.spend_nanos)} of {usd(p.budget_nanos)} ({p.percent}%), {left}"


def week_range(start: date, end: date) -> str:
    """``24 Nov - 30 Nov 2026``."""
    if start.year != end.year:
        return f"{start:%d %b %Y} - {end:%d %b %Y}"
    return f"{start:%d %b} - {end:%d %b %Y}"


def bar_percent(value: int, largest: int) -> int:
    """Width of a bar in whole percent of the largest (at least 1 when not zero)."""
    if largest <= 0 or value <= 0:
        return 0
    return max(1, min(100, value * 100 // largest))
