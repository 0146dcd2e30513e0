"""Usage of a whole (non-streamed) OpenAI answer."""

from __future__ import annotations

from decimal import Decimal

from llmledger.providers.base import Metered, RequestInfo
from llmledger.providers.json_fields import JSONObject, items, loads_object, obj, text
from llmledger.usage import Usage, UsageType

from .usage import (
    chat_usage,
    embeddings_usage,
    estimate_input,
    estimate_output,
    image_usage,
    responses_usage,
    seconds_usage,
    transcription_usage,
)


def read_response(info: RequestInfo, body: bytes) -> Metered:
    if not info.billable:
        return Metered(Usage(), info.model)
    if info.operation == "audio.speech":
        return Metered(speech_characters(info), info.model)
    answer = loads_object(body)
    if info.operation.startswith("audio."):
        return transcription(info, answer)
    if answer is None:
        # Not JSON although the upstream said 200: bill the input we know of.
        return Metered(estimate_input(info), info.model, estimated=True, complete=False)
    model = text(answer.get("model")) or info.model
    usage = obj(answer.get("usage"))
    if info.operation == "chat.completions":
        if usage:
            return Metered(chat_usage(usage), model)
        chars = sum(_message_chars(obj(c).get("message")) for c in items(answer.get("choices")))
        return _estimated(info, model, chars)
    if info.operation == "responses":
        if usage:
            return Metered(responses_usage(usage), model)
        return _estimated(info, model, output_chars(answer))
    if info.operation == "embeddings":
        if usage:
            return Metered(embeddings_usage(usage), model)
        return _estimated(info, model, 0)
    return Metered(image_usage(answer), model)


def transcription(info: RequestInfo, answer: JSONObject | None) -> Metered:
    """Transcriptions and translations: the reported usage, else the duration of
    verbose_json, else the length measured (or estimated) from the upload."""
    if answer is not None:
        reported = transcription_usage(obj(answer.get("usage")))
        if reported is None:
            reported = seconds_usage(answer.get("duration"))
        if reported is not None:
            return Metered(reported, info.model)
    return measured_seconds(info)


def measured_seconds(info: RequestInfo) -> Metered:
    seconds = seconds_usage(info.attributes.get("audio_seconds"))
    estimated = info.attributes.get("audio_seconds_source") != "wav_header"
    return Metered(seconds or Usage(), info.model, estimated=estimated)


def speech_characters(info: RequestInfo) -> Usage:
    characters = info.input_upper_bound.get_quantity(UsageType.SPEECH_CHARACTERS)
    return Usage({UsageType.SPEECH_CHARACTERS: Decimal(characters)})


def output_chars(response: JSONObject) -> int:
    """Characters of a Responses API answer's output text and arguments."""
    total = 0
    for item in items(response.get("output")):
        entry = obj(item)
        total += len(text(entry.get("arguments")))
        for part in items(entry.get("content")) + items(entry.get("summary")):
            total += len(text(obj(part).get("text"))) + len(text(obj(part).get("refusal")))
    return total


def _message_chars(message: object) -> int:
    entry = obj(message)
    total = len(text(entry.get("content"))) + len(text(entry.get("refusal")))
    for call in items(entry.get("tool_calls")):
        total += len(text(obj(obj(call).get("function")).get("arguments")))
    return total


def _estimated(info: RequestInfo, model: str, chars: int) -> Metered:
    return Metered(estimate_input(info) + estimate_output(chars), model, estimated=True)
