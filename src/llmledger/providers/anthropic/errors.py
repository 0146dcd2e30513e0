"""Errors in Anthropic's format: ``{"type": "error", "error": {"type", "message"}}``."""

from __future__ import annotations

import orjson

from llmledger.providers.base import RequestError


def error_body(status: int, error_type: str, message: str) -> tuple[bytes, str]:
    body = {"type": "error", "error": {"type": error_type, "message": message}}
    return orjson.dumps(body), "application/json"


def invalid(message: str) -> RequestError:
    return RequestError(400, "invalid_request_error", message)
