"""The gateway's hot path, one ASGI handler per provider family.

authenticate -> attribute -> read the request -> reserve (durable, budget-checked)
-> forward -> pass the answer through while metering it -> settle.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from copy import copy
from dataclasses import replace
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import aiohttp
import yarl

from llmledger.gateway import asgi
from llmledger.gateway.attribution import Attribution, resolve
from llmledger.gateway.context import GatewayContext
from llmledger.gateway.metering import new_event, settled, worst_case
from llmledger.gateway.rejection import (
    Rejection,
    UpstreamCut,
    budget_exceeded,
    safe_subpath,
    store_unavailable,
)
from llmledger.gateway.routes import ProviderRoute
from llmledger.guardrails.counters import LocalCounters
from llmledger.guardrails.redis_book import RedisDown
from llmledger.ledger import reservations
from llmledger.ledger.event import EventStatus, UsageEvent
from llmledger.ledger.journal import (
    Journaled,
    event_json,
    reservation_record,
    settlement_record,
)
from llmledger.ledger.reservation_log import reservation_line
from llmledger.ledger.reservations import BLOCKED, HELD, SETTLED, CallWrite, Hold, Refusal
from llmledger.ledger.writer import WriteFailed
from llmledger.money import format_usd
from llmledger.ops.logging import request_id as current_request_id
from llmledger.otel.mapping import trace_detail
from llmledger.providers.base import Metered, RequestError, RequestInfo
from llmledger.routing.hook import ROUTED_FROM, RoutedCall, account, plan, sent_to
from llmledger.usage import Usage

log = logging.getLogger("llmledger.gateway")
REQUEST_ID = "x-llmledger-request-id"
COST = "x-llmledger-cost-usd"
_STREAM_TYPES = ("text/event-stream", "application/vnd.amazon.eventstream", "application/x-ndjson")


class ProviderHandler:
    def __init__(self, ctx: GatewayContext, route: ProviderRoute) -> None:
        self.ctx = ctx
        self.route = route

    async def __call__(self, scope: asgi.Scope, receive: asgi.Receive, send: asgi.Send) -> None:
        request_id = self.ctx.ids.next()
        current_request_id.set(request_id)  # on this call's log lines (ops/logging.py)
        try:
            await self._handle(scope, receive, send, request_id)
        except Rejection as rej:
            if self.ctx.metrics is not None:
                self.ctx.metrics.requests.labels(self.route.provider, str(rej.status)).inc()
            await self._error(
                send, request_id, rej.status, rej.error_type, rej.message, rej.headers
            )
        except asgi.ClientGone:
            return

    async def _error(
        self,
        send: asgi.Send,
        request_id: str,
        status: int,
        error_type: str,
        message: str,
        extra: Mapping[str, str] | None = None,
    ) -> None:
        body, headers = self.route.error(status, error_type, message)
        headers[REQUEST_ID] = request_id
        if extra:
            headers.update(extra)
        await asgi.respond(send, status, headers, body)

    async def _handle(
        self, scope: asgi.Scope, receive: asgi.Receive, send: asgi.Send, request_id: str
    ) -> None:
        ctx, route = self.ctx, self.route
        started = time.perf_counter()
        method: str = scope["method"]
        subpath = safe_subpath(scope["path"], route.prefix)
        raw_path = scope.get("raw_path")
        wire_subpath = (
            safe_subpath(raw_path.decode("latin-1"), route.prefix) if raw_path else subpath
        )
        query_string = scope.get("query_string", b"").decode("latin-1")
        headers = asgi.request_headers(scope)
        try:
            body = await asgi.read_body(receive, ctx.max_body_bytes)
        except asgi.BodyTooLarge:
            raise Rejection(
                413, "request_too_large", f"request body over {ctx.max_body_bytes} bytes"
            ) from None
        query = dict(parse_qsl(query_string)) if query_string else {}
        secret = route.adapter.client_key(headers, query)
        if not secret:
            raise Rejection(401, "authentication_error", "missing llmledger key")
        key = await ctx.keys.find(secret)
        now = datetime.now(UTC)
        if key is None:
            raise Rejection(401, "authentication_error", "invalid llmledger key")
        unusable = key.usable_at(int(now.timestamp() * 1_000_000))
        if unusable:
            raise Rejection(401, "authentication_error", unusable)
        limited = None
        if key.rpm_limit is not None or key.tpm_limit is not None:
            limited = await ctx.limits.check(key)
        if limited is not None:
            raise Rejection(
                429,
                "rate_limit_exceeded",
                limited.message,
                {"retry-after": str(limited.retry_after_s)},
            )
        try:
            who = resolve(key, headers)
            info = route.adapter.read_request(method, subpath, headers, body)
        except RequestError as exc:
            raise Rejection(exc.status, exc.error_type, exc.message) from None
        if not key.allows_model(info.model):
            raise Rejection(403, "permission_error", f"this key may not use model {info.model!r}")
        routed: RoutedCall | None = None
        if ctx.routing is not None and ctx.routing.active:
            chosen = await plan(
                ctx.routing,
                route.adapter,
                route.provider,
                method,
                subpath,
                wire_subpath,
                headers,
                body,
                info,
                who,
                now,
                key.allows_model,
                routes=ctx.routes,
                query=query_string,
            )
            routed, info, body, wire_subpath = (
                chosen.routed,
                chosen.info,
                chosen.body,
                chosen.wire_subpath,
            )
        provider = sent_to(routed, route.provider)  # another one's when routed across
        reserved, priced = worst_case(ctx.catalog, provider, info, now)
        if not priced and not ctx.allow_unpriced:
            raise Rejection(
                400,
                "invalid_request_error",
                f"model {info.model!r} has no known price and unpriced calls are not allowed",
            )
        event = new_event(request_id, now, provider, info, who, reserved)
        event.detail = trace_detail(headers)  # lets OTLP ingest know this call (otel/)
        await self._reserve_and_forward(
            scope,
            receive,
            send,
            method,
            wire_subpath,
            query_string,
            headers,
            body,
            info,
            event,
            who,
            started,
            routed,
        )

    async def _reserve_and_forward(
        self,
        scope: asgi.Scope,
        receive: asgi.Receive,
        send: asgi.Send,
        method: str,
        subpath: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
        info: RequestInfo,
        event: UsageEvent,
        who: Attribution,
        started: float,
        routed: RoutedCall | None,
    ) -> None:
        """Reserve `event`, then forward the call; a call that ends unsettled (an error
        on the way) is settled at its reservation."""
        await self._reserve(event, who, event.ts)
        if self.ctx.prompts is not None and self.ctx.prompts.active:
            self.ctx.prompts.open(event, body)
        try:
            await self._forward(
                scope,
                receive,
                send,
                method,
                subpath,
                query,
                headers,
                body,
                info,
                event,
                started,
                routed,
            )
        finally:
            self._unsettled(event)  # nothing when settled, as every normal end is

    async def _reserve(self, event: UsageEvent, who: Attribution, now: datetime) -> None:
        ctx = self.ctx
        try:
            await ctx.budgets.refresh()
        except Exception:  # the store is away: budgets as last read; the reservation decides
            log.debug("budgets not refreshed", exc_info=True)
        holds = ctx.budgets.holds(who.scopes(), now) if not ctx.budgets.empty else []
        if ctx.counters is not None:
            await self._hold_locally(ctx.counters, event, holds, now)
            return
        in_redis = False
        if ctx.redis is not None and holds:
            try:
                early = await ctx.redis.hold(event.id, holds, event.reserved_nanos)
            except RedisDown:
                early = None  # the store alone decides
            else:
                if early is not None:
                    raise self._blocked(early, event, now)
                in_redis = True
        # fail_open: what the journal keeps if the store cannot take the reservation
        # (made now, before the writer touches the event).
        journal = reservation_record(event, holds) if ctx.writer.journal is not None else None
        try:
            refusal: Refusal | Journaled | None = await ctx.writer.submit_many(
                reservations.reserve_many, (event, holds), journal=journal, urgent=True
            )
        except WriteFailed as exc:
            if in_redis and ctx.redis is not None:
                ctx.redis.release(event.id)
            raise self._unavailable(exc) from None
        if isinstance(refusal, Journaled):  # forwarded with budgets unchecked (fail_open)
            if ctx.metrics is not None:
                ctx.metrics.store_refusals.labels("journaled").inc()
                ctx.metrics.in_flight.inc()
            return
        if holds and refusal is None:  # every hold's counter was opened or found
            ctx.budgets.mark_opened(holds)
        if refusal is not None:
            if in_redis and ctx.redis is not None:  # Redis lagged the store: catch up
                ctx.redis.release(event.id)
                ctx.redis.lagging()
            raise self._refused(refusal, event, now)
        if ctx.redis is not None and holds and not in_redis:
            ctx.redis.held_in_store(event.id, holds, event.reserved_nanos)
        if ctx.metrics is not None:
            ctx.metrics.in_flight.inc()

    async def _hold_locally(
        self, counters: LocalCounters, event: UsageEvent, holds: Sequence[Hold], now: datetime
    ) -> None:
        """The store is this process's alone: decide here, make the reservation durable
        with one append to the reservation log, and let the writer store it behind."""
        ctx = self.ctx
        if holds:
            missing = counters.missing(holds)
            if missing:  # the first call of a period in this process
                try:
                    await counters.open(missing, ctx.writer.submit)
                except WriteFailed as exc:
                    raise self._unavailable(exc) from None
            refusal = counters.hold(event.id, holds, event.reserved_nanos)
            if refusal is not None:
                raise self._blocked(refusal, event, now)
        reserved = copy(event)  # `settled` updates the call's event in place later
        reserved.status = EventStatus.RESERVED
        rlog = ctx.reservation_log
        if rlog is not None:
            try:
                rlog.append(event.id, reservation_line(event_json(reserved), holds))
            except OSError as exc:
                counters.settle(event.id, 0)
                log.error("the reservation log could not be written: %s", exc)
                raise self._unavailable(WriteFailed("the reservation log failed")) from None
        ctx.writer.submit_many_nowait(
            ctx.write_calls,
            CallWrite(HELD, reserved, tuple(holds)),
            then=None if rlog is None else rlog.forget_when_committed(event.id),
        )
        if ctx.metrics is not None:
            ctx.metrics.in_flight.inc()

    def _unavailable(self, exc: WriteFailed) -> Rejection:
        if self.ctx.metrics is not None:
            self.ctx.metrics.store_refusals.labels("refused").inc()
        log.warning("reservation not recorded (%s): call refused", exc)
        return store_unavailable(exc.unreachable)

    def _refused(self, refusal: Refusal, event: UsageEvent, now: datetime) -> Rejection:
        if self.ctx.metrics is not None:
            self.ctx.metrics.blocked.labels(event.provider).inc()
        return budget_exceeded(refusal, self.ctx.budgets.reset_at(refusal.hold.budget_id, now), now)

    def _blocked(self, refusal: Refusal, event: UsageEvent, now: datetime) -> Rejection:
        """Refused without the store: nothing was forwarded, so the blocked event need
        not be durable first; it is written behind the answer."""
        blocked = CallWrite(BLOCKED, reservations.blocked(event))
        self.ctx.writer.submit_many_nowait(self.ctx.write_calls, blocked)
        return self._refused(refusal, event, now)

    def _unsettled(self, event: UsageEvent) -> None:
        """The call ended without a settlement (cancelled): its hold stays booked at the
        reserved amount, as the lease will book it in the store."""
        ctx = self.ctx
        if ctx.counters is not None:
            ctx.counters.settle(event.id, event.reserved_nanos)
        if ctx.redis is not None:
            ctx.redis.settle(event.id, event.reserved_nanos)

    def _settle(
        self,
        event: UsageEvent,
        info: RequestInfo,
        metered: Metered,
        status: int,
        started: float,
        routed: RoutedCall | None = None,
        answer: bytes | None = None,
    ) -> UsageEvent:
        latency = int((time.perf_counter() - started) * 1000)
        done = settled(self.ctx.catalog, event, info, metered, status, latency)
        if routed is not None:
            account(self.ctx.catalog, done, info, routed.decision, routed.fallback)
        ctx = self.ctx
        if ctx.counters is not None:
            ctx.counters.settle(done.id, done.cost_nanos)
            ctx.writer.submit_many_nowait(ctx.write_calls, CallWrite(SETTLED, done))
        elif ctx.writer.is_journaled(done.id):  # reserved in the journal: settled there
            ctx.writer.journal_nowait(settlement_record(done))
        else:
            ctx.writer.submit_many_nowait(ctx.settle_many, done)
        if ctx.redis is not None:
            ctx.redis.settle(done.id, done.cost_nanos)
        self.ctx.limits.charge(done.key_id, done.usage)
        if self.ctx.prompts is not None and self.ctx.prompts.captures:
            self.ctx.prompts.finish(done, answer)
        if self.ctx.metrics is not None:
            m = self.ctx.metrics
            m.settled(done)
            m.requests.labels(done.provider, str(status)).inc()
            m.latency.labels(done.provider).observe(time.perf_counter() - started)
        if self.ctx.spans is not None:
            self.ctx.spans(done)
        return done

    async def _forward(
        self,
        scope: asgi.Scope,
        receive: asgi.Receive,
        send: asgi.Send,
        method: str,
        subpath: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
        info: RequestInfo,
        event: UsageEvent,
        started: float,
        routed: RoutedCall | None = None,
    ) -> None:
        request_id = event.id
        cross = routed.cross if routed is not None else None  # translated to another provider
        route = cross.route if cross is not None else self.route
        assert route.session is not None
        retry = routed is not None and routed.decision.routes and routed.fallback is None
        url = route.upstream_url(subpath, cross.translation.upstream.query if cross else query)
        out_body = info.body or body
        sent = cross.translation.request_headers if cross else headers
        up_headers = route.headers_for(method, url, sent, out_body)
        nothing = Metered(Usage(), info.model)
        if self.ctx.metrics is not None:
            self.ctx.metrics.added.labels(route.provider).observe(time.perf_counter() - started)
        try:
            response = await route.session.request(
                method,
                yarl.URL(url, encoded=True),
                headers=up_headers,
                data=out_body,
                timeout=route.timeout,
                allow_redirects=False,
            )
        except TimeoutError:
            if retry and routed is not None:
                self._settle(event, info, nothing, 504, started, replace(routed, fallback="504"))
                return await self._fall_back(
                    scope, receive, send, method, query, headers, routed, "504", started
                )
            self._settle(event, info, nothing, 504, started, routed)
            await self._error(
                send, request_id, 504, "api_error", "the upstream did not answer in time"
            )
            return
        except aiohttp.ClientError as exc:
            if retry and routed is not None:
                self._settle(event, info, nothing, 502, started, replace(routed, fallback="502"))
                return await self._fall_back(
                    scope, receive, send, method, query, headers, routed, "502", started
                )
            self._settle(event, info, nothing, 502, started, routed)
            await self._error(
                send,
                request_id,
                502,
                "api_error",
                f"the upstream could not be reached ({type(exc).__name__})",
            )
            return
        async with response:
            resp_headers = {
                k.lower(): v
                for k, v in response.headers.items()
                if k.lower() not in asgi.HOP_BY_HOP
            }
            resp_headers[REQUEST_ID] = request_id
            if routed is not None and routed.decision.routes:
                resp_headers[ROUTED_FROM] = routed.decision.from_model
            content_type = response.headers.get("content-type", "")
            streamed = response.status < 300 and (
                info.stream or content_type.startswith(_STREAM_TYPES)
            )
            if streamed:
                if cross is not None:
                    resp_headers = cross.translation.response_headers(resp_headers, streamed=True)
                await self._stream(
                    receive, send, response, resp_headers, info, event, started, routed
                )
                return
            try:
                payload = await response.read()
            except (aiohttp.ClientError, TimeoutError):
                self._settle(
                    event,
                    info,
                    Metered(Usage(), info.model, estimated=True),
                    502,
                    started,
                    routed,
                )
                await self._error(
                    send, request_id, 502, "api_error", "the upstream answer was cut off"
                )
                return
            metered = nothing
            if response.status < 300:
                metered = route.adapter.read_response(info, response.status, resp_headers, payload)
                if cross is not None and routed is not None:
                    translated = cross.answer(payload)
                    if translated is None:  # billed by the target, but not for the caller
                        why = "untranslatable answer"
                        self._settle(
                            event,
                            info,
                            metered,
                            response.status,
                            started,
                            replace(routed, fallback=why),
                        )
                        return await self._fall_back(
                            scope, receive, send, method, query, headers, routed, why, started
                        )
                    payload = translated
                    resp_headers = cross.translation.response_headers(resp_headers, streamed=False)
            elif retry and routed is not None:
                why = str(response.status)
                self._settle(
                    event, info, nothing, response.status, started, replace(routed, fallback=why)
                )
                return await self._fall_back(
                    scope, receive, send, method, query, headers, routed, why, started
                )
            done = self._settle(
                event, info, metered, response.status, started, routed, answer=payload
            )
            resp_headers[COST] = format_usd(done.cost_nanos)
            await asgi.respond(send, response.status, resp_headers, payload)

    async def _stream(
        self,
        receive: asgi.Receive,
        send: asgi.Send,
        response: aiohttp.ClientResponse,
        headers: dict[str, str],
        info: RequestInfo,
        event: UsageEvent,
        started: float,
        routed: RoutedCall | None = None,
    ) -> None:
        meter = (
            routed.cross.stream_meter(info)
            if routed is not None and routed.cross is not None
            else self.route.adapter.stream_meter(info, headers)
        )
        prompts = self.ctx.prompts
        capture = prompts.captures.get(event.id) if prompts and prompts.captures else None
        if capture is not None:
            capture.stream = True
        gone = asyncio.Event()

        async def watch() -> None:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    gone.set()
                    return

        watcher = asyncio.create_task(watch())
        cut_off = False
        status = response.status
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": asgi.encode_headers(headers),
                }
            )
            async for chunk in response.content.iter_any():
                out = meter.feed(chunk)
                if gone.is_set():
                    cut_off = True
                    break
                if out:
                    if capture is not None:
                        capture.add(out)
                    await send({"type": "http.response.body", "body": out, "more_body": True})
            else:
                await send({"type": "http.response.body", "body": b""})
        except (aiohttp.ClientError, TimeoutError, OSError):
            cut_off = True
            status = 502 if not gone.is_set() else status
        except asyncio.CancelledError:
            cut_off = True
            self._settle(event, info, meter.finish(cut_off=True), status, started, routed)
            raise
        finally:
            watcher.cancel()
        metered = meter.finish(cut_off=cut_off)
        self._settle(event, info, metered, status, started, routed)
        if cut_off and not gone.is_set():
            # The upstream broke off: break the caller's connection too, as the provider's
            # own would have, rather than end the stream as if it were complete.
            raise UpstreamCut(f"upstream stream cut off (request {event.id})")

    async def _fall_back(
        self,
        scope: asgi.Scope,
        receive: asgi.Receive,
        send: asgi.Send,
        method: str,
        query: str,
        headers: dict[str, str],
        routed: RoutedCall,
        why: str,
        started: float,
    ) -> None:
        """The routed model failed: send the caller's own request, as a call of its own."""
        request_id = self.ctx.ids.next()
        now = datetime.now(UTC)
        info = routed.requested
        reserved, _ = worst_case(self.ctx.catalog, self.route.provider, info, now)
        event = new_event(request_id, now, self.route.provider, info, routed.who, reserved)
        await self._reserve_and_forward(
            scope,
            receive,
            send,
            method,
            routed.wire_subpath,
            query,
            headers,
            routed.body,
            info,
            event,
            routed.who,
            started,
            routed.falling_back(why),
        )
