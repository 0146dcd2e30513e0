"""What the outbox holds: a message for one channel and recipient, keyed for dedupe."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

#: The time source of the dispatcher and the scheduler (aware datetimes); tests pass a fake.
Clock = Callable[[], datetime]

#: The channels a message can go to.
CHANNELS = ("email", "webhook", "slack")


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Message:
    """One message to send. `dedupe_key` makes a second enqueue of it a no-op.

    The payload is channel-specific JSON: for ``email`` ``{"to": [...], "text", "html"}``,
    for ``webhook`` the body to POST, for ``slack`` ``{"text", "blocks"}``.
    """

    dedupe_key: str
    channel: str
    recipient: str
    subject: str
    payload: Mapping[str, Any]

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown channel {self.channel!r} (known: {', '.join(CHANNELS)})")
        if not self.dedupe_key:
            raise ValueError("a message needs a dedupe key")

    def payload_text(self) -> str:
        return orjson.dumps(dict(self.payload), option=orjson.OPT_SORT_KEYS).decode()


def email(
    dedupe_key: str, to: list[str], subject: str, text: str, html: str | None = None
) -> Message:
    """An email to `to`, with a plain-text body and an optional HTML alternative."""
    if not to:
        raise ValueError("an email needs at least one recipient")
    payload: dict[str, Any] = {"to": list(to), "text": text}
    if html is not None:
        payload["html"] = html
    return Message(dedupe_key, "email", ",".join(to), subject, payload)
