"""One reader per provider cost report format; each returns normalised `CostLine`s."""

from __future__ import annotations

from collections.abc import Callable

from llmledger.reconcile.formats import anthropic, aws_cur, gcp_billing, openai
from llmledger.reconcile.formats.base import CostLine, FormatError, ParsedReport

Reader = Callable[[bytes], ParsedReport]

#: Provider id -> (format name, reader).
READERS: dict[str, tuple[str, Reader]] = {
    "openai": ("openai-costs", openai.parse),
    "anthropic": ("anthropic-cost-report", anthropic.parse),
    "bedrock": ("aws-cur", aws_cur.parse),
    "google": ("gcp-billing-export", gcp_billing.parse),
}
ALIASES = {"aws": "bedrock", "gemini": "google", "gcp": "google", "claude": "anthropic"}


def provider_id(name: str) -> str:
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    if key not in READERS:
        known = ", ".join(sorted(READERS))
        raise FormatError(f"unknown provider {name!r} (known: {known}; aws, gemini, gcp too)")
    return key


def parse_report(provider: str, data: bytes) -> tuple[str, ParsedReport]:
    """(format name, parsed report) of a provider's cost report file."""
    fmt, reader = READERS[provider_id(provider)]
    return fmt, reader(data)


__all__ = ["CostLine", "FormatError", "ParsedReport", "READERS", "parse_report", "provider_id"]
