"""The Gemini API adapter (provider id ``google``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode

from llmledger.providers.base import Metered, RequestError, RequestInfo, StreamMeter
from llmledger.providers.gemini.errors import error_body
from llmledger.providers.gemini.headers import header, pass_through
from llmledger.providers.gemini.parts import count_output_images
from llmledger.providers.gemini.request import read_request
from llmledger.providers.gemini.stream import GeminiStreamMeter
from llmledger.providers.gemini.usage import OutputSeen, usage_from_metadata
from llmledger.usage import Usage, UsageType

#: Query parameters the gateway removes before forwarding: the caller's key.
STRIPPED_QUERY_PARAMS = frozenset({"key"})


class GeminiAdapter:
    """Gemini API (``generativelanguage.googleapis.com``), v1 and v1beta."""

    name = "google"
    stripped_query_params = STRIPPED_QUERY_PARAMS

    def client_key(self, headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
        return header(headers, "x-goog-api-key") or query.get("key") or None

    def upstream_query(self, query: str) -> str:
        """The query string to forward: the caller's, minus its ``key``."""
        kept = [
            (k, v)
            for k, v in parse_qsl(query, keep_blank_values=True)
            if k not in STRIPPED_QUERY_PARAMS
        ]
        return urlencode(kept)

    def read_request(
        self, method: str, path: str, headers: Mapping[str, str], body: bytes
    ) -> RequestInfo:
        return read_request(method, path, body)

    def read_response(
        self, info: RequestInfo, status: int, headers: Mapping[str, str], body: bytes
    ) -> Metered:
        try:
            data: Any = json.loads(body) if body else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            data = None
        if isinstance(data, list):
            # A JSON-array stream read whole: the last element holds the final usage.
            meter = GeminiStreamMeter(info, "application/json")
            meter.feed(body)
            return meter.finish(cut_off=False)
        if not isinstance(data, Mapping):
            return Metered(
                usage=info.input_upper_bound if info.billable else Usage(),
                model_used=info.model,
                estimated=info.billable,
                complete=False,
                attributes={"usage_source": "unreadable answer"},
            )
        model_used = data.get("modelVersion")
        model = model_used if isinstance(model_used, str) and model_used else info.model
        meta = data.get("usageMetadata")
        if isinstance(meta, Mapping):
            images, text, thoughts = count_output_images(data)
            usage, attributes = usage_from_metadata(
                meta, OutputSeen(images, text, thoughts), info.attributes
            )
            return Metered(usage=usage, model_used=model, attributes=attributes)
        if "estimated_input_tokens" in info.attributes:
            # Embeddings: Gemini reports no usage; estimated from the text sent.
            tokens = Decimal(info.attributes["estimated_input_tokens"])
            return Metered(
                usage=Usage({UsageType.INPUT_TOKENS: tokens}),
                model_used=model,
                estimated=True,
                attributes={"usage_source": "text characters/4"},
            )
        return Metered(usage=Usage(), model_used=model, estimated=info.billable)

    def stream_meter(self, info: RequestInfo, headers: Mapping[str, str]) -> StreamMeter:
        return GeminiStreamMeter(info, header(headers, "content-type") or "")

    def error_body(self, status: int, error_type: str, message: str) -> tuple[bytes, str]:
        return error_body(status, error_type, message)

    def error_headers(self, status: int, error_type: str) -> dict[str, str]:
        """Extra headers of an error answer (none for Gemini)."""
        return {}

    def upstream_headers(
        self, incoming: Mapping[str, str], credential: str | None
    ) -> dict[str, str]:
        headers = pass_through(incoming)
        if credential:
            headers["x-goog-api-key"] = credential
        return headers


__all__ = ["GeminiAdapter", "RequestError", "STRIPPED_QUERY_PARAMS"]
