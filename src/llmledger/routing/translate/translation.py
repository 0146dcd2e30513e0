"""One translated call: the request sent to the other family, and the way back."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from llmledger.providers.base import Metered, StreamMeter
from llmledger.providers.json_fields import JSONObject, obj

from .read_request import read_request
from .reply import read_reply, write_reply
from .stream_read import StreamReader, reader_for
from .stream_write import StreamWriter, writer_for
from .write_request import UpstreamCall, write_request

#: The families whose chat formats are translated into one another (provider ids).
FAMILIES = frozenset({"openai", "anthropic", "google"})


class TranslatedStream:
    """A `StreamMeter` over the upstream's stream that hands the caller its own format:
    the target's meter reads the upstream bytes (the ledger's usage), the reader and
    writer turn the same bytes into the caller's events as they arrive."""

    def __init__(self, meter: StreamMeter, reader: StreamReader, writer: StreamWriter) -> None:
        self._meter = meter
        self._reader = reader
        self._writer = writer

    def feed(self, chunk: bytes) -> bytes:
        self._meter.feed(chunk)
        return self._writer.write(self._reader.feed(chunk))

    def finish(self, *, cut_off: bool) -> Metered:
        return self._meter.finish(cut_off=cut_off)


@dataclass(frozen=True, slots=True)
class Translation:
    caller: str
    """The family the caller speaks (and is answered in)."""
    provider: str
    """The family that serves the call."""
    upstream: UpstreamCall
    stream: bool
    include_usage: bool = False
    """An OpenAI caller asked for the usage chunk (``stream_options.include_usage``)."""
    sse: bool = True
    """A Gemini caller asked for SSE (``alt=sse``) rather than the JSON-array stream."""

    @property
    def request_headers(self) -> dict[str, str]:
        """The headers the translated request goes with (before the credential): none
        of the caller's, which belong to its own family."""
        accept = "text/event-stream" if self.stream else "application/json"
        return {"content-type": "application/json", "accept": accept}

    def answer(self, body: bytes) -> bytes:
        """The upstream's whole answer in the caller's format; raises `Untranslatable`."""
        return write_reply(self.caller, read_reply(self.provider, body))

    def stream_meter(self, meter: StreamMeter) -> StreamMeter:
        writer = writer_for(self.caller, include_usage=self.include_usage, sse=self.sse)
        return TranslatedStream(meter, reader_for(self.provider), writer)

    def response_headers(self, upstream: Mapping[str, str], *, streamed: bool) -> dict[str, str]:
        """The caller's response headers: the gateway's own, and the content type of the
        caller's format (the upstream's other headers speak of another family)."""
        out = {k: v for k, v in upstream.items() if k.startswith("x-llmledger-")}
        if not streamed:
            out["content-type"] = "application/json"
        elif self.caller == "google" and not self.sse:
            out["content-type"] = "application/json; charset=UTF-8"
        else:
            out["content-type"] = "text/event-stream; charset=utf-8"
            out["cache-control"] = "no-cache"
        return out


def translate(
    caller: str,
    provider: str,
    operation: str,
    body: JSONObject,
    model: str,
    max_tokens: int,
    query: str = "",
) -> Translation:
    """The call `body` (of `operation`, in the `caller`'s format) as a call to `model`
    of `provider`; raises `Untranslatable` with the reason when it cannot be."""
    conversation = read_request(caller, operation, body)
    upstream = write_request(provider, conversation, model, max_tokens)
    options = obj(body.get("stream_options"))
    return Translation(
        caller,
        provider,
        upstream,
        conversation.stream,
        include_usage=options.get("include_usage") is True,
        sse=caller != "google" or dict(parse_qsl(query)).get("alt") == "sse",
    )
