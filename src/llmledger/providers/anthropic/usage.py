"""Anthropic's usage blocks mapped to llmledger usage types (docs/providers/anthropic.md)."""

from __future__ import annotations

from decimal import Decimal

from llmledger.providers.base import RequestInfo
from llmledger.providers.json_fields import JSONObject, integer
from llmledger.usage import Usage, UsageType

#: Characters per token used where Anthropic reported no usage (cut-off streams).
CHARS_PER_TOKEN = 4

#: Anthropic's usage fields and the llmledger type each one is billed as.
FIELDS = {
    "input_tokens": UsageType.INPUT_TOKENS,
    "cache_creation_input_tokens": UsageType.CACHE_WRITE_TOKENS,
    "cache_read_input_tokens": UsageType.CACHED_INPUT_TOKENS,
    "output_tokens": UsageType.OUTPUT_TOKENS,
}


def message_usage(usage: JSONObject) -> Usage:
    """``usage`` of a Message. Anthropic's ``input_tokens`` already excludes the tokens
    read from and written to the cache; ``output_tokens`` includes thinking."""
    return Usage({t: Decimal(integer(usage.get(name))) for name, t in FIELDS.items()})


def estimate_input(info: RequestInfo) -> Usage:
    chars = info.features.get("prompt_chars")
    tokens = -(-chars // CHARS_PER_TOKEN) if isinstance(chars, int) else 0
    return Usage({UsageType.INPUT_TOKENS: Decimal(tokens)})


def estimate_output_tokens(chars: int) -> int:
    return -(-chars // CHARS_PER_TOKEN)
