"""What the gateway's call path raises: a refusal in the caller's own error format,
and the abort of a stream its upstream broke off."""

from __future__ import annotations

from datetime import datetime

from llmledger.ledger.reservations import Refusal
from llmledger.money import format_usd


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


def store_unavailable(unreachable: bool) -> Rejection:
    """The reservation could not be recorded: the call is not forwarded (fail closed)."""
    why = "unreachable" if unreachable else "unavailable"
    return Rejection(
        503,
        "api_error",
        f"the ledger store is {why}; the call was not forwarded (retry later)",
        {"retry-after": "5"},
    )


def budget_exceeded(refusal: Refusal, reset: datetime | None, now: datetime) -> Rejection:
    """An enforced budget cannot hold the call: its scope, limit, spend and reset."""
    extra = {}
    message = (
        f"budget exceeded for {refusal.hold.scope}: "
        f"limit ${format_usd(refusal.hold.limit_nanos)}, "
        f"spent ${format_usd(refusal.spent_nanos)}, "
        f"reserved ${format_usd(refusal.reserved_nanos)}"
    )
    if reset is not None:
        extra["retry-after"] = str(max(1, int((reset - now).total_seconds())))
        message += f"; resets {reset.isoformat()}"
    return Rejection(429, "budget_exceeded", message, extra)


class UpstreamCut(Exception):
    """Raised to abort the caller's connection when the upstream's stream broke off."""
