"""An upstream's SSE stream read into neutral `StreamEvent`s as its bytes arrive.

The upstream is always asked for SSE (Gemini with ``alt=sse``). Events the neutral form
has no place for (pings, thinking deltas, keep-alives) are passed over; a request that
could produce anything else (tools, media) is never translated in the first place.
"""

from __future__ import annotations

from typing import Protocol

from llmledger.providers.json_fields import JSONObject, items, loads_object, obj, text
from llmledger.providers.sse import SSEParser

from . import stops, tokens
from .conversation import (
    Counted,
    Ended,
    Finished,
    Started,
    StreamEvent,
    TextDelta,
    Untranslatable,
)
from .reply import gemini_text


class StreamReader(Protocol):
    def feed(self, chunk: bytes) -> list[StreamEvent]: ...


class _SSEReader:
    def __init__(self) -> None:
        self._parser = SSEParser()
        self._started = False

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        for event in self._parser.feed(chunk):
            if event.data is None:
                continue
            if event.data == "[DONE]":
                out.append(Ended())
                continue
            data = loads_object(event.data)
            if data is not None:
                self._read(data, out)
        return out

    def _start(self, out: list[StreamEvent], id_: str, model: str) -> None:
        if not self._started:
            self._started = True
            out.append(Started(id_, model))

    def _read(self, data: JSONObject, out: list[StreamEvent]) -> None:
        raise NotImplementedError


class OpenAIReader(_SSEReader):
    """chat.completion.chunk events; the usage chunk (asked for) comes before [DONE]."""

    def _read(self, data: JSONObject, out: list[StreamEvent]) -> None:
        self._start(out, text(data.get("id")), text(data.get("model")))
        for choice in items(data.get("choices")):
            delta = obj(obj(choice).get("delta"))
            said = text(delta.get("content")) or text(delta.get("refusal"))
            if said:
                out.append(TextDelta(said))
            reason = obj(choice).get("finish_reason")
            if isinstance(reason, str):
                out.append(Finished(stops.read("openai", reason)))
        usage = data.get("usage")
        if isinstance(usage, dict):
            out.append(Counted(tokens.read_openai(usage)))


class AnthropicReader(_SSEReader):
    """Messages events: message_start holds the input usage, message_delta the stop
    reason and the cumulative usage, message_stop the end."""

    def __init__(self) -> None:
        super().__init__()
        self._usage: JSONObject = {}

    def _read(self, data: JSONObject, out: list[StreamEvent]) -> None:
        kind = data.get("type")
        if kind == "message_start":
            message = obj(data.get("message"))
            self._start(out, text(message.get("id")), text(message.get("model")))
            self._usage = dict(obj(message.get("usage")))
        elif kind == "content_block_delta":
            delta = obj(data.get("delta"))
            if delta.get("type") == "text_delta" and text(delta.get("text")):
                out.append(TextDelta(text(delta.get("text"))))
        elif kind == "message_delta":
            delta = obj(data.get("delta"))
            sequence = delta.get("stop_sequence")
            reason = stops.read("anthropic", text(delta.get("stop_reason")))
            out.append(Finished(reason, sequence if isinstance(sequence, str) else None))
            update = {k: v for k, v in obj(data.get("usage")).items() if v is not None}
            self._usage |= update
            out.append(Counted(tokens.read_anthropic(self._usage)))
        elif kind == "message_stop":
            out.append(Ended())


class GeminiReader(_SSEReader):
    """Every chunk is a whole GenerateContentResponse; the one with a finishReason is
    the last and carries the final (cumulative) usage."""

    def _read(self, data: JSONObject, out: list[StreamEvent]) -> None:
        self._start(out, text(data.get("responseId")), text(data.get("modelVersion")))
        try:
            said, reason = gemini_text(data)
        except Untranslatable:
            said, reason = "", None
        if said:
            out.append(TextDelta(said))
        if reason is not None:
            out.append(Finished(stops.read("google", reason)))
            out.append(Counted(tokens.read_gemini(obj(data.get("usageMetadata")))))
            out.append(Ended())


def reader_for(family: str) -> StreamReader:
    if family == "openai":
        return OpenAIReader()
    if family == "anthropic":
        return AnthropicReader()
    return GeminiReader()
