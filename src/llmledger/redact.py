"""Secrets out of log lines: the ``key`` query parameter (Gemini's way of passing a key),
``Authorization``/``x-api-key``-style header values, and llmledger's own key and token
shapes. Installed on uvicorn's loggers, so that an access log, if an operator turns one
on, never prints a caller's key from a URL like ``...:generateContent?key=...``."""

from __future__ import annotations

import logging
import re

_QUERY_KEY = re.compile(r"([?&](?:key|api[_-]?key|token|access_token)=)[^&\s\"']+", re.I)
_AUTH = re.compile(
    r"((?:authorization|x-api-key|x-goog-api-key|x-llmledger-key|api-key)[\"']?\s*[:=]\s*"
    r"[\"']?(?:bearer\s+)?)[^\s\"',}]+",
    re.I,
)
_BEARER = re.compile(r"(bearer\s+)[A-Za-z0-9._~+/=-]{8,}", re.I)
_OWN = re.compile(r"\b(ll[ka]_)[A-Za-z0-9_-]{8,}")
REDACTED = "[redacted]"


def scrub(text: str) -> str:
    text = _QUERY_KEY.sub(r"\1" + REDACTED, text)
    text = _AUTH.sub(r"\1" + REDACTED, text)
    text = _BEARER.sub(r"\1" + REDACTED, text)
    return _OWN.sub(r"\1" + REDACTED, text)


class SecretScrubber(logging.Filter):
    """Rewrites a record's message with `scrub` (never drops a record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # Format first, then scrub: a placeholder must never be taken for a secret.
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


#: Loggers that may print request lines or headers.
SCRUBBED_LOGGERS = ("uvicorn.access", "uvicorn.error", "llmledger")


def install() -> None:
    """Add the scrubber to the loggers that may see URLs (once per logger)."""
    for name in SCRUBBED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, SecretScrubber) for f in logger.filters):
            logger.addFilter(SecretScrubber())
