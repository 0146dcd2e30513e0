from __future__ import annotations

import pytest

from llmledger.pricing import DEFAULT_MAX_OUTPUT_TOKENS, PriceCatalog


@pytest.mark.parametrize(
    ("provider", "model", "limit"),
    [
        ("openai", "gpt-4o", 16_384),
        ("openai", "gpt-4o-mini-2024-07-18", 16_384),
        ("openai", "gpt-4.1", 32_768),
        ("openai", "o3", 100_000),
        ("openai", "gpt-5-mini", 128_000),
        ("anthropic", "claude-sonnet-4-5-20250929", 64_000),
        ("anthropic", "claude-opus-4-1", 32_000),
        ("anthropic", "claude-3-5-haiku-latest", 8_192),
        ("google", "gemini-2.5-pro", 65_536),
        ("bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0", 64_000),
        ("bedrock", "amazon.nova-pro-v1:0", 10_000),
        ("bedrock", "meta.llama3-3-70b-instruct-v1:0", 8_192),
        ("openai", "some-new-model", DEFAULT_MAX_OUTPUT_TOKENS),
    ],
)
def test_max_output_tokens(catalog: PriceCatalog, provider: str, model: str, limit: int) -> None:
    assert catalog.max_output_tokens(provider, model) == limit


@pytest.mark.parametrize(
    ("provider", "model"),
    [
        ("openai", "gpt-4o-2024-08-06"),
        ("openai", "gpt-4.1-mini-2025-04-14"),
        ("anthropic", "claude-sonnet-4-5-20250929"),
        ("google", "models/gemini-2.5-flash"),
        ("gemini", "gemini-2.5-flash"),
        ("bedrock", "us.anthropic.claude-sonnet-4-5-20250929-v1:0"),
        (
            "bedrock",
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
            "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
        ),
        ("openai", "dall-e-3"),
        ("google", "veo-3.0-generate-001"),
    ],
)
def test_knows(catalog: PriceCatalog, provider: str, model: str) -> None:
    assert catalog.knows(provider, model)


def test_does_not_know_other_providers_models(catalog: PriceCatalog) -> None:
    assert not catalog.knows("anthropic", "gpt-4o")
    assert not catalog.knows("openai", "")
