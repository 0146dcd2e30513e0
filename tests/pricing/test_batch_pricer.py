"""`BatchPricer` (bulk import's pricing) gives exactly the catalog's quote, call by call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from llmledger.pricing import PriceCatalog, PricingConfig
from llmledger.pricing.batch import BatchPricer
from llmledger.usage import FRACTIONAL_TYPES, Usage, UsageType, from_milli

from .test_price_properties import MODELS

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Tiered and attribute-priced models and the unknown one are in MODELS; these add the
# dated snapshots and cross-provider ids an import file names.
MORE_MODELS = [
    ("openai", "gpt-4o-2024-08-06"),
    ("openai", "gpt-4.1"),
    ("openai", "dall-e-3"),
    ("openai", "tts-1"),
    ("anthropic", "claude-opus-4-1"),
    ("google", "gemini-2.5-flash-lite"),
    ("bedrock", "amazon.nova-pro-v1:0"),
]
ALL_MODELS = MODELS + MORE_MODELS


def milli_quantities(usage_type: UsageType) -> st.SearchStrategy[int]:
    if usage_type in FRACTIONAL_TYPES:
        return st.integers(1, 10**10)  # thousandths of a second
    return st.one_of(st.integers(1, 3 * 10**5), st.integers(1, 10**12)).map(lambda n: n * 1000)


usage_items = st.lists(
    st.sampled_from(list(UsageType)), min_size=1, max_size=6, unique=True
).flatmap(lambda types: st.tuples(*(st.tuples(st.just(t), milli_quantities(t)) for t in types)))
moments = st.datetimes(
    min_value=datetime(2015, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
discounts = st.one_of(
    st.none(),
    st.integers(1, 9_999).map(lambda n: str(Decimal(n) / 100)),
    st.sampled_from(["12.5", "33.333", "0.001", "99.99", "100"]),
)


def catalog_for(percent: str | None) -> PriceCatalog:
    if percent is None:
        return PriceCatalog.build()
    return PriceCatalog.build(
        PricingConfig.model_validate(
            {
                "discounts": [
                    {"provider": "openai", "percent": percent},
                    {
                        "provider": "google",
                        "percent": percent,
                        "effective_from": "2025-06-01T00:00:00Z",
                    },
                    {"provider": "anthropic", "model": "claude-sonnet-4-5", "percent": percent},
                ]
            }
        )
    )


CATALOGS: dict[str | None, tuple[PriceCatalog, BatchPricer]] = {}


def pricers(percent: str | None) -> tuple[PriceCatalog, BatchPricer]:
    # One pricer per catalog across examples, so its plan cache is exercised too.
    if percent not in CATALOGS:
        catalog = catalog_for(percent)
        CATALOGS[percent] = (catalog, BatchPricer(catalog))
    return CATALOGS[percent]


@settings(max_examples=600, deadline=None)
@given(
    items=usage_items,
    model=st.sampled_from(ALL_MODELS),
    at=moments,
    percent=st.sampled_from([None, "12.5", "33.333", "100"]),
)
def test_batch_pricing_equals_the_quote(
    items: tuple[tuple[UsageType, int], ...],
    model: tuple[str, str],
    at: datetime,
    percent: str | None,
) -> None:
    catalog, pricer = pricers(percent)
    ts_us = (at - EPOCH) // timedelta(microseconds=1)
    priced = pricer.price(*model, ts_us, items)
    quote = catalog.quote(Usage({t: from_milli(t, m) for t, m in items}), *model, at)
    lines = {line.usage_type: (line.cost_nanos, line.list_cost_nanos) for line in quote.lines}
    assert priced.costs == tuple(lines.get(t, (0, 0)) for t, _ in items)
    assert priced.unpriced == quote.unpriced
    assert sum(cost for cost, _ in priced.costs) == quote.total_nanos


@settings(max_examples=200, deadline=None)
@given(items=usage_items, model=st.sampled_from(ALL_MODELS), percent=discounts)
def test_any_discount_prices_as_the_quote(
    items: tuple[tuple[UsageType, int], ...], model: tuple[str, str], percent: str | None
) -> None:
    catalog = catalog_for(percent)
    at = datetime(2026, 11, 3, 14, tzinfo=UTC)
    priced = BatchPricer(catalog).price(*model, (at - EPOCH) // timedelta(microseconds=1), items)
    quote = catalog.quote(Usage({t: from_milli(t, m) for t, m in items}), *model, at)
    assert sum(cost for cost, _ in priced.costs) == quote.total_nanos
    assert sum(list_cost for _, list_cost in priced.costs) == quote.list_total_nanos


def test_price_changes_split_the_plans(catalog: PriceCatalog) -> None:
    # gpt-4o's price changed over time: the same usage before and after is priced at each.
    pricer = BatchPricer(catalog)
    items = ((UsageType.INPUT_TOKENS, 1_000_000_000),)
    for at in (datetime(2024, 5, 20, tzinfo=UTC), datetime(2026, 5, 20, tzinfo=UTC)):
        ts_us = (at - EPOCH) // timedelta(microseconds=1)
        quote = catalog.quote(
            Usage({UsageType.INPUT_TOKENS: Decimal(1_000_000)}), "openai", "gpt-4o", at
        )
        assert pricer.price("openai", "gpt-4o", ts_us, items).costs[0][0] == quote.total_nanos
