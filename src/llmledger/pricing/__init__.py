"""Pricing: the price catalog and the exact cost of a call's usage (DESIGN.md, The parts).

catalog = PriceCatalog.build(settings.pricing)
quote = catalog.quote(usage, "openai", "gpt-4o", at=datetime.now(UTC))
quote.total_nanos  # exact nano-USD; quote.unpriced says whether a price was missing
"""

from __future__ import annotations

from .catalog import PriceCatalog
from .config import CustomModel, Discount, PriceOverride, PricingConfig, UnitPrice
from .limits import DEFAULT_MAX_OUTPUT_TOKENS
from .quote import PriceLine, Quote, quote_json

__all__ = [
    "DEFAULT_MAX_OUTPUT_TOKENS",
    "CustomModel",
    "Discount",
    "PriceCatalog",
    "PriceLine",
    "PriceOverride",
    "PricingConfig",
    "Quote",
    "UnitPrice",
    "quote_json",
]
