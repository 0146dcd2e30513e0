"""Which of the caller's headers go upstream."""

from __future__ import annotations

from collections.abc import Mapping

from llmledger.providers.base import CLIENT_NETWORK_HEADERS

#: Hop-by-hop headers, headers the HTTP client sets itself, the caller's credentials
#: and the gateway's own attribution headers never go upstream. ``accept-encoding``
#: is dropped so that the meter reads the bytes the upstream sends uncompressed.
DROPPED = (
    frozenset(
        {
            "host",
            "connection",
            "keep-alive",
            "proxy-authenticate",
            "proxy-authorization",
            "proxy-connection",
            "te",
            "trailer",
            "transfer-encoding",
            "upgrade",
            "content-length",
            "accept-encoding",
            "cookie",
            "authorization",
            "x-goog-api-key",
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


def pass_through(incoming: Mapping[str, str]) -> dict[str, str]:
    return {
        k: v
        for k, v in incoming.items()
        if k.lower() not in DROPPED and not k.lower().startswith("x-llmledger-")
    }
