"""An incremental server-sent events parser that keeps every byte it was given.

Each API family streams its answers as SSE (OpenAI and Anthropic with ``\\n`` line ends,
Gemini with ``\\r\\n``). A stream meter feeds the parser whatever chunk the network gave
it and gets back the events completed so far. Each event carries the exact bytes it was
made of (`SSEEvent.raw`), so a meter can pass the stream through unchanged or drop one
event without re-encoding anything: the ``raw`` of every event returned, followed by
`SSEParser.pending`, is always exactly the input so far.

The parser follows the WHATWG rules: lines end with CRLF, LF or CR; a blank line ends
an event; ``data`` lines are joined with ``\\n``; a line starting with ``:`` is a
comment; one space after the colon is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

_CR = 0x0D
_LF = 0x0A


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One block of the stream, up to and including the blank line that ends it."""

    raw: bytes
    event: str | None
    """The ``event:`` field, or None when absent (the spec's default ``message``)."""
    data: str | None
    """The ``data:`` lines joined by ``\\n``, or None when the block has no data line
    (a comment, a keep-alive, a stray blank line)."""
    id: str | None = None
    retry: int | None = None


class SSEParser:
    """Splits a byte stream into `SSEEvent`s as the bytes arrive."""

    __slots__ = ("_buffer", "_scan", "_event", "_data", "_id", "_retry")

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._scan = 0
        """Offset in the buffer of the first line not yet read."""
        self._event: str | None = None
        self._data: list[str] = []
        self._id: str | None = None
        self._retry: int | None = None

    @property
    def pending(self) -> bytes:
        """Bytes received that do not yet make a whole event."""
        return bytes(self._buffer)

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Add bytes; return the events they completed, in order."""
        if not chunk:
            return []
        self._buffer += chunk
        return self._read(final=False)

    def close(self) -> list[SSEEvent]:
        """End of stream: a last event not followed by a blank line still counts
        (a cut-off stream), and any trailing bytes are returned as one last block."""
        events = self._read(final=True)
        if self._buffer:
            # The stream stopped inside an event: read its last line, then yield it.
            tail = bytes(self._buffer)
            line = tail[self._scan :]
            if line:
                self._field(line)
            events.append(self._dispatch(tail))
            self._buffer.clear()
            self._scan = 0
        return events

    def _read(self, *, final: bool) -> list[SSEEvent]:
        events: list[SSEEvent] = []
        buf = self._buffer
        start_of_event = 0
        pos = self._scan
        size = len(buf)
        while pos < size:
            lf = buf.find(b"\n", pos)
            cr = buf.find(b"\r", pos, lf if lf >= 0 else size)
            if cr >= 0:
                end = cr
                if cr + 1 < size:
                    after = cr + 2 if buf[cr + 1] == _LF else cr + 1
                elif final:
                    after = cr + 1
                else:
                    break  # a CR at the end: the LF of a CRLF may be in the next chunk
            elif lf >= 0:
                end, after = lf, lf + 1
            else:
                break
            line = bytes(buf[pos:end])
            pos = after
            if line:
                self._field(line)
            else:
                events.append(self._dispatch(bytes(buf[start_of_event:pos])))
                start_of_event = pos
        del buf[:start_of_event]
        self._scan = pos - start_of_event
        return events

    def _field(self, line: bytes) -> None:
        if line[0] == 0x3A:  # ":" comment
            return
        name, sep, value = line.partition(b":")
        if sep and value[:1] == b" ":
            value = value[1:]
        text = value.decode("utf-8", errors="replace")
        if name == b"data":
            self._data.append(text)
        elif name == b"event":
            self._event = text
        elif name == b"id":
            if "\x00" not in text:
                self._id = text
        elif name == b"retry" and text.isascii() and text.isdigit():
            self._retry = int(text)

    def _dispatch(self, raw: bytes) -> SSEEvent:
        event = SSEEvent(
            raw=raw,
            event=self._event,
            data="\n".join(self._data) if self._data else None,
            id=self._id,
            retry=self._retry,
        )
        self._event = None
        self._data = []
        self._retry = None
        return event
