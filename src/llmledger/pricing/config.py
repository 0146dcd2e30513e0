"""The operator's pricing settings, embedded by the application's Settings under ``[pricing]``.

Amounts are decimal strings (``"2.50"``), never TOML floats: a binary float is refused so
that no price is ever rounded on its way in. Dates may be TOML dates (midnight UTC) or
datetimes; a datetime without an offset is taken as UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from llmledger.usage import TEXT_TOKEN_TYPES, UsageType

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_TOKEN_TYPES = TEXT_TOKEN_TYPES | {
    UsageType.INPUT_AUDIO_TOKENS,
    UsageType.OUTPUT_AUDIO_TOKENS,
    UsageType.INPUT_IMAGE_TOKENS,
    UsageType.INPUT_VIDEO_TOKENS,
}


def _decimal(raw: object) -> Decimal:
    if isinstance(raw, float):
        raise ValueError('write amounts as decimal strings ("2.50"), not floats')
    if isinstance(raw, bool) or not isinstance(raw, str | int | Decimal):
        raise ValueError(f"not a decimal amount: {raw!r}")
    try:
        value = raw if isinstance(raw, Decimal) else Decimal(str(raw).strip())
    except InvalidOperation:
        raise ValueError(f"not a decimal amount: {raw!r}") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"must be a finite, non-negative amount: {raw!r}")
    return value


def _utc(raw: object) -> object:
    if isinstance(raw, datetime):
        return raw.replace(tzinfo=UTC) if raw.tzinfo is None else raw.astimezone(UTC)
    if isinstance(raw, date):
        return datetime(raw.year, raw.month, raw.day, tzinfo=UTC)
    return raw


DecimalAmount = Annotated[Decimal, BeforeValidator(_decimal)]
UtcDatetime = Annotated[datetime, BeforeValidator(_utc)]


class UnitPrice(BaseModel):
    """A price of ``usd`` per ``per`` units of one usage type."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    usd: DecimalAmount = Field(description='Price in USD as a decimal string, e.g. "2.50".')
    per: Literal[1, 1_000_000] = Field(
        default=1_000_000,
        description="Units the price is for: 1_000_000 for tokens (per million), 1 for "
        "images, seconds, characters and requests.",
    )


def _unit_prices(raw: object) -> object:
    """Let ``input_tokens = "2.50"`` stand for ``{usd = "2.50", per = 1000000}``."""
    if not isinstance(raw, dict):
        return raw
    out: dict[object, object] = {}
    for key, value in raw.items():
        if isinstance(value, str | int | Decimal | float) and not isinstance(value, bool):
            per = 1_000_000 if str(key) in {t.value for t in _TOKEN_TYPES} else 1
            value = {"usd": value, "per": per}
        out[key] = value
    return out


UnitPrices = Annotated[dict[UsageType, UnitPrice], BeforeValidator(_unit_prices)]


class _Dated(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    effective_from: UtcDatetime = Field(
        default=EPOCH,
        description="First moment (UTC) this entry applies; a TOML date means midnight UTC.",
    )
    effective_to: UtcDatetime | None = Field(
        default=None, description="Moment (UTC) from which it no longer applies; open if unset."
    )

    @model_validator(mode="after")
    def _ordered(self) -> _Dated:
        if self.effective_to is not None and self.effective_to <= self.effective_from:
            raise ValueError("effective_to must be after effective_from")
        return self


class CustomModel(_Dated):
    """A model the catalog does not know (a fine-tune, a self-hosted model), or a model
    whose catalog prices the operator replaces entirely. Several entries with the same
    provider and model and different ``effective_from`` form its price history."""

    provider: str = Field(description="Provider id: openai, anthropic, google, bedrock, or own.")
    model: str = Field(description="Model id as the provider names it; the priced model name.")
    aliases: list[str] = Field(
        default_factory=list, description="Other exact model ids priced as this model."
    )
    prefixes: list[str] = Field(
        default_factory=list,
        description='Model id prefixes priced as this model, e.g. "ft:gpt-4o-mini:acme:".',
    )
    prices: UnitPrices = Field(
        description="Unit price per usage type; a bare string is per million for token "
        "types and per unit otherwise."
    )
    max_output_tokens: int | None = Field(
        default=None, gt=0, description="Most output tokens one call can produce."
    )


class Discount(_Dated):
    """A contract discount off list prices (an enterprise agreement, committed spend)."""

    provider: str = Field(description="Provider id the discount applies to.")
    model: str | None = Field(
        default=None,
        description='Glob pattern on the model id (asked or priced), e.g. "claude-*"; all '
        "models of the provider when unset.",
    )
    percent: DecimalAmount = Field(description='Percent off, as a decimal string, e.g. "12.5".')
    note: str = Field(default="", description="Why: the contract or agreement reference.")

    @model_validator(mode="after")
    def _at_most_all(self) -> Discount:
        if self.percent > 100:
            raise ValueError("a discount cannot exceed 100 percent")
        return self


class PriceOverride(_Dated):
    """Negotiated unit prices that replace the catalog's list price of known models."""

    provider: str = Field(description="Provider id.")
    model: str = Field(description="Glob pattern on the model id (asked or priced).")
    prices: UnitPrices = Field(description="Negotiated unit price per usage type.")
    note: str = Field(default="", description="Why: the contract or agreement reference.")


class PricingConfig(BaseModel):
    """``[pricing]``: custom models, contract discounts and negotiated prices."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    custom_models: list[CustomModel] = Field(
        default_factory=list,
        description="Models priced by the operator; they win over the built-in catalog.",
    )
    discounts: list[Discount] = Field(
        default_factory=list,
        description="Percent discounts; the most specific one in force applies (a model "
        "pattern beats a provider-wide one; among equals, the later entry).",
    )
    overrides: list[PriceOverride] = Field(
        default_factory=list,
        description="Negotiated unit prices replacing list prices of known models; discounts "
        "still apply on top.",
    )
