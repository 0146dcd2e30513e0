"""Per-unit prices genai-prices lacks (images, seconds, characters, audio tokens), as data.

The tables themselves live in ``extras_<provider>.py``, each price beside the published page
it comes from and the date it was read. An `ExtraModel` either extends the genai-prices model
of the same id (``match`` is None) or is a model of its own that genai-prices does not know.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from llmledger.usage import UsageType

from .entries import Matcher
from .rates import MTOK, AttributeRates, DatedRate, Pricing, Rate


@dataclass(frozen=True, slots=True)
class ExtraPrice:
    """One usage type's price from ``start``; ``replace`` wins over genai-prices' own."""

    usage_type: UsageType
    rate: Pricing
    start: datetime
    end: datetime | None = None
    replace: bool = False

    def dated(self) -> DatedRate:
        return DatedRate(self.start, self.end, self.rate)


@dataclass(frozen=True, slots=True)
class ExtraModel:
    provider: str
    model_id: str
    prices: tuple[ExtraPrice, ...]
    match: Matcher | None = None
    max_output_tokens: int | None = None


def each(usd: str) -> Rate:
    """A price per single unit: per image, per second, per character, per request."""
    return Rate(Decimal(usd), 1)


def mtok(usd: str, *tiers: tuple[int, str]) -> Rate:
    """A price per million tokens, with long-context ``(threshold, usd)`` tiers."""
    return Rate(Decimal(usd), MTOK, tuple((t, Decimal(p)) for t, p in tiers))


def by(keys: tuple[str, ...], defaults: tuple[str, ...], rows: Mapping[str, str]) -> AttributeRates:
    """Per-unit prices chosen by attributes; row keys are values joined by ``/``."""
    table = {tuple(k.lower().split("/")): each(usd) for k, usd in rows.items()}
    return AttributeRates(keys, defaults, table)


def layers(
    extras: tuple[ExtraModel, ...],
) -> tuple[dict[UsageType, list[DatedRate]], dict[UsageType, list[DatedRate]]]:
    """(prices that replace genai-prices', prices that fill its gaps) of some extras."""
    replacing: dict[UsageType, list[DatedRate]] = {}
    filling: dict[UsageType, list[DatedRate]] = {}
    for extra in extras:
        for price in extra.prices:
            target = replacing if price.replace else filling
            target.setdefault(price.usage_type, []).append(price.dated())
    return replacing, filling
