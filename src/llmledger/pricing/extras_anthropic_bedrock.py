"""Anthropic and AWS Bedrock prices missing from genai-prices."""

from __future__ import annotations

from llmledger.usage import UsageType as U

from .entries import Matcher
from .extras import ExtraModel, ExtraPrice, by, each, mtok
from .rates import AttributeRates, utc

_LONG = 200_000
_SONNET_4_1M_CONTEXT = utc(2025, 8, 12)  # 1M-token context beta for Claude Sonnet 4


def _cache_write(five: str, five_long: str, hour: str, hour_long: str) -> AttributeRates:
    return AttributeRates(
        ("cache_ttl",),
        ("5m",),
        {
            ("5m",): mtok(five, (_LONG, five_long)),
            ("1h",): mtok(hour, (_LONG, hour_long)),
        },
    )


ANTHROPIC_EXTRAS: tuple[ExtraModel, ...] = (
    # Claude Sonnet 4 long context: above 200K input tokens the whole call costs $6 in /
    # $22.50 out, cache write $7.50 (5m) / $12 (1h), cache read $0.60. Source:
    # https://docs.claude.com/en/docs/about-claude/pricing#long-context-pricing, read
    # 2026-12-04 (genai-prices has these tiers for Sonnet 4.5 only).
    ExtraModel(
        "anthropic",
        "claude-sonnet-4-0",
        (
            ExtraPrice(U.INPUT_TOKENS, mtok("3", (_LONG, "6")), _SONNET_4_1M_CONTEXT, replace=True),
            ExtraPrice(
                U.OUTPUT_TOKENS, mtok("15", (_LONG, "22.5")), _SONNET_4_1M_CONTEXT, replace=True
            ),
            ExtraPrice(
                U.REASONING_TOKENS, mtok("15", (_LONG, "22.5")), _SONNET_4_1M_CONTEXT, replace=True
            ),
            ExtraPrice(
                U.CACHED_INPUT_TOKENS,
                mtok("0.3", (_LONG, "0.6")),
                _SONNET_4_1M_CONTEXT,
                replace=True,
            ),
            ExtraPrice(
                U.CACHE_WRITE_TOKENS,
                _cache_write("3.75", "7.5", "6", "12"),
                _SONNET_4_1M_CONTEXT,
                replace=True,
            ),
        ),
    ),
)

BEDROCK_EXTRAS: tuple[ExtraModel, ...] = (
    # Amazon Nova Reel: $0.08 per second of generated video (720p, 24 fps), GA 2024-12-03.
    # Source: https://aws.amazon.com/bedrock/pricing/ (Amazon, Nova Reel), read 2026-12-04.
    ExtraModel(
        "bedrock",
        "amazon.nova-reel",
        (ExtraPrice(U.VIDEO_SECONDS, each("0.08"), utc(2024, 12, 3)),),
        match=Matcher.of(prefixes=("amazon.nova-reel", "us.amazon.nova-reel")),
    ),
    # Amazon Nova Canvas per image: standard $0.04 up to 1024x1024, $0.06 up to 2048x2048;
    # premium $0.06 / $0.08. Attribute "size" is the bucket: "1024" or "2048".
    ExtraModel(
        "bedrock",
        "amazon.nova-canvas",
        (
            ExtraPrice(
                U.IMAGES,
                by(
                    ("quality", "size"),
                    ("standard", "1024"),
                    {
                        "standard/1024": "0.04",
                        "standard/2048": "0.06",
                        "premium/1024": "0.06",
                        "premium/2048": "0.08",
                    },
                ),
                utc(2024, 12, 3),
            ),
        ),
        match=Matcher.of(prefixes=("amazon.nova-canvas", "us.amazon.nova-canvas")),
    ),
)
