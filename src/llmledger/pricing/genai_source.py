"""Reading genai-prices: its providers, its model matching, its prices as our rates.

genai-prices counts ``input_tokens`` as all input (cache and audio included) and prices
the remainder at ``input_mtok``; llmledger's usage types are disjoint. So a type genai-prices
has no own price for is priced at the text price of its direction (`DERIVED`), which is what
genai-prices itself charges for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from genai_prices import data_snapshot
from genai_prices import types as gp

from llmledger.money import exact
from llmledger.usage import UsageType

from .entries import Variant, periods
from .rates import DAWN, MTOK, AttributeRates, DatedRate, Pricing, Rate, day_start

#: llmledger provider ids (and a few spellings of them) to genai-prices provider ids.
PROVIDER_IDS: Mapping[str, str] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google": "google",
    "gemini": "google",
    "bedrock": "aws",
    "aws": "aws",
}

# genai-prices price key -> (usage type, units the price is for).
_PRICE_KEYS: Mapping[str, tuple[UsageType, int]] = {
    "input_mtok": (UsageType.INPUT_TOKENS, MTOK),
    "cache_read_mtok": (UsageType.CACHED_INPUT_TOKENS, MTOK),
    "output_mtok": (UsageType.OUTPUT_TOKENS, MTOK),
    "output_reasoning_mtok": (UsageType.REASONING_TOKENS, MTOK),
    "input_audio_mtok": (UsageType.INPUT_AUDIO_TOKENS, MTOK),
    "output_audio_mtok": (UsageType.OUTPUT_AUDIO_TOKENS, MTOK),
    "input_image_mtok": (UsageType.INPUT_IMAGE_TOKENS, MTOK),
    "input_video_mtok": (UsageType.INPUT_VIDEO_TOKENS, MTOK),
    "input_mchars": (UsageType.SPEECH_CHARACTERS, MTOK),
    "input_audio_hours": (UsageType.AUDIO_SECONDS, 3600),
    "audio_hours": (UsageType.AUDIO_SECONDS, 3600),
    "requests_kcount": (UsageType.REQUESTS, 1000),
}

#: A type without its own price costs what the text of its direction costs.
DERIVED: Mapping[UsageType, UsageType] = {
    UsageType.CACHED_INPUT_TOKENS: UsageType.INPUT_TOKENS,
    UsageType.CACHE_WRITE_TOKENS: UsageType.INPUT_TOKENS,
    UsageType.INPUT_AUDIO_TOKENS: UsageType.INPUT_TOKENS,
    UsageType.INPUT_IMAGE_TOKENS: UsageType.INPUT_TOKENS,
    UsageType.INPUT_VIDEO_TOKENS: UsageType.INPUT_TOKENS,
    UsageType.REASONING_TOKENS: UsageType.OUTPUT_TOKENS,
    UsageType.OUTPUT_AUDIO_TOKENS: UsageType.OUTPUT_TOKENS,
}


def load_providers() -> list[gp.Provider]:
    """genai-prices' current data (its bundled snapshot unless the app updated it)."""
    return list(data_snapshot.get_snapshot().providers)


def find_provider(providers: Sequence[gp.Provider], provider: str) -> gp.Provider | None:
    wanted = PROVIDER_IDS.get(provider, provider)
    return next((p for p in providers if p.id == wanted), None)


def _rate(value: object, per: int) -> Rate | None:
    """A genai-prices price as a `Rate`, per single unit when that is exact."""
    if isinstance(value, gp.TieredPrices):
        tiers = tuple((tier.start, tier.price) for tier in value.tiers)
        return Rate(value.base, per, tiers)
    if not isinstance(value, Decimal):
        return None
    if per != MTOK:
        unit = exact().divide(value, per)
        if exact().multiply(unit, per) == value:
            return Rate(unit, 1)
    return Rate(value, per)


def _cache_write(price: gp.ModelPrice) -> Pricing | None:
    """Cache writes: the 5-minute price, or by ``cache_ttl`` when a 1-hour one exists."""
    five = _rate(getattr(price, "cache_write_5m_mtok", None), MTOK) or _rate(
        getattr(price, "cache_write_mtok", None), MTOK
    )
    hour = _rate(getattr(price, "cache_write_1h_mtok", None), MTOK)
    if five is None:
        return None
    if hour is None:
        return five
    return AttributeRates(("cache_ttl",), ("5m",), {("5m",): five, ("1h",): hour})


def native_rates(price: gp.ModelPrice) -> dict[UsageType, Pricing]:
    """The usage types genai-prices prices itself, in llmledger terms."""
    rates: dict[UsageType, Pricing] = {}
    for key, (usage_type, per) in _PRICE_KEYS.items():
        if usage_type not in rates and (rate := _rate(getattr(price, key, None), per)):
            rates[usage_type] = rate
    if (write := _cache_write(price)) is not None:
        rates[UsageType.CACHE_WRITE_TOKENS] = write
    return rates


def derived_rates(
    native: Mapping[UsageType, Pricing], skip: frozenset[UsageType] = frozenset()
) -> dict[UsageType, Pricing]:
    return {
        t: native[source]
        for t, source in DERIVED.items()
        if t not in native and t not in skip and source in native
    }


def _price_list(model: gp.ModelInfo) -> list[tuple[datetime, gp.ModelPrice]]:
    if isinstance(model.prices, gp.ModelPrice):
        return [(DAWN, model.prices)]
    out: list[tuple[datetime, gp.ModelPrice]] = []
    for i, conditional in enumerate(model.prices):
        constraint = conditional.constraint
        if isinstance(constraint, gp.TimeOfDateConstraint):
            continue  # off-peak hours: not modelled, the standard price applies
        # genai-prices uses its first price before any start date: so do we.
        start = DAWN if constraint is None or i == 0 else day_start(constraint.start_date)
        out.append((start, conditional.prices))
    return out


def _variants(model: gp.ModelInfo, native_types: frozenset[UsageType]) -> tuple[Variant, ...]:
    out: list[Variant] = []
    for variant in model.price_variants or ():
        constraint = variant.constraint
        if isinstance(constraint, gp.TimeOfDateConstraint):
            continue
        start = DAWN if constraint is None else day_start(constraint.start_date)
        native = native_rates(variant.prices)
        rates = {**native, **derived_rates(native, skip=native_types)}
        out.append(Variant(tuple(sorted(variant.when.items())), start, rates))
    return tuple(out)


def genai_layers(
    model: gp.ModelInfo,
) -> tuple[dict[UsageType, list[DatedRate]], dict[UsageType, list[DatedRate]], tuple[Variant, ...]]:
    """A genai-prices model as (native rates, derived rates, variants) over time."""
    price_list = _price_list(model)
    natives = [(start, native_rates(price)) for start, price in price_list]
    native_types = frozenset(t for _, rates in natives for t in rates)
    derived = [(start, derived_rates(rates)) for start, rates in natives]
    return periods(natives), periods(derived), _variants(model, native_types)


def find_model(
    provider: gp.Provider, providers: list[gp.Provider], model: str
) -> gp.ModelInfo | None:
    found: Any = provider.find_model(model, all_providers=providers)
    return found if isinstance(found, gp.ModelInfo) else None
