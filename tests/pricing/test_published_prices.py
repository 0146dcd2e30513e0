"""Current models priced by hand from the providers' published price pages.

Each expected total is worked out by hand in the comment of its row, from the page named
in the section's comment (read 2026-12-04), at a moment when those prices are in force.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from llmledger.money import usd_to_nanos
from llmledger.pricing import PriceCatalog
from llmledger.usage import Usage

from .conftest import NOW

OPENAI = "https://platform.openai.com/docs/pricing"
ANTHROPIC = "https://docs.claude.com/en/docs/about-claude/pricing"
GEMINI = "https://ai.google.dev/gemini-api/docs/pricing"
BEDROCK = "https://aws.amazon.com/bedrock/pricing/"

Row = tuple[str, str, dict[str, object], dict[str, str] | None, str, str]

ROWS: list[Row] = [
    # --- OpenAI -------------------------------------------------------------------------
    # gpt-4o $2.50 in / $1.25 cached / $10 out per 1M: .0025 + .000625 + .02
    (
        "openai",
        "gpt-4o",
        {"input_tokens": 1000, "cached_input_tokens": 500, "output_tokens": 2000},
        None,
        "0.023125",
        OPENAI,
    ),
    # a dated snapshot resolves to its family: 1M input at $2.50
    ("openai", "gpt-4o-2024-08-06", {"input_tokens": 1_000_000}, None, "2.5", OPENAI),
    # gpt-4o-mini $0.15 / $0.60: .15 + .60
    (
        "openai",
        "gpt-4o-mini",
        {"input_tokens": 1_000_000, "output_tokens": 1_000_000},
        None,
        "0.75",
        OPENAI,
    ),
    # gpt-4.1 $2 in / $0.50 cached / $8 out: .02 + .002 + .008
    (
        "openai",
        "gpt-4.1",
        {"input_tokens": 10_000, "cached_input_tokens": 4_000, "output_tokens": 1_000},
        None,
        "0.03",
        OPENAI,
    ),
    # o3 (since 2025-06-10) $2 / $8, reasoning billed as output: .002 + .024 + .004
    (
        "openai",
        "o3",
        {"input_tokens": 1000, "reasoning_tokens": 3000, "output_tokens": 500},
        None,
        "0.03",
        OPENAI,
    ),
    # o4-mini $1.10 / $4.40: 1.10 + .44
    (
        "openai",
        "o4-mini",
        {"input_tokens": 1_000_000, "output_tokens": 100_000},
        None,
        "1.54",
        OPENAI,
    ),
    # gpt-5 $1.25 in / $0.125 cached / $10 out
    (
        "openai",
        "gpt-5",
        {"input_tokens": 1_000_000, "cached_input_tokens": 1_000_000, "output_tokens": 1_000_000},
        None,
        "11.375",
        OPENAI,
    ),
    # gpt-image-1 per image: high 1024x1536 $0.25
    (
        "openai",
        "gpt-image-1",
        {"images": 1},
        {"quality": "high", "size": "1024x1536"},
        "0.25",
        OPENAI,
    ),
    # gpt-image-1 medium 1024x1024 $0.042 x 3
    (
        "openai",
        "gpt-image-1",
        {"images": 3},
        {"quality": "medium", "size": "1024x1024"},
        "0.126",
        OPENAI,
    ),
    # gpt-image-1 quality/size "auto" (the API default) is priced at the dearest, $0.25
    ("openai", "gpt-image-1", {"images": 1}, None, "0.25", OPENAI),
    # gpt-image-1 image input tokens $10 per 1M
    ("openai", "gpt-image-1", {"input_image_tokens": 100_000}, None, "1", OPENAI),
    # dall-e-3 hd 1792x1024 $0.12 x 2
    ("openai", "dall-e-3", {"images": 2}, {"quality": "hd", "size": "1792x1024"}, "0.24", OPENAI),
    # dall-e-3 defaults standard 1024x1024 $0.04
    ("openai", "dall-e-3", {"images": 1}, None, "0.04", OPENAI),
    # whisper-1 $0.006 per minute: 60.5 s -> 0.00605
    ("openai", "whisper-1", {"audio_seconds": "60.5"}, None, "0.00605", OPENAI),
    # gpt-4o-mini-transcribe $0.003 per minute: 120 s -> 0.006
    ("openai", "gpt-4o-mini-transcribe", {"audio_seconds": 120}, None, "0.006", OPENAI),
    # tts-1 $15 per 1M characters; tts-1-hd $30: 2000 chars -> 0.06
    ("openai", "tts-1", {"speech_characters": 1_000_000}, None, "15", OPENAI),
    ("openai", "tts-1-hd", {"speech_characters": 2_000}, None, "0.06", OPENAI),
    # gpt-4o-audio-preview audio tokens $40 in / $80 out per 1M, text $2.50
    (
        "openai",
        "gpt-4o-audio-preview-2024-12-17",
        {"input_audio_tokens": 1_000_000, "output_audio_tokens": 100_000, "input_tokens": 1000},
        None,
        "48.0025",
        OPENAI,
    ),
    # sora-2-pro 1792x1024 $0.50 per second x 10 s; sora-2 $0.10 x 8 s
    ("openai", "sora-2-pro", {"video_seconds": 10}, {"size": "1792x1024"}, "5", OPENAI),
    ("openai", "sora-2", {"video_seconds": 8}, None, "0.8", OPENAI),
    # --- Anthropic ----------------------------------------------------------------------
    # sonnet 4.5 $3 in / $3.75 cache write / $0.30 cache read / $15 out:
    # .03 + .01875 + .006 + .03
    (
        "anthropic",
        "claude-sonnet-4-5",
        {
            "input_tokens": 10_000,
            "cache_write_tokens": 5_000,
            "cached_input_tokens": 20_000,
            "output_tokens": 2_000,
        },
        None,
        "0.08475",
        ANTHROPIC,
    ),
    # sonnet 4.5 over 200K input (150K + 60K cached = 210K): $6 / $0.60 / $22.50 for all:
    # .9 + .036 + .0225
    (
        "anthropic",
        "claude-sonnet-4-5-20250929",
        {"input_tokens": 150_000, "cached_input_tokens": 60_000, "output_tokens": 1_000},
        None,
        "0.9585",
        ANTHROPIC,
    ),
    # exactly 200K input is not above the threshold: $3
    ("anthropic", "claude-sonnet-4-5", {"input_tokens": 200_000}, None, "0.6", ANTHROPIC),
    # sonnet 4 over 200K (1M context): $6 per 1M input
    ("anthropic", "claude-sonnet-4-20250514", {"input_tokens": 300_000}, None, "1.8", ANTHROPIC),
    # haiku 4.5 $1 / $5
    (
        "anthropic",
        "claude-haiku-4-5-20251001",
        {"input_tokens": 1_000_000, "output_tokens": 1_000_000},
        None,
        "6",
        ANTHROPIC,
    ),
    # haiku 4.5 1-hour cache writes $2 per 1M (5-minute: $1.25)
    (
        "anthropic",
        "claude-haiku-4-5",
        {"cache_write_tokens": 1_000_000},
        {"cache_ttl": "1h"},
        "2",
        ANTHROPIC,
    ),
    ("anthropic", "claude-haiku-4-5", {"cache_write_tokens": 1_000_000}, None, "1.25", ANTHROPIC),
    # opus 4.1 $15 / $75: .15 + .075
    (
        "anthropic",
        "claude-opus-4-1-20250805",
        {"input_tokens": 10_000, "output_tokens": 1_000},
        None,
        "0.225",
        ANTHROPIC,
    ),
    # --- Google Gemini API --------------------------------------------------------------
    # 2.5 flash: text $0.30, audio input $1.00, output $2.50: .30 + 1 + .25
    (
        "google",
        "gemini-2.5-flash",
        {"input_tokens": 1_000_000, "input_audio_tokens": 1_000_000, "output_tokens": 100_000},
        None,
        "1.55",
        GEMINI,
    ),
    # 2.5 flash image/video input tokens cost what text does: $0.30
    ("google", "gemini-2.5-flash", {"input_video_tokens": 1_000_000}, None, "0.3", GEMINI),
    # 2.5 pro up to 200K: $1.25 / $10: .125 + .1
    (
        "google",
        "gemini-2.5-pro",
        {"input_tokens": 100_000, "output_tokens": 10_000},
        None,
        "0.225",
        GEMINI,
    ),
    # 2.5 pro over 200K: $2.50 / $15: .625 + .15
    (
        "google",
        "gemini-2.5-pro",
        {"input_tokens": 250_000, "output_tokens": 10_000},
        None,
        "0.775",
        GEMINI,
    ),
    # 2.5 flash image $0.039 per image x 4
    ("google", "gemini-2.5-flash-image", {"images": 4}, None, "0.156", GEMINI),
    # imagen 4 standard $0.04; veo 3 $0.40 per second (since 2025-09-09) x 8
    ("google", "imagen-4.0-generate-001", {"images": 1}, None, "0.04", GEMINI),
    ("google", "veo-3.0-generate-001", {"video_seconds": 8}, None, "3.2", GEMINI),
    # --- AWS Bedrock --------------------------------------------------------------------
    # Sonnet 4.5 through the US (geo) cross-region profile: 10% above global,
    # $3.30 / $16.50: 3.3 + 1.65
    (
        "bedrock",
        "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        {"input_tokens": 1_000_000, "output_tokens": 100_000},
        None,
        "4.95",
        BEDROCK,
    ),
    # the global profile: $3 per 1M input
    (
        "bedrock",
        "global.anthropic.claude-sonnet-4-5-20250929-v1:0",
        {"input_tokens": 1_000_000},
        None,
        "3",
        BEDROCK,
    ),
    # Nova Pro $0.80 / $3.20
    (
        "bedrock",
        "amazon.nova-pro-v1:0",
        {"input_tokens": 1_000_000, "output_tokens": 1_000_000},
        None,
        "4",
        BEDROCK,
    ),
    # Llama 3.3 70B $0.72 / $0.72
    (
        "bedrock",
        "meta.llama3-3-70b-instruct-v1:0",
        {"input_tokens": 1_000_000, "output_tokens": 1_000_000},
        None,
        "1.44",
        BEDROCK,
    ),
    # Mistral Large (24.02) $4 / $12; Mistral 7B $0.15 / $0.20
    (
        "bedrock",
        "mistral.mistral-large-2402-v1:0",
        {"input_tokens": 1_000_000, "output_tokens": 1_000_000},
        None,
        "16",
        BEDROCK,
    ),
    (
        "bedrock",
        "mistral.mistral-7b-instruct-v0:2",
        {"input_tokens": 1_000_000, "output_tokens": 1_000_000},
        None,
        "0.35",
        BEDROCK,
    ),
    # Nova Reel $0.08 per second x 6
    ("bedrock", "amazon.nova-reel-v1:0", {"video_seconds": 6}, None, "0.48", BEDROCK),
]


@pytest.mark.parametrize(
    ("provider", "model", "usage", "attributes", "total_usd", "source"),
    ROWS,
    ids=[f"{r[0]}:{r[1]}:{i}" for i, r in enumerate(ROWS)],
)
def test_published_price(
    catalog: PriceCatalog,
    provider: str,
    model: str,
    usage: dict[str, object],
    attributes: dict[str, str] | None,
    total_usd: str,
    source: str,
) -> None:
    quote = catalog.quote(Usage.parse(usage), provider, model, NOW, attributes)
    assert not quote.unpriced, (quote.unpriced_types, source)
    assert quote.total_nanos == usd_to_nanos(Decimal(total_usd)), source
    assert quote.list_total_nanos == quote.total_nanos
