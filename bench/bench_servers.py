"""The reference servers of bench/gateway.py: an instant upstream that answers the four
providers' APIs with fixed small bodies (usage included, zero work); the floor, a bare
aiohttp pass-through proxy with no auth and no metering; and the stack floor, the same
pass-through as a raw ASGI app on the gateway's own server stack (uvicorn, uvloop,
httptools), which tells the server's share of the gap from the product's."""

from __future__ import annotations

import asyncio
import json
from typing import Any

# --- the instant upstream -------------------------------------------------------------

_OPENAI_JSON = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1753550133,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello!"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12},
    }
).encode()


def _sse_chunk(delta: dict[str, Any], usage: dict[str, int] | None = None) -> bytes:
    chunk: dict[str, Any] = {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1753550133,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "delta": delta, "finish_reason": None}] if delta else [],
        "usage": usage,
    }
    return b"data: " + json.dumps(chunk).encode() + b"\n\n"


_OPENAI_SSE = [
    _sse_chunk({"role": "assistant", "content": ""}),
    _sse_chunk({"content": "Hello"}),
    _sse_chunk({"content": "!"}),
    _sse_chunk({}, {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}),
    b"data: [DONE]\n\n",
]
_ANTHROPIC_JSON = json.dumps(
    {
        "id": "msg_bench",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": "Hello!"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 9, "output_tokens": 3},
    }
).encode()
_GEMINI_JSON = json.dumps(
    {
        "candidates": [
            {
                "content": {"parts": [{"text": "Hello!"}], "role": "model"},
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 3, "totalTokenCount": 12},
        "modelVersion": "gemini-2.5-flash",
        "responseId": "bench",
    }
).encode()
_BEDROCK_JSON = json.dumps(
    {
        "output": {"message": {"role": "assistant", "content": [{"text": "Hello!"}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 9, "outputTokens": 3, "totalTokens": 12},
        "metrics": {"latencyMs": 1},
    }
).encode()


def run_upstream(port: int) -> None:
    from aiohttp import web

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        path = request.path
        if path.endswith("/chat/completions"):
            if b'"stream": true' not in body and b'"stream":true' not in body:
                return web.Response(body=_OPENAI_JSON, content_type="application/json")
            slow = b'"bench-slow"' in body
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            if slow:  # one chunk, then one every half second: a stream held open
                await response.write(_OPENAI_SSE[0])
                for _ in range(240):
                    await asyncio.sleep(0.5)
                    try:
                        await response.write(_OPENAI_SSE[1])
                    except (ConnectionError, RuntimeError):  # the caller hung up
                        return response
            for chunk in _OPENAI_SSE[0 if not slow else 1 :]:
                await response.write(chunk)
            await response.write_eof()
            return response
        if path.endswith("/messages"):
            return web.Response(body=_ANTHROPIC_JSON, content_type="application/json")
        if path.endswith(":generateContent"):
            return web.Response(body=_GEMINI_JSON, content_type="application/json")
        if path.endswith("/converse"):
            return web.Response(body=_BEDROCK_JSON, content_type="application/json")
        return web.Response(status=404)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    web.run_app(
        app,
        host="127.0.0.1",
        port=port,
        access_log=None,
        print=None,
        backlog=4096,
        handle_signals=True,
    )


# --- the floor: a bare pass-through proxy ---------------------------------------------

_HOP = frozenset(
    {
        "host",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
        "upgrade",
        "te",
        "trailer",
        "proxy-authorization",
        "date",
        "server",
    }
)


def run_floor(port: int, upstream: str) -> None:
    import aiohttp
    import yarl
    from aiohttp import web

    async def handle(request: web.Request) -> web.StreamResponse:
        session: aiohttp.ClientSession = request.app["session"]
        sub = "/" + request.raw_path.split("/", 2)[2]  # drop the /openai-style prefix
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        async with session.request(
            request.method, yarl.URL(upstream + sub, encoded=True), headers=headers, data=body
        ) as up:
            out = {k: v for k, v in up.headers.items() if k.lower() not in _HOP}
            if up.content_type == "text/event-stream":
                response = web.StreamResponse(status=up.status, headers=out)
                await response.prepare(request)
                try:
                    async for chunk in up.content.iter_any():
                        await response.write(chunk)
                    await response.write_eof()
                except (ConnectionError, RuntimeError):  # the caller hung up
                    pass
                return response
            return web.Response(status=up.status, body=await up.read(), headers=out)

    async def on_startup(app: web.Application) -> None:
        app["session"] = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), auto_decompress=False
        )

    async def on_cleanup(app: web.Application) -> None:
        await app["session"].close()

    app = web.Application(client_max_size=32 * 1024 * 1024)
    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    app.router.add_route("*", "/{tail:.*}", handle)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None, backlog=4096)


def run_stack_floor(port: int, upstream: str) -> None:
    """The pass-through of `run_floor` as a raw ASGI app on uvicorn (uvloop, httptools):
    no Starlette, no auth, no metering."""
    import aiohttp
    import uvicorn
    import yarl

    sessions: list[aiohttp.ClientSession] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    sessions.append(
                        aiohttp.ClientSession(
                            connector=aiohttp.TCPConnector(limit=0), auto_decompress=False
                        )
                    )
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await sessions[0].close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        sub = "/" + scope["raw_path"].decode().split("/", 2)[2]
        headers = {
            k.decode(): v.decode() for k, v in scope["headers"] if k.decode().lower() not in _HOP
        }
        async with sessions[0].request(
            scope["method"], yarl.URL(upstream + sub, encoded=True), headers=headers, data=body
        ) as up:
            out = [(k.encode(), v.encode()) for k, v in up.headers.items() if k.lower() not in _HOP]
            await send({"type": "http.response.start", "status": up.status, "headers": out})
            if up.content_type == "text/event-stream":
                async for chunk in up.content.iter_any():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b""})
                return
            await send({"type": "http.response.body", "body": await up.read()})

    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level="warning",
        backlog=4096,
    )


# --- the llmledger gateway --------------------------------------------------------------
