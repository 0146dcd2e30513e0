"""The caller's key, and the headers sent upstream in its place."""

from __future__ import annotations

from collections.abc import Mapping

from llmledger.providers.base import CLIENT_NETWORK_HEADERS

#: Never forwarded: hop-by-hop headers (RFC 9110 7.6.1), what the HTTP client sets
#: itself, the caller's credentials and cookies, and the gateway's attribution headers.
#: ``accept-encoding`` is left to the gateway's client so the meter reads plain bytes;
#: ``openai-organization``/``openai-project`` belong with the gateway's own key.
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
            "openai-organization",
            "openai-project",
        }
    )
    | CLIENT_NETWORK_HEADERS
)


def bearer(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer`` header, if any."""
    for key, value in headers.items():
        if key.lower() == "authorization":
            scheme, _, token = value.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


def forwarded(incoming: Mapping[str, str]) -> dict[str, str]:
    """The caller's headers that may go upstream, names lower-cased."""
    out: dict[str, str] = {}
    connection_listed = {
        token.strip().lower()
        for key, value in incoming.items()
        if key.lower() == "connection"
        for token in value.split(",")
    }
    for key, value in incoming.items():
        name = key.lower()
        if name in DROPPED or name in connection_listed or name.startswith("x-llmledger-"):
            continue
        out[name] = value
    return out


def upstream_headers(incoming: Mapping[str, str], credential: str | None) -> dict[str, str]:
    out = forwarded(incoming)
    if credential:
        out["authorization"] = f"Bearer {credential}"
    return out
