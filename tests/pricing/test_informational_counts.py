"""Counts kept beside the tokens that bill them are neither billed nor unpriced."""

from __future__ import annotations

from datetime import UTC, datetime

from llmledger.pricing import PriceCatalog
from llmledger.usage import Usage, UsageType

AT = datetime(2026, 11, 1, tzinfo=UTC)


def test_gemini_image_count_beside_its_tokens() -> None:
    catalog = PriceCatalog.build()
    with_count = catalog.quote(
        Usage.of(input_tokens=100, input_image_tokens=516, input_images=2, requests=1),
        "google",
        "gemini-2.5-flash",
        AT,
    )
    tokens_only = catalog.quote(
        Usage.of(input_tokens=100, input_image_tokens=516), "google", "gemini-2.5-flash", AT
    )
    assert not with_count.unpriced
    assert with_count.total_nanos == tokens_only.total_nanos > 0
    assert UsageType.INPUT_IMAGES not in {line.usage_type for line in with_count.lines}


def test_a_count_alone_is_still_unpriced() -> None:
    quote = PriceCatalog.build().quote(Usage.of(input_images=2), "google", "gemini-2.5-flash", AT)
    assert quote.unpriced
    assert quote.unpriced_types == (UsageType.INPUT_IMAGES,)
