"""How long an uploaded audio file is: exact from a WAV header, else estimated."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from decimal import Decimal

#: Bytes per second assumed for compressed audio whose length cannot be read:
#: 128 kbit/s for the estimate, 32 kbit/s for the upper bound.
TYPICAL_BYTES_PER_SECOND = 16_000
LOWEST_BYTES_PER_SECOND = 4_000

_MILLI = Decimal("0.001")


@dataclass(frozen=True, slots=True)
class AudioLength:
    seconds: Decimal
    bound: Decimal
    """No smaller than the real length (equal to it when measured)."""
    source: str
    """``wav_header`` when measured, ``estimated`` when guessed from the file size."""


def audio_length(data: bytes) -> AudioLength:
    seconds = wav_seconds(data)
    if seconds is not None:
        return AudioLength(seconds, seconds, "wav_header")
    estimate = (Decimal(len(data)) / TYPICAL_BYTES_PER_SECOND).quantize(_MILLI)
    bound = (Decimal(len(data)) / LOWEST_BYTES_PER_SECOND).quantize(_MILLI)
    return AudioLength(estimate, bound, "estimated")


def wav_seconds(data: bytes) -> Decimal | None:
    """The duration of a RIFF/WAVE file from its ``fmt `` and ``data`` chunks."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    byte_rate = 0
    pos = 12
    while pos + 8 <= len(data):
        chunk_id = data[pos : pos + 4]
        (size,) = struct.unpack_from("<I", data, pos + 4)
        body = pos + 8
        if chunk_id == b"fmt " and size >= 16 and body + 16 <= len(data):
            (byte_rate,) = struct.unpack_from("<I", data, body + 8)
        elif chunk_id == b"data":
            if byte_rate <= 0:
                return None
            # A streamed WAV may leave the size unset (0 or 0xFFFFFFFF): use what is there.
            available = len(data) - body
            length = available if size in (0, 0xFFFFFFFF) else min(size, available)
            return (Decimal(length) / byte_rate).quantize(_MILLI)
        pos = body + size + (size & 1)
    return None
