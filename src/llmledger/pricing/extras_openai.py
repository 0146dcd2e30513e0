"""OpenAI per-unit prices missing from genai-prices.

Source for every row unless noted: https://platform.openai.com/docs/pricing (sections
"Image generation", "Transcription and speech generation", "Video", "Audio tokens"),
read 2026-12-04; per-image tables cross-checked with the model pages
https://platform.openai.com/docs/models/gpt-image-1 and .../dall-e-3.
"""

from __future__ import annotations

from llmledger.usage import UsageType as U

from .entries import Matcher
from .extras import ExtraModel, ExtraPrice, by, each, mtok
from .rates import utc

_SIZES_GPT_IMAGE = ("1024x1024", "1024x1536", "1536x1024")


def _gpt_image(rows: dict[str, tuple[str, str, str]]) -> dict[str, str]:
    return {
        f"{quality}/{size}": usd
        for quality, prices in rows.items()
        for size, usd in zip(_SIZES_GPT_IMAGE, prices, strict=True)
    }


# The API's default quality and size are "auto" for gpt-image-1: priced at the dearest.
_IMAGE_KEYS = ("quality", "size")

OPENAI_EXTRAS: tuple[ExtraModel, ...] = (
    # gpt-image-1 per image (launched in the API 2025-04-23), pricing page "Image generation".
    ExtraModel(
        "openai",
        "gpt-image-1",
        (
            ExtraPrice(
                U.IMAGES,
                by(
                    _IMAGE_KEYS,
                    ("auto", "auto"),
                    _gpt_image(
                        {
                            "low": ("0.011", "0.016", "0.016"),
                            "medium": ("0.042", "0.063", "0.063"),
                            "high": ("0.167", "0.25", "0.25"),
                        }
                    ),
                ),
                utc(2025, 4, 23),
            ),
        ),
    ),
    # gpt-image-1-mini per image (launched 2025-10-06), pricing page "Image generation".
    ExtraModel(
        "openai",
        "gpt-image-1-mini",
        (
            ExtraPrice(
                U.IMAGES,
                by(
                    _IMAGE_KEYS,
                    ("auto", "auto"),
                    _gpt_image(
                        {
                            "low": ("0.005", "0.006", "0.006"),
                            "medium": ("0.011", "0.015", "0.015"),
                            "high": ("0.036", "0.052", "0.052"),
                        }
                    ),
                ),
                utc(2025, 10, 6),
            ),
        ),
    ),
    # DALL-E 3 per image; API defaults quality "standard", size "1024x1024".
    ExtraModel(
        "openai",
        "dall-e-3",
        (
            ExtraPrice(
                U.IMAGES,
                by(
                    _IMAGE_KEYS,
                    ("standard", "1024x1024"),
                    {
                        "standard/1024x1024": "0.04",
                        "standard/1024x1792": "0.08",
                        "standard/1792x1024": "0.08",
                        "hd/1024x1024": "0.08",
                        "hd/1024x1792": "0.12",
                        "hd/1792x1024": "0.12",
                    },
                ),
                utc(2023, 11, 6),
            ),
        ),
        match=Matcher.of(equals=("dall-e-3",)),
    ),
    # DALL-E 2 per image by size (quality does not apply).
    ExtraModel(
        "openai",
        "dall-e-2",
        (
            ExtraPrice(
                U.IMAGES,
                by(
                    ("size",),
                    ("1024x1024",),
                    {
                        "256x256": "0.016",
                        "512x512": "0.018",
                        "1024x1024": "0.02",
                    },
                ),
                utc(2023, 11, 6),
            ),
        ),
        match=Matcher.of(equals=("dall-e-2",)),
    ),
    # Transcription per minute, "estimated cost" column: gpt-4o-transcribe $0.006/min,
    # gpt-4o-mini-transcribe $0.003/min (models launched 2025-03-20). Per second here.
    # whisper-1 ($0.006/min) is in genai-prices already.
    ExtraModel(
        "openai",
        "gpt-4o-transcribe",
        (ExtraPrice(U.AUDIO_SECONDS, each("0.0001"), utc(2025, 3, 20)),),
    ),
    ExtraModel(
        "openai",
        "gpt-4o-mini-transcribe",
        (ExtraPrice(U.AUDIO_SECONDS, each("0.00005"), utc(2025, 3, 20)),),
    ),
    # Audio tokens of the chat audio models: gpt-4o-audio-preview (2024-12-17 and later)
    # $40 in / $80 out per 1M audio tokens; gpt-4o-mini-audio-preview $10 / $20.
    ExtraModel(
        "openai",
        "gpt-4o-audio-preview",
        (
            ExtraPrice(U.INPUT_AUDIO_TOKENS, mtok("40"), utc(2024, 12, 17)),
            ExtraPrice(U.OUTPUT_AUDIO_TOKENS, mtok("80"), utc(2024, 12, 17)),
        ),
    ),
    ExtraModel(
        "openai",
        "gpt-4o-mini-audio-preview",
        (
            ExtraPrice(U.INPUT_AUDIO_TOKENS, mtok("10"), utc(2024, 12, 17)),
            ExtraPrice(U.OUTPUT_AUDIO_TOKENS, mtok("20"), utc(2024, 12, 17)),
        ),
    ),
    # The first snapshot, gpt-4o-audio-preview-2024-10-01: $100 / $200 per 1M audio tokens,
    # text $2.50 / $10 (pricing page, "Audio tokens", legacy snapshot row).
    ExtraModel(
        "openai",
        "gpt-4o-audio-preview-2024-10-01",
        (
            ExtraPrice(U.INPUT_TOKENS, mtok("2.5"), utc(2024, 10, 1)),
            ExtraPrice(U.OUTPUT_TOKENS, mtok("10"), utc(2024, 10, 1)),
            ExtraPrice(U.INPUT_AUDIO_TOKENS, mtok("100"), utc(2024, 10, 1)),
            ExtraPrice(U.OUTPUT_AUDIO_TOKENS, mtok("200"), utc(2024, 10, 1)),
        ),
        match=Matcher.of(equals=("gpt-4o-audio-preview-2024-10-01",)),
    ),
    # Sora 2 video per second (API launch 2025-10-06): sora-2 $0.10 at 720x1280/1280x720;
    # sora-2-pro $0.30 at 720p sizes, $0.50 at 1024x1792/1792x1024. API default 720x1280.
    ExtraModel(
        "openai",
        "sora-2-pro",
        (
            ExtraPrice(
                U.VIDEO_SECONDS,
                by(
                    ("size",),
                    ("720x1280",),
                    {
                        "720x1280": "0.30",
                        "1280x720": "0.30",
                        "1024x1792": "0.50",
                        "1792x1024": "0.50",
                    },
                ),
                utc(2025, 10, 6),
            ),
        ),
        match=Matcher.of(prefixes=("sora-2-pro",)),
    ),
    ExtraModel(
        "openai",
        "sora-2",
        (ExtraPrice(U.VIDEO_SECONDS, each("0.10"), utc(2025, 10, 6)),),
        match=Matcher.of(equals=("sora-2",), prefixes=("sora-2-20",)),
    ),
)
