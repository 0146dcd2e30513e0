"""The most output tokens one call of a model can produce: the gateway reserves for it.

From the providers' model pages (read 2026-12-04): platform.openai.com/docs/models,
docs.claude.com/en/docs/about-claude/models/overview, ai.google.dev/gemini-api/docs/models,
docs.aws.amazon.com/bedrock/latest/userguide/model-parameters.html. The first fragment found
in the model id wins, so more specific fragments come first; ``^`` anchors a fragment at
the start of the id.
"""

from __future__ import annotations

DEFAULT_MAX_OUTPUT_TOKENS = 32_768

MAX_OUTPUT_TOKENS: tuple[tuple[str, int], ...] = (
    # OpenAI
    ("gpt-4o-mini", 16_384),
    ("gpt-4o", 16_384),
    ("chatgpt-4o", 16_384),
    ("gpt-4.1", 32_768),
    ("gpt-4-turbo", 4_096),
    ("gpt-3.5-turbo", 4_096),
    ("gpt-5", 128_000),
    ("^o1-mini", 65_536),
    ("^o1", 100_000),
    ("^o3", 100_000),
    ("^o4-mini", 100_000),
    # Anthropic (also on Bedrock and Vertex, where ids contain these fragments)
    ("claude-opus-4-1", 32_000),
    ("claude-opus-4-2025", 32_000),
    ("claude-opus-4-0", 32_000),
    ("claude-opus-4", 64_000),
    ("claude-sonnet-4", 64_000),
    ("claude-haiku-4", 64_000),
    ("claude-3-7-sonnet", 64_000),
    ("claude-3-5", 8_192),
    ("claude-3", 4_096),
    # Google
    ("gemini-2.5", 65_536),
    ("gemini-3", 65_536),
    ("gemini-2.0", 8_192),
    ("gemini-1.5", 8_192),
    # Bedrock-only families
    ("amazon.nova-premier", 32_000),
    ("amazon.nova", 10_000),
    ("meta.llama", 8_192),
    ("mistral.", 8_192),
)


def max_output_tokens(model: str) -> int:
    """The known limit for a (lower-case) model id, else the default."""
    for fragment, limit in MAX_OUTPUT_TOKENS:
        if model.startswith(fragment[1:]) if fragment[0] == "^" else fragment in model:
            return limit
    return DEFAULT_MAX_OUTPUT_TOKENS
