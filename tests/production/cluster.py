"""Gateway replicas as real processes (``llmledger serve``) sharing one PostgreSQL store,
a slow fake upstream in a process of its own, and a load of concurrent calls."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from sqlalchemy import func, select

from llmledger.ledger import keys, schema
from llmledger.ledger.store import Store
from tests.conftest import ZONE
from tests.guardrails.test_concurrency import UPSTREAM_KEY

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
PROMPT = "x " * 500  # at most ~1,000 tokens: the reservation's input bound covers it
CALL_COST_NANOS = 10_000_000  # each served call is billed exactly $0.01


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer in {timeout}s")


@contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A child process, always ended (SIGTERM, then SIGKILL) when the block exits."""
    with log.open("ab") as out:
        proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=out, stderr=out)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)


@dataclass
class Replica:
    url: str
    proc: subprocess.Popen[bytes]

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(5)


@dataclass
class Cluster:
    store_url: str
    upstream: str
    replicas: list[Replica] = field(default_factory=list)
    logs: Path = Path(".")
    env: dict[str, str] = field(default_factory=dict)

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-4000:] for p in self.logs.glob("*.log"))


def replica_env(store_url: str, upstream: str, **settings: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "LLMLEDGER_STORE__URL": store_url,
            "LLMLEDGER_PROVIDERS__OPENAI__BASE_URL": upstream,
            "LLMLEDGER_PROVIDERS__OPENAI__API_KEY_ENV": "PROD_TEST_UPSTREAM_KEY",
            "PROD_TEST_UPSTREAM_KEY": UPSTREAM_KEY,
            "LLMLEDGER_ANOMALIES__ENABLED": "false",
            "LLMLEDGER_ADMIN_TOKEN": "prod-test-admin",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.pop("LLMLEDGER_CONFIG", None)
    env.update({f"LLMLEDGER_{k.upper()}": v for k, v in settings.items()})
    return env


@contextmanager
def cluster(
    store_url: str, replicas: int, logs: Path, *, delay_s: float = 0.2, **settings: str
) -> Iterator[Cluster]:
    """`replicas` gateway processes on `store_url` (migrated first) and one upstream.
    `settings` are extra ``LLMLEDGER_`` variables, e.g. ``STORE__LEASE_S="5"``."""
    up_port = free_port()
    upstream = f"http://127.0.0.1:{up_port}/v1"
    env = replica_env(store_url, upstream, **settings)
    with ExitStack() as stack:
        up = stack.enter_context(
            process(
                [PYTHON, "-m", "tests.production.upstream", str(up_port), str(delay_s)],
                env,
                logs / "upstream.log",
            )
        )
        migrate = subprocess.run(
            [str(Path(PYTHON).parent / "llmledger"), "db", "upgrade"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=120,
        )
        assert migrate.returncode == 0, migrate.stderr.decode()
        running = Cluster(store_url, upstream, logs=logs, env=env)
        for i in range(replicas):
            port = free_port()
            proc = stack.enter_context(
                process(
                    [str(Path(PYTHON).parent / "llmledger"), "serve", "--port", str(port)],
                    env,
                    logs / f"replica{i}.log",
                )
            )
            running.replicas.append(Replica(f"http://127.0.0.1:{port}", proc))
        _wait_http(f"http://127.0.0.1:{up_port}/", up)
        for r in running.replicas:
            _wait_http(f"{r.url}/healthz", r.proc)
        yield running


def new_key(store: Store, agent: str = "seo-agent") -> str:
    with store.write() as conn:
        _, secret = keys.create_key(conn, department="Marketing", project="SEO", agent=agent)
    return secret


@dataclass(frozen=True)
class Outcome:
    status: int  # 0: the connection failed (no answer)
    request_id: str | None
    body: dict[str, Any] | None = None
    seconds: float = 0.0


async def call(
    session: aiohttp.ClientSession, base: str, key: str, content: str = PROMPT
) -> Outcome:
    started = time.perf_counter()
    try:
        async with session.post(
            f"{base}/openai/v1/chat/completions",
            json={
                "model": "gpt-4o",
                "max_tokens": 750,
                "messages": [{"role": "user", "content": content}],
            },
            headers={"Authorization": f"Bearer {key}"},
        ) as resp:
            raw = await resp.read()
            body = json.loads(raw) if raw.startswith(b"{") else None
            return Outcome(
                resp.status,
                resp.headers.get("x-llmledger-request-id"),
                body,
                time.perf_counter() - started,
            )
    except (TimeoutError, aiohttp.ClientError):
        return Outcome(0, None, None, time.perf_counter() - started)


async def load(urls: list[str], key: str, calls: int, timeout: float = 120) -> list[Outcome]:
    """`calls` calls at once, spread round-robin over `urls`."""
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=timeout)
    ) as session:
        return await asyncio.gather(
            *(call(session, urls[i % len(urls)], key) for i in range(calls))
        )


def wait_settled(store: Store, timeout: float = 30) -> None:
    """Until no event is still ``reserved`` (settling is asynchronous)."""
    e = schema.events
    deadline = time.monotonic() + timeout
    while True:
        with store.read() as conn:
            open_ = conn.execute(
                select(func.count()).select_from(e).where(e.c.status == "reserved")
            ).scalar_one()
        if not open_ or time.monotonic() > deadline:
            return
        time.sleep(0.1)


@dataclass(frozen=True)
class Ledger:
    by_id: dict[str, dict[str, Any]]
    rollup_calls: int
    rollup_cost: int
    periods: list[tuple[int, int]]  # (spent, reserved) of every budget period

    def ids(self, *statuses: str) -> set[str]:
        return {i for i, r in self.by_id.items() if r["status"] in statuses}

    def cost(self, *statuses: str) -> int:
        return sum(r["cost_nanos"] for r in self.by_id.values() if r["status"] in statuses)


def read_ledger(store: Store) -> Ledger:
    e, d, bp = schema.events, schema.calls_daily, schema.budget_periods
    with store.read() as conn:
        rows = {r["id"]: dict(r) for r in conn.execute(select(e)).mappings()}
        calls, cost = conn.execute(
            select(
                func.coalesce(func.sum(d.c.calls), 0), func.coalesce(func.sum(d.c.cost_nanos), 0)
            )
        ).one()
        periods = [
            (int(s), int(r)) for s, r in conn.execute(select(bp.c.spent_nanos, bp.c.reserved_nanos))
        ]
    return Ledger(rows, int(calls), int(cost), periods)


def open_store(url: str) -> Store:
    return Store.open(url, ZONE)
