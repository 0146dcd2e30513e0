"""Reading a Gemini request: operation, model, stream, output cap, input upper bound."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from llmledger.providers.base import RequestError, RequestInfo
from llmledger.providers.gemini.parts import IMAGE_TOKEN_BOUND, field, take_inventory
from llmledger.providers.gemini.paths import (
    EMBED_METHODS,
    FREE_METHODS,
    GENERATE_METHODS,
    parse_path,
)
from llmledger.usage import Usage, UsageType


def _load_body(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        message = f"Invalid JSON payload received. {exc}"
        raise RequestError(400, "invalid_request", message) from None
    if not isinstance(data, dict):
        raise RequestError(400, "invalid_request", "Invalid JSON payload: expected an object.")
    return data


def _max_output_tokens(body: Mapping[str, Any]) -> int | None:
    config = field(body, "generationConfig")
    if not isinstance(config, Mapping):
        return None
    value = field(config, "maxOutputTokens")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RequestError(
            400, "invalid_request", "generationConfig.maxOutputTokens must be a whole number."
        )
    return value


def _features(body: Mapping[str, Any]) -> dict[str, object]:
    config = field(body, "generationConfig")
    config = config if isinstance(config, Mapping) else {}
    thinking = field(config, "thinkingConfig")
    features: dict[str, object] = {
        "tools": bool(body.get("tools")),
        "system": field(body, "systemInstruction") is not None,
        "json_schema": field(config, "responseSchema") is not None
        or field(config, "responseJsonSchema") is not None,
        "cached_content": field(body, "cachedContent") is not None,
    }
    modalities = field(config, "responseModalities")
    if isinstance(modalities, list):
        features["response_modalities"] = [str(m).upper() for m in modalities]
    if isinstance(thinking, Mapping):
        budget = field(thinking, "thinkingBudget")
        if isinstance(budget, int):
            features["thinking_budget"] = budget
    return features


def read_request(method: str, path: str, body: bytes) -> RequestInfo:
    target = parse_path(path)
    data = _load_body(body) if method.upper() == "POST" else {}
    inventory = take_inventory(data)
    # Text (and every other non-media byte of the body) is bounded by its UTF-8 length:
    # no tokenizer spends less than a byte per token.
    text_bound = max(len(body) - inventory.media_base64_bytes, 0)
    bound = Usage(
        {
            UsageType.INPUT_TOKENS: Decimal(text_bound),
            UsageType.INPUT_IMAGE_TOKENS: Decimal(inventory.images * IMAGE_TOKEN_BOUND),
            UsageType.INPUT_AUDIO_TOKENS: Decimal(inventory.audio_token_bound),
            UsageType.INPUT_VIDEO_TOKENS: Decimal(inventory.video_token_bound),
        }
    )
    attributes: dict[str, str] = {}
    for name, count in (
        ("input_images", inventory.images),
        ("input_audio_parts", inventory.audio),
        ("input_video_parts", inventory.video),
        ("input_document_parts", inventory.documents),
        ("input_file_parts", inventory.files),
    ):
        if count:
            attributes[name] = str(count)
    if inventory.files:
        attributes["input_bound"] = "excludes fileData parts"
    if target.method in EMBED_METHODS:
        # embedContent answers carry no usage: the input is estimated from its text.
        attributes["estimated_input_tokens"] = str(-(-inventory.text_chars // 4))
    features = _features(data)
    features.update(images=inventory.images, audio=inventory.audio, video=inventory.video)
    billable = target.method in GENERATE_METHODS or target.method in EMBED_METHODS
    return RequestInfo(
        operation=target.operation,
        model=target.model,
        stream=GENERATE_METHODS.get(target.method, False),
        max_output_tokens=_max_output_tokens(data) if target.method in GENERATE_METHODS else 0,
        input_upper_bound=bound if billable else Usage(),
        billable=billable and target.method not in FREE_METHODS,
        body=body,
        attributes=attributes,
        features=features,
    )
