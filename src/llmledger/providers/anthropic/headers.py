"""The caller's key (``x-api-key`` or a bearer token), and the headers sent upstream."""

from __future__ import annotations

from collections.abc import Mapping

from llmledger.providers.base import CLIENT_NETWORK_HEADERS

#: The API version sent when the caller sent none (the API requires one).
DEFAULT_VERSION = "2023-06-01"

#: Never forwarded: hop-by-hop headers (RFC 9110 7.6.1), what the HTTP client sets
#: itself, the caller's credentials and cookies, and the gateway's attribution headers.
#: ``accept-encoding`` is left to the gateway's client so the meter reads plain bytes.
DROPPED = (
    frozenset(
        {
            "connection",
            "keep-alive",
            "proxy-authenticate",
            "proxy-authorization",
            "te",
            "trailer",
            "trailers",
            "transfer-encoding",
            "upgrade",
            "proxy-connection",
            "host",
            "content-length",
            "accept-encoding",
            "authorization",
            "x-api-key",
            "api-key",
            "x-goog-api-key",
            "cookie",
            "set-cookie",
            "x-department",
            "x-project",
            "x-agent",
            "x-end-user",
        }
    )
    | CLIENT_NETWORK_HEADERS
)


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
    listed = {
        token.strip().lower()
        for key, value in incoming.items()
        if key.lower() == "connection"
        for token in value.split(",")
    }
    out: dict[str, str] = {}
    for key, value in incoming.items():
        name = key.lower()
        if name in DROPPED or name in listed or name.startswith("x-llmledger-"):
            continue
        out[name] = value
    out.setdefault("anthropic-version", DEFAULT_VERSION)
    if credential:
        out["x-api-key"] = credential
    return out
