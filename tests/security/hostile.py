"""A hostile OpenAI-compatible upstream, and raw HTTP for requests no client would send.

The upstream answers ``/v1/chat/completions`` in OpenAI's wire format but can stream
forever (so only the gateway's total timeout ends the call) or report whatever usage a
test gives it (negative, absurd, missing). ``raw_http`` writes bytes on a socket, so a
test can send request lines and headers that HTTP clients refuse to build.
"""

from __future__ import annotations

import asyncio
import json
import socket
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

API_KEY = "sk-hostile-upstream-key"


@dataclass
class HostileUpstream:
    mode: str = "usage"
    """``usage``: one JSON answer with `usage`; ``forever``: an SSE stream that never ends;
    ``forever_json``: a JSON body that never ends."""
    usage: Any = field(
        default_factory=lambda: {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    )
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/v1"

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(
            {"path": request.raw_path, "headers": dict(request.headers), "body": body}
        )
        if self.mode == "forever":
            response = web.StreamResponse(headers={"content-type": "text/event-stream"})
            await response.prepare(request)
            n = 0
            while True:
                chunk = {
                    "id": "chatcmpl-x",
                    "object": "chat.completion.chunk",
                    "created": 1,
                    "model": "gpt-4o-2024-08-06",
                    "choices": [
                        {"index": 0, "delta": {"content": f"word{n} "}, "finish_reason": None}
                    ],
                }
                await response.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
                n += 1
                await asyncio.sleep(0.05)
        if self.mode == "forever_json":
            response = web.StreamResponse(headers={"content-type": "application/json"})
            await response.prepare(request)
            await response.write(b'{"id": "chatcmpl-x", "choices": [')
            while True:
                await response.write(b" ")
                await asyncio.sleep(0.05)
        answer: dict[str, Any] = {
            "id": "chatcmpl-x",
            "object": "chat.completion",
            "created": 1,
            "model": "gpt-4o-2024-08-06",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "hi"},
                    "finish_reason": "stop",
                }
            ],
        }
        raw = json.dumps(answer)
        if self.usage is not None:
            usage = self.usage if isinstance(self.usage, str) else json.dumps(self.usage)
            raw = raw[:-1] + ', "usage": ' + usage + "}"
        return web.Response(body=raw.encode(), content_type="application/json")


@dataclass
class RawReply:
    status: int
    headers: dict[str, str]
    body: bytes


def raw_http(url: str, request: bytes, timeout: float = 10.0) -> RawReply:
    """Send `request` as is to the server at `url` and read the whole answer."""
    host, port = url.removeprefix("http://").split("/")[0].split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawReply(status, headers, body)


def post(path: str, body: bytes, *extra: str, host: str = "gateway.local") -> bytes:
    """A raw POST with `extra` header lines, closing the connection after the answer."""
    lines = [
        f"POST {path} HTTP/1.1",
        f"Host: {host}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
