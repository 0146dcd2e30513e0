"""The caller's key (``x-api-key`` or a bearer token), and the headers sent upstream."""

from __future__ import annotations

from collections.abc import Mapping

from llmledger.providers.passthrough import forwarded

#: The API version sent when the caller sent none (the API requires one).
DEFAULT_VERSION = "2023-06-01"


def client_key(headers: Mapping[str, str]) -> str | None:
    """``x-api-key`` first; else ``Authorization: Bearer`` (Claude Code through a
    gateway with ANTHROPIC_AUTH_TOKEN)."""
    bearer: str | None = None
    for key, value in headers.items():
        name = key.lower()
        if name == "x-api-key" and value.strip():
            return value.strip()
        if name == "authorization":
            scheme, _, token = value.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                bearer = token.strip()
    return bearer


def upstream_headers(incoming: Mapping[str, str], credential: str | None) -> dict[str, str]:
    out = forwarded(incoming)
    out.setdefault("anthropic-version", DEFAULT_VERSION)
    if credential:
        out["x-api-key"] = credential
    return out
