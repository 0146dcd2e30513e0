"""The caller's key, and the headers sent upstream in its place."""

from __future__ import annotations

from collections.abc import Mapping

from llmledger.providers.passthrough import forwarded

#: ``openai-organization``/``openai-project`` belong with the gateway's own key.
OPENAI_DROPPED = frozenset({"openai-organization", "openai-project"})


def bearer(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer`` header, if any."""
    for key, value in headers.items():
        if key.lower() == "authorization":
            scheme, _, token = value.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


def upstream_headers(incoming: Mapping[str, str], credential: str | None) -> dict[str, str]:
    out = forwarded(incoming, OPENAI_DROPPED)
    if credential:
        out["authorization"] = f"Bearer {credential}"
    return out
