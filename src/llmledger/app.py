"""The application factory: gateway, admin API and dashboard in one ASGI app.

Requests under a provider prefix (``/openai``, ``/anthropic``, ``/gemini``, ``/bedrock``)
go straight to the gateway's raw ASGI handlers (the hot path); everything else goes to
the FastAPI application (admin API, health, metrics, dashboard).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from fastapi import FastAPI
from pydantic import SecretStr

from llmledger.gateway import asgi
from llmledger.gateway.context import GatewayContext
from llmledger.gateway.keycache import KeyCache
from llmledger.gateway.prompts import PromptLog
from llmledger.gateway.proxy import ProviderHandler
from llmledger.gateway.ratelimit import Limiter, RateLimits
from llmledger.gateway.revocations import RevocationFeed
from llmledger.gateway.routes import PREFIXES, ProviderRoute
from llmledger.gateway.sandbox import sandbox_app
from llmledger.gateway.shared_limits import SharedRateLimits
from llmledger.guardrails.book import BudgetBook
from llmledger.guardrails.counters import LocalCounters
from llmledger.guardrails.redis_book import RedisBudgets
from llmledger.ledger import reservation_log, reservations
from llmledger.ledger.event import to_us
from llmledger.ledger.journal import Journal
from llmledger.ledger.store import Store
from llmledger.ledger.writer import LedgerWriter
from llmledger.ops import logging as json_logs
from llmledger.ops.heap import freeze_startup_heap
from llmledger.ops.lease import LeaseKeeper, lease_seconds
from llmledger.ops.maintenance import Maintenance
from llmledger.ops.redis_pool import connect
from llmledger.otel.export import GenAISpanExporter
from llmledger.pricing import PriceCatalog
from llmledger.providers.anthropic.adapter import AnthropicAdapter
from llmledger.providers.base import ProviderAdapter
from llmledger.providers.bedrock.adapter import BedrockAdapter, CredentialsProvider
from llmledger.providers.gemini.adapter import GeminiAdapter
from llmledger.providers.openai.adapter import OpenAIAdapter
from llmledger.redact import install as install_log_scrubber
from llmledger.reports.service import NotifyService
from llmledger.routing.hook import RoutingHook
from llmledger.runtime import Runtime
from llmledger.settings import ProviderSettings, Settings
from llmledger.web import pages
from llmledger.web.api import (
    anomalies,
    audit,
    budgets,
    events,
    figures,
    health,
    hierarchy,
    keys,
    metrics,
    otlp,
    reconcile,
    roi,
    savings,
    usage,
)
from llmledger.web.api import export as export_api
from llmledger.web.api import prompts as prompts_api

log = logging.getLogger("llmledger")


def build_api(runtime: Runtime) -> FastAPI:
    api = FastAPI(
        title="llmledger admin API",
        version="0.1.0",
        docs_url="/api/docs",
        openapi_url="/api/openapi.json",
        redoc_url=None,
    )
    api.state.runtime = runtime
    for router in (
        figures.router,
        hierarchy.router,
        savings.router,
        events.router,
        budgets.router,
        keys.router,
        usage.router,
        health.router,
        export_api.router,
        otlp.router,
        anomalies.router,
        audit.router,
        metrics.router,
        roi.router,
        reconcile.router,
        prompts_api.router,
    ):
        api.include_router(router)
    pages.install(api, runtime)
    return api


def _adapter(
    provider: str, settings: Settings, bedrock_credentials: CredentialsProvider | None = None
) -> ProviderAdapter:
    if provider == "openai":
        return OpenAIAdapter()
    if provider == "anthropic":
        return AnthropicAdapter()
    if provider == "google":
        return GeminiAdapter()
    return BedrockAdapter(
        region=settings.providers.bedrock.region or "us-east-1",
        credentials_provider=bedrock_credentials,
    )


def _provider_settings(provider: str, settings: Settings) -> ProviderSettings:
    key = "gemini" if provider == "google" else provider
    result: ProviderSettings = getattr(settings.providers, key)
    return result


@dataclass(slots=True)
class LedgerApp:
    """The ASGI application returned by `create_app`."""

    runtime: Runtime
    api: FastAPI
    handlers: dict[str, ProviderHandler] = field(default_factory=dict)
    #: The gateway's own AWS credentials for Bedrock; None: the standard AWS chain.
    bedrock_credentials: CredentialsProvider | None = None
    _sandbox: web.AppRunner | None = None
    _notify: NotifyService | None = None
    #: The OpenTelemetry span exporter when ``[otel] export_endpoint`` is set.
    spans: GenAISpanExporter | None = None
    #: Settles reservations abandoned by dead replicas (started with the app).
    lease: LeaseKeeper | None = None
    #: Per-key rate limits counted in Redis when ``store.redis_url`` is set.
    shared_limits: SharedRateLimits | None = None
    #: SQLite (one process owns the store): budget counters held in memory, and the log
    #: that makes each reservation durable before its call goes upstream.
    counters: LocalCounters | None = None
    reservation_log: reservation_log.ReservationLog | None = None
    #: PostgreSQL with ``store.redis_url``: budget holds decided in Redis first.
    redis_budgets: RedisBudgets | None = None
    #: Key revocations heard from (and told to) the other replicas through Redis.
    revocations: RevocationFeed | None = None
    #: Event partitions ahead and retention, at startup and periodically.
    maintenance: Maintenance | None = None
    #: Freeze the heap after start-up (ops/heap.py): for a server process, not tests.
    freeze_heap: bool = False

    async def __call__(self, scope: asgi.Scope, receive: asgi.Receive, send: asgi.Send) -> None:
        kind = scope["type"]
        if kind == "http":
            path: str = scope["path"]
            for prefix, handler in self.handlers.items():
                if path.startswith(prefix) and (
                    len(path) == len(prefix) or path[len(prefix)] == "/"
                ):
                    await handler(scope, receive, send)
                    return
            await self.api(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        else:
            await self.api(scope, receive, send)

    async def _lifespan(self, receive: asgi.Receive, send: asgi.Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                if self.freeze_heap:
                    freeze_startup_heap()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def startup(self) -> None:
        rt = self.runtime
        settings = rt.settings
        if settings.server.log_format == "json":
            json_logs.configure(settings.server.log_level)
        install_log_scrubber()  # no key from a URL or header ever reaches a log line
        rt.store.upgrade()
        self._start_maintenance()
        self._replay_journal()
        self._recover_reservations()
        self._start_redis_budgets()
        abandoned = self._settle_abandoned()
        if abandoned:
            log.warning("settled %d reservations left open by a crash", abandoned)
        rt.writer.start()
        rt.budgets.load()
        self.lease = LeaseKeeper(rt.writer, lease_seconds(settings), settings.store.lease_check_s)
        self.lease.start()
        if rt.prompts is not None:
            await rt.prompts.start()
        self._watch()
        sandbox_url = None
        if settings.gateway.sandbox:
            self._sandbox = web.AppRunner(sandbox_app(), access_log=None)
            await self._sandbox.setup()
            site = web.TCPSite(self._sandbox, "127.0.0.1", 0)
            await site.start()
            sockets = self._sandbox.addresses
            host, port = sockets[0][0], sockets[0][1]
            sandbox_url = f"http://{host}:{port}"
        ctx = GatewayContext(
            writer=rt.writer,
            catalog=rt.catalog,
            keys=rt.keys,
            budgets=rt.budgets,
            max_body_bytes=settings.server.max_body_bytes,
            allow_unpriced=settings.gateway.allow_unpriced,
            routing=RoutingHook(settings.routing, rt.store.zone, rt.store, rt.budgets)
            if settings.routing.rules
            else None,
            routes=rt.routes,  # filled below, one route per provider
            spans=self.spans.record if self.spans else None,
            metrics=rt.metrics,
            counters=self.counters,
            reservation_log=self.reservation_log,
            redis=self.redis_budgets,
            limits=self._limits(),
            prompts=rt.prompts,
        )
        for provider, prefix in PREFIXES.items():
            ps = _provider_settings(provider, settings)
            adapter = _adapter(provider, settings, self.bedrock_credentials)
            base = ps.base_url or str(getattr(adapter, "default_base_url", ""))
            if sandbox_url and provider in ("openai", "anthropic"):
                base = sandbox_url + ("/v1" if provider == "openai" else "")
            credential = ps.credential()
            if sandbox_url and provider in ("openai", "anthropic"):
                credential = SecretStr("sandbox")
            route = ProviderRoute(
                provider=provider,
                adapter=adapter,
                base_url=base,
                credential=credential.get_secret_value() if credential else None,
                session=aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300),
                    auto_decompress=False,
                    skip_auto_headers=("User-Agent",),
                ),
                timeout=aiohttp.ClientTimeout(
                    total=float(ps.total_timeout_s),
                    connect=float(ps.connect_timeout_s),
                    sock_read=float(ps.first_byte_timeout_s),
                ),
            )
            rt.routes[provider] = route
            self.handlers[prefix] = ProviderHandler(ctx, route)

        self._notify = NotifyService(settings, rt.store)
        await self._notify.start()

    def _start_maintenance(self) -> None:
        store = self.runtime.settings.store
        self.maintenance = Maintenance(
            self.runtime.store,
            store.maintenance_s,
            partitions_ahead=store.partitions_ahead,
            retention_months=store.retention_months,
        )
        try:
            self.maintenance.ensure_partitions()
        except Exception:  # the default partition takes every insert meanwhile
            self.maintenance.failures += 1
            log.exception("store maintenance failed at startup; retried next round")
        self.maintenance.start()

    def _limits(self) -> Limiter:
        """Rate limits shared through Redis when it is configured, else this process's own;
        with Redis, revocations are pushed to every replica too."""
        rt = self.runtime
        url, timeout = rt.settings.store.redis_url, rt.settings.store.redis_timeout_s
        if not url:
            return RateLimits()
        self.shared_limits = SharedRateLimits(connect(url, timeout))
        self.revocations = RevocationFeed(connect(url, timeout, listener=True), rt.keys)
        self.revocations.start()
        return self.shared_limits

    def _recover_reservations(self) -> None:
        """SQLite: write what a killed process logged but never stored, then hold budgets
        in this process's memory, each reservation made durable by its own log."""
        rt = self.runtime
        if rt.store.dialect != "sqlite":
            return
        base = reservation_log.log_base(rt.settings.store.url)
        if base is not None:
            reservation_log.recover(rt.store, base)
            self.reservation_log = reservation_log.ReservationLog(base)
        self.counters = LocalCounters()

    def _start_redis_budgets(self) -> None:
        """PostgreSQL with Redis: budget holds decided in Redis first, across replicas."""
        rt = self.runtime
        url = rt.settings.store.redis_url
        if not url or rt.store.dialect == "sqlite":  # one process: its memory is exact
            return
        budgets = rt.budgets
        self.redis_budgets = RedisBudgets(
            connect(url, rt.settings.store.redis_timeout_s),
            rt.writer.submit,
            lambda: budgets.all_holds(datetime.now(UTC)),
        )

    def _settle_abandoned(self) -> int:
        rt = self.runtime
        # One process owns a SQLite store: everything still reserved was abandoned.
        # Replicas share PostgreSQL: only reservations older than the lease can be.
        cutoff = datetime.now(UTC)
        if rt.store.dialect != "sqlite":
            cutoff -= timedelta(seconds=lease_seconds(rt.settings))
        with rt.store.write() as conn:
            return reservations.settle_abandoned(conn, rt.store.zone, to_us(cutoff))

    def _replay_journal(self) -> None:
        """Book what a previous life of this replica journaled (fail_open), before the
        writer starts; with fail_closed too, so switching policy loses nothing."""
        rt = self.runtime
        journal = rt.writer.journal or Journal(rt.settings.store.journal_path)
        if journal.records:
            journal.replay(rt.store)
        if journal is not rt.writer.journal:
            journal.close()

    def _watch(self) -> None:
        """Gauges read at scrape time."""
        rt, lease = self.runtime, self.lease
        m = rt.metrics
        m.watch_store(rt.store)
        m.probe(
            "llmledger_writer_queue",
            "Ledger writes queued, not yet committed.",
            lambda: float(rt.writer.depth),
        )
        m.probe(
            "llmledger_writer_retrying",
            "Settlements kept for retry while the store is unreachable.",
            lambda: float(rt.writer.retrying),
        )
        m.probe(
            "llmledger_writer_failures",
            "Ledger writes that failed (cumulative).",
            lambda: float(rt.writer.failures),
        )
        m.probe(
            "llmledger_store_unreachable",
            "1 while the writer cannot reach the store.",
            lambda: float(rt.writer.unreachable),
        )
        journal = rt.writer.journal
        m.probe(
            "llmledger_journal_records",
            "Records in the fail_open journal not yet replayed into the store.",
            lambda: float(journal.records if journal else 0),
        )
        m.probe(
            "llmledger_lease_settled",
            "Abandoned reservations this process settled at their reserved amount.",
            lambda: float(lease.settled if lease else 0),
        )
        maintenance = self.maintenance
        m.probe(
            "llmledger_maintenance_failures",
            "Store maintenance rounds (event partitions, retention) that failed.",
            lambda: float(maintenance.failures if maintenance else 0),
        )
        redis_budgets = self.redis_budgets
        if redis_budgets is not None:
            m.probe(
                "llmledger_budget_redis_up",
                "1 while budget holds are decided in Redis, 0 while the store decides alone.",
                lambda: float(not redis_budgets.down),
            )
            m.probe(
                "llmledger_budget_redis_fallbacks",
                "Calls whose budget holds the store decided alone, Redis being away.",
                lambda: float(redis_budgets.fallbacks),
            )
            m.probe(
                "llmledger_budget_redis_refused",
                "Calls a full budget refused in Redis, answered without the store.",
                lambda: float(redis_budgets.refused),
            )

    async def shutdown(self) -> None:
        if self.lease is not None:
            await self.lease.stop()
        if self.maintenance is not None:
            await self.maintenance.stop()
        if self.spans is not None:
            self.spans.shutdown()
        if self._notify is not None:
            await self._notify.stop()
        for route in self.runtime.routes.values():
            if route.session is not None:
                await route.session.close()
        if self._sandbox is not None:
            await self._sandbox.cleanup()
        if self.runtime.prompts is not None:
            await self.runtime.prompts.stop()
        if self.revocations is not None:
            await self.revocations.stop()
        if self.shared_limits is not None:
            await self.shared_limits.close()
        if self.redis_budgets is not None:
            await self.redis_budgets.close()
        self.runtime.writer.close()
        if self.reservation_log is not None:
            self.reservation_log.close()
        self.runtime.store.close()


def create_app(settings: Settings, **overrides: Any) -> LedgerApp:
    """The whole product as one ASGI app. `overrides` may replace the store or catalog,
    and give ``bedrock_credentials`` (a function returning botocore ``Credentials``) to
    sign Bedrock calls with instead of the standard AWS chain; ``freeze_heap=True`` is
    for a server process (ops/heap.py)."""
    zone = settings.organisation.zone
    store: Store = overrides.get("store") or Store.open(
        settings.store.url,
        zone,
        pool_size=settings.store.pool_size,
        connect_timeout_s=settings.store.connect_timeout_s,
        statement_timeout_s=settings.store.statement_timeout_s,
    )
    catalog: PriceCatalog = overrides.get("catalog") or PriceCatalog.build(
        getattr(settings, "pricing", None)
    )
    runtime = Runtime(
        settings=settings,
        store=store,
        writer=LedgerWriter(
            store,
            max_batch=settings.store.batch_max_events,
            linger_s=settings.store.batch_linger_ms / 1000,
            retry_for_s=settings.store.settle_retry_s,
            journal=Journal(settings.store.journal_path, in_flight_s=lease_seconds(settings))
            if settings.store.unreachable == "fail_open"
            else None,
            probe_s=settings.store.journal_probe_s,
        ),
        catalog=catalog,
        keys=KeyCache(store),
        budgets=BudgetBook(store, zone, settings.organisation.fiscal_year_start_month),
    )
    runtime.prompts = PromptLog(settings.gateway, runtime.writer)
    otel = settings.otel
    spans: GenAISpanExporter | None = overrides.get("spans") or (
        GenAISpanExporter.to_endpoint(otel.export_endpoint, otel.service_name)
        if otel.export_endpoint
        else None
    )
    return LedgerApp(
        runtime=runtime,
        api=build_api(runtime),
        spans=spans,
        bedrock_credentials=overrides.get("bedrock_credentials"),
        freeze_heap=bool(overrides.get("freeze_heap", False)),
    )
