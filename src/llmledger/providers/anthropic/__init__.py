"""Anthropic provider adapter (provider id ``anthropic``)."""

from __future__ import annotations

from .adapter import AnthropicAdapter

__all__ = ["AnthropicAdapter"]
