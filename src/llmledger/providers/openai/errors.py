"""Errors in OpenAI's format: ``{"error": {"message", "type", "param", "code"}}``."""

from __future__ import annotations

import orjson

from llmledger.providers.base import RequestError

#: Error types OpenAI itself uses; any other type (e.g. ``budget_exceeded``) is also
#: given as the ``code`` so that scripts can test for it.
_OPENAI_TYPES = frozenset(
    {
        "invalid_request_error",
        "authentication_error",
        "permission_error",
        "not_found_error",
        "rate_limit_error",
        "server_error",
        "api_error",
        "insufficient_quota",
        "requests",
        "tokens",
    }
)


def error_body(status: int, error_type: str, message: str) -> tuple[bytes, str]:
    code = None if error_type in _OPENAI_TYPES else error_type
    body = {"error": {"message": message, "type": error_type, "param": None, "code": code}}
    return orjson.dumps(body), "application/json"


def invalid(message: str) -> RequestError:
    return RequestError(400, "invalid_request_error", message)
