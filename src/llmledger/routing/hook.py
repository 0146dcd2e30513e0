"""Routing as the gateway calls it: decide before the reservation, account at settle."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

import orjson

from llmledger.gateway.attribution import Attribution
from llmledger.guardrails.book import BudgetBook
from llmledger.ledger.event import UsageEvent
from llmledger.ledger.store import Store
from llmledger.pricing import PriceCatalog
from llmledger.providers.base import ProviderAdapter, RequestError, RequestInfo
from llmledger.routing.decide import RouteDecision, Router
from llmledger.routing.fill import BudgetFill
from llmledger.routing.rewrite import rewrite
from llmledger.routing.rules import RoutingSettings

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
    (routed), or what the target would have cost (shadow), and the reasons, in `detail`."""
    record = decision.record()
    if decision.mode == "enforce" and fallback is None:
        requested = 0
        if event.usage:
            requested = catalog.quote(
                event.usage, event.provider, decision.from_model, event.ts, info.attributes
            ).total_nanos
        event.model_requested = decision.from_model
        event.routed_from = decision.from_model
        event.requested_cost_nanos = requested
        record["requested_cost_nanos"] = requested
        record["saved_nanos"] = requested - event.cost_nanos
    elif decision.mode == "shadow" and event.usage and 200 <= (event.http_status or 0) < 300:
        quote = catalog.quote(
            event.usage, event.provider, decision.to_model, event.ts, info.attributes
        )
        if not quote.unpriced:
            record["would_cost_nanos"] = quote.total_nanos
            record["saved_nanos"] = event.cost_nanos - quote.total_nanos
    if fallback is not None:
        record["fallback"] = fallback
    event.detail = orjson.dumps({"routing": record}).decode()


@dataclass(frozen=True, slots=True)
class RoutedCall:
    """A call a rule decided on, with what the caller sent (for the fallback)."""

    decision: RouteDecision
    requested: RequestInfo
    body: bytes
    wire_subpath: str
    who: Attribution
    fallback: str | None = None

    def falling_back(self, why: str) -> RoutedCall:
        """The retry at the requested model after the routed call failed."""
        return replace(
            self, decision=replace(self.decision, mode="fallback", why=(why,)), fallback=why
        )


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
) -> Plan:
    """What to send: the caller's request, or (enforced) the same request at the target."""
    unchanged = Plan(None, info, body, wire_subpath)
    decision = await hook.decide(provider, info, body, headers, who, now, allows_model)
    if decision is None:
        return unchanged
    routed = RoutedCall(decision, info, body, wire_subpath, who)
    if not decision.routes or decision.body is None:
        return Plan(routed, info, body, wire_subpath)
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
