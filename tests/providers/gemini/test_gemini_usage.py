"""Gemini usageMetadata to usage types, on recorded answers."""

from __future__ import annotations

import base64
import json

from tests.fakes.gemini_fake import load_recording

from llmledger.providers.base import RequestInfo
from llmledger.providers.gemini import GeminiAdapter
from llmledger.usage import Usage, UsageType

ADAPTER = GeminiAdapter()
PATH = "/gemini/v1beta/models/gemini-2.5-flash:generateContent"


def info_for(body: dict[str, object], path: str = PATH) -> RequestInfo:
    return ADAPTER.read_request("POST", path, {}, json.dumps(body).encode())


def text_request() -> RequestInfo:
    return info_for({"contents": [{"role": "user", "parts": [{"text": "Why is the sky blue?"}]}]})


def read(recording: str, info: RequestInfo | None = None) -> tuple[Usage, dict[str, str], str]:
    body = json.dumps(load_recording(recording)).encode()
    metered = ADAPTER.read_response(info or text_request(), 200, {}, body)
    assert not metered.estimated and metered.complete
    return metered.usage, metered.attributes, metered.model_used


def test_text() -> None:
    usage, attributes, model = read("generate_content_text")
    assert usage == Usage.of(input_tokens=8, output_tokens=13)
    assert model == "gemini-2.5-flash"
    assert attributes["prompt_tokens"] == "8"


def test_thoughts_are_reasoning_tokens() -> None:
    usage, _, model = read("generate_content_thinking")
    assert usage == Usage.of(input_tokens=11, output_tokens=16, reasoning_tokens=411)
    assert model == "gemini-2.5-pro"


def test_cached_tokens_are_split_from_input() -> None:
    usage, _, _ = read("generate_content_cached")
    assert usage == Usage.of(input_tokens=552, cached_input_tokens=12288, output_tokens=15)


def test_long_context_is_flagged() -> None:
    usage, attributes, _ = read("generate_content_long_context")
    assert usage == Usage.of(input_tokens=250113, output_tokens=12, reasoning_tokens=612)
    assert attributes["long_context"] == "true"
    assert attributes["prompt_tokens"] == "250113"


def test_generated_images_are_counted_with_their_tokens() -> None:
    usage, attributes, model = read("generate_content_image_output")
    assert usage == Usage.of(input_tokens=9, output_tokens=10, images=1)
    assert attributes["output_image_tokens"] == "1290"
    assert model == "gemini-2.5-flash-image"


def test_audio_output_tokens() -> None:
    usage, _, _ = read("generate_content_audio_out")
    assert usage == Usage.of(input_tokens=10, output_audio_tokens=96)


def test_mixed_multimodal_request_is_attributed_per_modality() -> None:
    image = base64.b64encode(b"\x89PNG" + bytes(300)).decode()
    audio = base64.b64encode(bytes(20_000)).decode()
    video = base64.b64encode(bytes(200_000)).decode()
    info = info_for(
        {
            "contents": [
                {
                    "role": "user",
                    "parts": [
                        {"text": "Describe these."},
                        {"inlineData": {"mimeType": "image/png", "data": image}},
                        {"inlineData": {"mimeType": "audio/wav", "data": audio}},
                        {"inline_data": {"mime_type": "video/mp4", "data": video}},
                    ],
                }
            ]
        }
    )
    assert info.attributes["input_images"] == "1"
    assert info.attributes["input_audio_parts"] == "1"
    assert info.attributes["input_video_parts"] == "1"
    assert info.features["images"] == 1 and info.features["video"] == 1
    usage, attributes, _ = read("generate_content_multimodal", info)
    assert usage == Usage(
        {
            **Usage.of(
                input_tokens=12,
                input_image_tokens=258,
                input_audio_tokens=640,
                input_video_tokens=4184,
                output_tokens=22,
                input_images=1,
            ),
            **Usage.parse({"audio_seconds": "20", "video_seconds": "15.909"}),
        }
    )
    assert attributes["audio_seconds_source"] == "audio tokens/32"
    assert attributes["video_seconds_source"] == "video tokens/263"


def test_upper_bound_covers_the_recorded_usage() -> None:
    image = base64.b64encode(bytes(3000)).decode()
    info = info_for(
        {
            "contents": [
                {
                    "parts": [
                        {"text": "What is this?"},
                        {"inlineData": {"mimeType": "image/jpeg", "data": image}},
                    ]
                }
            ],
            "generationConfig": {"maxOutputTokens": 256},
        }
    )
    assert info.max_output_tokens == 256
    bound = info.input_upper_bound
    assert bound.get_quantity(UsageType.INPUT_IMAGE_TOKENS) >= 258
    assert bound.get_quantity(UsageType.INPUT_TOKENS) >= 4
    assert bound.get_quantity(UsageType.INPUT_TOKENS) < 3000  # image bytes are not text


def test_embeddings_are_estimated_from_text() -> None:
    info = info_for(
        {"content": {"parts": [{"text": "x" * 400}]}},
        "/gemini/v1beta/models/gemini-embedding-001:embedContent",
    )
    body = json.dumps(load_recording("embed_content")).encode()
    metered = ADAPTER.read_response(info, 200, {}, body)
    assert metered.estimated
    assert metered.usage == Usage.of(input_tokens=100)


def test_count_tokens_is_not_billable() -> None:
    info = info_for(
        {"contents": [{"parts": [{"text": "hi"}]}]},
        "/gemini/v1/models/gemini-2.5-flash:countTokens",
    )
    assert not info.billable
    assert info.operation == "countTokens"
