"""OpenAI usage blocks to usage types, on recorded answers (whole, not streamed)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from tests.fakes.upstream import recording

from llmledger.providers.base import RequestInfo
from llmledger.providers.openai import OpenAIAdapter
from llmledger.usage import Usage

ADAPTER = OpenAIAdapter()


def info(operation: str, model: str = "m", **attributes: str) -> RequestInfo:
    return RequestInfo(
        operation,
        model,
        False,
        None,
        Usage.of(input_tokens=100),
        attributes=dict(attributes),
        features={"prompt_chars": 40},
    )


@pytest.mark.parametrize(
    ("operation", "name", "model", "usage"),
    [
        (
            "chat.completions",
            "chat_completion",
            "gpt-4.1-2025-04-14",
            Usage.of(input_tokens=19, output_tokens=10),
        ),
        (
            "chat.completions",
            "chat_completion_reasoning_cached",
            "o4-mini-2025-04-16",
            Usage.of(
                input_tokens=86, cached_input_tokens=1920, output_tokens=44, reasoning_tokens=256
            ),
        ),
        (
            "chat.completions",
            "chat_completion_audio",
            "gpt-4o-audio-preview-2024-12-17",
            Usage.of(
                input_tokens=24, input_audio_tokens=96, output_tokens=15, output_audio_tokens=60
            ),
        ),
        (
            "responses",
            "responses",
            "gpt-4o-2024-08-06",
            Usage.of(input_tokens=36, output_tokens=87),
        ),
        (
            "responses",
            "responses_reasoning",
            "o3-2025-04-16",
            Usage.of(
                input_tokens=176, cached_input_tokens=1024, output_tokens=68, reasoning_tokens=832
            ),
        ),
        ("embeddings", "embeddings", "text-embedding-3-small", Usage.of(input_tokens=8)),
        ("images.generations", "images_dalle3", "m", Usage.of(images=1)),
        (
            "images.edits",
            "images_gpt_image",
            "m",
            Usage.of(images=2, input_tokens=40, input_image_tokens=10, output_tokens=8320),
        ),
        (
            "audio.transcriptions",
            "transcription_tokens",
            "m",
            Usage.of(input_audio_tokens=14, output_tokens=45),
        ),
        ("audio.transcriptions", "transcription_duration", "m", Usage.of(audio_seconds=9)),
        (
            "audio.translations",
            "transcription_verbose",
            "m",
            Usage.of(audio_seconds=Decimal("8.470")),
        ),
    ],
)
def test_recorded_usage(operation: str, name: str, model: str, usage: Usage) -> None:
    metered = ADAPTER.read_response(info(operation), 200, {}, recording("openai", name))
    assert metered.usage == usage
    assert metered.model_used == model
    assert not metered.estimated and metered.complete


def test_transcription_without_usage_uses_the_measured_length() -> None:
    request = info("audio.transcriptions", audio_seconds="2.500", audio_seconds_source="wav_header")
    plain = ADAPTER.read_response(request, 200, {}, recording("openai", "transcription_plain"))
    assert plain.usage == Usage.of(audio_seconds=Decimal("2.5")) and not plain.estimated
    text = ADAPTER.read_response(request, 200, {"content-type": "text/plain"}, b"Hello.\n")
    assert text.usage == plain.usage


def test_transcription_of_an_unmeasurable_file_is_flagged_estimated() -> None:
    request = info("audio.transcriptions", audio_seconds="3.000", audio_seconds_source="estimated")
    metered = ADAPTER.read_response(request, 200, {}, b"1\n00:00:00,000 --> 00:00:02,000\nHi\n")
    assert metered.usage == Usage.of(audio_seconds=3) and metered.estimated


def test_speech_is_billed_by_characters() -> None:
    request = RequestInfo("audio.speech", "tts-1", True, None, Usage.of(speech_characters=11))
    assert ADAPTER.read_response(request, 200, {}, b"ID3...").usage == Usage.of(
        speech_characters=11
    )


def test_models_list_costs_nothing() -> None:
    request = RequestInfo("models.list", "", False, None, Usage(), billable=False)
    assert ADAPTER.read_response(request, 200, {}, recording("openai", "models")).usage == Usage()


def test_a_chat_answer_without_usage_is_estimated_from_its_text() -> None:
    body = json.loads(recording("openai", "chat_completion"))
    del body["usage"]
    metered = ADAPTER.read_response(info("chat.completions"), 200, {}, json.dumps(body).encode())
    # 40 prompt characters / 4; "Hello! How can I assist you today?" is 34 characters.
    assert metered.usage == Usage.of(input_tokens=10, output_tokens=9)
    assert metered.estimated


def test_a_malformed_answer_bills_the_estimated_input() -> None:
    metered = ADAPTER.read_response(info("chat.completions"), 200, {}, b'{"id": "chatcmpl-')
    assert metered.usage == Usage.of(input_tokens=10)
    assert metered.estimated and not metered.complete
