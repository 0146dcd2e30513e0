"""A catalog entry: one priced model, its rates over time per usage type, its variants."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from llmledger.usage import UsageType

from .rates import DatedRate, Pricing


@dataclass(frozen=True, slots=True)
class Matcher:
    """Which model ids an entry answers to: exact ids and id prefixes, lower case."""

    equals: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()

    @classmethod
    def of(cls, equals: Iterable[str] = (), prefixes: Iterable[str] = ()) -> Matcher:
        return cls(frozenset(e.lower() for e in equals), tuple(p.lower() for p in prefixes))

    def matches(self, model: str) -> bool:
        return model in self.equals or model.startswith(self.prefixes)


@dataclass(frozen=True, slots=True)
class Variant:
    """Rates that replace the standard ones when the call's attributes say so, e.g.
    ``processing = "batch"`` or ``service_tier = "flex"`` (from ``start`` on)."""

    when: tuple[tuple[str, str], ...]
    start: datetime
    rates: Mapping[UsageType, Pricing]

    def selected_by(self, selection: Mapping[str, str]) -> bool:
        return all(selection.get(key) == value for key, value in self.when)


@dataclass(frozen=True, slots=True)
class ModelEntry:
    """One priced model of one provider.

    ``timelines`` hold, per usage type, the dated rates in priority order: at a moment,
    the first one in force is the price.
    """

    provider: str
    model_id: str
    timelines: Mapping[UsageType, tuple[DatedRate, ...]]
    variants: tuple[Variant, ...] = ()
    max_output_tokens: int | None = None
    variant_keys: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        keys = frozenset(key for v in self.variants for key, _ in v.when)
        object.__setattr__(self, "variant_keys", keys)

    def rate_at(self, usage_type: UsageType, at: datetime) -> Pricing | None:
        for dated in self.timelines.get(usage_type, ()):
            if dated.active(at):
                return dated.rate
        return None

    def breakpoints(self) -> set[datetime]:
        points: set[datetime] = set()
        for timeline in self.timelines.values():
            for dated in timeline:
                points.add(dated.start)
                if dated.end is not None:
                    points.add(dated.end)
        return points


def merge_timelines(
    *layers: Mapping[UsageType, list[DatedRate]],
) -> dict[UsageType, tuple[DatedRate, ...]]:
    """Stack layers of dated rates, the first layer winning where several are in force."""
    merged: dict[UsageType, list[DatedRate]] = {}
    for layer in layers:
        for usage_type, dated in layer.items():
            merged.setdefault(usage_type, []).extend(dated)
    return {t: tuple(d) for t, d in merged.items()}


def periods(
    starts_and_rates: Sequence[tuple[datetime, Mapping[UsageType, Pricing]]],
    end: datetime | None = None,
) -> dict[UsageType, list[DatedRate]]:
    """Successive price lists, each in force until the next one starts."""
    ordered = sorted(starts_and_rates, key=lambda item: item[0])
    out: dict[UsageType, list[DatedRate]] = {}
    for i, (start, rates) in enumerate(ordered):
        stop = ordered[i + 1][0] if i + 1 < len(ordered) else end
        for usage_type, rate in rates.items():
            out.setdefault(usage_type, []).append(DatedRate(start, stop, rate))
    return out
