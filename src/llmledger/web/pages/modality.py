"""The finance views' groups of usage types: text, cached, images, audio, video."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from llmledger.money import usd_to_nanos
from llmledger.usage import TEXT_TOKEN_TYPES, UsageType
from llmledger.web.pages.format import to_decimal

#: Column group -> usage types whose cost it sums.
COST_GROUPS: dict[str, tuple[str, ...]] = {
    "text": tuple(t.value for t in UsageType if t in TEXT_TOKEN_TYPES),
    "images": ("images", "input_images", "input_image_tokens"),
    "audio": ("audio_seconds", "input_audio_tokens", "output_audio_tokens", "speech_characters"),
    "video": ("video_seconds", "input_video_tokens"),
    "other": ("requests",),
}
TEXT = COST_GROUPS["text"]


def quantities(usage: Mapping[str, object]) -> dict[str, Decimal]:
    """The quantity columns: text tokens, cached tokens, images, audio and video seconds."""

    def q(*names: str) -> Decimal:
        return sum((to_decimal(usage.get(n, 0)) for n in names), Decimal(0))

    return {
        "text_tokens": q(*TEXT),
        "cached_tokens": q("cached_input_tokens"),
        "images": q("images", "input_images"),
        "audio_seconds": q("audio_seconds"),
        "video_seconds": q("video_seconds"),
    }


def costs_nanos(usage_cost_usd: Mapping[str, object]) -> dict[str, int]:
    """Cost per group of usage types, exact (nanos)."""
    out = {}
    for group, names in COST_GROUPS.items():
        out[group] = sum(usd_to_nanos(str(usage_cost_usd[n])) for n in names if n in usage_cost_usd)
    return out
