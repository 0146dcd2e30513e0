"""The operator's ``[pricing]`` settings as catalog entries and per-model adjustments."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from fnmatch import translate
from itertools import groupby

from llmledger.usage import UsageType

from .config import CustomModel, PricingConfig, UnitPrice
from .entries import Matcher, ModelEntry
from .genai_source import DERIVED
from .rates import DatedRate, Pricing, Rate
from .sheet import Adjustments, DatedDiscount

#: Spellings of a provider id that mean the same provider.
_SAME_PROVIDER = {"gemini": "google", "aws": "bedrock"}


def canonical_provider(provider: str) -> str:
    name = provider.strip().lower()
    return _SAME_PROVIDER.get(name, name)


def rates_of(prices: Mapping[UsageType, UnitPrice]) -> dict[UsageType, Pricing]:
    return {t: Rate(p.usd, p.per) for t, p in prices.items()}


def with_derived(
    timelines: Mapping[UsageType, tuple[DatedRate, ...]],
) -> dict[UsageType, tuple[DatedRate, ...]]:
    """Types with no price at all take the text price of their direction (see DERIVED)."""
    out = dict(timelines)
    for usage_type, source in DERIVED.items():
        if usage_type not in out and source in timelines:
            out[usage_type] = timelines[source]
    return out


def _custom_entry(provider: str, models: list[CustomModel]) -> ModelEntry:
    models.sort(key=lambda m: m.effective_from)
    timelines: dict[UsageType, list[DatedRate]] = {}
    for i, model in enumerate(models):
        ends = [e for e in (model.effective_to,) if e is not None]
        if i + 1 < len(models):
            ends.append(models[i + 1].effective_from)
        end: datetime | None = min(ends) if ends else None
        for usage_type, rate in rates_of(model.prices).items():
            timelines.setdefault(usage_type, []).append(DatedRate(model.effective_from, end, rate))
    last = models[-1]
    return ModelEntry(
        provider,
        last.model,
        with_derived({t: tuple(d) for t, d in timelines.items()}),
        max_output_tokens=next(
            (m.max_output_tokens for m in reversed(models) if m.max_output_tokens), None
        ),
    )


def custom_entries(config: PricingConfig) -> dict[str, list[tuple[Matcher, ModelEntry]]]:
    """Custom models by canonical provider, with what each answers to."""

    def key(m: CustomModel) -> tuple[str, str]:
        return canonical_provider(m.provider), m.model.lower()

    out: dict[str, list[tuple[Matcher, ModelEntry]]] = {}
    for (provider, model), group in groupby(sorted(config.custom_models, key=key), key=key):
        records = list(group)
        equals = {model, *(a for r in records for a in r.aliases)}
        matcher = Matcher.of(equals, (p for r in records for p in r.prefixes))
        out.setdefault(provider, []).append((matcher, _custom_entry(provider, records)))
    return out


def _pattern(glob: str | None) -> re.Pattern[str] | None:
    return None if glob is None else re.compile(translate(glob.lower()))


class Adjuster:
    """Finds the overrides and discounts of the config that apply to a model."""

    def __init__(self, config: PricingConfig) -> None:
        self._discounts = [
            (canonical_provider(d.provider), _pattern(d.model), i, d)
            for i, d in enumerate(config.discounts)
        ]
        self._overrides = [
            (canonical_provider(o.provider), _pattern(o.model), o) for o in config.overrides
        ]

    def for_model(self, provider: str, asked: str, priced: str) -> Adjustments:
        def applies(p: str, pattern: re.Pattern[str] | None) -> bool:
            return p == provider and (
                pattern is None or bool(pattern.match(asked) or pattern.match(priced))
            )

        discounts = sorted(
            (
                (pattern is not None, i, d)
                for p, pattern, i, d in self._discounts
                if applies(p, pattern)
            ),
            key=lambda item: (item[0], item[1]),
            reverse=True,
        )
        overrides: dict[UsageType, list[DatedRate]] = {}
        for p, pattern, o in reversed(self._overrides):  # the later entry wins
            if applies(p, pattern):
                for usage_type, rate in rates_of(o.prices).items():
                    overrides.setdefault(usage_type, []).append(
                        DatedRate(o.effective_from, o.effective_to, rate)
                    )
        return Adjustments(
            {t: tuple(d) for t, d in overrides.items()},
            tuple(
                DatedDiscount(d.effective_from, d.effective_to, d.percent) for _, _, d in discounts
            ),
        )
