"""The stream meter of Anthropic's Messages SSE: usage from message_start and
message_delta, output estimated from the deltas when the stream is cut before them."""

from __future__ import annotations

from decimal import Decimal

from llmledger.providers.base import Metered, RequestInfo
from llmledger.providers.json_fields import JSONObject, loads_object, obj, text
from llmledger.providers.sse import SSEParser
from llmledger.usage import Usage, UsageType

from .usage import FIELDS, estimate_input, estimate_output_tokens, message_usage

#: Fields of a content_block_delta's ``delta`` that carry generated text.
_DELTA_TEXT = ("text", "partial_json", "thinking")


class MessagesStreamMeter:
    """Passes every chunk on untouched and reads usage from the events as they pass."""

    def __init__(self, info: RequestInfo) -> None:
        self._info = info
        self._parser = SSEParser()
        self._model = info.model
        self._usage: JSONObject | None = None
        """The usage fields seen so far (message_start, then message_delta updates)."""
        self._final = False
        """True once a message_delta reported the cumulative usage."""
        self._chars = 0

    def feed(self, chunk: bytes) -> bytes:
        for event in self._parser.feed(chunk):
            if event.data is not None:
                self._read(event.data)
        return chunk

    def finish(self, *, cut_off: bool) -> Metered:
        for event in self._parser.close():
            if event.data is not None:
                self._read(event.data)
        complete = not cut_off
        if self._usage is None:
            usage = estimate_input(self._info) + _output(estimate_output_tokens(self._chars))
            return Metered(usage, self._model, estimated=True, complete=complete)
        usage = message_usage(self._usage)
        if self._final:
            return Metered(usage, self._model, complete=complete)
        # Cut before message_delta: message_start's output count is only the first token.
        reported = usage.get_quantity(UsageType.OUTPUT_TOKENS)
        produced = max(reported, Decimal(estimate_output_tokens(self._chars)))
        usage = usage + _output(int(produced - reported))
        return Metered(usage, self._model, estimated=True, complete=complete)

    def _read(self, payload: str) -> None:
        data = loads_object(payload)
        if data is None:
            return
        kind = data.get("type")
        if kind == "content_block_delta":
            delta = obj(data.get("delta"))
            self._chars += sum(len(text(delta.get(k))) for k in _DELTA_TEXT)
        elif kind == "message_start":
            message = obj(data.get("message"))
            self._model = text(message.get("model")) or self._model
            self._usage = dict(obj(message.get("usage")))
        elif kind == "message_delta":
            # Cumulative counts: output_tokens always, the input fields on newer models.
            update = {k: v for k, v in obj(data.get("usage")).items() if k in FIELDS and v}
            self._usage = (self._usage or {}) | update
            self._final = True


def _output(tokens: int) -> Usage:
    return Usage({UsageType.OUTPUT_TOKENS: Decimal(tokens)})
