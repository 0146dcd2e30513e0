from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from llmledger.money import usd_to_nanos
from llmledger.pricing import PriceCatalog
from llmledger.usage import Usage, UsageType

MTOK_IN_OUT = Usage.of(input_tokens=1_000_000, output_tokens=1_000_000)
O3_CUT = datetime(2025, 6, 10, tzinfo=UTC)  # OpenAI cut o3 from $10/$40 to $2/$8


def test_a_call_is_priced_at_the_price_in_force_at_its_timestamp(catalog: PriceCatalog) -> None:
    before = catalog.quote(MTOK_IN_OUT, "openai", "o3", O3_CUT - timedelta(seconds=1))
    after = catalog.quote(MTOK_IN_OUT, "openai", "o3", O3_CUT)
    assert before.total_nanos == usd_to_nanos("50")
    assert after.total_nanos == usd_to_nanos("10")


def test_the_timestamp_offset_is_respected(catalog: PriceCatalog) -> None:
    # 2025-06-10 01:00 in UTC+02:00 is still 2025-06-09 in UTC: the old price
    east = timezone(timedelta(hours=2))
    quote = catalog.quote(MTOK_IN_OUT, "openai", "o3", datetime(2025, 6, 10, 1, tzinfo=east))
    assert quote.total_nanos == usd_to_nanos("50")


def test_veo_price_cut(catalog: PriceCatalog) -> None:
    usage = Usage.of(video_seconds=8)
    launch = catalog.quote(
        usage, "google", "veo-3.0-generate-001", datetime(2025, 8, 1, tzinfo=UTC)
    )
    later = catalog.quote(usage, "google", "veo-3.0-generate-001", datetime(2025, 9, 9, tzinfo=UTC))
    assert launch.total_nanos == usd_to_nanos("6")  # $0.75/s
    assert later.total_nanos == usd_to_nanos("3.2")  # $0.40/s


def test_before_a_price_exists_the_call_is_unpriced(catalog: PriceCatalog) -> None:
    quote = catalog.quote(
        Usage.of(video_seconds=4), "openai", "sora-2", datetime(2025, 1, 1, tzinfo=UTC)
    )
    assert quote.unpriced and quote.unpriced_types == (UsageType.VIDEO_SECONDS,)
    assert quote.priced_model == "sora-2"


def test_long_context_tier_of_sonnet_4_starts_with_its_1m_context(
    catalog: PriceCatalog,
) -> None:
    usage = Usage.of(input_tokens=300_000)
    early = catalog.quote(usage, "anthropic", "claude-sonnet-4-0", datetime(2025, 8, 1, tzinfo=UTC))
    late = catalog.quote(usage, "anthropic", "claude-sonnet-4-0", datetime(2025, 8, 12, tzinfo=UTC))
    assert early.total_nanos == usd_to_nanos("0.9")
    assert late.total_nanos == usd_to_nanos("1.8")


def test_batch_variant_applies_from_its_date(catalog: PriceCatalog) -> None:
    # genai-prices records OpenAI's batch prices (half) from 2026-10-14 on
    batch = {"processing": "batch"}
    before = catalog.quote(
        MTOK_IN_OUT, "openai", "gpt-4o", datetime(2026, 10, 13, tzinfo=UTC), batch
    )
    after = catalog.quote(
        MTOK_IN_OUT, "openai", "gpt-4o", datetime(2026, 10, 14, tzinfo=UTC), batch
    )
    assert before.total_nanos == usd_to_nanos("12.5")
    assert after.total_nanos == usd_to_nanos("6.25")
