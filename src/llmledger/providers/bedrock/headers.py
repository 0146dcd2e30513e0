"""Which of the caller's headers go upstream to Bedrock."""

from __future__ import annotations

from collections.abc import Mapping

from llmledger.providers.passthrough import forwarded, header

#: Signing headers the caller's SDK computed for its own request: the gateway signs anew.
AWS_DROPPED = frozenset(
    {
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-content-sha256",
        "amz-sdk-invocation-id",
        "amz-sdk-request",
    }
)


def pass_through(incoming: Mapping[str, str]) -> dict[str, str]:
    return forwarded(incoming, AWS_DROPPED)


__all__ = ["header", "pass_through"]
