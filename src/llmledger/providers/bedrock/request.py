"""Reading a Bedrock runtime request: Converse bodies and per-family invoke bodies."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from llmledger.providers.base import RequestError, RequestInfo
from llmledger.providers.bedrock.models import family_from_body
from llmledger.providers.bedrock.operations import parse_operation
from llmledger.usage import Usage, UsageType

#: Upper bound of the tokens of one input image: Claude resizes to at most ~1.15 MP
#: (about 1,600 tokens), Nova tiles to at most ~2,600; bounded generously.
IMAGE_TOKEN_BOUND = 4_800

#: Where each family puts its output cap (Converse: ``inferenceConfig.maxTokens``).
_MAX_OUTPUT_KEYS = (
    ("inferenceConfig", "maxTokens"),
    ("inferenceConfig", "max_new_tokens"),
    ("textGenerationConfig", "maxTokenCount"),
    ("", "max_tokens"),
    ("", "max_gen_len"),
    ("", "max_completion_tokens"),
    ("", "maxTokens"),
)


@dataclass(slots=True)
class MediaCount:
    images: int = 0
    videos: int = 0
    documents: int = 0
    image_base64_bytes: int = 0


def _strings_length(node: Any) -> int:
    if isinstance(node, str):
        return len(node)
    if isinstance(node, Mapping):
        return sum(_strings_length(v) for v in node.values())
    if isinstance(node, list):
        return sum(_strings_length(v) for v in node)
    return 0


def _walk(node: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(node, Mapping):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def count_media(body: Any) -> MediaCount:
    """Images, videos and documents in Converse (``{"image": {...}}``), Nova invoke
    (same) and Anthropic (``{"type": "image", "source": ...}``) bodies."""
    media = MediaCount()
    for node in _walk(body):
        image = node.get("image")
        if isinstance(image, Mapping) and "source" in image:
            media.images += 1
            media.image_base64_bytes += _strings_length(image.get("source"))
        elif node.get("type") == "image" and isinstance(node.get("source"), Mapping):
            media.images += 1
            media.image_base64_bytes += _strings_length(node.get("source"))
        if isinstance(node.get("video"), Mapping):
            media.videos += 1
        document = node.get("document")
        if isinstance(document, Mapping) or node.get("type") == "document":
            media.documents += 1
    return media


def max_output_tokens(body: Mapping[str, Any]) -> int | None:
    for section, key in _MAX_OUTPUT_KEYS:
        holder = body.get(section) if section else body
        if isinstance(holder, Mapping) and key in holder:
            value = holder[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise RequestError(400, "invalid_request", f"{key} must be a whole number")
            return value
    return None


def read_request(method: str, path: str, body: bytes) -> RequestInfo:
    operation = parse_operation(path)
    try:
        data = json.loads(body) if body.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError):
        # Invoke bodies are opaque to Bedrock, but every text model takes JSON.
        raise RequestError(400, "invalid_request", "Malformed input request: not JSON") from None
    if not isinstance(data, dict):
        raise RequestError(400, "invalid_request", "Malformed input request: expected an object")
    model = operation.model
    family = model.family
    if operation.is_converse:
        family = "converse"
    elif family == "unknown":
        family = family_from_body(data)
    media = count_media(data)
    # Every non-image byte bounds its own tokens (no tokenizer spends less than a byte
    # per token); each image is bounded by IMAGE_TOKEN_BOUND.
    text_bound = max(len(body) - media.image_base64_bytes, 0)
    bound = Usage({UsageType.INPUT_TOKENS: Decimal(text_bound + media.images * IMAGE_TOKEN_BOUND)})
    attributes = {"family": family, "base_model": model.base}
    if model.profile:
        attributes["inference_profile"] = model.profile
    if media.images:
        attributes["input_images"] = str(media.images)
    if media.videos:
        attributes["input_video_parts"] = str(media.videos)
    features: dict[str, object] = {
        "tools": bool(data.get("toolConfig") or data.get("tools")),
        "system": bool(data.get("system")),
        "images": media.images,
        "video": media.videos,
        "documents": media.documents,
    }
    cap = max_output_tokens(data)
    if operation.name == "CountTokens":
        cap = 0
    return RequestInfo(
        operation=operation.name,
        model=model.requested,
        stream=operation.stream,
        max_output_tokens=cap,
        input_upper_bound=bound if operation.billable else Usage(),
        billable=operation.billable,
        body=body,
        attributes=attributes,
        features=features,
    )
