"""Errors in Google's format: ``{"error": {"code", "message", "status"}}``."""

from __future__ import annotations

import json

#: The gateway's error types, as google.rpc status codes.
_BY_ERROR_TYPE = {
    "budget_exceeded": "RESOURCE_EXHAUSTED",
    "rate_limited": "RESOURCE_EXHAUSTED",
    "rate_limit_exceeded": "RESOURCE_EXHAUSTED",
    "invalid_request": "INVALID_ARGUMENT",
    "invalid_request_error": "INVALID_ARGUMENT",
    "authentication_error": "UNAUTHENTICATED",
    "invalid_key": "UNAUTHENTICATED",
    "permission_denied": "PERMISSION_DENIED",
    "forbidden": "PERMISSION_DENIED",
    "model_not_allowed": "PERMISSION_DENIED",
    "not_found": "NOT_FOUND",
    "unpriced_model": "FAILED_PRECONDITION",
    "upstream_error": "UNAVAILABLE",
    "upstream_unavailable": "UNAVAILABLE",
    "timeout": "DEADLINE_EXCEEDED",
    "upstream_timeout": "DEADLINE_EXCEEDED",
    "internal_error": "INTERNAL",
}

_BY_HTTP_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    413: "INVALID_ARGUMENT",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def google_status(status: int, error_type: str) -> str:
    if error_type in _BY_ERROR_TYPE:
        return _BY_ERROR_TYPE[error_type]
    if status in _BY_HTTP_STATUS:
        return _BY_HTTP_STATUS[status]
    return "INTERNAL" if status >= 500 else "FAILED_PRECONDITION"


def error_body(status: int, error_type: str, message: str) -> tuple[bytes, str]:
    error: dict[str, object] = {
        "code": status,
        "message": message,
        "status": google_status(status, error_type),
    }
    if error_type:
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": error_type.upper(),
                "domain": "llmledger",
            }
        ]
    return json.dumps({"error": error}).encode(), "application/json; charset=UTF-8"
