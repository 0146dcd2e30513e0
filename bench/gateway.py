"""How much the gateway costs on the hot path, against the floor a Python proxy can reach.

Three processes, each pinned to one core: an instant upstream (aiohttp, fixed small
answers with usage, zero work) on core 1; the system under test on core 0 — either the
llmledger gateway (uvicorn + uvloop + httptools, SQLite ledger in a temp dir, a virtual
key, provider base URLs pointing at the instant upstream) or a bare pass-through proxy
(aiohttp server + aiohttp client, no auth, no metering: the floor); the load generator
(wrk, or an aiohttp one if wrk is missing) on core 1. A fourth, the stack floor (the
same pass-through as a raw ASGI app on uvicorn, the gateway's server), is measured beside
them on core 0 and splits the gap: server stack, the gateway's event loop, and its ledger
writer thread (CPU per request of each, from /proc).

Measured for OpenAI chat (JSON and SSE), Anthropic messages, Gemini generateContent and
Bedrock Converse: requests/s at --connections, p50/p99 latency at one connection; time
to first streamed byte; the gateway's RSS with --streams streams held open.

    .venv/bin/python bench/gateway.py [--duration 5] [--connections 64] [--streams 1000]

Goals: gateway throughput >= 70% of the floor's, p50 within 0.5 ms of the floor's, first
byte within 1 ms, 1,000 open streams under 300 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

UPSTREAM_CORE, PROXY_CORE, LOAD_CORE = 1, 0, 1

from bench_servers import run_floor, run_stack_floor, run_upstream  # noqa: E402
from proc_usage import cpu_seconds, rss_mb, writer_seconds  # noqa: E402


def run_gateway(port: int, upstream: str, workdir: Path, budgets: bool = False) -> None:
    import uvicorn
    from botocore.credentials import Credentials

    from llmledger.app import create_app
    from llmledger.ledger import keys
    from llmledger.settings import Settings

    for name in ("OPENAI", "ANTHROPIC", "GEMINI"):
        os.environ[f"BENCH_{name}_KEY"] = "upstream-secret"
    settings = Settings(
        store={"url": f"sqlite:///{workdir / 'ledger.db'}"},
        providers={
            "openai": {"base_url": f"{upstream}/v1", "api_key_env": "BENCH_OPENAI_KEY"},
            "anthropic": {"base_url": upstream, "api_key_env": "BENCH_ANTHROPIC_KEY"},
            "gemini": {"base_url": upstream, "api_key_env": "BENCH_GEMINI_KEY"},
            "bedrock": {"base_url": upstream, "region": "us-east-1"},
        },
    )
    credentials = Credentials("AKIDBENCHEXAMPLE0001", "bench/secret")
    app = create_app(settings, bedrock_credentials=lambda: credentials, freeze_heap=True)
    app.runtime.store.upgrade()
    with app.runtime.store.write() as conn:
        key, secret = keys.create_key(conn, department="Engineering", project="Bench", agent="wrk")
        if budgets:  # a whole scope chain, never full: the cost of holding, not of refusing
            from decimal import Decimal

            from llmledger.guardrails.budgets import set_budget

            for scope in (
                "org",
                "department:Engineering",
                "project:Engineering/Bench",
                "agent:Engineering/Bench/wrk",
                f"key:{key.id}",
            ):
                set_budget(conn, scope=scope, limit_usd=Decimal("1000000"))
    (workdir / "key").write_text(secret)
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


# --- the driver ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    body: dict[str, Any]
    auth: Callable[[str], dict[str, str]]


SCENARIOS = [
    Scenario(
        "openai chat",
        "/openai/v1/chat/completions",
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 64},
        lambda k: {"Authorization": f"Bearer {k}"},
    ),
    Scenario(
        "openai chat stream",
        "/openai/v1/chat/completions",
        {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "Hi"}],
            "max_tokens": 64,
            "stream": True,
        },
        lambda k: {"Authorization": f"Bearer {k}"},
    ),
    Scenario(
        "anthropic messages",
        "/anthropic/v1/messages",
        {
            "model": "claude-sonnet-4-5",
            "max_tokens": 64,
            "messages": [{"role": "user", "content": "Hi"}],
        },
        lambda k: {"x-api-key": k, "anthropic-version": "2023-06-01"},
    ),
    Scenario(
        "gemini generateContent",
        "/gemini/v1beta/models/gemini-2.5-flash:generateContent",
        {
            "contents": [{"role": "user", "parts": [{"text": "Hi"}]}],
            "generationConfig": {"maxOutputTokens": 64},
        },
        lambda k: {"x-goog-api-key": k},
    ),
    Scenario(
        "bedrock converse",
        "/bedrock/model/amazon.nova-pro-v1%3A0/converse",
        {
            "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
            "inferenceConfig": {"maxTokens": 64},
        },
        lambda k: {"X-LLMLedger-Key": k},
    ),
]


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    cpu_us: float = 0.0
    """CPU time (user + system) the proxy process spent per request under load."""
    writer_us: float = 0.0
    """Of `cpu_us`, what the gateway's ledger writer thread spent (0 for the floor)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spawn(role: str, core: int, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, __file__, "--role", role, "--core", str(core), *args])


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process {proc.args!r} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def _lua(scenario: Scenario, key: str) -> str:
    headers = {"Content-Type": "application/json", **scenario.auth(key)}
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(json.dumps(scenario.body))}"]
    lines += [f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items()]
    return "\n".join(lines) + "\n"


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def _wrk(url: str, script: Path, connections: int, duration: float) -> Result:
    out = subprocess.run(
        [
            "taskset",
            "-c",
            str(LOAD_CORE),
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(duration))}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    count = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{errors.group(1)} failed responses from {url}:\n{out}")

    def pct(p: str) -> float:
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)\b", out)
        assert m, out
        return float(m.group(1)) * _UNITS[m.group(2)]

    return Result(rps, pct("50"), pct("99"), cpu_us=float(count))


async def _aiohttp_load(
    url: str, scenario: Scenario, key: str, connections: int, duration: float
) -> Result:
    import aiohttp

    latencies: list[float] = []
    body = json.dumps(scenario.body).encode()
    headers = {"Content-Type": "application/json", **scenario.auth(key)}
    deadline = time.perf_counter() + duration
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:

        async def worker() -> None:
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                async with http.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    if resp.status != 200:
                        raise RuntimeError(f"{url}: HTTP {resp.status}")
                latencies.append(time.perf_counter() - t0)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return Result(
        len(latencies) / elapsed,
        latencies[len(latencies) // 2] * 1e3,
        latencies[int(len(latencies) * 0.99)] * 1e3,
        cpu_us=float(len(latencies)),
    )


def measure(
    base: str,
    pid: int,
    scenario: Scenario,
    key: str,
    workdir: Path,
    connections: int,
    duration: float,
) -> Result:
    """Throughput (and CPU per request) at `connections`; latency at one connection.
    The result's ``cpu_us`` is the proxy's CPU time per request: unlike req/s it hardly
    moves when other work shares the machine."""
    url = base + scenario.path

    def load(conns: int, seconds: float) -> Result:
        if shutil.which("wrk"):
            script = workdir / "post.lua"
            script.write_text(_lua(scenario, key))
            return _wrk(url, script, conns, seconds)
        return asyncio.run(_aiohttp_load(url, scenario, key, conns, seconds))

    load(8, 1)  # warm up
    cpu0, writer0 = cpu_seconds(pid), writer_seconds(pid)
    loaded = load(connections, duration)
    cpu, writer = cpu_seconds(pid) - cpu0, writer_seconds(pid) - writer0
    single = load(1, duration / 2)
    calls = max(1.0, loaded.cpu_us)
    return Result(loaded.rps, single.p50_ms, single.p99_ms, cpu * 1e6 / calls, writer * 1e6 / calls)


def best(results: list[Result]) -> Result:
    """The best of interleaved rounds: noise from elsewhere only ever slows a run."""
    return Result(
        max(r.rps for r in results),
        min(r.p50_ms for r in results),
        min(r.p99_ms for r in results),
        min(r.cpu_us for r in results),
        min(r.writer_us for r in results),
    )


async def first_byte(base: str, key: str, count: int) -> tuple[float, float]:
    """Median and p99 ms from sending a streaming request to its first body byte."""
    import aiohttp

    scenario = SCENARIOS[1]
    body = json.dumps(scenario.body).encode()
    headers = {"Content-Type": "application/json", **scenario.auth(key)}
    times: list[float] = []
    async with aiohttp.ClientSession() as http:
        for i in range(count + 20):
            t0 = time.perf_counter()
            async with http.post(base + scenario.path, data=body, headers=headers) as resp:
                await resp.content.readany()
                t1 = time.perf_counter()
                await resp.read()
            if i >= 20:  # warm-up excluded
                times.append((t1 - t0) * 1e3)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99)]


async def hold_streams(base: str, key: str, pid: int, count: int) -> tuple[float, float, float]:
    """RSS (MB) of `pid` idle and with `count` slow streams open, and seconds to open."""
    import aiohttp

    scenario = SCENARIOS[1]
    body = json.dumps({**scenario.body, "user": "bench-slow"}).encode()
    headers = {"Content-Type": "application/json", **scenario.auth(key)}
    before = rss_mb(pid)
    opened = 0
    all_open = asyncio.Event()
    release = asyncio.Event()
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    started = time.perf_counter()
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=120)
    ) as http:

        async def one() -> None:
            nonlocal opened
            async with http.post(base + scenario.path, data=body, headers=headers) as resp:
                if resp.status != 200:
                    raise RuntimeError(f"stream refused: HTTP {resp.status}")
                await resp.content.readany()
                opened += 1
                if opened == count:
                    all_open.set()
                await release.wait()

        tasks = [asyncio.create_task(one()) for _ in range(count)]
        await asyncio.wait_for(all_open.wait(), 60)
        took = time.perf_counter() - started
        await asyncio.sleep(1.5)  # a few chunks through every stream
        during = rss_mb(pid)
        release.set()
        await asyncio.gather(*tasks)
    return before, during, took


def child(args: argparse.Namespace) -> None:
    os.sched_setaffinity(0, {args.core})
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.role in ("upstream", "floor"):
        import uvloop

        uvloop.install()
    if args.role == "upstream":
        run_upstream(args.port)
    elif args.role == "floor":
        run_floor(args.port, args.upstream)
    elif args.role == "stack":
        run_stack_floor(args.port, args.upstream)
    else:
        run_gateway(args.port, args.upstream, Path(args.workdir), args.role == "gateway-budgets")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration", type=float, default=5.0, help="seconds of load per throughput measurement"
    )
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="interleaved gateway/floor rounds per path (best one kept)",
    )
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--first-byte-count", type=int, default=300)
    parser.add_argument("--only", help="comma-separated scenario names (substring)")
    parser.add_argument("--role", help=argparse.SUPPRESS)
    parser.add_argument("--core", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--upstream", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.role:
        child(args)
        return
    if len(os.sched_getaffinity(0)) < 2:
        print("warning: fewer than 2 cores; the processes will share one", file=sys.stderr)
    os.sched_setaffinity(0, {LOAD_CORE})
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    loadgen = "wrk" if shutil.which("wrk") else "aiohttp (wrk not found)"
    procs: list[subprocess.Popen[bytes]] = []
    t_start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="llmledger-bench-") as tmp:
        workdir = Path(tmp)
        try:
            up_port, gw_port, floor_port, stack_port = (free_port() for _ in range(4))
            upstream = f"http://127.0.0.1:{up_port}"
            procs.append(spawn("upstream", UPSTREAM_CORE, "--port", str(up_port)))
            wait_port(up_port, procs[-1])
            gateway = spawn(
                "gateway",
                PROXY_CORE,
                "--port",
                str(gw_port),
                "--upstream",
                upstream,
                "--workdir",
                tmp,
            )
            procs.append(gateway)
            floor = spawn("floor", PROXY_CORE, "--port", str(floor_port), "--upstream", upstream)
            procs.append(floor)
            stack = spawn("stack", PROXY_CORE, "--port", str(stack_port), "--upstream", upstream)
            procs.append(stack)
            wait_port(gw_port, gateway)
            wait_port(floor_port, floor)
            wait_port(stack_port, stack)
            key = (workdir / "key").read_text()
            targets = {
                "gateway": f"http://127.0.0.1:{gw_port}",
                "floor": f"http://127.0.0.1:{floor_port}",
                "stack": f"http://127.0.0.1:{stack_port}",
            }
            scenarios = [
                s
                for s in SCENARIOS
                if not args.only or any(o in s.name for o in args.only.split(","))
            ]
            pids = {"gateway": gateway.pid, "floor": floor.pid, "stack": stack.pid}
            rows: list[tuple[str, Result, Result]] = []
            stack_rows: dict[str, Result] = {}
            for scenario in scenarios:
                got: dict[str, list[Result]] = {name: [] for name in targets}
                for _ in range(args.rounds):  # interleaved, so drift hits both alike
                    for name, base in targets.items():
                        got[name].append(
                            measure(
                                base,
                                pids[name],
                                scenario,
                                key,
                                workdir,
                                args.connections,
                                args.duration,
                            )
                        )
                rows.append((scenario.name, best(got["gateway"]), best(got["floor"])))
                stack_rows[scenario.name] = best(got["stack"])
                print(f"  measured {scenario.name}", file=sys.stderr)
            ttfb = {
                name: asyncio.run(first_byte(base, key, args.first_byte_count))
                for name, base in targets.items()
            }
            held = {
                "gateway": asyncio.run(
                    hold_streams(targets["gateway"], key, gateway.pid, args.streams)
                ),
                "floor": asyncio.run(hold_streams(targets["floor"], key, floor.pid, args.streams)),
            }
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
    report(rows, stack_rows, ttfb, held, args, loadgen, time.monotonic() - t_start)


def report(
    rows: list[tuple[str, Result, Result]],
    stack_rows: dict[str, Result],
    ttfb: dict[str, tuple[float, float]],
    held: dict[str, tuple[float, float, float]],
    args: argparse.Namespace,
    loadgen: str,
    elapsed: float,
) -> None:
    print(
        f"\nllmledger gateway vs bare aiohttp proxy (floor); load generator: {loadgen}; "
        f"{args.connections} connections for req/s, 1 connection for latency; "
        f"upstream+load on core {UPSTREAM_CORE}, proxy on core {PROXY_CORE}\n"
    )
    head = (
        f"{'path':<24} {'gw req/s':>9} {'floor req/s':>11} {'ratio':>6} "
        f"{'gw p50':>8} {'floor p50':>9} {'Δp50':>7} {'gw p99':>8} {'floor p99':>9} "
        f"{'gw cpu/req':>10} {'(writer)':>9} {'floor cpu/req':>13} {'cpu ratio':>9}"
    )
    print(head)
    print("-" * len(head))
    for name, gw, fl in rows:
        print(
            f"{name:<24} {gw.rps:>9.0f} {fl.rps:>11.0f} {gw.rps / fl.rps:>6.2f} "
            f"{gw.p50_ms:>6.2f}ms {fl.p50_ms:>7.2f}ms {gw.p50_ms - fl.p50_ms:>+5.2f}ms "
            f"{gw.p99_ms:>6.2f}ms {fl.p99_ms:>7.2f}ms "
            f"{gw.cpu_us:>8.0f}us {gw.writer_us:>7.0f}us {fl.cpu_us:>11.0f}us "
            f"{gw.cpu_us / fl.cpu_us:>9.2f}"
        )
    print(
        "\nwhere the gateway's CPU per request goes, against the floor (aiohttp server) and "
        "the stack floor (the same pass-through as a raw ASGI app on uvicorn, the gateway's "
        "server):"
    )
    head = (
        f"{'path':<24} {'floor':>7} {'stack':>7} {'stack req/s':>11} {'ratio':>6} "
        f"{'gw loop':>8} {'gw writer':>9} {'gw total':>8}"
    )
    print(head)
    print("-" * len(head))
    for name, gw, fl in rows:
        st = stack_rows[name]
        print(
            f"{name:<24} {fl.cpu_us:>5.0f}us {st.cpu_us:>5.0f}us {st.rps:>11.0f} "
            f"{st.rps / fl.rps:>6.2f} {gw.cpu_us - gw.writer_us:>6.0f}us "
            f"{gw.writer_us:>7.0f}us {gw.cpu_us:>6.0f}us"
        )
    g50, g99 = ttfb["gateway"]
    f50, f99 = ttfb["floor"]
    print(
        f"\nfirst streamed byte (openai stream, {args.first_byte_count} sequential): "
        f"gateway p50 {g50:.2f} ms / p99 {g99:.2f} ms, floor p50 {f50:.2f} ms / "
        f"p99 {f99:.2f} ms, Δp50 {g50 - f50:+.2f} ms"
    )
    for name, (before, during, took) in held.items():
        print(
            f"{args.streams} open streams, {name}: RSS {before:.0f} MB idle -> "
            f"{during:.0f} MB held ({during - before:+.0f} MB; opened in {took:.1f} s)"
        )
    worst_ratio = min(gw.rps / fl.rps for _, gw, fl in rows)
    worst_cpu = max(gw.cpu_us / fl.cpu_us for _, gw, fl in rows)
    worst_p50 = max(gw.p50_ms - fl.p50_ms for _, gw, fl in rows)
    goals = [
        (
            "throughput >= 70% of floor",
            worst_ratio >= 0.70,
            f"worst {worst_ratio:.0%} (by CPU per request: {1 / worst_cpu:.0%})",
        ),
        ("p50 within 0.5 ms of floor", worst_p50 <= 0.5, f"worst {worst_p50:+.2f} ms"),
        ("first byte within 1 ms of floor", g50 - f50 <= 1.0, f"{g50 - f50:+.2f} ms"),
        (
            f"{args.streams} streams under 300 MB",
            held["gateway"][1] < 300,
            f"{held['gateway'][1]:.0f} MB",
        ),
    ]
    print()
    for goal, ok, figure in goals:
        print(f"  [{'met' if ok else 'MISSED'}] {goal}: {figure}")
    load = os.getloadavg()[0]
    print(
        f"\n(bench ran {elapsed:.0f} s; load average {load:.1f} on "
        f"{os.cpu_count()} cores: figures are only comparable on a quiet machine)"
    )


if __name__ == "__main__":
    main()
