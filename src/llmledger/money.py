"""Money as integer nano-USD (1e-9 USD); USD strings at the edges.

No binary float ever touches an amount: prices are `Decimal`, costs are `int` nanos,
and the API, CSV and CLI write USD as decimal strings.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation

NANOS_PER_USD = 1_000_000_000
#: Amounts at or above a trillion USD are refused as input errors.
MAX_USD = Decimal(10) ** 12
_EXACT = Context(prec=60, rounding=ROUND_HALF_EVEN)
_NANO = Decimal("1e-9")


class MoneyError(ValueError):
    """An amount that is not a valid decimal number of USD."""


def usd_to_nanos(usd: Decimal | int | str) -> int:
    """Exact conversion of a USD amount to nano-USD, refusing sub-nano precision."""
    if isinstance(usd, float):  # pragma: no cover - guarded by type checkers too
        raise MoneyError("binary floats are not accepted as money")
    try:
        value = Decimal(usd) if not isinstance(usd, Decimal) else usd
    except (InvalidOperation, ValueError) as exc:
        raise MoneyError(f"not a decimal amount: {usd!r}") from exc
    if not value.is_finite():
        raise MoneyError(f"not a finite amount: {usd!r}")
    if abs(value) >= MAX_USD:
        raise MoneyError(f"amount out of range: {usd!r}")
    nanos = _EXACT.multiply(value, NANOS_PER_USD)
    if nanos != nanos.to_integral_value():
        raise MoneyError(f"more precision than a nano-dollar: {usd!r}")
    return int(nanos)


def nanos_to_usd(nanos: int) -> Decimal:
    """nano-USD as an exact `Decimal` of USD, trailing zeros removed."""
    value = _EXACT.multiply(Decimal(nanos), _NANO)
    return value.normalize(_EXACT) if value else Decimal(0)


def format_usd(nanos: int) -> str:
    """USD as a plain decimal string without exponent: ``"0.0035"``, ``"12"``."""
    text = format(nanos_to_usd(nanos), "f")
    return text


def round_nanos(amount_nanos: Decimal) -> int:
    """Round an exact fractional nano amount to whole nanos, half to even."""
    return int(amount_nanos.to_integral_value(rounding=ROUND_HALF_EVEN))


def exact() -> Context:
    """The decimal context for money arithmetic: wide enough to be exact here."""
    return _EXACT


def cents(nanos: int) -> str:
    """USD rounded to the cent for display: ``"$1,234.56"``."""
    value = nanos_to_usd(nanos).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    sign = "-" if value < 0 else ""
    return f"{sign}${abs(value):,.2f}"
