from __future__ import annotations

import io
import json
import wave
from decimal import Decimal

import pytest

from llmledger.providers.base import RequestError, RequestInfo
from llmledger.providers.openai import OpenAIAdapter
from llmledger.usage import UsageType

ADAPTER = OpenAIAdapter()
JSON = {"content-type": "application/json"}


def read(path: str, body: object, method: str = "POST") -> RequestInfo:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return ADAPTER.read_request(method, path, JSON, raw)


def chat(**extra: object) -> dict[str, object]:
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello there"}]} | extra


def test_chat_reads_model_cap_and_a_bound_above_the_text() -> None:
    info = read("chat/completions", chat(max_completion_tokens=100, max_tokens=5, n=2))
    assert (info.operation, info.model, info.stream) == ("chat.completions", "gpt-4o", False)
    assert info.max_output_tokens == 200  # per choice, times n
    assert info.input_upper_bound[UsageType.INPUT_TOKENS] >= len("Hello there")
    assert info.features == {
        "has_tools": False,
        "has_images": False,
        "has_audio": False,
        "json_schema": False,
        "message_count": 1,
        "prompt_chars": len("Hello there"),
    }
    assert read("chat/completions", chat(max_tokens=7)).max_output_tokens == 7
    assert read("chat/completions", chat()).max_output_tokens is None


def test_chat_counts_images_tools_and_json_schema() -> None:
    parts = [
        {"type": "text", "text": "What is in these images?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64," + "A" * 5000}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
    ]
    tool = {"type": "function", "function": {"name": "get_weather", "parameters": {}}}
    schema = {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}}
    info = read(
        "chat/completions",
        chat(messages=[{"role": "user", "content": parts}], tools=[tool], response_format=schema),
    )
    assert info.input_upper_bound[UsageType.INPUT_IMAGES] == 2
    # The image data is not counted as text, but each image has a generous token bound.
    assert info.input_upper_bound[UsageType.INPUT_TOKENS] < 5000 + 2 * 6000 + 200
    assert info.features["has_images"] and info.features["has_tools"]
    assert info.features["json_schema"] is True


def test_streamed_chat_gets_include_usage_injected() -> None:
    info = read("chat/completions", chat(stream=True, stream_options={"foo": 1}))
    assert info.stream and info.strip_usage_chunk
    sent = json.loads(info.body)
    assert sent["stream_options"] == {"foo": 1, "include_usage": True}
    assert sent["messages"] == chat()["messages"]


def test_include_usage_already_asked_is_left_alone() -> None:
    raw = json.dumps(chat(stream=True, stream_options={"include_usage": True})).encode()
    info = ADAPTER.read_request("POST", "/chat/completions", JSON, raw)
    assert not info.strip_usage_chunk and info.body == raw
    explicit_false = read(
        "chat/completions", chat(stream=True, stream_options={"include_usage": False})
    )
    assert explicit_false.strip_usage_chunk
    assert json.loads(explicit_false.body)["stream_options"]["include_usage"] is True


def test_responses_request() -> None:
    info = read(
        "responses",
        {
            "model": "o3",
            "input": "Tell me a story",
            "stream": True,
            "max_output_tokens": 500,
            "instructions": "Be brief",
        },
    )
    assert (info.operation, info.stream, info.max_output_tokens) == ("responses", True, 500)
    assert info.input_upper_bound[UsageType.INPUT_TOKENS] >= len("Tell me a storyBe brief")
    assert not info.strip_usage_chunk and "input_bound" not in info.attributes
    follow_up = read("responses", {"model": "o3", "input": "and?", "previous_response_id": "r"})
    assert follow_up.attributes["input_bound"] == "partial"


def test_embeddings_bound_counts_strings_and_token_ids() -> None:
    info = read("embeddings", {"model": "text-embedding-3-small", "input": ["abc", "défg"]})
    assert info.input_upper_bound[UsageType.INPUT_TOKENS] >= 3 + 5
    ids = read("embeddings", {"model": "text-embedding-3-small", "input": [[1, 2, 3], [4]]})
    assert ids.input_upper_bound[UsageType.INPUT_TOKENS] >= 4


def test_image_generation_attributes() -> None:
    info = read(
        "images/generations",
        {"model": "dall-e-3", "prompt": "an otter", "n": 2, "size": "1024x1792", "quality": "hd"},
    )
    assert info.attributes == {"n": "2", "size": "1024x1792", "quality": "hd"}
    assert info.input_upper_bound[UsageType.IMAGES] == 2
    gpt = read("images/generations", {"model": "gpt-image-1", "prompt": "x"})
    assert gpt.max_output_tokens == 6240


def multipart(
    fields: dict[str, str], files: dict[str, tuple[str, bytes]]
) -> tuple[dict[str, str], bytes]:
    boundary = "----llmledgerBoundary7MA4YWxk"
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    for name, (filename, data) in files.items():
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
            + data
            + b"\r\n"
        )
    out.write(f"--{boundary}--\r\n".encode())
    return {"Content-Type": f"multipart/form-data; boundary={boundary}"}, out.getvalue()


def wav_bytes(seconds: float, rate: int = 16_000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x00" * int(rate * seconds))
    return out.getvalue()


def test_transcription_measures_a_wav_upload() -> None:
    headers, body = multipart(
        {"model": "whisper-1", "response_format": "text"}, {"file": ("speech.wav", wav_bytes(2.5))}
    )
    info = ADAPTER.read_request("POST", "audio/transcriptions", headers, body)
    assert info.operation == "audio.transcriptions" and info.model == "whisper-1"
    assert info.attributes["audio_seconds"] == "2.500"
    assert info.attributes["audio_seconds_source"] == "wav_header"
    assert info.input_upper_bound[UsageType.AUDIO_SECONDS] == Decimal("2.5")


def test_transcription_of_compressed_audio_is_estimated() -> None:
    upload = {"file": ("a.mp3", b"\xff" * 32_000)}
    headers, body = multipart({"model": "gpt-4o-transcribe"}, upload)
    info = ADAPTER.read_request("POST", "audio/translations", headers, body)
    assert info.attributes["audio_seconds_source"] == "estimated"
    assert info.attributes["audio_seconds"] == "2.000"
    assert info.input_upper_bound[UsageType.AUDIO_SECONDS] == Decimal(8)


def test_image_edit_counts_uploaded_images() -> None:
    headers, body = multipart(
        {"model": "gpt-image-1", "prompt": "add a hat", "n": "1"},
        {"image[]": ("a.png", b"\x89PNG" * 10)},
    )
    info = ADAPTER.read_request("POST", "images/edits", headers, body)
    assert info.operation == "images.edits"
    assert info.input_upper_bound[UsageType.INPUT_IMAGES] == 1


def test_speech_counts_characters() -> None:
    info = read("audio/speech", {"model": "tts-1", "input": "Hello world", "voice": "alloy"})
    assert info.input_upper_bound[UsageType.SPEECH_CHARACTERS] == 11
    assert info.stream  # audio bytes are passed on as they come


def test_models_is_not_billable() -> None:
    info = ADAPTER.read_request("GET", "models", {}, b"")
    assert (info.operation, info.billable) == ("models.list", False)
    assert ADAPTER.read_request("GET", "models/gpt-4o", {}, b"").operation == "models.retrieve"


@pytest.mark.parametrize(
    ("path", "body", "needle"),
    [
        ("chat/completions", b"{not json", "JSON"),
        ("chat/completions", b"[1, 2]", "JSON object"),
        ("chat/completions", json.dumps({"messages": []}).encode(), "model"),
        ("chat/completions", json.dumps({"model": "gpt-4o"}).encode(), "messages"),
        ("chat/completions", json.dumps(chat(max_tokens="10")).encode(), "max_tokens"),
        ("chat/completions", json.dumps(chat(stream="yes")).encode(), "stream"),
        ("embeddings", json.dumps({"model": "m"}).encode(), "input"),
        (
            "images/generations",
            json.dumps({"model": "dall-e-3", "n": 0, "prompt": "x"}).encode(),
            "'n'",
        ),
        ("audio/speech", json.dumps({"model": "tts-1"}).encode(), "input"),
        ("audio/transcriptions", b"not multipart", "multipart"),
    ],
)
def test_malformed_requests_are_400_invalid_request_error(
    path: str, body: bytes, needle: str
) -> None:
    with pytest.raises(RequestError) as caught:
        ADAPTER.read_request("POST", path, JSON, body)
    assert caught.value.status == 400
    assert caught.value.error_type == "invalid_request_error"
    assert needle in caught.value.message


def test_unknown_operation_is_404() -> None:
    with pytest.raises(RequestError) as caught:
        ADAPTER.read_request("POST", "batches", JSON, b"{}")
    assert caught.value.status == 404
