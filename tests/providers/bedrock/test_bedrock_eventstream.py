"""The AWS event-stream framing: encode/decode round trip, CRCs, any split."""

from __future__ import annotations

import struct
import uuid
import zlib
from datetime import UTC, datetime

import pytest
from botocore.eventstream import EventStreamBuffer
from hypothesis import given, settings
from hypothesis import strategies as st

from llmledger.providers.bedrock.eventstream import (
    EventStreamDecoder,
    EventStreamError,
    HeaderValue,
    Message,
    encode_event,
    encode_message,
)


def test_round_trip_with_every_header_type() -> None:
    headers: dict[str, HeaderValue] = {
        ":event-type": "chunk",
        "flag": True,
        "off": False,
        "count": 2**40,
        "raw": b"\x00\x01",
        "when": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    }
    frame = encode_message(headers, b'{"bytes": "e30="}')
    (message,) = EventStreamDecoder().feed(frame)
    assert message == Message(headers, b'{"bytes": "e30="}')


def test_botocore_reads_what_we_encode() -> None:
    buffer = EventStreamBuffer()
    buffer.add_data(encode_event("metadata", b'{"usage": {}}'))
    (message,) = list(buffer)
    assert message.headers[":event-type"] == "metadata"
    assert message.payload == b'{"usage": {}}'


def test_corrupted_message_crc_is_detected() -> None:
    frame = bytearray(encode_event("chunk", b'{"a": 1}'))
    frame[-6] ^= 0x01  # a payload byte
    with pytest.raises(EventStreamError, match="message CRC"):
        EventStreamDecoder().feed(bytes(frame))


def test_corrupted_prelude_is_detected() -> None:
    frame = bytearray(encode_event("chunk", b"{}"))
    frame[3] ^= 0x40  # total length
    with pytest.raises(EventStreamError, match="prelude CRC"):
        EventStreamDecoder().feed(bytes(frame))


def test_absurd_length_with_valid_prelude_crc_is_rejected() -> None:
    prelude = struct.pack(">II", 2**31, 0)
    frame = prelude + struct.pack(">I", zlib.crc32(prelude))
    with pytest.raises(EventStreamError, match="length"):
        EventStreamDecoder().feed(frame)


@settings(max_examples=200, deadline=None)
@given(
    payloads=st.lists(st.binary(max_size=300), min_size=1, max_size=6),
    cuts=st.lists(st.integers(min_value=0, max_value=3000), max_size=30),
)
def test_any_split_decodes_the_same(payloads: list[bytes], cuts: list[int]) -> None:
    frames = [encode_event("chunk", p) for p in payloads]
    data = b"".join(frames)
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0, *points, len(data)]
    decoder = EventStreamDecoder()
    messages = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        messages += decoder.feed(data[a:b])
    assert [m.payload for m in messages] == payloads
    assert decoder.pending == 0
