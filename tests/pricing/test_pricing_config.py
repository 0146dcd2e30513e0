from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from pydantic import ValidationError

from llmledger.money import usd_to_nanos
from llmledger.pricing import PriceCatalog, PricingConfig
from llmledger.usage import Usage, UsageType

from .conftest import NOW

TOML = """
[pricing]

[[pricing.custom_models]]
provider = "openai"
model = "acme-support-ft"
aliases = ["ft:gpt-4o-mini:acme:support:abc123"]
prefixes = ["ft:gpt-4o-mini:acme:"]
effective_from = 2025-01-01
max_output_tokens = 4096
prices = { input_tokens = "0.30", output_tokens = { usd = "1.20", per = 1000000 } }

[[pricing.custom_models]]
provider = "openai"
model = "acme-support-ft"
effective_from = 2026-07-01T00:00:00Z
prices = { input_tokens = "0.20", output_tokens = "0.80" }

[[pricing.custom_models]]
provider = "selfhosted"
model = "llama-internal"
prices = { input_tokens = "0", output_tokens = "0", requests = "0.002" }

[[pricing.discounts]]
provider = "anthropic"
percent = "10"
effective_from = 2026-01-01
note = "EA 2026"

[[pricing.discounts]]
provider = "anthropic"
model = "claude-opus-*"
percent = "25"
effective_from = 2026-01-01
effective_to = 2027-01-01

[[pricing.overrides]]
provider = "bedrock"
model = "*claude-sonnet-4-5*"
prices = { input_tokens = "2.70" }
effective_from = 2026-06-01
"""


@pytest.fixture(scope="module")
def configured() -> PriceCatalog:
    config = PricingConfig.model_validate(tomllib.loads(TOML)["pricing"])
    return PriceCatalog.build(config)


def test_custom_model_prices_and_history(configured: PriceCatalog) -> None:
    usage = Usage.of(input_tokens=1_000_000, output_tokens=1_000_000)
    old = configured.quote(usage, "openai", "acme-support-ft", datetime(2026, 1, 1, tzinfo=UTC))
    new = configured.quote(usage, "openai", "acme-support-ft", NOW)
    assert (old.total_nanos, new.total_nanos) == (usd_to_nanos("1.5"), usd_to_nanos("1"))
    assert old.priced_model == "acme-support-ft" and not old.unpriced
    before = configured.quote(
        usage, "openai", "acme-support-ft", datetime(2024, 12, 31, tzinfo=UTC)
    )
    assert before.unpriced


def test_custom_model_aliases_and_prefixes(configured: PriceCatalog) -> None:
    usage = Usage.of(input_tokens=1_000_000)
    for model in ("ft:gpt-4o-mini:acme:support:abc123", "FT:gpt-4o-mini:acme:other:x"):
        quote = configured.quote(usage, "openai", model, NOW)
        assert quote.priced_model == "acme-support-ft"
        assert quote.total_nanos == usd_to_nanos("0.2")
    assert configured.max_output_tokens("openai", "acme-support-ft") == 4096


def test_custom_model_cached_and_reasoning_take_the_text_price(configured: PriceCatalog) -> None:
    usage = Usage.of(cached_input_tokens=1_000_000, reasoning_tokens=1_000_000)
    quote = configured.quote(usage, "openai", "acme-support-ft", NOW)
    assert quote.total_nanos == usd_to_nanos("1")


def test_custom_provider_and_explicit_zero_prices(configured: PriceCatalog) -> None:
    usage = Usage.of(input_tokens=5000, output_tokens=100, requests=1)
    quote = configured.quote(usage, "selfhosted", "llama-internal", NOW)
    assert not quote.unpriced  # priced at zero on purpose: not a silent zero
    assert quote.total_nanos == usd_to_nanos("0.002")


def test_provider_wide_discount(configured: PriceCatalog) -> None:
    usage = Usage.of(input_tokens=100_000, output_tokens=100_000)
    quote = configured.quote(usage, "anthropic", "claude-sonnet-4-5", NOW)
    assert quote.list_total_nanos == usd_to_nanos("1.8")
    assert quote.total_nanos == usd_to_nanos("1.62")
    assert {line.discount_percent for line in quote.lines} == {Decimal(10)}


def test_model_discount_beats_provider_discount_and_ends(configured: PriceCatalog) -> None:
    usage = Usage.of(input_tokens=1_000_000)
    during = configured.quote(usage, "anthropic", "claude-opus-4-1-20250805", NOW)
    after = configured.quote(
        usage, "anthropic", "claude-opus-4-1-20250805", datetime(2027, 1, 1, tzinfo=UTC)
    )
    before = configured.quote(
        usage, "anthropic", "claude-opus-4-1-20250805", datetime(2025, 12, 31, tzinfo=UTC)
    )
    assert during.total_nanos == usd_to_nanos("11.25")  # 25% off $15
    assert after.total_nanos == usd_to_nanos("13.5")  # back to the provider-wide 10%
    assert before.total_nanos == usd_to_nanos("15")


def test_negotiated_override_replaces_the_list_price(configured: PriceCatalog) -> None:
    usage = Usage.of(input_tokens=1_000_000, output_tokens=100_000)
    model = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
    quote = configured.quote(usage, "bedrock", model, NOW)
    assert [line.unit_price_usd for line in quote.lines] == [Decimal("2.70"), Decimal("16.5")]
    assert quote.total_nanos == usd_to_nanos("4.35")
    earlier = configured.quote(usage, "bedrock", model, datetime(2026, 5, 31, tzinfo=UTC))
    assert earlier.total_nanos == usd_to_nanos("4.95")


def test_other_providers_are_untouched(configured: PriceCatalog) -> None:
    quote = configured.quote(Usage.of(input_tokens=1_000_000), "openai", "gpt-4o", NOW)
    assert quote.total_nanos == usd_to_nanos("2.5")


@pytest.mark.parametrize(
    "bad",
    [
        {"discounts": [{"provider": "openai", "percent": 10.5}]},
        {"discounts": [{"provider": "openai", "percent": "101"}]},
        {"discounts": [{"provider": "openai", "percent": "-1"}]},
        {
            "discounts": [
                {
                    "provider": "openai",
                    "percent": "5",
                    "effective_from": "2026-02-01",
                    "effective_to": "2026-01-01",
                }
            ]
        },
        {"custom_models": [{"provider": "x", "model": "y", "prices": {"input_tokens": 0.3}}]},
        {
            "custom_models": [
                {
                    "provider": "x",
                    "model": "y",
                    "prices": {"input_tokens": {"usd": "1", "per": 1000}},
                }
            ]
        },
        {"custom_models": [{"provider": "x", "model": "y", "prices": {"tokens": "1"}}]},
        {"overrides": [{"provider": "x", "model": "y", "prices": {}, "surprise": 1}]},
    ],
)
def test_bad_config_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        PricingConfig.model_validate(bad)


def test_bare_prices_are_per_million_for_tokens_and_per_unit_otherwise() -> None:
    config = PricingConfig.model_validate(
        {
            "custom_models": [
                {
                    "provider": "x",
                    "model": "y",
                    "prices": {"input_tokens": "1", "images": "0.05"},
                }
            ]
        }
    )
    prices = config.custom_models[0].prices
    assert prices[UsageType.INPUT_TOKENS].per == 1_000_000
    assert prices[UsageType.IMAGES].per == 1


def test_every_config_field_is_documented() -> None:
    from llmledger.pricing import config as module

    for model in (
        module.PricingConfig,
        module.CustomModel,
        module.Discount,
        module.PriceOverride,
        module.UnitPrice,
    ):
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"
