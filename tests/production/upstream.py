"""A slow fake OpenAI, run as its own process: ``python -m tests.production.upstream
PORT DELAY_S``. Each chat completion waits DELAY_S, then answers gpt-4o usage worth
exactly $0.01 (1,000 input tokens at $2.50/M plus 750 output tokens at $10/M). A request
whose user message is ``hang`` is never answered (an upstream that hangs)."""

from __future__ import annotations

import asyncio
import sys

from aiohttp import web

from tests.guardrails.test_concurrency import COMPLETION, UPSTREAM_KEY


def make_app(delay_s: float) -> web.Application:
    async def chat(request: web.Request) -> web.Response:
        if request.headers.get("authorization") != f"Bearer {UPSTREAM_KEY}":
            return web.json_response({"error": {"message": "bad key"}}, status=401)
        body = await request.read()
        if b'"content": "hang"' in body or b'"content":"hang"' in body:
            await asyncio.sleep(3600)
        await asyncio.sleep(delay_s)
        return web.json_response(COMPLETION)

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    return app


def main() -> None:
    port, delay = int(sys.argv[1]), float(sys.argv[2])
    web.run_app(
        make_app(delay), host="127.0.0.1", port=port, access_log=None, print=None, backlog=4096
    )


if __name__ == "__main__":
    main()
