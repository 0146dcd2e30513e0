"""Reading an OpenAI request: which operation, which model, and a bound on its cost."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

import orjson

from llmledger.providers.base import RequestError, RequestInfo
from llmledger.providers.json_fields import JSONObject, items, loads_object, obj
from llmledger.usage import Usage, UsageType

from . import media
from .content import Tally
from .errors import invalid

#: Operation names, by method and path below ``/v1/``.
JSON_OPERATIONS = {
    "chat/completions": "chat.completions",
    "responses": "responses",
    "embeddings": "embeddings",
    "images/generations": "images.generations",
    "audio/speech": "audio.speech",
}
FORM_OPERATIONS = {
    "images/edits": "images.edits",
    "audio/transcriptions": "audio.transcriptions",
    "audio/translations": "audio.translations",
}


def read_request(method: str, path: str, headers: Mapping[str, str], body: bytes) -> RequestInfo:
    route = path.strip("/").removeprefix("v1/")
    if method.upper() == "GET" and (route == "models" or route.startswith("models/")):
        operation = "models.list" if route == "models" else "models.retrieve"
        return RequestInfo(operation, "", False, None, Usage(), billable=False, body=body)
    if method.upper() != "POST" or not (route in JSON_OPERATIONS or route in FORM_OPERATIONS):
        raise RequestError(
            404,
            "invalid_request_error",
            f"llmledger does not meter {method.upper()} /v1/{route}; supported: "
            "chat/completions, responses, embeddings, images/generations, images/edits, "
            "audio/transcriptions, audio/translations, audio/speech, models.",
        )
    if route in FORM_OPERATIONS:
        return media.read_form_request(FORM_OPERATIONS[route], headers, body)
    request = loads_object(body)
    if request is None:
        raise invalid("We could not parse the JSON body of your request: expected a JSON object.")
    operation = JSON_OPERATIONS[route]
    model = request.get("model")
    if not isinstance(model, str) or not model:
        raise invalid("You must provide a model parameter (a non-empty string).")
    stream = request.get("stream", False)
    if stream is not None and not isinstance(stream, bool):
        raise invalid("Invalid type for 'stream': expected a boolean.")
    if operation == "chat.completions":
        return _chat(request, model, bool(stream), body)
    if operation == "responses":
        return _responses(request, model, bool(stream), body)
    if operation == "embeddings":
        return _embeddings(request, model, body)
    if operation == "images.generations":
        return media.image_generation(request, model, body)
    return media.speech(request, model, body)


def _chat(request: JSONObject, model: str, stream: bool, body: bytes) -> RequestInfo:
    messages = request.get("messages")
    if not isinstance(messages, list) or not messages:
        raise invalid("'messages' must be a non-empty array of message objects.")
    if not all(isinstance(m, dict) for m in messages):
        raise invalid("Each item of 'messages' must be an object.")
    choices = _whole(request, "n") or 1
    cap = _whole(request, "max_completion_tokens")
    if cap is None:
        cap = _whole(request, "max_tokens")
    prompt = Tally().add(messages)
    extra = Tally().add([request.get(k) for k in ("tools", "functions", "response_format")])
    has_audio = prompt.audio_tokens > 0 or "audio" in items(request.get("modalities"))
    info = RequestInfo(
        operation="chat.completions",
        model=model,
        stream=stream,
        max_output_tokens=cap * choices if cap is not None else None,
        input_upper_bound=_bound(prompt, extra, len(messages)),
        body=body,
        features=_features(request, prompt, len(messages)) | {"has_audio": has_audio},
    )
    if prompt.partial:
        info.attributes["input_bound"] = "partial"
    if stream:
        options = request.get("stream_options")
        if not isinstance(options, dict | None):
            raise invalid("Invalid type for 'stream_options': expected an object.")
        if (options or {}).get("include_usage") is not True:
            request["stream_options"] = dict(options or {}) | {"include_usage": True}
            info.body = orjson.dumps(request)
            info.strip_usage_chunk = True
    return info


def _responses(request: JSONObject, model: str, stream: bool, body: bytes) -> RequestInfo:
    source = request.get("input")
    if source is not None and not isinstance(source, str | list):
        raise invalid("Invalid type for 'input': expected a string or an array of items.")
    entries = len(source) if isinstance(source, list) else 1
    prompt = Tally().add([source, request.get("instructions")])
    text = obj(request.get("text"))
    extra = Tally().add([request.get("tools"), text.get("format")])
    info = RequestInfo(
        operation="responses",
        model=model,
        stream=stream,
        max_output_tokens=_whole(request, "max_output_tokens"),
        input_upper_bound=_bound(prompt, extra, entries),
        body=body,
        features=_features(request, prompt, entries)
        | {"has_audio": prompt.audio_tokens > 0, "json_schema": _json_schema(text.get("format"))},
    )
    stored = any(request.get(k) for k in ("previous_response_id", "conversation", "prompt"))
    if prompt.partial or stored:
        info.attributes["input_bound"] = "partial"
    return info


def _embeddings(request: JSONObject, model: str, body: bytes) -> RequestInfo:
    source = request.get("input")
    if not isinstance(source, str | list) or source in ("", []):
        raise invalid("'input' must be a non-empty string or array.")
    # Token ids count one token each; strings count their UTF-8 bytes.
    ids = sum(
        len(x) if isinstance(x, list) else 1
        for x in items(source)
        if isinstance(x, int | list) and not isinstance(x, bool)
    )
    prompt = Tally().add(source)
    bound = prompt.text_bytes + ids + 1
    return RequestInfo(
        operation="embeddings",
        model=model,
        stream=False,
        max_output_tokens=0,
        input_upper_bound=Usage({UsageType.INPUT_TOKENS: Decimal(bound)}),
        body=body,
        features={"prompt_chars": prompt.chars + ids * 4, "message_count": 0},
    )


def _bound(prompt: Tally, extra: Tally, messages: int) -> Usage:
    return Usage(
        {
            UsageType.INPUT_TOKENS: Decimal(prompt.token_bound(messages) + extra.text_bytes),
            UsageType.INPUT_IMAGES: Decimal(prompt.images),
            UsageType.INPUT_AUDIO_TOKENS: Decimal(prompt.audio_tokens),
        }
    )


def _features(request: JSONObject, prompt: Tally, messages: int) -> dict[str, object]:
    tools = items(request.get("tools")) or items(request.get("functions"))
    return {
        "has_tools": bool(tools),
        "has_images": prompt.images > 0,
        "json_schema": _json_schema(request.get("response_format")),
        "message_count": messages,
        "prompt_chars": prompt.chars,
    }


def _json_schema(response_format: object) -> bool:
    return obj(response_format).get("type") == "json_schema"


def _whole(request: JSONObject, key: str) -> int | None:
    value = request.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid(f"Invalid value for '{key}': expected a non-negative integer.")
    return value
