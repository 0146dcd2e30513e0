"""The capability guard: a request is never routed to a model that cannot serve it."""

from __future__ import annotations

from llmledger.routing.capabilities import Capabilities
from llmledger.routing.request import Needs


def missing(needs: Needs, caps: Capabilities, target: str) -> str | None:
    """Why `target` cannot serve the request, or None when it can."""
    if needs.tools is not None and not caps.tools:
        return f"{target} does not support tools"
    if needs.json_schema and not caps.json_schema:
        return f"{target} does not support JSON schema output"
    if needs.images and not caps.vision:
        return f"{target} does not read images"
    if needs.audio and not caps.audio:
        return f"{target} does not take audio"
    if needs.reasoning and not caps.reasoning:
        return f"{target} does not support reasoning"
    if needs.context_tokens > caps.context_tokens:
        return (
            f"{target} has a {caps.context_tokens}-token window; the call needs about "
            f"{needs.context_tokens}"
        )
    return None
