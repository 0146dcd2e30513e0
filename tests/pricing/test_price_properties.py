from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from llmledger.money import exact, nanos_to_usd, round_nanos
from llmledger.pricing import PriceCatalog, PricingConfig, Quote, quote_json
from llmledger.pricing.sheet import informational
from llmledger.usage import FRACTIONAL_TYPES, Usage, UsageType

from .conftest import NOW

MODELS = [
    ("openai", "gpt-4o"),
    ("openai", "gpt-4o-mini"),
    ("openai", "gpt-image-1"),
    ("openai", "whisper-1"),
    ("anthropic", "claude-sonnet-4-5"),
    ("anthropic", "claude-haiku-4-5"),
    ("google", "gemini-2.5-flash"),
    ("google", "gemini-2.5-pro"),
    ("bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
    ("bedrock", "amazon.nova-micro-v1:0"),
    ("google", "veo-3.1-generate-preview"),
    ("openai", "no-such-model"),
]
# Models whose token prices have no long-context tier and are whole nano-USD per token:
# their costs add up exactly across calls.
ADDITIVE = [
    ("openai", "gpt-4o"),
    ("openai", "gpt-4.1"),
    ("google", "gemini-2.5-flash"),
    ("anthropic", "claude-haiku-4-5"),
    ("bedrock", "amazon.nova-pro-v1:0"),
]
# Long-context tiers are decided per call (a sum may cross them): models without tiers.
UNTIERED = [m for m in MODELS if m[1] not in ("claude-sonnet-4-5", "gemini-2.5-pro")]
TOKEN_TYPES = [
    UsageType.INPUT_TOKENS,
    UsageType.CACHED_INPUT_TOKENS,
    UsageType.OUTPUT_TOKENS,
    UsageType.REASONING_TOKENS,
    UsageType.INPUT_AUDIO_TOKENS,
]


def quantities(usage_type: UsageType) -> st.SearchStrategy[Decimal]:
    if usage_type in FRACTIONAL_TYPES:
        return st.integers(0, 10**7).map(lambda n: Decimal(n) / 1000)
    return st.integers(0, 2 * 10**6).map(Decimal)


usages = st.fixed_dictionaries({}, optional={t: quantities(t) for t in UsageType}).map(Usage)
token_usages = st.fixed_dictionaries(
    {}, optional={t: st.integers(0, 150_000).map(Decimal) for t in TOKEN_TYPES}
).map(Usage)
moments = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
attributes = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "quality": st.sampled_from(["low", "medium", "high", "auto", "hd"]),
            "size": st.sampled_from(["1024x1024", "1536x1024", "auto", "1k"]),
            "processing": st.just("batch"),
            "service_tier": st.sampled_from(["flex", "priority"]),
            "cache_ttl": st.sampled_from(["5m", "1h"]),
        },
    ),
)


def assert_exact_types(quote: Quote) -> None:
    assert type(quote.total_nanos) is int and type(quote.list_total_nanos) is int
    for line in quote.lines:
        assert type(line.cost_nanos) is int and type(line.list_cost_nanos) is int
        assert type(line.per) is int
        for value in (line.quantity, line.unit_price_usd, line.discount_percent):
            assert type(value) is Decimal


@settings(max_examples=300, deadline=None)
@given(usage=usages, model=st.sampled_from(MODELS), at=moments, attrs=attributes)
def test_lines_add_up_to_the_total_and_nothing_is_a_float(
    catalog: PriceCatalog,
    usage: Usage,
    model: tuple[str, str],
    at: datetime,
    attrs: dict[str, str] | None,
) -> None:
    quote = catalog.quote(usage, *model, at, attrs)
    assert quote.total_nanos == sum(line.cost_nanos for line in quote.lines)
    assert quote.list_total_nanos == sum(line.list_cost_nanos for line in quote.lines)
    assert_exact_types(quote)
    priced = {line.usage_type for line in quote.lines}
    assert priced.isdisjoint(quote.unpriced_types)
    left_out = set(usage) - priced - set(quote.unpriced_types)
    # Only counts kept beside the tokens that bill them may go without a line.
    assert all(informational(t, usage) for t in left_out)
    assert quote.unpriced == (quote.priced_model is None or bool(quote.unpriced_types))
    out = quote_json(quote)
    assert Decimal(str(out["total_usd"])) == nanos_to_usd(quote.total_nanos)
    for line in quote.lines:
        exact_cost = exact().divide(
            exact().multiply(exact().multiply(line.quantity, line.unit_price_usd), 10**9),
            line.per,
        )
        assert line.list_cost_nanos == round_nanos(exact_cost)


@settings(max_examples=200, deadline=None)
@given(batch=st.lists(token_usages, min_size=1, max_size=8), model=st.sampled_from(ADDITIVE))
def test_pricing_a_summed_batch_equals_pricing_each_call(
    catalog: PriceCatalog, batch: list[Usage], model: tuple[str, str]
) -> None:
    summed = Usage()
    for usage in batch:
        summed = summed + usage
    one = catalog.quote(summed, *model, NOW)
    each = [catalog.quote(usage, *model, NOW) for usage in batch]
    assert one.total_nanos == sum(q.total_nanos for q in each)


@settings(max_examples=200, deadline=None)
@given(batch=st.lists(usages, min_size=1, max_size=8), model=st.sampled_from(UNTIERED))
def test_rounding_per_line_drifts_at_most_half_a_nano_per_line(
    catalog: PriceCatalog, batch: list[Usage], model: tuple[str, str]
) -> None:
    summed = Usage()
    for usage in batch:
        summed = summed + usage
    each = [catalog.quote(usage, *model, NOW) for usage in batch]
    one = catalog.quote(summed, *model, NOW)
    lines = sum(len(q.lines) for q in each) + len(one.lines)
    assert abs(one.total_nanos - sum(q.total_nanos for q in each)) * 2 <= lines


@settings(max_examples=150, deadline=None)
@given(
    usage=usages,
    model=st.sampled_from(MODELS),
    percent=st.integers(0, 10_000).map(lambda n: Decimal(n) / 100),
    attrs=attributes,
)
def test_a_discount_never_raises_a_cost(
    usage: Usage, model: tuple[str, str], percent: Decimal, attrs: dict[str, str] | None
) -> None:
    config = PricingConfig.model_validate(
        {"discounts": [{"provider": model[0], "percent": str(percent)}]}
    )
    discounted = PriceCatalog.build(config).quote(usage, *model, NOW, attrs)
    assert discounted.total_nanos <= discounted.list_total_nanos
    for line in discounted.lines:
        assert 0 <= line.cost_nanos <= line.list_cost_nanos
        assert line.discount_percent == percent
    assert_exact_types(discounted)
