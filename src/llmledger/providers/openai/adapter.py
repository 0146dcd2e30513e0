"""The OpenAI API family behind ``/openai/v1/``."""

from __future__ import annotations

from collections.abc import Mapping

from llmledger.providers.base import Metered, RequestInfo, StreamMeter

from . import errors, request, response, stream
from .headers import bearer, upstream_headers


class OpenAIAdapter:
    """`ProviderAdapter` for OpenAI: chat/completions, responses, embeddings, images,
    audio and models. Stateless; one instance serves every request."""

    name = "openai"

    def client_key(self, headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
        return bearer(headers)

    def read_request(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> RequestInfo:
        return request.read_request(method, path, headers, body)

    def read_response(
        self, info: RequestInfo, status: int, headers: Mapping[str, str], body: bytes
    ) -> Metered:
        return response.read_response(info, body)

    def stream_meter(self, info: RequestInfo, headers: Mapping[str, str]) -> StreamMeter:
        return stream.meter_for(info)

    def error_body(self, status: int, error_type: str, message: str) -> tuple[bytes, str]:
        return errors.error_body(status, error_type, message)

    def upstream_headers(
        self, incoming: Mapping[str, str], credential: str | None
    ) -> dict[str, str]:
        return upstream_headers(incoming, credential)
