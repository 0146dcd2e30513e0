"""The seam between the gateway and one API family (openai, anthropic, gemini, bedrock).

An adapter reads the caller's request, reads the upstream's answer (whole or streamed)
into a `Usage`, and writes errors in the family's own format. It knows nothing of
storage, budgets or HTTP servers: it works on bytes, headers and dicts, so it can be
tested with recorded bodies alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from llmledger.usage import Usage


class RequestError(Exception):
    """The caller's request cannot be served; answered in the family's error format."""

    def __init__(self, status: int, error_type: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message


#: Headers that describe the caller's network path (its address, the host and URL it
#: asked for through proxies). Never sent upstream: the upstream host comes only from the
#: settings, and the caller's address is not the provider's business.
CLIENT_NETWORK_HEADERS = frozenset(
    {
        "forwarded",
        "via",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-proto",
        "x-forwarded-port",
        "x-forwarded-prefix",
        "x-real-ip",
        "x-original-url",
        "x-rewrite-url",
        "x-original-host",
        "x-host",
        "true-client-ip",
        "cf-connecting-ip",
    }
)


@dataclass(frozen=True, slots=True)
class UpstreamRequest:
    """What the gateway sends upstream: the path below the provider's base URL."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(slots=True)
class RequestInfo:
    """What the gateway needs to know of one request before forwarding it."""

    operation: str
    """API operation, e.g. ``chat.completions``, ``messages``, ``generateContent``."""
    model: str
    """Model as requested (``""`` for operations with no model, e.g. listing models)."""
    stream: bool
    max_output_tokens: int | None
    """The caller's output cap, or None when the request sets none."""
    input_upper_bound: Usage
    """A usage no smaller than what the input will be billed as (for the reservation)."""
    billable: bool = True
    """False for calls that cost nothing (models list, count_tokens)."""
    body: bytes = b""
    """The body to forward (an adapter may add e.g. ``stream_options.include_usage``)."""
    strip_usage_chunk: bool = False
    """True when the adapter asked the upstream for usage the caller did not ask for."""
    attributes: dict[str, str] = field(default_factory=dict)
    """Price-relevant attributes (image size/quality, audio duration source...)."""
    features: dict[str, object] = field(default_factory=dict)
    """Request features for routing (tools, images, json schema...)."""


@dataclass(slots=True)
class Metered:
    """The outcome read from an upstream answer."""

    usage: Usage
    model_used: str
    estimated: bool = False
    """True when some usage was estimated (no usage block, cut-off stream)."""
    complete: bool = True
    attributes: dict[str, str] = field(default_factory=dict)
    """Response facts worth keeping that are not usage types (e.g. output image tokens,
    the source of a derived quantity, the prompt size that picks a long-context tier)."""


class StreamMeter(Protocol):
    """Reads a streamed answer chunk by chunk without holding it back.

    `feed` returns the bytes to pass to the caller now (usually the chunk itself;
    an adapter may drop an event it injected). `finish` is called once, when the
    stream ends or is cut off, and returns what was produced.
    """

    def feed(self, chunk: bytes) -> bytes: ...

    def finish(self, *, cut_off: bool) -> Metered: ...


class ProviderAdapter(Protocol):
    """One API family. Implementations live in ``providers/<family>.py``."""

    name: str
    """Provider id: ``openai``, ``anthropic``, ``google``, ``bedrock``."""

    def client_key(self, headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
        """The virtual key the caller sent, in this family's auth header."""
        ...

    def read_request(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> RequestInfo:
        """Parse a request; raise `RequestError` for malformed input."""
        ...

    def read_response(
        self, info: RequestInfo, status: int, headers: Mapping[str, str], body: bytes
    ) -> Metered:
        """Usage of a whole (non-streamed) successful answer."""
        ...

    def stream_meter(self, info: RequestInfo, headers: Mapping[str, str]) -> StreamMeter:
        """A meter for a streamed successful answer."""
        ...

    def error_body(self, status: int, error_type: str, message: str) -> tuple[bytes, str]:
        """An error in this family's own format: (body, content type)."""
        ...

    def upstream_headers(
        self, incoming: Mapping[str, str], credential: str | None
    ) -> dict[str, str]:
        """Headers to send upstream: the caller's pass-through headers, minus its
        virtual key, plus the gateway's own provider credential."""
        ...
