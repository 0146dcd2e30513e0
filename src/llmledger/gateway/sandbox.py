"""A sandbox upstream: answers like OpenAI and Anthropic, offline, with canned text.

Used by ``llmledger demo`` (so a real SDK can call the gateway without a provider key)
and by load tests. It speaks the providers' wire formats (JSON bodies, SSE framing,
headers) and reports usage derived from the request's length, so every call is
metered like a real one. Point the gateway's upstreams at it:
``[providers.openai] base_url = "http://HOST:PORT/v1"`` and
``[providers.anthropic] base_url = "http://HOST:PORT"``.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections.abc import Iterator

import orjson
from aiohttp import web

REPLY = (
    "This is the llmledger sandbox answering offline. Every token of this reply "
    "was metered, priced and attributed by the gateway."
)
EMBEDDING_DIMENSIONS = 8
CHARS_PER_TOKEN = 4
_LATENCY = web.AppKey("latency", float)


def sandbox_app(latency: float = 0.0) -> web.Application:
    """The sandbox as an aiohttp application; `latency` seconds before each answer."""
    app = web.Application()
    app[_LATENCY] = latency
    app.router.add_post("/v1/chat/completions", _chat)
    app.router.add_post("/v1/responses", _responses)
    app.router.add_post("/v1/embeddings", _embeddings)
    app.router.add_get("/v1/models", _models)
    app.router.add_post("/v1/messages", _messages)
    return app


# -- shared helpers ----------------------------------------------------------------------


def _tokens(value: object) -> int:
    """A token count for any JSON value: about four characters of its text a token."""
    size = len(orjson.dumps(value)) if not isinstance(value, str) else len(value)
    return max(1, -(-size // CHARS_PER_TOKEN))


def _words(text: str) -> Iterator[str]:
    first = True
    for word in text.split(" "):
        yield word if first else " " + word
        first = False


async def _body(request: web.Request) -> dict[str, object] | None:
    try:
        value = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


async def _wait(request: web.Request) -> None:
    latency = request.app[_LATENCY]
    if latency > 0:
        await asyncio.sleep(latency)


def _openai_headers() -> dict[str, str]:
    return {
        "x-request-id": f"req_{uuid.uuid4().hex}",
        "openai-processing-ms": "12",
        "openai-version": "2020-10-01",
        "x-ratelimit-limit-requests": "10000",
        "x-ratelimit-remaining-requests": "9999",
        "x-ratelimit-reset-requests": "6ms",
        "x-ratelimit-limit-tokens": "30000000",
        "x-ratelimit-remaining-tokens": "29999000",
        "x-ratelimit-reset-tokens": "2ms",
    }


def _openai_error(status: int, kind: str, message: str) -> web.Response:
    body = {"error": {"message": message, "type": kind, "param": None, "code": None}}
    return web.json_response(body, status=status, dumps=_dumps, headers=_openai_headers())


def _dumps(value: object) -> str:
    return orjson.dumps(value).decode()


async def _openai_request(request: web.Request) -> dict[str, object] | web.Response:
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Bearer ") or not auth[7:].strip():
        return _openai_error(401, "invalid_request_error", "You didn't provide an API key.")
    body = await _body(request)
    if body is None:
        return _openai_error(400, "invalid_request_error", "We could not parse the JSON body.")
    if not isinstance(body.get("model"), str):
        return _openai_error(400, "invalid_request_error", "you must provide a model parameter")
    await _wait(request)
    return body


async def _sse(request: web.Request, headers: dict[str, str]) -> web.StreamResponse:
    response = web.StreamResponse(
        headers=headers
        | {"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    return response


# -- OpenAI ----------------------------------------------------------------------------


async def _chat(request: web.Request) -> web.StreamResponse:
    body = await _openai_request(request)
    if isinstance(body, web.StreamResponse):
        return body
    model = str(body["model"])
    prompt = _tokens(body.get("messages"))
    completion = _tokens(REPLY)
    usage = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
    base = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_sandbox",
    }
    if body.get("stream") is not True:
        message: dict[str, object] = {
            "role": "assistant",
            "content": REPLY,
            "refusal": None,
            "annotations": [],
        }
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}
        answer = {
            "object": "chat.completion",
            **base,
            "choices": [choice],
            "usage": usage,
            "service_tier": "default",
        }
        return web.json_response(answer, dumps=_dumps, headers=_openai_headers())
    options = body.get("stream_options")
    with_usage = isinstance(options, dict) and options.get("include_usage") is True
    chunk = {"object": "chat.completion.chunk", **base}
    extra: dict[str, object] = {"usage": None} if with_usage else {}
    response = await _sse(request, _openai_headers())

    async def send(choices: list[object], **more: object) -> None:
        data = orjson.dumps(chunk | {"choices": choices} | extra | more)
        await response.write(b"data: " + data + b"\n\n")

    delta: dict[str, object] = {"role": "assistant", "content": "", "refusal": None}
    await send([{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}])
    for word in _words(REPLY):
        piece = {"index": 0, "delta": {"content": word}, "logprobs": None, "finish_reason": None}
        await send([piece])
    await send([{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}])
    if with_usage:
        await send([], usage=usage)
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


def _response_object(
    body: dict[str, object], status: str, text: str, usage: object
) -> dict[str, object]:
    output = [_output_message(text)] if text else []
    return {
        "id": "resp_sandbox",
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": body["model"],
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": usage,
        "metadata": {},
    }


def _output_message(text: str) -> dict[str, object]:
    part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    return {
        "id": "msg_sandbox",
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [part],
    }


async def _responses(request: web.Request) -> web.StreamResponse:
    body = await _openai_request(request)
    if isinstance(body, web.StreamResponse):
        return body
    prompt = _tokens([body.get("input"), body.get("instructions")])
    completion = _tokens(REPLY)
    usage = {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": prompt + completion,
    }
    if body.get("stream") is not True:
        answer = _response_object(body, "completed", REPLY, usage)
        return web.json_response(answer, dumps=_dumps, headers=_openai_headers())
    response = await _sse(request, _openai_headers())
    sequence = 0

    async def send(kind: str, **data: object) -> None:
        nonlocal sequence
        payload = orjson.dumps({"type": kind, "sequence_number": sequence, **data})
        sequence += 1
        await response.write(b"event: " + kind.encode() + b"\ndata: " + payload + b"\n\n")

    started = _response_object(body, "in_progress", "", None)
    await send("response.created", response=started)
    await send("response.in_progress", response=started)
    item = {
        "id": "msg_sandbox",
        "type": "message",
        "status": "in_progress",
        "role": "assistant",
        "content": [],
    }
    await send("response.output_item.added", output_index=0, item=item)
    part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
    where = {"item_id": "msg_sandbox", "output_index": 0, "content_index": 0}
    await send("response.content_part.added", **where, part=part)
    for word in _words(REPLY):
        await send("response.output_text.delta", **where, delta=word, logprobs=[])
    await send("response.output_text.done", **where, text=REPLY, logprobs=[])
    await send("response.content_part.done", **where, part=part | {"text": REPLY})
    done = _response_object(body, "completed", REPLY, usage)
    await send("response.output_item.done", output_index=0, item=_output_message(REPLY))
    await send("response.completed", response=done)
    await response.write_eof()
    return response


async def _embeddings(request: web.Request) -> web.StreamResponse:
    body = await _openai_request(request)
    if isinstance(body, web.StreamResponse):
        return body
    source = body.get("input")
    inputs = source if isinstance(source, list) and not _is_token_ids(source) else [source]
    dimensions = body.get("dimensions")
    size = dimensions if isinstance(dimensions, int) and dimensions > 0 else EMBEDDING_DIMENSIONS
    data = [
        {"object": "embedding", "index": i, "embedding": _vector(item, size)}
        for i, item in enumerate(inputs)
    ]
    tokens = sum(_tokens(item) for item in inputs)
    answer = {
        "object": "list",
        "data": data,
        "model": body["model"],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    return web.json_response(answer, dumps=_dumps, headers=_openai_headers())


def _is_token_ids(value: list[object]) -> bool:
    return bool(value) and all(isinstance(x, int) for x in value)


def _vector(item: object, size: int) -> list[float]:
    digest = hashlib.sha256(orjson.dumps(item)).digest()
    return [round(digest[i % len(digest)] / 255 - 0.5, 6) for i in range(size)]


async def _models(request: web.Request) -> web.Response:
    names = ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "text-embedding-3-small"]
    data = [
        {"id": n, "object": "model", "created": 1715367049, "owned_by": "system"} for n in names
    ]
    return web.json_response(
        {"object": "list", "data": data}, dumps=_dumps, headers=_openai_headers()
    )


# -- Anthropic -------------------------------------------------------------------------


def _anthropic_headers() -> dict[str, str]:
    return {
        "request-id": f"req_{uuid.uuid4().hex[:24]}",
        "anthropic-organization-id": "00000000-0000-0000-0000-000000000000",
        "anthropic-ratelimit-requests-limit": "4000",
        "anthropic-ratelimit-requests-remaining": "3999",
        "anthropic-ratelimit-tokens-limit": "2000000",
        "anthropic-ratelimit-tokens-remaining": "1999000",
    }


def _anthropic_error(status: int, kind: str, message: str) -> web.Response:
    body = {"type": "error", "error": {"type": kind, "message": message}}
    return web.json_response(body, status=status, dumps=_dumps, headers=_anthropic_headers())


async def _messages(request: web.Request) -> web.StreamResponse:
    bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
    if not (request.headers.get("x-api-key", "").strip() or bearer.strip()):
        return _anthropic_error(401, "authentication_error", "invalid x-api-key")
    body = await _body(request)
    if body is None:
        return _anthropic_error(400, "invalid_request_error", "Request body is not JSON")
    if not isinstance(body.get("model"), str) or not isinstance(body.get("max_tokens"), int):
        return _anthropic_error(400, "invalid_request_error", "model and max_tokens: required")
    await _wait(request)
    prompt = _tokens([body.get("system"), body.get("messages")])
    completion = _tokens(REPLY)
    usage: dict[str, object] = {
        "input_tokens": prompt,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": 1,
        "service_tier": "standard",
    }
    message: dict[str, object] = {
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage,
    }
    if body.get("stream") is not True:
        whole = message | {
            "content": [{"type": "text", "text": REPLY}],
            "stop_reason": "end_turn",
            "usage": usage | {"output_tokens": completion},
        }
        return web.json_response(whole, dumps=_dumps, headers=_anthropic_headers())
    response = await _sse(request, _anthropic_headers())

    async def send(kind: str, **data: object) -> None:
        payload = orjson.dumps({"type": kind, **data})
        await response.write(b"event: " + kind.encode() + b"\ndata: " + payload + b"\n\n")

    await send("message_start", message=message)
    await send("content_block_start", index=0, content_block={"type": "text", "text": ""})
    await send("ping")
    for word in _words(REPLY):
        await send("content_block_delta", index=0, delta={"type": "text_delta", "text": word})
    await send("content_block_stop", index=0)
    await send(
        "message_delta",
        delta={"stop_reason": "end_turn", "stop_sequence": None},
        usage={"output_tokens": completion},
    )
    await send("message_stop")
    await response.write_eof()
    return response
