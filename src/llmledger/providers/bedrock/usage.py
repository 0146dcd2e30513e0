"""Bedrock usage blocks, whatever the API family, as llmledger usage.

Converse and Nova report ``inputTokens`` without the cache reads and writes, as
Anthropic reports ``input_tokens``; so ``input_tokens`` is always the uncached part.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from llmledger.usage import Usage, UsageType

INVOCATION_METRICS = "amazon-bedrock-invocationMetrics"

#: (usage block key, TokenCounts field) for every shape Bedrock answers in.
_USAGE_KEYS = (
    ("inputTokens", "input"),  # Converse, Nova
    ("outputTokens", "output"),
    ("cacheReadInputTokens", "cache_read"),
    ("cacheWriteInputTokens", "cache_write"),
    ("cacheReadInputTokenCount", "cache_read"),  # Nova invoke
    ("cacheWriteInputTokenCount", "cache_write"),
    ("input_tokens", "input"),  # Anthropic
    ("output_tokens", "output"),
    ("cache_read_input_tokens", "cache_read"),
    ("cache_creation_input_tokens", "cache_write"),
    ("prompt_tokens", "input"),  # OpenAI-style (Mistral chat, DeepSeek, gpt-oss)
    ("completion_tokens", "output"),
)
_TOP_LEVEL_KEYS = (
    ("prompt_token_count", "input"),  # Meta Llama
    ("generation_token_count", "output"),
    ("inputTextTokenCount", "input"),  # Titan text
)
_METRICS_KEYS = (
    ("inputTokenCount", "input"),
    ("outputTokenCount", "output"),
    ("cacheReadInputTokenCount", "cache_read"),
    ("cacheWriteInputTokenCount", "cache_write"),
)
_HEADER_KEYS = (
    ("x-amzn-bedrock-input-token-count", "input"),
    ("x-amzn-bedrock-output-token-count", "output"),
    ("x-amzn-bedrock-cache-read-input-token-count", "cache_read"),
    ("x-amzn-bedrock-cache-write-input-token-count", "cache_write"),
)


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 19:
        return int(value)
    return None


@dataclass(slots=True)
class TokenCounts:
    """Token counts as far as known; a later report of a field replaces an earlier one."""

    input: int | None = None
    output: int | None = None
    cache_read: int | None = None
    cache_write: int | None = None
    cache_write_1h: int | None = None

    @property
    def known(self) -> bool:
        return self.input is not None or self.output is not None

    def take(self, source: Mapping[str, Any], keys: tuple[tuple[str, str], ...]) -> None:
        for key, name in keys:
            value = _count(source.get(key))
            if value is not None:
                setattr(self, name, value)

    def merge_missing(self, other: TokenCounts) -> None:
        """Fill the fields this one lacks from another source (e.g. headers)."""
        for f in fields(self):
            if getattr(self, f.name) is None:
                setattr(self, f.name, getattr(other, f.name))

    def absorb(self, data: Mapping[str, Any]) -> None:
        """Any Bedrock answer or stream chunk (or a part of one that holds usage)."""
        for holder in (data, data.get("message"), data.get("metadata")):
            if isinstance(holder, Mapping):
                block = holder.get("usage")
                if isinstance(block, Mapping):
                    self.take(block, _USAGE_KEYS)
                    creation = block.get("cache_creation")
                    if isinstance(creation, Mapping):
                        one_hour = _count(creation.get("ephemeral_1h_input_tokens"))
                        if one_hour is not None:
                            self.cache_write_1h = one_hour
        self.take(data, _TOP_LEVEL_KEYS)
        results = data.get("results")
        if isinstance(results, list):  # Titan text: one token count per result
            counts = [_count(r.get("tokenCount")) for r in results if isinstance(r, Mapping)]
            if any(c is not None for c in counts):
                self.output = sum(c or 0 for c in counts)
        metrics = data.get(INVOCATION_METRICS)
        if isinstance(metrics, Mapping):
            self.take(metrics, _METRICS_KEYS)

    def to_usage(self) -> Usage:
        return Usage(
            {
                UsageType.INPUT_TOKENS: Decimal(self.input or 0),
                UsageType.OUTPUT_TOKENS: Decimal(self.output or 0),
                UsageType.CACHED_INPUT_TOKENS: Decimal(self.cache_read or 0),
                UsageType.CACHE_WRITE_TOKENS: Decimal(self.cache_write or 0),
            }
        )

    def attributes(self) -> dict[str, str]:
        if self.cache_write_1h:
            return {"cache_write_1h_tokens": str(self.cache_write_1h)}
        return {}


def counts_from_headers(headers: Mapping[str, str]) -> TokenCounts:
    lowered = {k.lower(): v for k, v in headers.items()}
    counts = TokenCounts()
    counts.take(lowered, _HEADER_KEYS)
    return counts
