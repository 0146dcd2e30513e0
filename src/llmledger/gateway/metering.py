"""Prices on the gateway: the worst-case reservation and the settled event."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from llmledger.gateway.attribution import Attribution
from llmledger.ledger.event import EventFlag, EventSource, EventStatus, UsageEvent
from llmledger.metering import line_costs
from llmledger.pricing import PriceCatalog
from llmledger.providers.base import Metered, RequestInfo
from llmledger.usage import MAX_QUANTITY, Usage, UsageType


def worst_case(
    catalog: PriceCatalog, provider: str, info: RequestInfo, at: datetime
) -> tuple[int, bool]:
    """The most the request can cost (input bound plus its output cap) and whether the
    model is priced. An unpriced model reserves nothing: policy decides if it may pass."""
    if not info.billable:
        return 0, True
    cap = info.max_output_tokens or catalog.max_output_tokens(provider, info.model)
    bound = info.input_upper_bound + Usage({UsageType.OUTPUT_TOKENS: Decimal(cap)})
    quote = catalog.quote(bound, provider, info.model, at, info.attributes)
    return quote.total_nanos, not quote.unpriced


def new_event(
    request_id: str,
    at: datetime,
    provider: str,
    info: RequestInfo,
    who: Attribution,
    reserved: int,
) -> UsageEvent:
    return UsageEvent(
        id=request_id,
        ts=at,
        provider=provider,
        model_requested=info.model,
        source=EventSource.GATEWAY,
        status=EventStatus.RESERVED,
        department=who.department,
        project=who.project,
        agent=who.agent,
        key_id=who.key_id,
        end_user=who.end_user,
        operation=info.operation,
        reserved_nanos=reserved,
    )


def plausible(usage: Usage) -> tuple[Usage, bool]:
    """`usage` without quantities no real call has (an upstream that lies about usage)."""
    if all(q <= MAX_QUANTITY for q in usage.values()):
        return usage, False
    return Usage({t: q for t, q in usage.items() if q <= MAX_QUANTITY}), True


def settled(
    catalog: PriceCatalog,
    event: UsageEvent,
    info: RequestInfo,
    metered: Metered,
    status: int,
    latency_ms: int,
) -> UsageEvent:
    """`event` with its real usage, cost and outcome."""
    event.model_used = metered.model_used or info.model
    usage, implausible = plausible(metered.usage)
    event.usage = usage
    if implausible:
        event.flags |= EventFlag.ESTIMATED
        event.detail = "the upstream reported an implausible usage; the quantity was ignored"
    event.http_status = status
    event.latency_ms = latency_ms
    if usage:
        quote = catalog.quote(usage, event.provider, event.model_used, event.ts, info.attributes)
        event.costs, flags = line_costs(quote)
        event.flags |= flags
    if metered.estimated:
        event.flags |= EventFlag.ESTIMATED
    event.status = EventStatus.SETTLED if 200 <= status < 300 else EventStatus.FAILED
    return event
