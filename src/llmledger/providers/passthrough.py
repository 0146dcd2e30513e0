"""Which of the caller's headers go upstream: one rule for every provider family.

Never forwarded: hop-by-hop headers (RFC 9110 7.6.1) and those named in ``Connection``,
what the HTTP client sets itself, the caller's credentials and cookies (the virtual key
must never reach a provider), the gateway's own attribution headers and ``x-llmledger-*``,
and the client's network headers (``Forwarded``, ``X-Forwarded-*``...).
``accept-encoding`` is dropped so that the meter reads the bytes uncompressed.
"""

from __future__ import annotations

from collections.abc import Mapping

from llmledger.providers.base import CLIENT_NETWORK_HEADERS

NEVER_FORWARDED = (
    frozenset(
        {
            "connection",
            "keep-alive",
            "proxy-authenticate",
            "proxy-authorization",
            "proxy-connection",
            "te",
            "trailer",
            "trailers",
            "transfer-encoding",
            "upgrade",
            "host",
            "content-length",
            "accept-encoding",
            "expect",
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


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by case-insensitive name."""
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def forwarded(
    incoming: Mapping[str, str], also_dropped: frozenset[str] = frozenset()
) -> dict[str, str]:
    """The caller's headers that may go upstream, names lower-cased."""
    listed = {
        token.strip().lower()
        for key, value in incoming.items()
        if key.lower() == "connection"
        for token in value.split(",")
    }
    out: dict[str, str] = {}
    for key, value in incoming.items():
        name = key.lower()
        if (
            name in NEVER_FORWARDED
            or name in also_dropped
            or name in listed
            or name.startswith("x-llmledger-")
        ):
            continue
        out[name] = value
    return out
