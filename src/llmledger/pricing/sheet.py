"""A price sheet: one model's prices as asked, cut into segments between price changes.

Everything that depends on the model but not on the call (which rate wins for each usage
type, the operator's overrides and discounts, variants) is settled when the sheet is
compiled, so pricing a call is a segment look-up and one multiplication per usage type.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from llmledger.money import exact
from llmledger.usage import Usage, UsageType

from .entries import ModelEntry, Variant
from .quote import PriceLine, make_line
from .rates import DAWN, AttributeRates, DatedRate, Pricing, Rate

#: The input tokens that decide a long-context tier: all input of the call.
INPUT_TOKEN_TYPES = (
    UsageType.INPUT_TOKENS,
    UsageType.CACHED_INPUT_TOKENS,
    UsageType.CACHE_WRITE_TOKENS,
    UsageType.INPUT_AUDIO_TOKENS,
    UsageType.INPUT_IMAGE_TOKENS,
    UsageType.INPUT_VIDEO_TOKENS,
)

_INPUT_TYPES = frozenset(INPUT_TOKEN_TYPES)
_ORDER = {t: i for i, t in enumerate(UsageType)}
_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


@dataclass(frozen=True, slots=True)
class DatedDiscount:
    start: datetime
    end: datetime | None
    percent: Decimal

    def active(self, at: datetime) -> bool:
        return self.start <= at and (self.end is None or at < self.end)


@dataclass(frozen=True, slots=True)
class Adjustments:
    """The operator's changes for one model: overrides and discounts, each in precedence
    order (the first one in force applies)."""

    overrides: Mapping[UsageType, tuple[DatedRate, ...]]
    discounts: tuple[DatedDiscount, ...]

    def breakpoints(self) -> set[datetime]:
        bounds = [(d.start, d.end) for d in self.discounts]
        bounds += [(d.start, d.end) for ds in self.overrides.values() for d in ds]
        return {s for s, _ in bounds} | {e for _, e in bounds if e is not None}


NO_ADJUSTMENTS = Adjustments({}, ())


class FastRate(NamedTuple):
    """A plain rate whose nano-USD per unit is exact at every tier: the common case,
    priced with one multiplication. ``tiers`` are ``(threshold, usd, factor)``."""

    rate: Rate
    usd: Decimal
    factor: Decimal
    tiers: tuple[tuple[int, Decimal, Decimal], ...]


def _fast(pricing: Pricing) -> FastRate | None:
    if not isinstance(pricing, Rate):
        return None
    factors = [pricing.factor(i) for i in range(len(pricing.tiers) + 1)]
    if any(f is None for f in factors):
        return None
    exact_factors = [f for f in factors if f is not None]
    tiers = tuple(
        (threshold, usd, f)
        for (threshold, usd), f in zip(pricing.tiers, exact_factors[1:], strict=True)
    )
    return FastRate(pricing, pricing.usd, exact_factors[0], tiers)


@dataclass(frozen=True, slots=True)
class Rule:
    """How one usage type is priced in a segment: its pricing and the discount off it."""

    pricing: Pricing
    percent: Decimal
    keep: Decimal  # the share of the list price paid: (100 - percent) / 100
    discounted: bool = field(init=False)
    fast: FastRate | None = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "discounted", bool(self.percent))
        object.__setattr__(self, "fast", _fast(self.pricing))


@dataclass(frozen=True, slots=True)
class Segment:
    rules: Mapping[UsageType, Rule]
    tiered: bool


def _has_tiers(pricing: Pricing) -> bool:
    if isinstance(pricing, Rate):
        return bool(pricing.tiers)
    return any(rate.tiers for rate in pricing.table.values())


def _segment(
    entry: ModelEntry, adjustments: Adjustments, variants: tuple[Variant, ...], at: datetime
) -> Segment:
    chosen: dict[UsageType, Pricing] = {}
    for variant in variants:
        if variant.start <= at:
            for usage_type, pricing in variant.rates.items():
                chosen.setdefault(usage_type, pricing)
    percent = next((d.percent for d in adjustments.discounts if d.active(at)), _ZERO)
    keep = exact().divide(_HUNDRED - percent, _HUNDRED)
    rules: dict[UsageType, Rule] = {}
    for usage_type in {*entry.timelines, *adjustments.overrides, *chosen}:
        override = next(
            (d.rate for d in adjustments.overrides.get(usage_type, ()) if d.active(at)), None
        )
        found = override or chosen.get(usage_type) or entry.rate_at(usage_type, at)
        if found is not None:
            rules[usage_type] = Rule(found, percent, keep)
    return Segment(rules, any(_has_tiers(rule.pricing) for rule in rules.values()))


class PriceSheet:
    """The segments of one model's prices; ``starts[i]`` begins ``segments[i]``."""

    __slots__ = ("entry", "_adjustments", "_starts", "_segments", "_variants")

    def __init__(
        self,
        entry: ModelEntry,
        adjustments: Adjustments = NO_ADJUSTMENTS,
        selection: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.entry = entry
        self._adjustments = adjustments
        chosen = dict(selection)
        variants = tuple(v for v in entry.variants if v.selected_by(chosen)) if chosen else ()
        points = {DAWN} | entry.breakpoints() | adjustments.breakpoints()
        points |= {v.start for v in variants}
        self._starts = sorted(points)
        self._segments = [_segment(entry, adjustments, variants, s) for s in self._starts]
        self._variants: dict[tuple[tuple[str, str], ...], PriceSheet] = {}

    def at(self, at: datetime) -> Segment:
        return self._segments[bisect_right(self._starts, at) - 1]

    def timeline(self) -> tuple[tuple[datetime, Segment], ...]:
        """``(start, segment)`` in time order: each segment is in force from its start
        until the next one's."""
        return tuple(zip(self._starts, self._segments, strict=True))

    def for_attributes(self, attributes: Mapping[str, str]) -> PriceSheet:
        """The sheet for the variant the attributes select (batch, service tier), if any."""
        selection = tuple(
            sorted((k, v) for k, v in attributes.items() if k in self.entry.variant_keys)
        )
        if not selection:
            return self
        sheet = self._variants.get(selection)
        if sheet is None:
            sheet = PriceSheet(self.entry, self._adjustments, selection)
            self._variants[selection] = sheet
        return sheet


def price_usage(
    segment: Segment, usage: Usage, attributes: Mapping[str, str] | None
) -> tuple[tuple[PriceLine, ...], tuple[UsageType, ...], int, int]:
    """(lines of the priced types, unpriced types, total, list total) of one call.

    Each line's exact cost is rounded half-even to whole nanos (the `exact()` context
    rounds half-even, as `llmledger.money.round_nanos` does); totals sum the lines.
    """
    rules = segment.rules
    ctx = exact()
    multiply, integral = ctx.multiply, ctx.to_integral_value
    input_tokens = _input_tokens(usage) if segment.tiered else _ZERO
    lines: list[PriceLine] = []
    unpriced: list[UsageType] = []
    total = list_total = 0
    for usage_type in in_order(usage):
        quantity = usage[usage_type]
        rule = rules.get(usage_type)
        if rule is None:
            if not informational(usage_type, usage):
                unpriced.append(usage_type)
            continue
        fast = rule.fast
        if fast is not None:
            rate, unit_price, factor, tiers = fast
            for threshold, usd, tier_factor in tiers:
                if input_tokens > threshold:
                    unit_price, factor = usd, tier_factor
            list_exact = multiply(quantity, factor)
        else:
            pricing = rule.pricing
            picked = pricing.pick(attributes) if isinstance(pricing, AttributeRates) else pricing
            if picked is None:
                unpriced.append(usage_type)
                continue
            rate = picked
            index = rate.tier_index(input_tokens) if rate.tiers else 0
            unit_price = rate.usd_at(index)
            list_exact = rate.exact_nanos(quantity, index)
        list_nanos = int(integral(list_exact))
        cost = int(integral(multiply(list_exact, rule.keep))) if rule.discounted else list_nanos
        total += cost
        list_total += list_nanos
        lines.append(
            make_line(usage_type, quantity, unit_price, rate.per, list_nanos, cost, rule.percent)
        )
    return tuple(lines), tuple(unpriced), total, list_total


#: Counts kept for finance beside the tokens that bill them (DESIGN: "where a provider
#: reports tokens but the finance view wants seconds or counts, both are kept"). When the
#: model has no price of their own they are not billed, and not unpriced either.
_COMPANIONS: dict[UsageType, tuple[UsageType, ...]] = {
    UsageType.INPUT_IMAGES: (UsageType.INPUT_IMAGE_TOKENS, UsageType.INPUT_TOKENS),
    UsageType.AUDIO_SECONDS: (UsageType.INPUT_AUDIO_TOKENS, UsageType.OUTPUT_AUDIO_TOKENS),
    UsageType.VIDEO_SECONDS: (UsageType.INPUT_VIDEO_TOKENS,),
    UsageType.REQUESTS: tuple(t for t in UsageType if t is not UsageType.REQUESTS),
}


def informational(usage_type: UsageType, usage: Usage) -> bool:
    companions = _COMPANIONS.get(usage_type)
    return companions is not None and any(usage.get_quantity(t) for t in companions)


def _input_tokens(usage: Usage) -> Decimal:
    return sum((usage[t] for t in usage if t in _INPUT_TYPES), _ZERO)


def in_order(usage: Usage) -> tuple[UsageType, ...]:
    """The usage types of a usage in their declared order."""
    return tuple(sorted(usage, key=_ORDER.__getitem__))
