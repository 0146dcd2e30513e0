"""Stream meters for OpenAI's SSE answers: chat chunks, Responses events, audio."""

from __future__ import annotations

import re

from llmledger.providers.base import Metered, RequestInfo
from llmledger.providers.json_fields import JSONObject, items, loads_object, obj, text
from llmledger.providers.sse import SSEEvent, SSEParser
from llmledger.usage import Usage

from .response import measured_seconds, speech_characters
from .usage import (
    chat_usage,
    estimate_input,
    estimate_output,
    responses_usage,
    transcription_usage,
)

#: The ``"usage":null`` member that include_usage adds to every chunk, with its comma.
_USAGE_NULL = (
    re.compile(rb',[ \t]*"usage"[ \t]*:[ \t]*null\b'),
    re.compile(rb'"usage"[ \t]*:[ \t]*null[ \t]*,[ \t]*'),
)


class _EventMeter:
    """Parses the stream as it passes. Without stripping, `feed` returns the chunk
    itself; with stripping it returns the whole events completed so far (holding back
    at most the one event still arriving), minus what the caller did not ask for."""

    def __init__(self, info: RequestInfo, *, strip: bool = False) -> None:
        self._info = info
        self._strip = strip
        self._parser = SSEParser()
        self._model = info.model
        self._usage: Usage | None = None
        self._chars = 0

    def feed(self, chunk: bytes) -> bytes:
        events = self._parser.feed(chunk)
        if not self._strip:
            for event in events:
                self._read(event)
            return chunk
        return b"".join(self._read(event) for event in events)

    def finish(self, *, cut_off: bool) -> Metered:
        for event in self._parser.close():
            self._read(event)
        if self._usage is not None:
            return Metered(self._usage, self._model, complete=not cut_off)
        return self._fallback(cut_off)

    def _fallback(self, cut_off: bool) -> Metered:
        usage = estimate_input(self._info) + estimate_output(self._chars)
        return Metered(usage, self._model, estimated=True, complete=not cut_off)

    def _read(self, event: SSEEvent) -> bytes:
        if event.data is None or event.data == "[DONE]":
            return event.raw
        data = loads_object(event.data)
        return event.raw if data is None else self._on(data, event.raw)

    def _on(self, data: JSONObject, raw: bytes) -> bytes:
        raise NotImplementedError


class ChatStreamMeter(_EventMeter):
    """chat/completions chunks; the usage comes in the last chunk (include_usage)."""

    def _on(self, data: JSONObject, raw: bytes) -> bytes:
        self._model = text(data.get("model")) or self._model
        usage = data.get("usage")
        for choice in items(data.get("choices")):
            delta = obj(obj(choice).get("delta"))
            self._chars += len(text(delta.get("content"))) + len(text(delta.get("refusal")))
            self._chars += len(text(obj(delta.get("audio")).get("transcript")))
            for call in items(delta.get("tool_calls")):
                self._chars += len(text(obj(obj(call).get("function")).get("arguments")))
        if isinstance(usage, dict):
            self._usage = chat_usage(usage)
            if self._strip and data.get("choices") == []:
                return b""
        elif self._strip and "usage" in data:
            return _without_usage_null(raw)
        return raw


class ResponsesStreamMeter(_EventMeter):
    """Responses API events; the usage comes with the final response object."""

    _FINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})

    def _on(self, data: JSONObject, raw: bytes) -> bytes:
        kind = text(data.get("type"))
        response = obj(data.get("response"))
        self._model = text(response.get("model")) or self._model
        if kind in self._FINAL and isinstance(response.get("usage"), dict):
            self._usage = responses_usage(obj(response.get("usage")))
        elif kind.endswith(".delta") and kind != "response.audio.delta":
            self._chars += len(text(data.get("delta")))
        return raw


class TranscriptionStreamMeter(_EventMeter):
    """audio/transcriptions with stream=true: ``transcript.text.done`` has the usage."""

    def _on(self, data: JSONObject, raw: bytes) -> bytes:
        kind = data.get("type")
        if kind == "transcript.text.delta":
            self._chars += len(text(data.get("delta")))
        elif kind == "transcript.text.done":
            self._usage = transcription_usage(obj(data.get("usage")))
        return raw

    def _fallback(self, cut_off: bool) -> Metered:
        metered = measured_seconds(self._info)
        metered.complete = not cut_off
        return metered


class SpeechStreamMeter(_EventMeter):
    """audio/speech: the characters sent, known before the answer. Audio bytes pass
    untouched; with ``stream_format=sse`` the tokens of ``speech.audio.done`` are added."""

    def __init__(self, info: RequestInfo) -> None:
        super().__init__(info)
        self._sse = info.attributes.get("stream_format") == "sse"

    def feed(self, chunk: bytes) -> bytes:
        return super().feed(chunk) if self._sse else chunk

    def _on(self, data: JSONObject, raw: bytes) -> bytes:
        if data.get("type") == "speech.audio.done":
            usage = obj(data.get("usage"))
            self._usage = speech_characters(self._info) + Usage.of(
                input_tokens=_count(usage.get("input_tokens")),
                output_audio_tokens=_count(usage.get("output_tokens")),
            )
        return raw

    def _fallback(self, cut_off: bool) -> Metered:
        return Metered(speech_characters(self._info), self._model, complete=not cut_off)


def meter_for(info: RequestInfo) -> _EventMeter:
    if info.operation == "chat.completions":
        return ChatStreamMeter(info, strip=info.strip_usage_chunk)
    if info.operation == "responses":
        return ResponsesStreamMeter(info)
    if info.operation == "audio.speech":
        return SpeechStreamMeter(info)
    if info.operation.startswith("audio."):
        return TranscriptionStreamMeter(info)
    return ChatStreamMeter(info)


def _without_usage_null(raw: bytes) -> bytes:
    for pattern in _USAGE_NULL:
        stripped, found = pattern.subn(b"", raw, count=1)
        if found:
            return stripped
    return raw


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


__all__ = [
    "ChatStreamMeter",
    "ResponsesStreamMeter",
    "SpeechStreamMeter",
    "TranscriptionStreamMeter",
    "meter_for",
]
