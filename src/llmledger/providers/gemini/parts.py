"""What a Gemini request sends: text bytes and media parts, counted without decoding.

Used for the reservation's input upper bound and for the derived counts (input images)
that finance wants next to tokens. Accepts both the REST API's camelCase and the
snake_case that the API also accepts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

#: Gemini's documented token rates at default media resolution.
AUDIO_TOKENS_PER_SECOND = 32
VIDEO_TOKENS_PER_SECOND = 263
IMAGE_TOKENS = 258
#: An image larger than 384 px is tiled into 768x768 tiles of 258 tokens; without
#: decoding the image, bound it as a 3072x3072 image (16 tiles).
IMAGE_TOKEN_BOUND = 16 * IMAGE_TOKENS
#: Bounds from the size of inline media, assuming at least 500 bytes per second of
#: audio (4 kbit/s) and 10 kB per second of video: heuristics, see docs/providers/gemini.md.
AUDIO_BYTES_PER_SECOND_FLOOR = 500
VIDEO_BYTES_PER_SECOND_FLOOR = 10_000


def field(obj: Mapping[str, Any], camel: str) -> Any:
    """A field by its camelCase name, or its snake_case twin."""
    if camel in obj:
        return obj[camel]
    snake = "".join("_" + c.lower() if c.isupper() else c for c in camel)
    return obj.get(snake)


@dataclass(slots=True)
class PartInventory:
    images: int = 0
    audio: int = 0
    video: int = 0
    documents: int = 0
    files: int = 0
    """fileData parts: uploaded files whose size the gateway cannot see."""
    media_base64_bytes: int = 0
    audio_bytes: int = 0
    video_bytes: int = 0
    text_chars: int = 0

    def add_media(self, mime_type: str, base64_len: int, *, is_file: bool) -> None:
        kind = mime_type.split("/", 1)[0].lower()
        decoded = base64_len * 3 // 4
        if is_file:
            self.files += 1
        else:
            self.media_base64_bytes += base64_len
        if kind == "image":
            self.images += 1
        elif kind == "audio":
            self.audio += 1
            self.audio_bytes += decoded
        elif kind == "video":
            self.video += 1
            self.video_bytes += decoded
        else:
            self.documents += 1

    @property
    def audio_token_bound(self) -> int:
        return -(-self.audio_bytes * AUDIO_TOKENS_PER_SECOND // AUDIO_BYTES_PER_SECOND_FLOOR)

    @property
    def video_token_bound(self) -> int:
        per_second = VIDEO_TOKENS_PER_SECOND + AUDIO_TOKENS_PER_SECOND
        return -(-self.video_bytes * per_second // VIDEO_BYTES_PER_SECOND_FLOOR)


def iter_parts(node: Any) -> Iterator[Mapping[str, Any]]:
    """Every part in a request or response body, wherever it sits (contents,
    systemInstruction, nested generateContentRequest, batch requests, candidates)."""
    if isinstance(node, Mapping):
        parts = node.get("parts")
        if isinstance(parts, list):
            for part in parts:
                if isinstance(part, Mapping):
                    yield part
        for key, value in node.items():
            if key != "parts" and isinstance(value, list | Mapping):
                yield from iter_parts(value)
    elif isinstance(node, list):
        for item in node:
            yield from iter_parts(item)


def take_inventory(body: Any) -> PartInventory:
    inventory = PartInventory()
    for part in iter_parts(body):
        text = part.get("text")
        if isinstance(text, str):
            inventory.text_chars += len(text)
        inline = field(part, "inlineData")
        if isinstance(inline, Mapping):
            data = inline.get("data")
            mime = field(inline, "mimeType")
            inventory.add_media(
                mime if isinstance(mime, str) else "",
                len(data) if isinstance(data, str) else 0,
                is_file=False,
            )
        file_data = field(part, "fileData")
        if isinstance(file_data, Mapping):
            mime = field(file_data, "mimeType")
            inventory.add_media(mime if isinstance(mime, str) else "", 0, is_file=True)
    return inventory


def count_output_images(body: Any) -> tuple[int, int, int]:
    """(images generated, text characters, thought characters) in a response body."""
    images = text = thoughts = 0
    candidates = body.get("candidates") if isinstance(body, Mapping) else None
    for part in iter_parts(candidates or []):
        inline = field(part, "inlineData")
        if isinstance(inline, Mapping):
            mime = field(inline, "mimeType")
            if isinstance(mime, str) and mime.startswith("image/"):
                images += 1
        value = part.get("text")
        if isinstance(value, str):
            if part.get("thought") is True:
                thoughts += len(value)
            else:
                text += len(value)
    return images, text, thoughts
