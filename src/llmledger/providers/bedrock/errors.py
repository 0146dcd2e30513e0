"""Errors in Bedrock's format: ``{"message": ...}`` with ``x-amzn-ErrorType``."""

from __future__ import annotations

import json

#: The gateway's error types, as Bedrock exception names.
_BY_ERROR_TYPE = {
    "budget_exceeded": "ThrottlingException",
    "rate_limited": "ThrottlingException",
    "rate_limit_exceeded": "ThrottlingException",
    "invalid_request": "ValidationException",
    "invalid_request_error": "ValidationException",
    "authentication_error": "UnrecognizedClientException",
    "invalid_key": "UnrecognizedClientException",
    "permission_denied": "AccessDeniedException",
    "forbidden": "AccessDeniedException",
    "model_not_allowed": "AccessDeniedException",
    "not_found": "ResourceNotFoundException",
    "upstream_error": "InternalServerException",
    "upstream_unavailable": "ServiceUnavailableException",
    "timeout": "ModelTimeoutException",
    "upstream_timeout": "ModelTimeoutException",
    "internal_error": "InternalServerException",
}

_BY_HTTP_STATUS = {
    400: "ValidationException",
    401: "UnrecognizedClientException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    408: "ModelTimeoutException",
    424: "ModelErrorException",
    429: "ThrottlingException",
    500: "InternalServerException",
    502: "InternalServerException",
    503: "ServiceUnavailableException",
    504: "ModelTimeoutException",
}


def error_type_name(status: int, error_type: str) -> str:
    if error_type in _BY_ERROR_TYPE:
        return _BY_ERROR_TYPE[error_type]
    if status in _BY_HTTP_STATUS:
        return _BY_HTTP_STATUS[status]
    return "InternalServerException" if status >= 500 else "ValidationException"


def error_body(status: int, error_type: str, message: str) -> tuple[bytes, str]:
    return json.dumps({"message": message}).encode(), "application/json"


def error_headers(status: int, error_type: str) -> dict[str, str]:
    return {"x-amzn-ErrorType": error_type_name(status, error_type)}
