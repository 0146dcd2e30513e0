"""Metering Bedrock's event streams (``converse-stream`` and
``invoke-with-response-stream``) as the bytes pass through.

Converse-stream events carry their shape in ``:event-type`` (``metadata`` holds the
usage). Invoke streams wrap each model chunk as ``{"bytes": base64}`` in a ``chunk``
event; the decoded chunk is the model family's own JSON (Anthropic events, Nova
``metadata``, Llama counters), and the last one carries
``amazon-bedrock-invocationMetrics``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from llmledger.providers.base import Metered, RequestInfo
from llmledger.providers.bedrock.eventstream import EventStreamDecoder, EventStreamError, Message
from llmledger.providers.bedrock.usage import INVOCATION_METRICS, TokenCounts
from llmledger.usage import Usage, UsageType

#: Keys whose string values are generated text (for estimating a cut-off answer).
_TEXT_KEYS = frozenset({"text", "generation", "thinking", "partial_json", "input", "content"})
_STOP_EVENTS = frozenset({"messageStop", "message_stop"})


def _text_chars(node: Any) -> int:
    total = 0
    if isinstance(node, Mapping):
        for key, value in node.items():
            if isinstance(value, str):
                total += len(value) if key in _TEXT_KEYS else 0
            else:
                total += _text_chars(value)
    elif isinstance(node, list):
        total += sum(_text_chars(item) for item in node)
    return total


class BedrockStreamMeter:
    __slots__ = (
        "_info",
        "_decoder",
        "_counts",
        "_text",
        "_stopped",
        "_metrics_seen",
        "_exception",
        "_corrupt",
    )

    def __init__(self, info: RequestInfo, counts: TokenCounts | None = None) -> None:
        self._info = info
        self._decoder = EventStreamDecoder()
        self._counts = counts or TokenCounts()
        self._text = 0
        self._stopped = False
        self._metrics_seen = False
        self._exception: str | None = None
        self._corrupt = False

    def feed(self, chunk: bytes) -> bytes:
        if not self._corrupt:
            try:
                for message in self._decoder.feed(chunk):
                    self._absorb(message)
            except EventStreamError:
                # Pass the bytes on regardless; the caller's SDK will report it.
                self._corrupt = True
        return chunk

    def _absorb(self, message: Message) -> None:
        if message.message_type != "event":
            self._exception = (
                message.header_str(":exception-type")
                or message.header_str(":error-code")
                or "exception"
            )
            return
        data = _json(message.payload)
        if data is None:
            return
        if message.event_type == "chunk":
            raw = data.get("bytes")
            if not isinstance(raw, str):
                return
            try:
                data = _json(base64.b64decode(raw, validate=True))
            except (binascii.Error, ValueError):
                return
            if data is None:
                return
            if data.get("type") in _STOP_EVENTS or "messageStop" in data:
                self._stopped = True
        elif message.event_type in _STOP_EVENTS:
            self._stopped = True
        if INVOCATION_METRICS in data or message.event_type == "metadata" or "metadata" in data:
            self._metrics_seen = True
        self._counts.absorb(data)
        self._text += _text_chars(data)

    def finish(self, *, cut_off: bool) -> Metered:
        counts = self._counts
        complete = self._metrics_seen and not cut_off and self._exception is None
        estimated = False
        attributes = counts.attributes()
        attributes.update(
            {k: v for k, v in self._info.attributes.items() if k in ("inference_profile",)}
        )
        usage = counts.to_usage()
        if counts.input is None:
            usage = usage + self._info.input_upper_bound
            estimated = True
        estimate = -(-self._text // 4)
        if counts.output is None or (not complete and estimate > (counts.output or 0)):
            produced = Decimal(max(estimate, counts.output or 0))
            usage = Usage({**dict(usage), UsageType.OUTPUT_TOKENS: produced})
            estimated = True
        if self._exception:
            attributes["stream_exception"] = self._exception
        if self._corrupt:
            attributes["stream_corrupt"] = "true"
        if not complete:
            attributes["cut_off"] = "true" if cut_off else "false"
        images = int(self._info.attributes.get("input_images", "0"))
        if images:
            usage = usage + Usage({UsageType.INPUT_IMAGES: Decimal(images)})
        return Metered(
            usage=usage,
            model_used=self._info.attributes.get("base_model", self._info.model),
            estimated=estimated,
            complete=complete,
            attributes=attributes,
        )


def _json(raw: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None
