"""How figures are written on the pages: money to the cent, quantities, dates, percents.

Amounts arrive as the API's exact USD strings (or integer nanos) and stay `Decimal`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

_CENT = Decimal("0.01")


def to_decimal(value: object) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return Decimal(0)
    return Decimal(0)


def usd(value: object) -> str:
    """``"$1,234.56"`` (negative as ``-$1.00``)."""
    amount = to_decimal(value).quantize(_CENT, rounding=ROUND_HALF_EVEN)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def usd_short(value: object) -> str:
    """Whole dollars for the big KPI figures: ``"$87,240"``."""
    amount = to_decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,}"


def quantity(value: object) -> str:
    q = to_decimal(value)
    if q == q.to_integral_value():
        return f"{int(q):,}"
    return f"{q.quantize(Decimal('0.1'), rounding=ROUND_HALF_EVEN):,}"


def percent(value: object) -> str:
    if value is None or value == "":
        return "–"
    return f"{to_decimal(value).quantize(Decimal('0.1'), rounding=ROUND_HALF_EVEN)}%"


def local_date(value: object) -> str:
    """``"4 Dec 2026"`` from a date or ISO date string."""
    day = value
    if isinstance(value, str):
        try:
            day = date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(day, date):
        return f"{day.day} {day:%b %Y}"
    return str(value)


def local_time(value: object) -> str:
    """``"2026-12-04 12:00:05 EST"`` from an ISO timestamp already in the org's zone."""
    if not isinstance(value, str):
        return str(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return f"{moment:%Y-%m-%d %H:%M:%S} {moment.tzname() or ''}".strip()


def label(value: object) -> str:
    """Missing attribution, as finance reads it."""
    text = str(value or "")
    return "Non-attributed" if text in ("", "unattributed") else text


FILTERS = {
    "usd": usd,
    "usd_short": usd_short,
    "qty": quantity,
    "pct": percent,
    "day": local_date,
    "when": local_time,
    "label": label,
}
