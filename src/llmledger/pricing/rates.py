"""Price primitives: a unit rate (with long-context tiers), attribute-chosen rates, dates.

A `Rate` is a list price in USD per `per` units. Its nano-USD factor per unit is worked
out once here, so pricing a line on the hot path is one exact multiplication.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from llmledger.money import NANOS_PER_USD, exact

#: Before any price: the start of prices that have been in force "since always".
DAWN = datetime.min.replace(tzinfo=UTC)

#: Tokens per million: the `per` of every token price.
MTOK = 1_000_000

#: The value of an attribute that lets the provider choose (size or quality "auto"):
#: priced at the dearest option, so a reservation or a quote never comes out short.
AUTO = "auto"


def utc(year: int, month: int, day: int) -> datetime:
    """Midnight UTC of a day: when a published price change takes effect."""
    return datetime(year, month, day, tzinfo=UTC)


def day_start(value: date) -> datetime:
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _nanos_factor(usd: Decimal, per: int) -> Decimal | None:
    """nano-USD per unit, or None when ``usd * 1e9 / per`` does not terminate."""
    ctx = exact()
    scaled = ctx.multiply(usd, NANOS_PER_USD)
    factor = ctx.divide(scaled, per)
    return factor if ctx.multiply(factor, per) == scaled else None


@dataclass(frozen=True, slots=True)
class Rate:
    """A list price of ``usd`` per ``per`` units; ``tiers`` replace it for long contexts.

    ``tiers`` are ``(threshold, usd)`` pairs in ascending order: when the input tokens of
    the call exceed a threshold, the whole call is priced at that tier's price.
    """

    usd: Decimal
    per: int
    tiers: tuple[tuple[int, Decimal], ...] = ()
    _factors: tuple[Decimal | None, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.usd.is_finite() or self.usd < 0:
            raise ValueError(f"a price must be a finite, non-negative amount: {self.usd}")
        if self.per < 1:
            raise ValueError(f"per must be a positive count: {self.per}")
        prices = (self.usd, *(usd for _, usd in self.tiers))
        object.__setattr__(self, "_factors", tuple(_nanos_factor(p, self.per) for p in prices))

    def tier_index(self, input_tokens: Decimal) -> int:
        """0 for the base price, i for ``tiers[i - 1]``."""
        index = 0
        for i, (threshold, _) in enumerate(self.tiers, start=1):
            if input_tokens > threshold:
                index = i
        return index

    def factor(self, index: int) -> Decimal | None:
        """nano-USD per unit at a tier, when that is an exact decimal."""
        return self._factors[index]

    def usd_at(self, index: int) -> Decimal:
        return self.usd if index == 0 else self.tiers[index - 1][1]

    def exact_nanos(self, quantity: Decimal, index: int = 0) -> Decimal:
        """The exact (unrounded) list cost of ``quantity`` units, in nano-USD."""
        factor = self._factors[index]
        ctx = exact()
        if factor is not None:
            return ctx.multiply(quantity, factor)
        scaled = ctx.multiply(ctx.multiply(quantity, self.usd_at(index)), NANOS_PER_USD)
        return ctx.divide(scaled, self.per)

    def scaled(self, factor: Decimal) -> Rate:
        """This rate (tiers included) multiplied by ``factor``: a regional premium."""
        ctx = exact()
        return Rate(
            ctx.multiply(self.usd, factor),
            self.per,
            tuple((t, ctx.multiply(usd, factor)) for t, usd in self.tiers),
        )


@dataclass(frozen=True, slots=True)
class AttributeRates:
    """Rates chosen by request attributes, e.g. an image's size and quality.

    ``keys`` name the attributes, ``defaults`` give the provider's default value of each
    (used when the attribute is missing), ``table`` maps value tuples to rates. A value of
    ``"auto"`` stands for every value of that attribute and takes the dearest. A
    combination missing from the table has no price (the line is unpriced).
    """

    keys: tuple[str, ...]
    defaults: tuple[str, ...]
    table: Mapping[tuple[str, ...], Rate]

    def pick(self, attributes: Mapping[str, str] | None) -> Rate | None:
        given = attributes or {}
        wanted = tuple(
            given.get(key, default).strip().lower()
            for key, default in zip(self.keys, self.defaults, strict=True)
        )
        if AUTO not in wanted:
            return self.table.get(wanted)
        candidates = [
            rate
            for values, rate in self.table.items()
            if all(w in (AUTO, v) for w, v in zip(wanted, values, strict=True))
        ]
        return max(candidates, key=lambda r: r.usd, default=None)


Pricing = Rate | AttributeRates


@dataclass(frozen=True, slots=True)
class DatedRate:
    """A rate in force from ``start`` (inclusive) until ``end`` (exclusive, None: open)."""

    start: datetime
    end: datetime | None
    rate: Pricing

    def active(self, at: datetime) -> bool:
        return self.start <= at and (self.end is None or at < self.end)
