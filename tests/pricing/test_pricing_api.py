from __future__ import annotations

import dataclasses
from datetime import datetime
from decimal import Decimal

import pytest

import llmledger.pricing as pricing
from llmledger.pricing import PriceCatalog, PriceLine, Quote, quote_json
from llmledger.pricing.quote import make_line, make_quote
from llmledger.usage import Usage, UsageType

from .conftest import NOW


def test_exported_names_do_not_drift() -> None:
    assert sorted(pricing.__all__) == [
        "CustomModel",
        "DEFAULT_MAX_OUTPUT_TOKENS",
        "Discount",
        "PriceCatalog",
        "PriceLine",
        "PriceOverride",
        "PricingConfig",
        "Quote",
        "UnitPrice",
        "quote_json",
    ]
    for name in pricing.__all__:
        assert getattr(pricing, name) is not None


def test_quote_and_line_fields_are_the_documented_ones() -> None:
    assert [f.name for f in dataclasses.fields(Quote)] == [
        "provider",
        "model",
        "priced_model",
        "unpriced",
        "unpriced_types",
        "lines",
        "total_nanos",
        "list_total_nanos",
    ]
    assert [f.name for f in dataclasses.fields(PriceLine)] == [
        "usage_type",
        "quantity",
        "unit_price_usd",
        "per",
        "list_cost_nanos",
        "cost_nanos",
        "discount_percent",
    ]


def test_fast_constructors_build_the_same_frozen_objects() -> None:
    args = (UsageType.IMAGES, Decimal(2), Decimal("0.04"), 1, 80_000_000, 72_000_000, Decimal(10))
    line = make_line(*args)
    assert line == PriceLine(*args)
    assert hash(line) == hash(PriceLine(*args))
    with pytest.raises(dataclasses.FrozenInstanceError):
        line.cost_nanos = 0  # type: ignore[misc]
    quote = make_quote("openai", "dall-e-3", "dall-e-3", (), (line,), 72_000_000, 80_000_000)
    assert quote == Quote(
        "openai", "dall-e-3", "dall-e-3", False, (), (line,), 72_000_000, 80_000_000
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        quote.total_nanos = 0  # type: ignore[misc]


def test_quote_json_shape(catalog: PriceCatalog) -> None:
    usage = Usage.parse({"input_tokens": 1000, "output_tokens": 2000})
    out = quote_json(catalog.quote(usage, "openai", "gpt-4o", NOW))
    assert out == {
        "provider": "openai",
        "model": "gpt-4o",
        "total_usd": "0.0225",
        "unpriced": False,
        "lines": [
            {
                "usage_type": "input_tokens",
                "quantity": 1000,
                "unit_price_usd": "2.5",
                "per": 1_000_000,
                "cost_usd": "0.0025",
            },
            {
                "usage_type": "output_tokens",
                "quantity": 2000,
                "unit_price_usd": "10",
                "per": 1_000_000,
                "cost_usd": "0.02",
            },
        ],
    }


def test_quote_json_writes_fractional_quantities_as_strings(catalog: PriceCatalog) -> None:
    usage = Usage.parse({"audio_seconds": "12.5"})
    line = quote_json(catalog.quote(usage, "openai", "whisper-1", NOW))["lines"]
    assert line == [
        {
            "usage_type": "audio_seconds",
            "quantity": "12.5",
            "unit_price_usd": "0.0001",
            "per": 1,
            "cost_usd": "0.00125",
        }
    ]


def test_lines_come_in_the_declared_order_of_usage_types(catalog: PriceCatalog) -> None:
    usage = Usage.parse({"output_tokens": 5, "cached_input_tokens": 3, "input_tokens": 1})
    quote = catalog.quote(usage, "openai", "gpt-4o", NOW)
    assert [line.usage_type for line in quote.lines] == [
        UsageType.INPUT_TOKENS,
        UsageType.CACHED_INPUT_TOKENS,
        UsageType.OUTPUT_TOKENS,
    ]


def test_naive_datetimes_are_refused(catalog: PriceCatalog) -> None:
    with pytest.raises(ValueError, match="aware"):
        catalog.quote(Usage.of(input_tokens=1), "openai", "gpt-4o", datetime(2026, 1, 1))


def test_unknown_model_is_unpriced_never_a_silent_zero(catalog: PriceCatalog) -> None:
    usage = Usage.of(input_tokens=1000, output_tokens=10)
    quote = catalog.quote(usage, "openai", "gpt-unknown-9", NOW)
    assert quote.unpriced is True
    assert quote.priced_model is None
    assert quote.unpriced_types == (UsageType.INPUT_TOKENS, UsageType.OUTPUT_TOKENS)
    assert (quote.lines, quote.total_nanos) == ((), 0)
    assert quote_json(quote)["unpriced"] is True
    assert not catalog.knows("openai", "gpt-unknown-9")


def test_unknown_provider_is_unpriced(catalog: PriceCatalog) -> None:
    quote = catalog.quote(Usage.of(input_tokens=1), "acme-cloud", "gpt-4o", NOW)
    assert quote.unpriced and quote.priced_model is None


def test_unknown_model_with_no_usage_is_still_unpriced(catalog: PriceCatalog) -> None:
    assert catalog.quote(Usage(), "openai", "gpt-unknown-9", NOW).unpriced


def test_known_model_with_a_usage_type_it_has_no_price_for(catalog: PriceCatalog) -> None:
    usage = Usage.of(input_tokens=1000, images=1)
    quote = catalog.quote(usage, "anthropic", "claude-haiku-4-5", NOW)
    assert quote.unpriced is True
    assert quote.unpriced_types == (UsageType.IMAGES,)
    assert [line.usage_type for line in quote.lines] == [UsageType.INPUT_TOKENS]
    assert quote.total_nanos == 1_000_000


def test_unknown_attribute_value_leaves_the_line_unpriced(catalog: PriceCatalog) -> None:
    quote = catalog.quote(Usage.of(images=1), "openai", "dall-e-3", NOW, {"size": "9x9"})
    assert quote.unpriced and quote.unpriced_types == (UsageType.IMAGES,)


def test_empty_usage_of_a_known_model_is_a_real_zero(catalog: PriceCatalog) -> None:
    quote = catalog.quote(Usage(), "openai", "gpt-4o", NOW)
    assert (quote.unpriced, quote.total_nanos, quote.lines) == (False, 0, ())
