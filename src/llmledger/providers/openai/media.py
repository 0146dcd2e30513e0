"""Reading image and audio requests (JSON and multipart)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from llmledger.providers.base import RequestInfo
from llmledger.providers.json_fields import JSONObject, text
from llmledger.usage import Usage, UsageType

from .audio import audio_length
from .content import IMAGE_TOKEN_BOUND, PER_REQUEST_TOKENS
from .errors import invalid
from .form import FormPart, fields_of, read_form

#: Most output tokens one gpt-image image is billed as (high quality, 1024x1536).
GPT_IMAGE_OUTPUT_TOKEN_BOUND = 6_240
#: Audio tokens per second of audio, at most, for token-priced transcription models.
AUDIO_TOKENS_PER_SECOND_BOUND = 25
_DEFAULT_IMAGE_MODEL = "dall-e-2"


def image_generation(request: JSONObject, model: str, body: bytes) -> RequestInfo:
    if request.get("stream") is True:
        raise invalid(
            "Streamed image generation is not metered by llmledger yet; set 'stream' to false."
        )
    prompt = text(request.get("prompt"))
    if not prompt:
        raise invalid("'prompt' must be a non-empty string.")
    return _image_info("images.generations", model, request, prompt, 0, body)


def speech(request: JSONObject, model: str, body: bytes) -> RequestInfo:
    spoken = request.get("input")
    if not isinstance(spoken, str) or not spoken:
        raise invalid("'input' must be a non-empty string (the text to speak).")
    instructions = text(request.get("instructions"))
    characters = Decimal(len(spoken))
    size = len(spoken.encode()) + len(instructions.encode()) + PER_REQUEST_TOKENS
    return RequestInfo(
        operation="audio.speech",
        model=model,
        # The answer is audio bytes (or SSE with stream_format=sse): passed on as a stream.
        stream=True,
        max_output_tokens=None,
        input_upper_bound=Usage(
            {UsageType.SPEECH_CHARACTERS: characters, UsageType.INPUT_TOKENS: Decimal(size)}
        ),
        body=body,
        attributes={"stream_format": text(request.get("stream_format")) or "audio"},
        features={"prompt_chars": len(spoken) + len(instructions), "message_count": 0},
    )


def read_form_request(operation: str, headers: Mapping[str, str], body: bytes) -> RequestInfo:
    parts = read_form(headers, body)
    fields = fields_of(parts)
    model = fields.get("model", "")
    if operation == "images.edits":
        images = [p for p in parts if p.name in ("image", "image[]") and p.filename is not None]
        if not images:
            raise invalid("'image' must be uploaded as a file.")
        prompt = fields.get("prompt", "")
        if not prompt:
            raise invalid("'prompt' must be a non-empty string.")
        return _image_info(
            operation, model or _DEFAULT_IMAGE_MODEL, fields, prompt, len(images), body
        )
    if not model:
        raise invalid("You must provide a model parameter (a form field).")
    return _audio_info(operation, model, fields, _file(parts), body)


def _image_info(
    operation: str,
    model: str,
    request: Mapping[str, object],
    prompt: str,
    inputs: int,
    body: bytes,
) -> RequestInfo:
    count = _count(request.get("n"))
    token_priced = model.startswith("gpt-image")
    bound = {
        UsageType.IMAGES: Decimal(count),
        UsageType.INPUT_TOKENS: Decimal(len(prompt.encode()) + PER_REQUEST_TOKENS),
        UsageType.INPUT_IMAGES: Decimal(inputs),
    }
    if token_priced:
        bound[UsageType.INPUT_IMAGE_TOKENS] = Decimal(inputs * IMAGE_TOKEN_BOUND)
    attributes = {"n": str(count)}
    for key in ("size", "quality", "background", "output_format", "input_fidelity"):
        value = request.get(key)
        if isinstance(value, str) and value:
            attributes[key] = value
    return RequestInfo(
        operation=operation,
        model=model,
        stream=False,
        max_output_tokens=count * GPT_IMAGE_OUTPUT_TOKEN_BOUND if token_priced else None,
        input_upper_bound=Usage(bound),
        body=body,
        attributes=attributes,
        features={"has_images": inputs > 0, "prompt_chars": len(prompt), "message_count": 0},
    )


def _audio_info(
    operation: str, model: str, fields: dict[str, str], upload: FormPart, body: bytes
) -> RequestInfo:
    length = audio_length(upload.data)
    prompt = fields.get("prompt", "")
    return RequestInfo(
        operation=operation,
        model=model,
        stream=fields.get("stream", "").lower() == "true",
        max_output_tokens=None,
        input_upper_bound=Usage(
            {
                UsageType.AUDIO_SECONDS: length.bound,
                UsageType.INPUT_AUDIO_TOKENS: Decimal(
                    int(length.bound * AUDIO_TOKENS_PER_SECOND_BOUND) + 1
                ),
                UsageType.INPUT_TOKENS: Decimal(len(prompt.encode()) + PER_REQUEST_TOKENS),
            }
        ),
        body=body,
        attributes={
            "audio_seconds": format(length.seconds, "f"),
            "audio_seconds_source": length.source,
            "response_format": fields.get("response_format", "json"),
        },
        features={"has_audio": True, "prompt_chars": len(prompt), "message_count": 0},
    )


def _file(parts: list[FormPart]) -> FormPart:
    for part in parts:
        if part.name == "file" and part.filename is not None:
            return part
    raise invalid("'file' must be uploaded as a file (the audio to transcribe).")


def _count(value: object) -> int:
    if value is None or value == "":
        return 1
    try:
        count = int(str(value))
    except ValueError:
        raise invalid("Invalid value for 'n': expected an integer from 1 to 10.") from None
    if not 1 <= count <= 10:
        raise invalid("Invalid value for 'n': expected an integer from 1 to 10.")
    return count
