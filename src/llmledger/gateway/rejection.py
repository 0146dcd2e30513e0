"""What the gateway's call path raises: a refusal in the caller's own error format,
and the abort of a stream its upstream broke off."""

from __future__ import annotations


class Rejection(Exception):
    """A call refused before or instead of going upstream, with its status and the
    provider-style error type the caller sees."""

    def __init__(
        self, status: int, error_type: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.error_type, self.message = status, error_type, message
        self.headers = headers or {}


def safe_subpath(path: str, prefix: str) -> str:
    """The path under `prefix`, refused when it could climb out of it."""
    sub = path[len(prefix) :]
    if not sub.startswith("/"):
        sub = "/" + sub
    segments = sub.split("/")
    if any(s in (".", "..") for s in segments) or "//" in sub or "\\" in sub:
        raise Rejection(400, "invalid_request_error", "invalid path")
    return sub


class UpstreamCut(Exception):
    """Raised to abort the caller's connection when the upstream's stream broke off."""
