"""Google (Gemini API) per-unit prices missing from genai-prices.

Source for every row: https://ai.google.dev/gemini-api/docs/pricing (paid tier, standard),
read 2026-12-04; price history from the Gemini API changelog
https://ai.google.dev/gemini-api/docs/changelog. Per-modality token prices (audio input of
gemini-2.5-flash, -flash-lite, 2.0-flash) are in genai-prices already.
"""

from __future__ import annotations

from llmledger.usage import UsageType as U

from .entries import Matcher
from .extras import ExtraModel, ExtraPrice, by, each
from .rates import utc

_VEO_PRICE_CUT = utc(2025, 9, 9)  # changelog: "lower prices for Veo 3 and Veo 3 Fast"

GOOGLE_EXTRAS: tuple[ExtraModel, ...] = (
    # Gemini 2.5 Flash Image: $30 per 1M output image tokens, 1290 tokens per image up to
    # 1024x1024 = $0.039 per image (GA 2025-08-26 as "preview", later "gemini-2.5-flash-image").
    ExtraModel(
        "google", "gemini-2.5-flash-image", (ExtraPrice(U.IMAGES, each("0.039"), utc(2025, 8, 26)),)
    ),
    # Gemini 3 Pro Image: $0.134 per 1K/2K image, $0.24 per 4K image (imageSize "1K"
    # default), launched 2025-11-20.
    ExtraModel(
        "google",
        "gemini-3-pro-image-preview",
        (
            ExtraPrice(
                U.IMAGES,
                by(
                    ("size",),
                    ("1k",),
                    {
                        "1k": "0.134",
                        "2k": "0.134",
                        "4k": "0.24",
                    },
                ),
                utc(2025, 11, 20),
            ),
        ),
    ),
    # Imagen per image: 4 Fast $0.02, 4 Standard $0.04, 4 Ultra $0.06, 3 $0.03.
    ExtraModel(
        "google",
        "imagen-4.0-fast-generate",
        (ExtraPrice(U.IMAGES, each("0.02"), utc(2025, 6, 24)),),
        match=Matcher.of(prefixes=("imagen-4.0-fast-generate",)),
    ),
    ExtraModel(
        "google",
        "imagen-4.0-ultra-generate",
        (ExtraPrice(U.IMAGES, each("0.06"), utc(2025, 6, 24)),),
        match=Matcher.of(prefixes=("imagen-4.0-ultra-generate",)),
    ),
    ExtraModel(
        "google",
        "imagen-4.0-generate",
        (ExtraPrice(U.IMAGES, each("0.04"), utc(2025, 6, 24)),),
        match=Matcher.of(prefixes=("imagen-4.0-generate",)),
    ),
    ExtraModel(
        "google",
        "imagen-3.0-generate",
        (ExtraPrice(U.IMAGES, each("0.03"), utc(2025, 2, 6)),),
        match=Matcher.of(prefixes=("imagen-3.0-generate",)),
    ),
    # Veo per second of generated video (with audio). Veo 3 launched at $0.75/s
    # (2025-07-17) and Veo 3 Fast at $0.40/s; both cut on 2025-09-09 to $0.40 and $0.15.
    ExtraModel(
        "google",
        "veo-3.0-fast-generate",
        (
            ExtraPrice(U.VIDEO_SECONDS, each("0.40"), utc(2025, 7, 17), _VEO_PRICE_CUT),
            ExtraPrice(U.VIDEO_SECONDS, each("0.15"), _VEO_PRICE_CUT),
        ),
        match=Matcher.of(prefixes=("veo-3.0-fast-generate",)),
    ),
    ExtraModel(
        "google",
        "veo-3.0-generate",
        (
            ExtraPrice(U.VIDEO_SECONDS, each("0.75"), utc(2025, 7, 17), _VEO_PRICE_CUT),
            ExtraPrice(U.VIDEO_SECONDS, each("0.40"), _VEO_PRICE_CUT),
        ),
        match=Matcher.of(prefixes=("veo-3.0-generate",)),
    ),
    # Veo 3.1 (2025-10-15): Standard $0.40/s, Fast $0.15/s; Veo 2: $0.35/s.
    ExtraModel(
        "google",
        "veo-3.1-fast-generate",
        (ExtraPrice(U.VIDEO_SECONDS, each("0.15"), utc(2025, 10, 15)),),
        match=Matcher.of(prefixes=("veo-3.1-fast-generate",)),
    ),
    ExtraModel(
        "google",
        "veo-3.1-generate",
        (ExtraPrice(U.VIDEO_SECONDS, each("0.40"), utc(2025, 10, 15)),),
        match=Matcher.of(prefixes=("veo-3.1-generate",)),
    ),
    ExtraModel(
        "google",
        "veo-2.0-generate",
        (ExtraPrice(U.VIDEO_SECONDS, each("0.35"), utc(2025, 4, 9)),),
        match=Matcher.of(prefixes=("veo-2.0-generate",)),
    ),
)
