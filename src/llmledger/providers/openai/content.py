"""Tallies of a request's input: text bytes (>= tokens), images, audio, unknown parts."""

from __future__ import annotations

from dataclasses import dataclass

#: Tokens per message and per request that the chat format adds around the text.
PER_MESSAGE_TOKENS = 4
PER_REQUEST_TOKENS = 16
#: Most tokens one input image can be billed as (high detail / high input fidelity).
IMAGE_TOKEN_BOUND = 6_000
#: Base64 characters of input audio per audio token, at most (about 10 tokens a second
#: even for 4 kB/s compressed audio).
AUDIO_B64_CHARS_PER_TOKEN = 400

#: Keys whose values are identifiers or enums, not text sent to the model.
_NOT_TEXT = frozenset(
    {"role", "type", "id", "tool_call_id", "call_id", "detail", "format", "status"}
)
_IMAGE_TYPES = frozenset({"image_url", "input_image"})
_FILE_TYPES = frozenset({"file", "input_file"})


@dataclass(slots=True)
class Tally:
    text_bytes: int = 0
    chars: int = 0
    images: int = 0
    audio_tokens: int = 0
    partial: bool = False
    """True when part of the input is not in the request (file ids, stored items)."""

    def add(self, value: object) -> Tally:
        """Count a decoded JSON value (messages, input items, tools...)."""
        if isinstance(value, str):
            self.text_bytes += len(value.encode("utf-8", errors="replace"))
            self.chars += len(value)
        elif isinstance(value, list):
            for item in value:
                self.add(item)
        elif isinstance(value, dict):
            self._add_object(value)
        return self

    def _add_object(self, value: dict[str, object]) -> None:
        kind = value.get("type")
        if kind in _IMAGE_TYPES:
            self.images += 1
            return
        if kind == "input_audio":
            inner = value.get("input_audio", value)
            data = inner.get("data") if isinstance(inner, dict) else None
            size = len(data) if isinstance(data, str) else 0
            self.audio_tokens += size // AUDIO_B64_CHARS_PER_TOKEN + 1
            return
        if kind in _FILE_TYPES:
            inner = value.get("file", value)
            spec = inner if isinstance(inner, dict) else {}
            data = spec.get("file_data")
            if isinstance(data, str):
                self.text_bytes += len(data)
            if spec.get("file_id") or spec.get("file_url"):
                self.partial = True
            return
        if kind == "item_reference":
            self.partial = True
            return
        for key, item in value.items():
            if key not in _NOT_TEXT:
                self.add(item)

    def token_bound(self, messages: int) -> int:
        """Input tokens no smaller than what this input can be billed as."""
        return (
            self.text_bytes
            + PER_MESSAGE_TOKENS * messages
            + PER_REQUEST_TOKENS
            + IMAGE_TOKEN_BOUND * self.images
        )
