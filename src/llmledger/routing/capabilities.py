"""What each model can do, for the routing guard: a request is never sent to a model
that lacks a capability it needs (tools, JSON schema output, vision, audio, reasoning,
or a context window large enough for it).

The table covers the models of the price catalog that routing rules name; a model not
in it has unknown capabilities and is never a routing target.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Capabilities:
    provider: str
    tools: bool
    json_schema: bool
    vision: bool
    audio: bool
    reasoning: bool
    context_tokens: int


def _caps(
    provider: str,
    context: int,
    *,
    tools: bool = True,
    json_schema: bool = True,
    vision: bool = True,
    audio: bool = False,
    reasoning: bool = False,
) -> Capabilities:
    return Capabilities(provider, tools, json_schema, vision, audio, reasoning, context)


#: Model id prefixes, longest first at lookup. Figures from the providers' model pages.
TABLE: dict[str, Capabilities] = {
    # OpenAI
    "gpt-4o-mini-audio": _caps("openai", 128_000, audio=True, vision=False),
    "gpt-4o-audio": _caps("openai", 128_000, audio=True, vision=False),
    "gpt-4o-mini": _caps("openai", 128_000),
    "gpt-4o": _caps("openai", 128_000),
    "gpt-4.1-nano": _caps("openai", 1_047_576),
    "gpt-4.1-mini": _caps("openai", 1_047_576),
    "gpt-4.1": _caps("openai", 1_047_576),
    "gpt-5-nano": _caps("openai", 400_000, reasoning=True),
    "gpt-5-mini": _caps("openai", 400_000, reasoning=True),
    "gpt-5": _caps("openai", 400_000, reasoning=True),
    "o4-mini": _caps("openai", 200_000, reasoning=True),
    "o3-mini": _caps("openai", 200_000, reasoning=True, vision=False),
    "o3": _caps("openai", 200_000, reasoning=True),
    "o1": _caps("openai", 200_000, reasoning=True),
    "gpt-3.5-turbo": _caps("openai", 16_385, json_schema=False, vision=False),
    # Anthropic (reasoning: extended thinking)
    "claude-opus-4": _caps("anthropic", 200_000, reasoning=True),
    "claude-sonnet-4": _caps("anthropic", 200_000, reasoning=True),
    "claude-3-7-sonnet": _caps("anthropic", 200_000, reasoning=True),
    "claude-haiku-4-5": _caps("anthropic", 200_000, reasoning=True),
    "claude-3-5-haiku": _caps("anthropic", 200_000, json_schema=False),
    "claude-3-5-sonnet": _caps("anthropic", 200_000, json_schema=False),
    "claude-3-haiku": _caps("anthropic", 200_000, json_schema=False),
    # Google (reasoning: thinking)
    "gemini-2.5-pro": _caps("google", 1_048_576, audio=True, reasoning=True),
    "gemini-2.5-flash-lite": _caps("google", 1_048_576, audio=True, reasoning=True),
    "gemini-2.5-flash": _caps("google", 1_048_576, audio=True, reasoning=True),
    "gemini-2.0-flash-lite": _caps("google", 1_048_576, audio=True),
    "gemini-2.0-flash": _caps("google", 1_048_576, audio=True),
    "gemini-1.5-pro": _caps("google", 2_097_152, audio=True),
    "gemini-1.5-flash": _caps("google", 1_048_576, audio=True),
    # Bedrock (ids after any region / vendor prefix are matched like the others)
    "amazon.nova-premier": _caps("bedrock", 1_000_000, json_schema=False),
    "amazon.nova-pro": _caps("bedrock", 300_000, json_schema=False),
    "amazon.nova-lite": _caps("bedrock", 300_000, json_schema=False),
    "amazon.nova-micro": _caps("bedrock", 128_000, json_schema=False, vision=False),
    "anthropic.claude-opus-4": _caps("bedrock", 200_000, json_schema=False, reasoning=True),
    "anthropic.claude-sonnet-4": _caps("bedrock", 200_000, json_schema=False, reasoning=True),
    "anthropic.claude-3-7-sonnet": _caps("bedrock", 200_000, json_schema=False, reasoning=True),
    "anthropic.claude-haiku-4-5": _caps("bedrock", 200_000, json_schema=False, reasoning=True),
    "anthropic.claude-3-5-haiku": _caps("bedrock", 200_000, json_schema=False, vision=False),
    "anthropic.claude-3-haiku": _caps("bedrock", 200_000, json_schema=False),
    "meta.llama3-3-70b": _caps("bedrock", 128_000, json_schema=False, vision=False),
    "meta.llama3-1-8b": _caps("bedrock", 128_000, json_schema=False, vision=False),
}
_ORDERED = sorted(TABLE.items(), key=lambda kv: -len(kv[0]))
_REGION = re.compile(r"^(?:us|eu|apac|global|us-gov|ca|jp|au)\.")


def capabilities(model: str) -> Capabilities | None:
    """The capabilities of ``model`` (any date or version suffix, any Bedrock region
    prefix, ``models/`` path form), or None when the model is not known."""
    name = model.strip().lower().removeprefix("models/")
    name = _REGION.sub("", name.rsplit("/", 1)[-1])
    for prefix, caps in _ORDERED:
        rest = name[len(prefix) :]
        if name.startswith(prefix) and not (rest and rest[0].isalpha()):
            return caps
    return None
