"""The neutral form a translated call passes through: what every family can say.

A request of one family is read into a `Conversation`, written out in another family's
format, and the answer comes back as a `Reply` (whole) or as `StreamEvent`s (streamed),
written out in the caller's format. Only what all three families express the same way
has a place here; anything else stops the translation (`Untranslatable`), so a call is
never served with part of its meaning dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Role = Literal["user", "assistant"]
StopReason = Literal["stop", "stop_sequence", "length", "content_filter", "other"]
"""Why the model stopped: its own end, a stop sequence, the output cap, a safety or
refusal stop, or anything else."""


class Untranslatable(Exception):
    """The request (or answer) uses something the other family cannot say the same way."""


@dataclass(frozen=True, slots=True)
class Turn:
    role: Role
    texts: tuple[str, ...]
    """The turn's text parts, in order."""


@dataclass(frozen=True, slots=True)
class Conversation:
    system: tuple[str, ...]
    turns: tuple[Turn, ...]
    max_tokens: int | None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop: tuple[str, ...] = ()
    stream: bool = False


@dataclass(frozen=True, slots=True)
class Tokens:
    """Token counts as callers read them: `input` counts every prompt token (fresh,
    read from cache and written to it); `output` counts every generated token
    (reasoning included)."""

    input: int = 0
    cached: int = 0
    cache_write: int = 0
    output: int = 0
    reasoning: int = 0


@dataclass(frozen=True, slots=True)
class Reply:
    id: str
    model: str
    text: str
    stop: StopReason
    tokens: Tokens
    stop_sequence: str | None = None


@dataclass(frozen=True, slots=True)
class Started:
    id: str
    model: str


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class Finished:
    stop: StopReason
    stop_sequence: str | None = None


@dataclass(frozen=True, slots=True)
class Counted:
    tokens: Tokens


@dataclass(frozen=True, slots=True)
class Ended:
    """The upstream's stream is complete."""


StreamEvent = Started | TextDelta | Finished | Counted | Ended
