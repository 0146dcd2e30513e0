"""What pricing answers: a `Quote` made of `PriceLine`s, and its stable JSON shape."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from llmledger.money import format_usd
from llmledger.usage import UsageType


@dataclass(frozen=True)
class PriceLine:
    """The cost of one usage type of one call.

    ``list_cost_nanos`` is ``quantity * unit_price_usd * 1e9 / per`` rounded half-even to
    whole nanos; ``cost_nanos`` is the same after ``discount_percent``, rounded the same way.
    """

    usage_type: UsageType
    quantity: Decimal
    unit_price_usd: Decimal
    per: int
    list_cost_nanos: int
    cost_nanos: int
    discount_percent: Decimal


@dataclass(frozen=True)
class Quote:
    """The exact cost of one call's usage at the prices in force when it was made.

    ``unpriced`` is True when the model is unknown or any usage type with a quantity has
    no price: those types are listed in ``unpriced_types`` and have no line. A zero total
    is only ever a real zero when ``unpriced`` is False.
    """

    provider: str
    model: str
    priced_model: str | None
    unpriced: bool
    unpriced_types: tuple[UsageType, ...]
    lines: tuple[PriceLine, ...]
    total_nanos: int
    list_total_nanos: int


# The hot path builds lines and quotes without the generated __init__, whose per-field
# object.__setattr__ calls for frozen dataclasses cost several times the pricing itself.
# The result is the same object (tests compare both ways of building).
_new = object.__new__
_set = object.__setattr__


def make_line(
    usage_type: UsageType,
    quantity: Decimal,
    unit_price_usd: Decimal,
    per: int,
    list_cost_nanos: int,
    cost_nanos: int,
    discount_percent: Decimal,
) -> PriceLine:
    line: PriceLine = _new(PriceLine)
    _set(
        line,
        "__dict__",
        {
            "usage_type": usage_type,
            "quantity": quantity,
            "unit_price_usd": unit_price_usd,
            "per": per,
            "list_cost_nanos": list_cost_nanos,
            "cost_nanos": cost_nanos,
            "discount_percent": discount_percent,
        },
    )
    return line


def make_quote(
    provider: str,
    model: str,
    priced_model: str | None,
    unpriced_types: tuple[UsageType, ...],
    lines: tuple[PriceLine, ...],
    total_nanos: int,
    list_total_nanos: int,
) -> Quote:
    quote: Quote = _new(Quote)
    _set(
        quote,
        "__dict__",
        {
            "provider": provider,
            "model": model,
            "priced_model": priced_model,
            "unpriced": priced_model is None or bool(unpriced_types),
            "unpriced_types": unpriced_types,
            "lines": lines,
            "total_nanos": total_nanos,
            "list_total_nanos": list_total_nanos,
        },
    )
    return quote


def _plain(value: Decimal) -> str:
    """A decimal string without exponent or trailing zeros: ``"2.5"``, ``"100"``."""
    return format(value.normalize(), "f") if value else "0"


def _quantity(value: Decimal) -> int | str:
    return int(value) if value == value.to_integral_value() else _plain(value)


def quote_json(quote: Quote) -> dict[str, object]:
    """The ``prices quote --json`` shape (DESIGN.md, Outside contract)."""
    return {
        "provider": quote.provider,
        "model": quote.model,
        "total_usd": format_usd(quote.total_nanos),
        "unpriced": quote.unpriced,
        "lines": [
            {
                "usage_type": line.usage_type.value,
                "quantity": _quantity(line.quantity),
                "unit_price_usd": _plain(line.unit_price_usd),
                "per": line.per,
                "cost_usd": format_usd(line.cost_nanos),
            }
            for line in quote.lines
        ],
    }
