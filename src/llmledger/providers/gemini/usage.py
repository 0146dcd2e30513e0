"""Gemini ``usageMetadata`` to llmledger usage types.

``promptTokenCount`` includes the cached tokens; ``cachedContentTokenCount`` is the
cached part; ``candidatesTokenCount`` excludes ``thoughtsTokenCount``;
``toolUsePromptTokenCount`` (tool results fed back, e.g. search) is billed as input on
top of the prompt. The per-modality details split each of these by TEXT, IMAGE, AUDIO,
VIDEO (and DOCUMENT, billed as text).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from llmledger.providers.gemini.parts import (
    AUDIO_TOKENS_PER_SECOND,
    VIDEO_TOKENS_PER_SECOND,
    field,
)
from llmledger.usage import Usage, UsageType

#: Gemini 2.5 Pro prices prompts above this size at its long-context rate.
LONG_CONTEXT_THRESHOLD = 200_000
#: Tokens per generated image (Gemini 2.5 Flash Image, up to 1024x1024).
TOKENS_PER_OUTPUT_IMAGE = 1290
_MILLI = Decimal("0.001")


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def by_modality(details: Any) -> dict[str, int]:
    """``[{modality: AUDIO, tokenCount: 10}]`` as ``{"AUDIO": 10}``."""
    out: dict[str, int] = {}
    if isinstance(details, list):
        for item in details:
            if isinstance(item, Mapping):
                modality = str(item.get("modality", "MODALITY_UNSPECIFIED")).upper()
                out[modality] = out.get(modality, 0) + _int(field(item, "tokenCount"))
    return out


@dataclass(frozen=True, slots=True)
class OutputSeen:
    """What the answer's parts showed, for counts the usage block does not give."""

    images: int = 0
    text_chars: int = 0
    thought_chars: int = 0


def _seconds(tokens: int, rate: int) -> Decimal:
    return (Decimal(tokens) / rate).quantize(_MILLI, rounding=ROUND_HALF_UP)


def usage_from_metadata(
    meta: Mapping[str, Any],
    seen: OutputSeen,
    request_attributes: Mapping[str, str],
) -> tuple[Usage, dict[str, str]]:
    """The usage of one answer and the attributes worth keeping beside it."""
    prompt = _int(field(meta, "promptTokenCount"))
    cached = _int(field(meta, "cachedContentTokenCount"))
    tool = _int(field(meta, "toolUsePromptTokenCount"))
    prompt_by = by_modality(field(meta, "promptTokensDetails"))
    cache_by = by_modality(field(meta, "cacheTokensDetails"))
    tool_by = by_modality(field(meta, "toolUsePromptTokensDetails"))
    out_by = by_modality(field(meta, "candidatesTokensDetails"))

    def fresh(modality: str) -> int:
        return max(prompt_by.get(modality, 0) - cache_by.get(modality, 0), 0) + tool_by.get(
            modality, 0
        )

    audio_in, image_in, video_in = fresh("AUDIO"), fresh("IMAGE"), fresh("VIDEO")
    text_in = max(prompt + tool - cached - audio_in - image_in - video_in, 0)

    candidates = _int(field(meta, "candidatesTokenCount"))
    audio_out = out_by.get("AUDIO", 0)
    image_out = out_by.get("IMAGE", 0)
    text_out = max(candidates - audio_out - image_out, 0)

    attributes: dict[str, str] = {"prompt_tokens": str(prompt)}
    if prompt > LONG_CONTEXT_THRESHOLD:
        attributes["long_context"] = "true"
    if cache_by.get("AUDIO"):
        attributes["cached_audio_tokens"] = str(cache_by["AUDIO"])
    images = seen.images
    if image_out:
        attributes["output_image_tokens"] = str(image_out)
        if not images:
            images = max(1, image_out // TOKENS_PER_OUTPUT_IMAGE)
            attributes["images_source"] = f"output_image_tokens/{TOKENS_PER_OUTPUT_IMAGE}"

    items: dict[UsageType, Decimal] = {
        UsageType.INPUT_TOKENS: Decimal(text_in),
        UsageType.CACHED_INPUT_TOKENS: Decimal(cached),
        UsageType.INPUT_AUDIO_TOKENS: Decimal(audio_in),
        UsageType.INPUT_IMAGE_TOKENS: Decimal(image_in),
        UsageType.INPUT_VIDEO_TOKENS: Decimal(video_in),
        UsageType.OUTPUT_TOKENS: Decimal(text_out),
        UsageType.OUTPUT_AUDIO_TOKENS: Decimal(audio_out),
        UsageType.REASONING_TOKENS: Decimal(_int(field(meta, "thoughtsTokenCount"))),
        UsageType.IMAGES: Decimal(images),
    }
    # Derived quantities: finance counts images and seconds, Gemini bills tokens.
    input_images = int(request_attributes.get("input_images", "0"))
    if input_images:
        items[UsageType.INPUT_IMAGES] = Decimal(input_images)
        attributes["input_images_source"] = "request parts"
    audio_total = prompt_by.get("AUDIO", 0) + tool_by.get("AUDIO", 0)
    if audio_total and request_attributes.get("input_audio_parts"):
        items[UsageType.AUDIO_SECONDS] = _seconds(audio_total, AUDIO_TOKENS_PER_SECOND)
        attributes["audio_seconds_source"] = f"audio tokens/{AUDIO_TOKENS_PER_SECOND}"
    video_total = prompt_by.get("VIDEO", 0) + tool_by.get("VIDEO", 0)
    if video_total:
        items[UsageType.VIDEO_SECONDS] = _seconds(video_total, VIDEO_TOKENS_PER_SECOND)
        attributes["video_seconds_source"] = f"video tokens/{VIDEO_TOKENS_PER_SECOND}"
    return Usage(items), attributes


def estimate_output(seen: OutputSeen) -> tuple[int, int]:
    """(output, reasoning) tokens estimated from the characters streamed (4 per token)."""
    return -(-seen.text_chars // 4), -(-seen.thought_chars // 4)
