"""Google Gemini API adapter (provider id ``google``)."""

from __future__ import annotations

from llmledger.providers.gemini.adapter import STRIPPED_QUERY_PARAMS, GeminiAdapter

__all__ = ["STRIPPED_QUERY_PARAMS", "GeminiAdapter"]
