"""Usage types (the finance views' "token types") and the `Usage` of one call."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from decimal import Decimal, InvalidOperation
from enum import StrEnum


class UsageType(StrEnum):
    """The names used everywhere: store, JSON, CSV and CLI (DESIGN.md, Attribution)."""

    INPUT_TOKENS = "input_tokens"
    CACHED_INPUT_TOKENS = "cached_input_tokens"
    CACHE_WRITE_TOKENS = "cache_write_tokens"
    OUTPUT_TOKENS = "output_tokens"
    REASONING_TOKENS = "reasoning_tokens"
    INPUT_AUDIO_TOKENS = "input_audio_tokens"
    OUTPUT_AUDIO_TOKENS = "output_audio_tokens"
    INPUT_IMAGE_TOKENS = "input_image_tokens"
    INPUT_VIDEO_TOKENS = "input_video_tokens"
    IMAGES = "images"
    INPUT_IMAGES = "input_images"
    AUDIO_SECONDS = "audio_seconds"
    SPEECH_CHARACTERS = "speech_characters"
    VIDEO_SECONDS = "video_seconds"
    REQUESTS = "requests"


#: Token types counted as "text tokens" in the finance views.
TEXT_TOKEN_TYPES = frozenset(
    {
        UsageType.INPUT_TOKENS,
        UsageType.CACHED_INPUT_TOKENS,
        UsageType.CACHE_WRITE_TOKENS,
        UsageType.OUTPUT_TOKENS,
        UsageType.REASONING_TOKENS,
    }
)

#: Types whose quantity may carry a fraction (thousandths at most).
FRACTIONAL_TYPES = frozenset({UsageType.AUDIO_SECONDS, UsageType.VIDEO_SECONDS})

#: Largest quantity of one type accepted on one record: larger is not a real call.
MAX_QUANTITY = Decimal(10) ** 12

_MILLI = Decimal("0.001")


class UsageError(ValueError):
    """A usage quantity or type that cannot be recorded."""


def parse_usage_type(name: str) -> UsageType:
    try:
        return UsageType(name)
    except ValueError:
        known = ", ".join(t.value for t in UsageType)
        raise UsageError(f"unknown usage type {name!r} (known: {known})") from None


def parse_quantity(usage_type: UsageType, raw: object) -> Decimal:
    """A validated quantity: finite, not negative, not absurd, whole unless seconds."""
    if isinstance(raw, bool) or isinstance(raw, float) and raw != raw:
        raise UsageError(f"{usage_type}: not a number: {raw!r}")
    try:
        value = Decimal(str(raw)) if not isinstance(raw, Decimal) else raw
    except (InvalidOperation, ValueError):
        raise UsageError(f"{usage_type}: not a number: {raw!r}") from None
    if not value.is_finite():
        raise UsageError(f"{usage_type}: not a finite number: {raw!r}")
    if value < 0:
        raise UsageError(f"{usage_type}: negative quantity {raw!r}")
    if value > MAX_QUANTITY:
        raise UsageError(f"{usage_type}: absurd quantity {raw!r} (over {MAX_QUANTITY:,})")
    if usage_type in FRACTIONAL_TYPES:
        if value != value.quantize(_MILLI):
            raise UsageError(f"{usage_type}: more precise than a millisecond: {raw!r}")
        return value.quantize(_MILLI).normalize() if value else Decimal(0)
    if value != value.to_integral_value():
        raise UsageError(f"{usage_type}: must be a whole number, got {raw!r}")
    return Decimal(int(value))


def from_milli(usage_type: UsageType, milli: int) -> Decimal:
    """A quantity from its store form (thousandths), as `parse_quantity` gives it."""
    if usage_type in FRACTIONAL_TYPES:
        return Decimal(milli).scaleb(-3).normalize() if milli else Decimal(0)
    return Decimal(milli // 1000)


class Usage(Mapping[UsageType, Decimal]):
    """The usage of one call by type; zero quantities are dropped. Immutable."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[UsageType, Decimal] | None = None) -> None:
        self._items: dict[UsageType, Decimal] = {t: q for t, q in (items or {}).items() if q}

    @classmethod
    def parse(cls, raw: Mapping[str, object]) -> Usage:
        """From names and raw numbers (JSON, CSV, CLI), validating every entry."""
        items: dict[UsageType, Decimal] = {}
        for name, quantity in raw.items():
            usage_type = parse_usage_type(name)
            items[usage_type] = parse_quantity(usage_type, quantity)
        return cls(items)

    @classmethod
    def of(cls, **quantities: int | Decimal) -> Usage:
        """Shorthand for code and tests: ``Usage.of(input_tokens=10, output_tokens=2)``."""
        return cls({UsageType(k): Decimal(v) for k, v in quantities.items()})

    def __getitem__(self, key: UsageType) -> Decimal:
        return self._items[key]

    def __iter__(self) -> Iterator[UsageType]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def get_quantity(self, key: UsageType) -> Decimal:
        return self._items.get(key, Decimal(0))

    def __add__(self, other: Usage) -> Usage:
        merged = dict(self._items)
        for t, q in other.items():
            merged[t] = merged.get(t, Decimal(0)) + q
        return Usage(merged)

    def as_json(self) -> dict[str, int | str]:
        """Whole quantities as JSON integers, fractional ones as decimal strings."""
        out: dict[str, int | str] = {}
        for t, q in self._items.items():
            out[t.value] = int(q) if q == q.to_integral_value() else format(q, "f")
        return out

    def __repr__(self) -> str:
        inner = ", ".join(f"{t.value}={q}" for t, q in self._items.items())
        return f"Usage({inner})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Usage):
            return self._items == other._items
        return NotImplemented

    def __hash__(self) -> int:
        return hash(frozenset(self._items.items()))
