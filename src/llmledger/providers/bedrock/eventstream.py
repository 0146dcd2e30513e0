"""The AWS binary event-stream framing (``application/vnd.amazon.eventstream``).

One message::

    total length (u32) | headers length (u32) | prelude CRC32 (u32)
    headers | payload | message CRC32 (u32)

All integers big-endian; the prelude CRC covers the first 8 bytes, the message CRC
everything before it. `EventStreamDecoder` is incremental: bytes may arrive split
anywhere, and it keeps only the bytes of the message not yet complete.
"""

from __future__ import annotations

import struct
import uuid
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

HeaderValue = bool | int | bytes | str | datetime | uuid.UUID

_PRELUDE = struct.Struct(">III")
_PRELUDE_LEN = 12
_CRC_LEN = 4
#: AWS caps one message at 16 MiB (plus framing); larger means a corrupt length.
MAX_MESSAGE_LENGTH = 16 * 1024 * 1024 + 128 * 1024
_MAX_HEADERS_LENGTH = 128 * 1024

_TRUE, _FALSE, _BYTE, _SHORT, _INT, _LONG, _BYTES, _STRING, _TIMESTAMP, _UUID = range(10)


class EventStreamError(ValueError):
    """Bytes that are not a well-formed event stream (bad length or CRC)."""


@dataclass(frozen=True, slots=True)
class Message:
    headers: dict[str, HeaderValue] = field(default_factory=dict)
    payload: bytes = b""

    def header_str(self, name: str) -> str | None:
        value = self.headers.get(name)
        return value if isinstance(value, str) else None

    @property
    def message_type(self) -> str:
        return self.header_str(":message-type") or "event"

    @property
    def event_type(self) -> str | None:
        return self.header_str(":event-type")


def _encode_header(name: str, value: HeaderValue) -> bytes:
    raw_name = name.encode()
    out = struct.pack(">B", len(raw_name)) + raw_name
    if isinstance(value, bool):
        return out + struct.pack(">B", _TRUE if value else _FALSE)
    if isinstance(value, int):
        return out + struct.pack(">Bq", _LONG, value)
    if isinstance(value, bytes):
        return out + struct.pack(">BH", _BYTES, len(value)) + value
    if isinstance(value, str):
        raw = value.encode()
        return out + struct.pack(">BH", _STRING, len(raw)) + raw
    if isinstance(value, datetime):
        millis = int(value.timestamp() * 1000)
        return out + struct.pack(">Bq", _TIMESTAMP, millis)
    return out + struct.pack(">B", _UUID) + value.bytes


def encode_message(headers: dict[str, HeaderValue], payload: bytes) -> bytes:
    """One framed message, CRCs included."""
    raw_headers = b"".join(_encode_header(k, v) for k, v in headers.items())
    total = _PRELUDE_LEN + len(raw_headers) + len(payload) + _CRC_LEN
    prelude = struct.pack(">II", total, len(raw_headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    body = prelude + raw_headers + payload
    return body + struct.pack(">I", zlib.crc32(body))


def encode_event(event_type: str, payload: bytes, content_type: str = "application/json") -> bytes:
    """An ``event`` message as Bedrock sends it."""
    return encode_message(
        {
            ":event-type": event_type,
            ":content-type": content_type,
            ":message-type": "event",
        },
        payload,
    )


def encode_exception(exception_type: str, payload: bytes) -> bytes:
    """An ``exception`` message (e.g. ``throttlingException`` mid-stream)."""
    return encode_message(
        {
            ":exception-type": exception_type,
            ":content-type": "application/json",
            ":message-type": "exception",
        },
        payload,
    )


def _decode_headers(raw: bytes) -> dict[str, HeaderValue]:
    headers: dict[str, HeaderValue] = {}
    pos = 0
    try:
        while pos < len(raw):
            name_len = raw[pos]
            name = raw[pos + 1 : pos + 1 + name_len].decode()
            pos += 1 + name_len
            kind = raw[pos]
            pos += 1
            value: HeaderValue
            if kind in (_TRUE, _FALSE):
                value = kind == _TRUE
            elif kind == _BYTE:
                (value,) = struct.unpack_from(">b", raw, pos)
                pos += 1
            elif kind == _SHORT:
                (value,) = struct.unpack_from(">h", raw, pos)
                pos += 2
            elif kind == _INT:
                (value,) = struct.unpack_from(">i", raw, pos)
                pos += 4
            elif kind in (_LONG, _TIMESTAMP):
                (number,) = struct.unpack_from(">q", raw, pos)
                pos += 8
                value = number if kind == _LONG else datetime.fromtimestamp(number / 1000, tz=UTC)
            elif kind in (_BYTES, _STRING):
                (length,) = struct.unpack_from(">H", raw, pos)
                data = raw[pos + 2 : pos + 2 + length]
                if len(data) != length:
                    raise EventStreamError("event-stream header value cut short")
                pos += 2 + length
                value = data.decode() if kind == _STRING else data
            elif kind == _UUID:
                value = uuid.UUID(bytes=raw[pos : pos + 16])
                pos += 16
            else:
                raise EventStreamError(f"unknown event-stream header type {kind}")
            headers[name] = value
    except (IndexError, struct.error, UnicodeDecodeError, ValueError) as exc:
        if isinstance(exc, EventStreamError):
            raise
        raise EventStreamError(f"malformed event-stream headers: {exc}") from None
    return headers


class EventStreamDecoder:
    """Incremental decoder: `feed` bytes split anywhere, get the complete messages."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        """Bytes held of a message not yet complete (0 at a clean message boundary)."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Message]:
        self._buffer += data
        messages: list[Message] = []
        while len(self._buffer) >= _PRELUDE_LEN:
            total, headers_len, prelude_crc = _PRELUDE.unpack_from(self._buffer, 0)
            if zlib.crc32(self._buffer[:8]) != prelude_crc:
                raise EventStreamError("event-stream prelude CRC mismatch")
            if (
                total > MAX_MESSAGE_LENGTH
                or headers_len > _MAX_HEADERS_LENGTH
                or total < _PRELUDE_LEN + headers_len + _CRC_LEN
            ):
                raise EventStreamError(f"event-stream message length {total} is invalid")
            if len(self._buffer) < total:
                break
            frame = bytes(self._buffer[:total])
            del self._buffer[:total]
            (message_crc,) = struct.unpack_from(">I", frame, total - _CRC_LEN)
            if zlib.crc32(frame[: total - _CRC_LEN]) != message_crc:
                raise EventStreamError("event-stream message CRC mismatch")
            headers = _decode_headers(frame[_PRELUDE_LEN : _PRELUDE_LEN + headers_len])
            payload = frame[_PRELUDE_LEN + headers_len : total - _CRC_LEN]
            messages.append(Message(headers, payload))
        return messages
