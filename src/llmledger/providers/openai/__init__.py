"""OpenAI provider adapter (provider id ``openai``)."""

from __future__ import annotations

from .adapter import OpenAIAdapter

__all__ = ["OpenAIAdapter"]
