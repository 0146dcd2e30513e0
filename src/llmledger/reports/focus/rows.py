"""Ledger -> FOCUS rows: one row per local day, attribution, provider, model and usage type.

Rows are read from the daily usage rollups (equal to their events, to the nano-dollar), so
the FOCUS totals are the costs report's totals. A charge period is one day of the
organisation's time zone, written in UTC as FOCUS requires (``2025-01-01T05:00:00Z`` for
New York); the billing period is the local calendar month holding it.

Costs are exact `Decimal` USD from integer nano-USD. Unit prices are the period's average
(cost over pricing quantity), rounded half-even to 12 decimals.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from llmledger.ledger import schema
from llmledger.ledger.store import Store
from llmledger.money import nanos_to_usd
from llmledger.usage import UsageType

FocusRow = dict[str, object]
"""Column name -> value: `Decimal`, aware UTC `datetime`, `str` or None."""

_PRICE = Decimal("1e-12")
_MILLI = Decimal(1000)


@dataclass(frozen=True, slots=True)
class Meter:
    """How a usage type is metered and priced in FOCUS terms."""

    name: str
    consumed_unit: str
    block: int
    pricing_unit: str
    direction: str | None = None
    cache: str | None = None


_TOKENS_M = (1_000_000, "1000000 Tokens")
METERS: dict[UsageType, Meter] = {
    UsageType.INPUT_TOKENS: Meter("Input Tokens", "Tokens", *_TOKENS_M, "Input", "Uncached"),
    UsageType.CACHED_INPUT_TOKENS: Meter(
        "Cache Read Input Tokens", "Tokens", *_TOKENS_M, "Input", "Read"
    ),
    UsageType.CACHE_WRITE_TOKENS: Meter(
        "Cache Write Input Tokens", "Tokens", *_TOKENS_M, "Input", "Write"
    ),
    UsageType.OUTPUT_TOKENS: Meter("Output Tokens", "Tokens", *_TOKENS_M, "Output"),
    UsageType.REASONING_TOKENS: Meter("Reasoning Output Tokens", "Tokens", *_TOKENS_M, "Output"),
    UsageType.INPUT_AUDIO_TOKENS: Meter("Audio Input Tokens", "Tokens", *_TOKENS_M, "Input"),
    UsageType.OUTPUT_AUDIO_TOKENS: Meter("Audio Output Tokens", "Tokens", *_TOKENS_M, "Output"),
    UsageType.INPUT_IMAGE_TOKENS: Meter("Image Input Tokens", "Tokens", *_TOKENS_M, "Input"),
    UsageType.INPUT_VIDEO_TOKENS: Meter("Video Input Tokens", "Tokens", *_TOKENS_M, "Input"),
    UsageType.IMAGES: Meter("Generated Images", "Images", 1, "Images"),
    UsageType.INPUT_IMAGES: Meter("Input Images", "Images", 1, "Images"),
    UsageType.AUDIO_SECONDS: Meter("Audio Seconds", "Seconds", 1, "Seconds"),
    UsageType.SPEECH_CHARACTERS: Meter(
        "Speech Characters", "Characters", 1_000_000, "1000000 Characters"
    ),
    UsageType.VIDEO_SECONDS: Meter("Video Seconds", "Seconds", 1, "Seconds"),
    UsageType.REQUESTS: Meter("Requests", "Requests", 1, "Requests"),
}

#: Provider id -> (provider/publisher display name, service name, model developer).
PROVIDERS: dict[str, tuple[str, str, str]] = {
    "openai": ("OpenAI", "OpenAI API", "OpenAI"),
    "anthropic": ("Anthropic", "Anthropic API", "Anthropic"),
    "google": ("Google", "Gemini API", "Google"),
    "bedrock": ("AWS", "Amazon Bedrock", ""),
}
#: Bedrock model id prefix -> model developer.
_BEDROCK_DEVELOPERS = {
    "anthropic": "Anthropic",
    "amazon": "Amazon",
    "meta": "Meta",
    "mistral": "Mistral AI",
    "cohere": "Cohere",
    "ai21": "AI21 Labs",
    "deepseek": "DeepSeek",
    "openai": "OpenAI",
    "qwen": "Qwen",
    "writer": "Writer",
}

TAG_PREFIX = "llmledger/"


@dataclass(frozen=True, slots=True)
class Account:
    """The billing account the dataset is for: the organisation."""

    id: str
    name: str

    @classmethod
    def of(cls, organisation: str) -> Account:
        """The organisation's account; its id a stable slug of its name."""
        slug = re.sub(r"[^a-z0-9]+", "-", organisation.lower()).strip("-")
        return cls(slug or "organisation", organisation)


def utc_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def _month_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return utc_midnight(first, zone), utc_midnight(following, zone)


def model_developer(provider: str, model: str) -> str:
    if provider != "bedrock":
        return PROVIDERS.get(provider, (provider, provider, provider))[2]
    name = model.split(":", 1)[0]
    parts = name.split(".")
    # Cross-region inference profiles put a region first: "us.anthropic.claude-...".
    vendor = parts[1] if len(parts) > 2 and len(parts[0]) == 2 else parts[0]
    return _BEDROCK_DEVELOPERS.get(vendor, vendor.capitalize())


def _unit_price(cost: Decimal, pricing_quantity: Decimal) -> Decimal | None:
    if not pricing_quantity:
        return None
    return (cost / pricing_quantity).quantize(_PRICE, rounding=ROUND_HALF_EVEN).normalize()


def _plain(value: Decimal) -> Decimal:
    """Without exponent or trailing zeros (so CSV never shows ``1E+3``)."""
    return value.quantize(Decimal(1)) if value == value.to_integral_value() else value.normalize()


def focus_row(
    day: date,
    zone: ZoneInfo,
    account: Account,
    dims: tuple[str, str, str, str, str, str],
    usage_type: str,
    quantity_milli: int,
    cost_nanos: int,
    list_cost_nanos: int,
) -> FocusRow:
    department, project, agent, key_id, provider, model = dims
    try:
        meter = METERS[UsageType(usage_type)]
    except ValueError:
        meter = Meter(usage_type.replace("_", " ").title(), "Units", 1, "Units")
    display, service, _ = PROVIDERS.get(provider, (provider, provider, provider))
    start, end = utc_midnight(day, zone), utc_midnight(day + timedelta(days=1), zone)
    billing_start, billing_end = _month_bounds(day, zone)
    consumed = _plain(Decimal(quantity_milli) / _MILLI)
    pricing_quantity = _plain(consumed / meter.block)
    cost, list_cost = nanos_to_usd(cost_nanos), nanos_to_usd(list_cost_nanos)
    sku = f"{provider}/{model}/{usage_type}"
    details: dict[str, str] = {"ModelId": model}
    developer = model_developer(provider, model)
    if developer:
        details["ModelDeveloper"] = developer
    if meter.direction:
        details["TokenDirection"] = meter.direction
    if meter.cache:
        details["TokenCacheAction"] = meter.cache
    tags = {
        TAG_PREFIX + k: v
        for k, v in (
            ("department", department),
            ("project", project),
            ("agent", agent),
            ("key_id", key_id),
        )
        if v
    }
    return {
        "BilledCost": cost,
        "BillingAccountId": account.id,
        "BillingAccountName": account.name,
        "BillingCurrency": "USD",
        "BillingPeriodEnd": billing_end,
        "BillingPeriodStart": billing_start,
        "ChargeCategory": "Usage",
        "ChargeClass": None,
        "ChargeDescription": f"{meter.name} for {model}",
        "ChargeFrequency": "Usage-Based",
        "ChargePeriodEnd": end,
        "ChargePeriodStart": start,
        "ConsumedQuantity": consumed,
        "ConsumedUnit": meter.consumed_unit,
        "ContractedCost": cost,
        "ContractedUnitPrice": _unit_price(cost, pricing_quantity),
        "EffectiveCost": cost,
        "HostProviderName": display,
        "InvoiceId": None,
        "InvoiceIssuerName": display,
        "ListCost": list_cost,
        "ListUnitPrice": _unit_price(list_cost, pricing_quantity),
        "PricingCategory": "Standard",
        "PricingQuantity": pricing_quantity,
        "PricingUnit": meter.pricing_unit,
        "ProviderName": display,
        "PublisherName": developer or display,
        "ServiceCategory": "AI and Machine Learning",
        "ServiceName": service,
        "ServiceProviderName": display,
        "ServiceSubcategory": "Generative AI",
        "SkuId": sku,
        "SkuMeter": meter.name,
        "SkuPriceDetails": json.dumps(details, sort_keys=True),
        "SkuPriceId": f"{sku}/standard",
        "Tags": json.dumps(tags, sort_keys=True) if tags else None,
        "x_UsageType": usage_type,
    }


def focus_rows(store: Store, start: date, end: date, account: Account) -> Iterator[FocusRow]:
    """FOCUS rows for the local days `start`..`end` (inclusive), in day order."""
    t = schema.usage_daily
    dims = (t.c.department, t.c.project, t.c.agent, t.c.key_id, t.c.provider, t.c.model)
    stmt = (
        select(
            t.c.day, *dims, t.c.usage_type, t.c.quantity_milli, t.c.cost_nanos, t.c.list_cost_nanos
        )
        .where(t.c.day >= start.isoformat(), t.c.day <= end.isoformat(), t.c.quantity_milli != 0)
        .order_by(t.c.day, *dims, t.c.usage_type)
    )
    with store.read() as conn:
        for row in conn.execute(stmt).yield_per(5_000):
            yield focus_row(
                date.fromisoformat(row[0]),
                store.zone,
                account,
                tuple(row[1:7]),
                row[7],
                int(row[8]),
                int(row[9]),
                int(row[10]),
            )
