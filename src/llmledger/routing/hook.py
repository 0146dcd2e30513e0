"""Routing as the gateway calls it: decide before the reservation, account at settle."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

import orjson

from llmledger.gateway.attribution import Attribution
from llmledger.gateway.routes import ProviderRoute
from llmledger.guardrails.book import BudgetBook
from llmledger.ledger.event import UsageEvent
from llmledger.ledger.store import Store
from llmledger.pricing import PriceCatalog
from llmledger.pricing.limits import max_output_tokens
from llmledger.providers.base import ProviderAdapter, RequestError, RequestInfo, StreamMeter
from llmledger.routing.decide import RouteDecision, Router
from llmledger.routing.fill import BudgetFill
from llmledger.routing.rewrite import rewrite
from llmledger.routing.rules import RoutingSettings
from llmledger.routing.translate import Translation, Untranslatable, translate

ROUTED_FROM = "x-llmledger-routed-from"


class RoutingHook:
    """One per application: the compiled rules and the budget-fill gauge."""

    def __init__(
        self, settings: RoutingSettings, zone: ZoneInfo, store: Store, budgets: BudgetBook
    ) -> None:
        self.router = Router(settings, zone)
        self.budgets = budgets
        self.fill = BudgetFill(store)

    @property
    def active(self) -> bool:
        return bool(self.router.rules)

    async def decide(
        self,
        provider: str,
        info: RequestInfo,
        body: bytes,
        headers: Mapping[str, str],
        who: Attribution,
        now: datetime,
        allows_model: Callable[[str], bool],
    ) -> RouteDecision | None:
        router = self.router
        level = None
        if router.uses_budget_fill and router.candidates(info.model, who):
            await self.budgets.refresh()
            level = await self.fill.level(self.budgets.holds(who.scopes(), now))
        return router.decide(provider, info, body, headers, who, now, allows_model, level)


def account(
    catalog: PriceCatalog,
    event: UsageEvent,
    info: RequestInfo,
    decision: RouteDecision,
    fallback: str | None = None,
) -> None:
    """Record `decision` on a settled `event`: the requested model's cost of the same usage
    (routed), or what the target would have cost (shadow), and the reasons, in `detail`.
    Across providers, each model is priced at its own provider."""
    record = decision.record()
    from_provider = decision.from_provider or event.provider
    if decision.mode == "enforce" and fallback is None:
        requested = 0
        if event.usage:
            requested = catalog.quote(
                event.usage, from_provider, decision.from_model, event.ts, info.attributes
            ).total_nanos
        event.model_requested = decision.from_model
        event.routed_from = decision.from_model
        event.requested_cost_nanos = requested
        record["requested_cost_nanos"] = requested
        record["saved_nanos"] = requested - event.cost_nanos
    elif decision.mode == "shadow" and event.usage and 200 <= (event.http_status or 0) < 300:
        quote = catalog.quote(
            event.usage,
            decision.to_provider or event.provider,
            decision.to_model,
            event.ts,
            info.attributes,
        )
        if not quote.unpriced:
            record["would_cost_nanos"] = quote.total_nanos
            record["saved_nanos"] = event.cost_nanos - quote.total_nanos
    if fallback is not None:
        record["fallback"] = fallback
    event.detail = orjson.dumps({"routing": record}).decode()


@dataclass(frozen=True, slots=True)
class CrossProvider:
    """A routed call served by another provider: its route (upstream, credential,
    adapter) and the translation of the request and of the answer."""

    route: ProviderRoute
    translation: Translation

    def answer(self, body: bytes) -> bytes | None:
        """The upstream's whole answer in the caller's format, or None when it has
        something the caller's format cannot say (the call then falls back)."""
        try:
            return self.translation.answer(body)
        except Untranslatable:
            return None

    def stream_meter(self, info: RequestInfo) -> StreamMeter:
        # The upstream is always asked for SSE (Gemini with alt=sse).
        inner = self.route.adapter.stream_meter(info, {"content-type": "text/event-stream"})
        return self.translation.stream_meter(inner)


@dataclass(frozen=True, slots=True)
class RoutedCall:
    """A call a rule decided on, with what the caller sent (for the fallback)."""

    decision: RouteDecision
    requested: RequestInfo
    body: bytes
    wire_subpath: str
    who: Attribution
    fallback: str | None = None
    cross: CrossProvider | None = None
    """Set when the target is another provider's model (the call is translated)."""

    def falling_back(self, why: str) -> RoutedCall:
        """The retry at the requested model after the routed call failed."""
        return replace(
            self,
            decision=replace(self.decision, mode="fallback", why=(why,)),
            fallback=why,
            cross=None,
        )


def sent_to(routed: RoutedCall | None, provider: str) -> str:
    """The provider the call goes to: `provider`, or the routed target's."""
    return routed.cross.route.provider if routed is not None and routed.cross else provider


@dataclass(frozen=True, slots=True)
class Plan:
    routed: RoutedCall | None
    info: RequestInfo
    body: bytes
    wire_subpath: str


async def plan(
    hook: RoutingHook,
    adapter: ProviderAdapter,
    provider: str,
    method: str,
    subpath: str,
    wire_subpath: str,
    headers: Mapping[str, str],
    body: bytes,
    info: RequestInfo,
    who: Attribution,
    now: datetime,
    allows_model: Callable[[str], bool],
    routes: Mapping[str, ProviderRoute] | None = None,
    query: str = "",
) -> Plan:
    """What to send: the caller's request, or (enforced) the same request at the target,
    translated when the target is another provider's model (`routes` has its upstream;
    `query` is the caller's, which tells a Gemini caller's stream format)."""
    unchanged = Plan(None, info, body, wire_subpath)
    decision = await hook.decide(provider, info, body, headers, who, now, allows_model)
    if decision is None:
        return unchanged
    routed = RoutedCall(decision, info, body, wire_subpath, who)
    if not decision.routes or decision.body is None:
        return Plan(routed, info, body, wire_subpath)
    if decision.cross_provider:
        return _translated(routed, decision.body, routes or {}, query)
    target = rewrite(
        provider, decision.body, body, subpath, wire_subpath, decision.from_model, decision.to_model
    )
    try:
        if target is None:
            raise RequestError(400, "invalid_request_error", "the model could not be replaced")
        routed_info = adapter.read_request(method, target.subpath, headers, target.body)
    except RequestError as exc:
        skipped = replace(decision, mode="skipped", why=(f"not routable: {exc.message}",))
        return Plan(replace(routed, decision=skipped), info, body, wire_subpath)
    return Plan(routed, routed_info, target.body, target.wire_subpath)


def _translated(
    routed: RoutedCall, parsed: dict[str, object], routes: Mapping[str, ProviderRoute], query: str
) -> Plan:
    """The enforced decision to use another provider's model, translated."""
    decision, info = routed.decision, routed.requested
    keep = Plan(None, info, routed.body, routed.wire_subpath)
    route = routes.get(decision.to_provider)
    # An answer no longer than the requested model could give, within the target's cap.
    cap = min(max_output_tokens(decision.from_model), max_output_tokens(decision.to_model))
    try:
        if route is None or not route.credential:
            # A call that cannot but fail would only add a round trip before the fallback.
            raise Untranslatable(f"no credential is set up for {decision.to_provider}")
        translation = translate(
            decision.from_provider,
            decision.to_provider,
            info.operation,
            parsed,
            decision.to_model,
            cap,
            query,
        )
        call = translation.upstream
        sent = route.adapter.read_request("POST", call.subpath, {}, call.body)
    except (Untranslatable, RequestError) as exc:
        why = exc.message if isinstance(exc, RequestError) else str(exc)
        skipped = replace(decision, mode="skipped", why=(f"not routable: {why}",))
        return replace(keep, routed=replace(routed, decision=skipped))
    cross = CrossProvider(route, translation)
    return Plan(replace(routed, cross=cross), sent, call.body, call.wire_subpath)
