"""Pricing many calls of few models, as bulk import does: the same costs as a quote.

A file of a million records names a handful of models, a few price periods and a few
combinations of usage types. `BatchPricer` compiles each (provider, model, price segment,
usage types) once into integer ratios (nano-USD per thousandth of a unit, discount
included); a call is then priced with integer arithmetic on its quantities in
thousandths, rounded half-to-even per line exactly as `PriceCatalog.quote` rounds.
Whatever integers cannot reproduce to the nano (a rate whose nano-USD per unit does not
terminate, prices with more digits than the quote's decimal context holds) is priced by
the catalog itself. A property test compares both for every model, time and discount.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import NamedTuple

from llmledger.money import exact
from llmledger.usage import Usage, UsageType, from_milli

from .catalog import PriceCatalog
from .rates import AttributeRates, Rate
from .sheet import INPUT_TOKEN_TYPES, Rule, Segment, informational

UsageItems = Sequence[tuple[UsageType, int]]
"""A call's usage as (type, quantity in thousandths) pairs, zero quantities left out."""

#: Distinct plans and models kept; past this the cache starts afresh (model ids and usage
#: type combinations come from the file, so they are not trusted to be few).
_CACHE_LIMIT = 10_000
#: Digits of the quote's decimal context: a product that could need more is not exact
#: there, so such a plan defers to the catalog rather than differ from it.
_PRECISION = exact().prec
#: Digits of the largest quantity in thousandths (10^12 units).
_QUANTITY_DIGITS = 16
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_INPUT_TYPES = frozenset(INPUT_TOKEN_TYPES)


class PricedUsage(NamedTuple):
    """``costs[i]`` is ``(cost_nanos, list_cost_nanos)`` of the call's i-th usage item
    (zeros for an item without a price line); ``unpriced`` as in `Quote`."""

    costs: tuple[tuple[int, int], ...]
    unpriced: bool


#: One tier of one line: (input thousandths it applies above, list numerator, list
#: denominator, cost numerator, cost denominator); cost = round(milli * num / den).
_Tier = tuple[int, int, int, int, int]


class _Plan(NamedTuple):
    lines: tuple[tuple[_Tier, ...] | None, ...]
    unpriced: bool
    #: Positions of the input-token items, when some line has long-context tiers.
    inputs: tuple[int, ...]


def _us(moment: datetime) -> int:
    return (moment - _EPOCH) // _ONE_US


def _digits(value: Decimal) -> int:
    return len(value.as_tuple().digits)


def _tiers(rate: Rate, rule: Rule) -> tuple[_Tier, ...] | None:
    """The integer form of a rate (every tier), or None when it would not be exact."""
    keep = rule.keep
    keep_num, keep_den = keep.as_integer_ratio() if rule.discounted else (1, 1)
    out: list[_Tier] = []
    for index in range(len(rate.tiers) + 1):
        factor = rate.factor(index)
        if factor is None:
            return None
        digits = _QUANTITY_DIGITS + _digits(factor)
        if digits > _PRECISION or (rule.discounted and digits + _digits(keep) > _PRECISION):
            return None
        num, den = factor.as_integer_ratio()
        above = -1 if index == 0 else rate.tiers[index - 1][0] * 1000
        out.append((above, num, den * 1000, num * keep_num, den * 1000 * keep_den))
    return tuple(out)


def _round_half_even(num: int, den: int) -> int:
    whole, rest = divmod(num, den)
    twice = 2 * rest
    if twice > den or (twice == den and whole & 1):
        return whole + 1
    return whole


class BatchPricer:
    """Prices calls exactly as ``catalog.quote`` does (without request attributes)."""

    def __init__(self, catalog: PriceCatalog) -> None:
        self._catalog = catalog
        self._timelines: dict[tuple[str, str], tuple[list[int], list[Segment | None]]] = {}
        self._plans: dict[tuple[str, str, int, tuple[UsageType, ...]], _Plan | None] = {}

    def price(self, provider: str, model: str, ts_us: int, usage: UsageItems) -> PricedUsage:
        """The cost of each usage item of a call at ``ts_us`` (microseconds, UTC)."""
        timeline = self._timelines.get((provider, model))
        if timeline is None:
            timeline = self._timeline(provider, model)
        starts, segments = timeline
        index = bisect_right(starts, ts_us) - 1 if len(starts) > 1 else 0
        types = tuple(t for t, _ in usage)
        key = (provider, model, index, types)
        try:
            plan = self._plans[key]
        except KeyError:
            if len(self._plans) >= _CACHE_LIMIT:
                self._plans.clear()
            plan = self._plans[key] = _compile(segments[index], types)
        if plan is None:
            return self._quote(provider, model, ts_us, usage)
        inputs = plan.inputs
        input_milli = sum(usage[i][1] for i in inputs) if inputs else 0
        costs: list[tuple[int, int]] = []
        for (_, milli), tiers in zip(usage, plan.lines, strict=True):
            if tiers is None:
                costs.append((0, 0))
                continue
            tier = tiers[0]
            for candidate in tiers:
                if input_milli > candidate[0]:
                    tier = candidate
            _, list_num, list_den, cost_num, cost_den = tier
            # Half to even, inline: this runs for every line of every record.
            list_cost, rest = divmod(milli * list_num, list_den)
            if 2 * rest > list_den or (2 * rest == list_den and list_cost & 1):
                list_cost += 1
            if cost_num == list_num and cost_den == list_den:
                cost = list_cost
            else:
                cost = _round_half_even(milli * cost_num, cost_den)
            costs.append((cost, list_cost))
        return PricedUsage(tuple(costs), plan.unpriced)

    def _timeline(self, provider: str, model: str) -> tuple[list[int], list[Segment | None]]:
        if len(self._timelines) >= _CACHE_LIMIT:
            self._timelines.clear()
        sheet = self._catalog.sheet(provider, model)
        timeline: tuple[list[int], list[Segment | None]]
        if sheet is None:
            timeline = ([0], [None])
        else:
            pairs = sheet.timeline()
            timeline = ([_us(start) for start, _ in pairs], [segment for _, segment in pairs])
        self._timelines[(provider, model)] = timeline
        return timeline

    def _quote(self, provider: str, model: str, ts_us: int, usage: UsageItems) -> PricedUsage:
        quantities = Usage({t: from_milli(t, milli) for t, milli in usage})
        quote = self._catalog.quote(quantities, provider, model, _EPOCH + ts_us * _ONE_US)
        by_type = {line.usage_type: (line.cost_nanos, line.list_cost_nanos) for line in quote.lines}
        return PricedUsage(tuple(by_type.get(t, (0, 0)) for t, _ in usage), quote.unpriced)


def _compile(segment: Segment | None, types: tuple[UsageType, ...]) -> _Plan | None:
    """The integer plan of a set of usage types in a segment, or None: use the catalog."""
    if segment is None:  # an unknown model: usage kept, every type unpriced
        return _Plan(tuple(None for _ in types), True, ())
    present = Usage(dict.fromkeys(types, Decimal(1)))
    lines: list[tuple[_Tier, ...] | None] = []
    unpriced = False
    for usage_type in types:
        rule = segment.rules.get(usage_type)
        if rule is None:
            unpriced = unpriced or not informational(usage_type, present)
            lines.append(None)
            continue
        pricing = rule.pricing
        rate = pricing.pick(None) if isinstance(pricing, AttributeRates) else pricing
        if rate is None:
            unpriced = True
            lines.append(None)
            continue
        tiers = _tiers(rate, rule)
        if tiers is None:
            return None
        lines.append(tiers)
    inputs = tuple(i for i, t in enumerate(types) if t in _INPUT_TYPES) if segment.tiered else ()
    return _Plan(tuple(lines), unpriced, inputs)


__all__ = ["BatchPricer", "PricedUsage", "UsageItems"]
