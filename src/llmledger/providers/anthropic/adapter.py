"""The Anthropic API family behind ``/anthropic/v1/``."""

from __future__ import annotations

from collections.abc import Mapping

from llmledger.providers.base import Metered, RequestInfo, StreamMeter
from llmledger.providers.json_fields import loads_object, obj, text
from llmledger.usage import Usage

from . import errors, request
from .headers import client_key, upstream_headers
from .stream import MessagesStreamMeter
from .usage import estimate_input, message_usage


class AnthropicAdapter:
    """`ProviderAdapter` for Anthropic: messages (streamed or not), count_tokens and
    models. Stateless; one instance serves every request."""

    name = "anthropic"

    def client_key(self, headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
        return client_key(headers)

    def read_request(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> RequestInfo:
        return request.read_request(method, path, headers, body)

    def read_response(
        self, info: RequestInfo, status: int, headers: Mapping[str, str], body: bytes
    ) -> Metered:
        if not info.billable:
            return Metered(Usage(), info.model)
        message = loads_object(body)
        usage = obj(message.get("usage")) if message is not None else {}
        model = text(message.get("model")) if message is not None else ""
        if not usage:
            return Metered(
                estimate_input(info),
                model or info.model,
                estimated=True,
                complete=message is not None,
            )
        return Metered(message_usage(usage), model or info.model)

    def stream_meter(self, info: RequestInfo, headers: Mapping[str, str]) -> StreamMeter:
        return MessagesStreamMeter(info)

    def error_body(self, status: int, error_type: str, message: str) -> tuple[bytes, str]:
        return errors.error_body(status, error_type, message)

    def upstream_headers(
        self, incoming: Mapping[str, str], credential: str | None
    ) -> dict[str, str]:
        return upstream_headers(incoming, credential)
