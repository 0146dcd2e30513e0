"""Why the model stopped, in each family's words."""

from __future__ import annotations

from .conversation import StopReason

_FROM_OPENAI: dict[str, StopReason] = {
    "stop": "stop",
    "length": "length",
    "content_filter": "content_filter",
}
_FROM_ANTHROPIC: dict[str, StopReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop_sequence",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "refusal": "content_filter",
}
_FROM_GEMINI: dict[str, StopReason] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
}
#: OpenAI and Gemini say "stop" for a stop sequence as for the model's own end.
_TO_OPENAI: dict[StopReason, str] = {
    "stop": "stop",
    "stop_sequence": "stop",
    "length": "length",
    "content_filter": "content_filter",
    "other": "stop",
}
_TO_ANTHROPIC: dict[StopReason, str] = {
    "stop": "end_turn",
    "stop_sequence": "stop_sequence",
    "length": "max_tokens",
    "content_filter": "refusal",
    "other": "end_turn",
}
_TO_GEMINI: dict[StopReason, str] = {
    "stop": "STOP",
    "stop_sequence": "STOP",
    "length": "MAX_TOKENS",
    "content_filter": "SAFETY",
    "other": "OTHER",
}


def read(family: str, reason: str) -> StopReason:
    table = {"openai": _FROM_OPENAI, "anthropic": _FROM_ANTHROPIC, "google": _FROM_GEMINI}
    return table[family].get(reason, "other")


def write(family: str, reason: StopReason) -> str:
    table = {"openai": _TO_OPENAI, "anthropic": _TO_ANTHROPIC, "google": _TO_GEMINI}
    return table[family][reason]
