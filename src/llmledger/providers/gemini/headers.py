"""Which of the caller's headers go upstream."""

from __future__ import annotations

from collections.abc import Mapping

from llmledger.providers.passthrough import forwarded, header


def pass_through(incoming: Mapping[str, str]) -> dict[str, str]:
    return forwarded(incoming)


__all__ = ["header", "pass_through"]
