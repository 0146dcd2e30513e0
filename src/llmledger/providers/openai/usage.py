"""OpenAI's usage blocks mapped to llmledger usage types (docs/providers/openai.md)."""

from __future__ import annotations

from decimal import Decimal

from llmledger.providers.base import RequestInfo
from llmledger.providers.json_fields import JSONObject, integer, items, obj
from llmledger.usage import Usage, UsageType

#: Characters per token used where OpenAI reported no usage (cut-off streams).
CHARS_PER_TOKEN = 4


def chat_usage(usage: JSONObject) -> Usage:
    """``usage`` of chat/completions (whole or the last stream chunk)."""
    prompt = obj(usage.get("prompt_tokens_details"))
    completion = obj(usage.get("completion_tokens_details"))
    cached = integer(prompt.get("cached_tokens"))
    audio_in = integer(prompt.get("audio_tokens"))
    reasoning = integer(completion.get("reasoning_tokens"))
    audio_out = integer(completion.get("audio_tokens"))
    return Usage(
        {
            UsageType.INPUT_TOKENS: _rest(usage.get("prompt_tokens"), cached, audio_in),
            UsageType.CACHED_INPUT_TOKENS: Decimal(cached),
            UsageType.INPUT_AUDIO_TOKENS: Decimal(audio_in),
            UsageType.OUTPUT_TOKENS: _rest(usage.get("completion_tokens"), reasoning, audio_out),
            UsageType.REASONING_TOKENS: Decimal(reasoning),
            UsageType.OUTPUT_AUDIO_TOKENS: Decimal(audio_out),
        }
    )


def responses_usage(usage: JSONObject) -> Usage:
    """``response.usage`` of the Responses API."""
    cached = integer(obj(usage.get("input_tokens_details")).get("cached_tokens"))
    reasoning = integer(obj(usage.get("output_tokens_details")).get("reasoning_tokens"))
    return Usage(
        {
            UsageType.INPUT_TOKENS: _rest(usage.get("input_tokens"), cached),
            UsageType.CACHED_INPUT_TOKENS: Decimal(cached),
            UsageType.OUTPUT_TOKENS: _rest(usage.get("output_tokens"), reasoning),
            UsageType.REASONING_TOKENS: Decimal(reasoning),
        }
    )


def embeddings_usage(usage: JSONObject) -> Usage:
    return Usage({UsageType.INPUT_TOKENS: Decimal(integer(usage.get("prompt_tokens")))})


def image_usage(body: JSONObject) -> Usage:
    """images/generations and images/edits: one ``images`` per image returned, plus
    gpt-image's token usage (text and image input tokens, image output tokens)."""
    images = Decimal(len(items(body.get("data"))))
    usage = obj(body.get("usage"))
    details = obj(usage.get("input_tokens_details"))
    text_in = integer(details.get("text_tokens"))
    image_in = integer(details.get("image_tokens"))
    if not details:
        text_in = integer(usage.get("input_tokens"))
    return Usage(
        {
            UsageType.IMAGES: images,
            UsageType.INPUT_TOKENS: Decimal(text_in),
            UsageType.INPUT_IMAGE_TOKENS: Decimal(image_in),
            UsageType.OUTPUT_TOKENS: Decimal(integer(usage.get("output_tokens"))),
        }
    )


def transcription_usage(usage: JSONObject) -> Usage | None:
    """The ``usage`` of audio/transcriptions: tokens (gpt-4o-transcribe) or duration
    (whisper-1); None when it has neither."""
    kind = usage.get("type")
    if kind == "duration" or (kind is None and "seconds" in usage):
        return seconds_usage(usage.get("seconds"))
    if kind == "tokens" or "input_tokens" in usage:
        details = obj(usage.get("input_token_details"))
        audio = integer(details.get("audio_tokens"))
        text_in = integer(details.get("text_tokens")) if details else 0
        if not details:
            audio = integer(usage.get("input_tokens"))
        return Usage(
            {
                UsageType.INPUT_AUDIO_TOKENS: Decimal(audio),
                UsageType.INPUT_TOKENS: Decimal(text_in),
                UsageType.OUTPUT_TOKENS: Decimal(integer(usage.get("output_tokens"))),
            }
        )
    return None


def seconds_usage(seconds: object) -> Usage | None:
    """``audio_seconds`` from a number of seconds, kept to the millisecond."""
    if isinstance(seconds, bool) or not isinstance(seconds, int | float | str):
        return None
    try:
        value = Decimal(str(seconds)).quantize(Decimal("0.001"))
    except ArithmeticError:
        return None
    if not value.is_finite() or value < 0:
        return None
    return Usage({UsageType.AUDIO_SECONDS: value})


def estimate_input(info: RequestInfo) -> Usage:
    """Input of a call whose usage never came: the prompt's characters / 4, plus the
    images to generate and characters to speak (exact counts known from the request)."""
    chars = info.features.get("prompt_chars")
    tokens = -(-chars // CHARS_PER_TOKEN) if isinstance(chars, int) else 0
    bound = info.input_upper_bound
    exact = (UsageType.SPEECH_CHARACTERS, UsageType.IMAGES)
    return Usage(
        {UsageType.INPUT_TOKENS: Decimal(tokens)} | {t: bound.get_quantity(t) for t in exact}
    )


def estimate_output(chars: int) -> Usage:
    return Usage({UsageType.OUTPUT_TOKENS: Decimal(-(-chars // CHARS_PER_TOKEN))})


def _rest(total: object, *parts: int) -> Decimal:
    return Decimal(max(integer(total) - sum(parts), 0))
