"""Serve the demo: the whole app on the demo store, with live traffic through the sandbox."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

import uvicorn

from llmledger.app import create_app
from llmledger.demo.live import run_live_traffic
from llmledger.demo.setup import Demo, demo_settings


def sdk_snippet(base_url: str, demo: Demo) -> str:
    key = demo.showcase_key
    return (
        "from openai import OpenAI\n\n"
        f'client = OpenAI(base_url="{base_url}/openai/v1", api_key="{key.secret}")\n'
        "reply = client.chat.completions.create(\n"
        f'    model="{key.model}",\n'
        '    messages=[{"role": "user", "content": "Hello from the llmledger demo"}],\n'
        ")\n"
        "print(reply.choices[0].message.content)\n"
    )


async def serve_demo(demo: Demo, *, host: str, port: int, live: bool = True) -> None:
    """Run the app until interrupted; live traffic starts once the server is up."""
    settings = demo_settings(demo.store_path, demo.budgets, port=port, admin_token=demo.admin_token)
    app = create_app(settings, freeze_heap=True)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        lifespan="on",
        access_log=False,
        log_level="warning",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    traffic: asyncio.Task[Counter[str]] | None = None

    async def start_traffic() -> None:
        nonlocal traffic
        while not server.started:
            if server.should_exit:
                return
            await asyncio.sleep(0.1)
        if live:
            base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
            traffic = asyncio.create_task(run_live_traffic(base, demo.live_keys, seed=demo.seed))

    starter = asyncio.create_task(start_traffic())
    try:
        await server.serve()
    finally:
        starter.cancel()
        if traffic is not None:
            traffic.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await traffic
