"""Neutral `StreamEvent`s written as the stream the caller's SDK expects.

OpenAI: ``chat.completion.chunk`` events, the usage chunk when the caller asked for it
(``stream_options.include_usage``), then ``data: [DONE]``. Anthropic: message_start,
content_block_start, content_block_delta..., content_block_stop, message_delta (stop
reason and usage), message_stop. Gemini: one GenerateContentResponse per delta, the last
with its finishReason and usageMetadata, as SSE (``alt=sse``) or as the JSON array.
"""

from __future__ import annotations

import time
from typing import Protocol

import orjson

from llmledger.providers.json_fields import JSONObject

from . import stops, tokens
from .conversation import (
    Counted,
    Ended,
    Finished,
    Started,
    StopReason,
    StreamEvent,
    TextDelta,
    Tokens,
)


class StreamWriter(Protocol):
    def write(self, events: list[StreamEvent]) -> bytes: ...


class _Writer:
    """Keeps what the closing events need (id, model, stop reason, usage)."""

    def __init__(self) -> None:
        self.id = ""
        self.model = ""
        self.stop: StopReason = "stop"
        self.stop_sequence: str | None = None
        self.tokens = Tokens()
        self.started = False
        self.ended = False

    def write(self, events: list[StreamEvent]) -> bytes:
        out = bytearray()
        for event in events:
            if self.ended:
                break
            if not self.started:
                self.started = True
                if isinstance(event, Started):
                    self.id, self.model = event.id, event.model
                out += self.on_start()
            if isinstance(event, TextDelta):
                out += self.on_text(event.text)
            elif isinstance(event, Finished):
                self.stop, self.stop_sequence = event.stop, event.stop_sequence
                out += self.on_finish()
            elif isinstance(event, Counted):
                self.tokens = event.tokens
            elif isinstance(event, Ended):
                self.ended = True
                out += self.on_end()
        return bytes(out)

    def on_start(self) -> bytes:
        return b""

    def on_text(self, said: str) -> bytes:
        raise NotImplementedError

    def on_finish(self) -> bytes:
        return b""

    def on_end(self) -> bytes:
        raise NotImplementedError


class OpenAIWriter(_Writer):
    def __init__(self, include_usage: bool) -> None:
        super().__init__()
        self._include_usage = include_usage
        self._created = int(time.time())

    def _chunk(self, choices: list[JSONObject], **extra: object) -> bytes:
        chunk: JSONObject = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self.model,
            "choices": choices,
        }
        return b"data: " + orjson.dumps(chunk | extra) + b"\n\n"

    @staticmethod
    def _choice(delta: JSONObject, finish: str | None = None) -> JSONObject:
        return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}

    def on_start(self) -> bytes:
        return self._chunk([self._choice({"role": "assistant", "content": ""})])

    def on_text(self, said: str) -> bytes:
        return self._chunk([self._choice({"content": said})])

    def on_finish(self) -> bytes:
        return self._chunk([self._choice({}, stops.write("openai", self.stop))])

    def on_end(self) -> bytes:
        usage = b""
        if self._include_usage:
            usage = self._chunk([], usage=tokens.write_openai(self.tokens))
        return usage + b"data: [DONE]\n\n"


class AnthropicWriter(_Writer):
    def __init__(self) -> None:
        super().__init__()
        self._block_open = False

    @staticmethod
    def _event(kind: str, data: JSONObject) -> bytes:
        return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"

    def on_start(self) -> bytes:
        message: JSONObject = {
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "content": [],
            "model": self.model,
            "stop_reason": None,
            "stop_sequence": None,
            "usage": tokens.write_anthropic(Tokens()),
        }
        return self._event("message_start", {"type": "message_start", "message": message})

    def on_text(self, said: str) -> bytes:
        out = b""
        if not self._block_open:
            self._block_open = True
            block = {"type": "content_block_start", "index": 0}
            out = self._event(
                "content_block_start", block | {"content_block": {"type": "text", "text": ""}}
            )
        delta = {"type": "text_delta", "text": said}
        return out + self._event(
            "content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}
        )

    def on_end(self) -> bytes:
        out = b""
        if self._block_open:
            out = self._event("content_block_stop", {"type": "content_block_stop", "index": 0})
        delta = {
            "stop_reason": stops.write("anthropic", self.stop),
            "stop_sequence": self.stop_sequence,
        }
        usage = tokens.write_anthropic(self.tokens)
        out += self._event(
            "message_delta", {"type": "message_delta", "delta": delta, "usage": usage}
        )
        return out + self._event("message_stop", {"type": "message_stop"})


class GeminiWriter(_Writer):
    def __init__(self, sse: bool) -> None:
        super().__init__()
        self._sse = sse
        self._elements = 0

    def _element(self, candidate: JSONObject, **extra: object) -> bytes:
        chunk: JSONObject = {"candidates": [candidate | {"index": 0}]}
        chunk |= extra
        chunk |= {"modelVersion": self.model, "responseId": self.id}
        body = orjson.dumps(chunk)
        self._elements += 1
        if self._sse:
            return b"data: " + body + b"\r\n\r\n"
        return (b"[" if self._elements == 1 else b",\r\n") + body

    def on_text(self, said: str) -> bytes:
        return self._element({"content": {"parts": [{"text": said}], "role": "model"}})

    def on_end(self) -> bytes:
        last = self._element(
            {
                "content": {"parts": [{"text": ""}], "role": "model"},
                "finishReason": stops.write("google", self.stop),
            },
            usageMetadata=tokens.write_gemini(self.tokens),
        )
        return last if self._sse else last + b"]"


def writer_for(family: str, *, include_usage: bool = False, sse: bool = True) -> StreamWriter:
    if family == "openai":
        return OpenAIWriter(include_usage)
    if family == "anthropic":
        return AnthropicWriter()
    return GeminiWriter(sse)
