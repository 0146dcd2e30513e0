"""Metering a streamed Gemini answer: SSE (``?alt=sse``) or the JSON-array stream.

Every chunk of a Gemini stream is a whole ``GenerateContentResponse`` whose
``usageMetadata`` is cumulative, so the last one seen is the usage of the answer.
The meter passes every byte on as it arrives and keeps only the last usage block and
a few counters.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from llmledger.providers.base import Metered, RequestInfo
from llmledger.providers.gemini.jsonarray import JsonArraySplitter
from llmledger.providers.gemini.parts import count_output_images
from llmledger.providers.gemini.usage import OutputSeen, estimate_output, usage_from_metadata
from llmledger.providers.sse import SSEParser
from llmledger.usage import Usage, UsageType


class GeminiStreamMeter:
    __slots__ = (
        "_info",
        "_sse",
        "_array",
        "_mode",
        "_meta",
        "_model",
        "_images",
        "_text",
        "_thoughts",
        "_finished",
        "_errors",
    )

    def __init__(self, info: RequestInfo, content_type: str = "") -> None:
        self._info = info
        self._sse: SSEParser | None = None
        self._array: JsonArraySplitter | None = None
        self._mode = ""
        if "event-stream" in content_type:
            self._mode = "sse"
        elif "json" in content_type:
            self._mode = "array"
        self._meta: Mapping[str, Any] | None = None
        self._model = ""
        self._images = 0
        self._text = 0
        self._thoughts = 0
        self._finished = False
        self._errors = 0

    def feed(self, chunk: bytes) -> bytes:
        if not self._mode:
            head = chunk.lstrip()
            if not head:
                return chunk
            self._mode = "array" if head[:1] == b"[" else "sse"
        if self._mode == "sse":
            self._sse = self._sse or SSEParser()
            for event in self._sse.feed(chunk):
                if event.data:
                    self._absorb_text(event.data)
        else:
            self._array = self._array or JsonArraySplitter()
            for element in self._array.feed(chunk):
                self._absorb_text(element.decode("utf-8", errors="replace"))
        return chunk

    def _absorb_text(self, text: str) -> None:
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            return
        if isinstance(data, Mapping):
            self._absorb(data)

    def _absorb(self, data: Mapping[str, Any]) -> None:
        if "error" in data:
            self._errors += 1
            return
        meta = data.get("usageMetadata")
        if isinstance(meta, Mapping):
            self._meta = meta
        model = data.get("modelVersion")
        if isinstance(model, str) and model:
            self._model = model
        images, text, thoughts = count_output_images(data)
        self._images += images
        self._text += text
        self._thoughts += thoughts
        for candidate in data.get("candidates") or []:
            if isinstance(candidate, Mapping) and candidate.get("finishReason"):
                self._finished = True

    def finish(self, *, cut_off: bool) -> Metered:
        if self._sse is not None:
            for event in self._sse.close():
                if event.data:
                    self._absorb_text(event.data)
        seen = OutputSeen(self._images, self._text, self._thoughts)
        complete = self._finished and not cut_off
        estimated = False
        if self._meta is not None:
            usage, attributes = usage_from_metadata(self._meta, seen, self._info.attributes)
        else:
            # No usage block at all: bill the input at its upper bound and the output
            # from what was streamed.
            usage, attributes = self._info.input_upper_bound, {"usage_source": "estimated"}
            estimated = True
        if not complete:
            output, reasoning = estimate_output(seen)
            extra: dict[UsageType, Any] = {}
            if output > usage.get_quantity(UsageType.OUTPUT_TOKENS):
                extra[UsageType.OUTPUT_TOKENS] = output - usage.get_quantity(
                    UsageType.OUTPUT_TOKENS
                )
            if reasoning > usage.get_quantity(UsageType.REASONING_TOKENS):
                extra[UsageType.REASONING_TOKENS] = reasoning - usage.get_quantity(
                    UsageType.REASONING_TOKENS
                )
            if extra:
                usage = usage + Usage(extra)
                estimated = True
            attributes["cut_off"] = "true" if cut_off else "false"
        return Metered(
            usage=usage,
            model_used=self._model or self._info.model,
            estimated=estimated,
            complete=complete,
            attributes=attributes,
        )
