"""``/anomalies``: the detectors' records, their evidence charted, and what to do about them.

The page reads and changes anomalies through the admin API's own handlers
(`llmledger.web.api.anomalies`), so its figures, scoping and permissions are the API's.
"""

from __future__ import annotations

from datetime import datetime, timedelta, tzinfo
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from llmledger.anomalies.flags import KINDS
from llmledger.anomalies.records import STATUSES
from llmledger.ledger.users import Role
from llmledger.money import cents, usd_to_nanos
from llmledger.web.api import anomalies as api
from llmledger.web.api.deps import RuntimeDep
from llmledger.web.auth.guard import PageUser, check_form_csrf
from llmledger.web.auth.principal import Principal
from llmledger.web.pages.render import render

router = APIRouter(include_in_schema=False)
KIND_LABELS = {
    "spend_spike": "Spend spike",
    "modality_shift": "Modality shift",
    "new_model": "New model",
    "runaway_agent": "Runaway agent",
}
#: Roles that may acknowledge, resolve and mute (an owner within their scope: the API
#: checks each scope again, and an owner is only shown their own scope's anomalies).
ACTORS = frozenset({Role.ADMIN, Role.FINANCE, Role.OWNER})
MAX_NOTE = 2000


def may_act(principal: Principal) -> bool:
    return principal.role in ACTORS


def _moment(iso: str, zone: tzinfo) -> datetime:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(zone)


def local_hour(iso: str, zone: tzinfo) -> str:
    """``"2026-03-18 11:00 EDT"``: an hour in the organisation's time zone."""
    moment = _moment(iso, zone)
    return f"{moment:%Y-%m-%d %H:%M} {moment.tzname() or ''}".strip()


def series_label(series: str) -> str:
    """What `evidence.series` draws, in words."""
    kind, _, what = series.partition(":")
    if kind == "usage":
        return f"Spend on {what.replace('_', ' ')}"
    if kind == "model":
        return f"Spend on {what}"
    return "Spend"


def subject(anomaly: dict[str, Any]) -> str:
    """The usage type or model an anomaly is about ("" for a scope's whole spend)."""
    detail = anomaly["evidence"].get("detail") or {}
    usage_type = anomaly.get("usage_type") or ""
    if usage_type:
        return str(usage_type).replace("_", " ")
    model = detail.get("model")
    return str(model) if model else ""


def chart(anomaly: dict[str, Any], zone: tzinfo) -> dict[str, Any]:
    """The hourly series around an anomaly: its context (the 24 hours before included)
    with the anomalous hours' observed and expected amounts laid over it.

    Amounts stay the API's exact decimal strings; the browser turns them into numbers only
    to draw."""
    evidence = anomaly["evidence"]
    hours: dict[str, tuple[str, str | None]] = {}
    for c in evidence["context"]:
        hours[c["hour"]] = (c["observed_usd"], None)
    for p in evidence["points"]:
        hours[p["hour"]] = (p["observed_usd"], p["expected_usd"])
    ordered = sorted(hours, key=lambda h: _moment(h, zone))
    labels = []
    for h in ordered:
        moment = _moment(h, zone)
        labels.append(f"{moment:%b} {moment.day} {moment:%H:%M}")
    return {
        "kind": "anomaly",
        "name": series_label(str(evidence["series"])),
        "labels": labels,
        "observed": [hours[h][0] for h in ordered],
        "expected": [hours[h][1] for h in ordered],
    }


def describe(anomaly: dict[str, Any], zone: tzinfo, principal: Principal) -> dict[str, Any]:
    """One anomaly as the table shows it."""
    status = anomaly["status"]
    return {
        **anomaly,
        "kind_label": KIND_LABELS.get(anomaly["kind"], anomaly["kind"]),
        "subject": subject(anomaly),
        "started_local": local_hour(anomaly["started_at"], zone),
        "last_seen_local": local_hour(anomaly["last_seen_at"], zone),
        "observed": cents(usd_to_nanos(anomaly["observed_usd"])),
        "expected": cents(usd_to_nanos(anomaly["expected_usd"])),
        "impact": cents(usd_to_nanos(anomaly["impact_usd"])),
        "chart": chart(anomaly, zone),
        "may_acknowledge": may_act(principal) and status == "open",
        "may_resolve": may_act(principal) and status != "resolved",
        "may_mute": may_act(principal),
    }


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in STATUSES}
    open_impact = sum(usd_to_nanos(r["impact_usd"]) for r in rows if r["status"] == "open")
    return {"counts": counts, "open_impact": cents(open_impact)}


def mute_end(iso: str, zone: tzinfo) -> str:
    """A mute to the end of a local date reads as that date; any other end as its hour."""
    moment = _moment(iso, zone)
    if (moment.hour, moment.minute, moment.second) == (0, 0, 0):
        day = (moment - timedelta(hours=12)).date()
        return f"end of {day.day} {day:%b %Y}"
    return local_hour(iso, zone)


def describe_mutes(mutes: list[dict[str, Any]], zone: tzinfo) -> list[dict[str, Any]]:
    return [{**m, "until_local": mute_end(str(m["until"]), zone)} for m in mutes]


async def _listing(
    runtime: RuntimeDep, principal: Principal, given: dict[str, str]
) -> dict[str, Any]:
    data: dict[str, Any] = await api.list_all(
        runtime,
        principal,
        since=given["since"] or None,
        status=given["status"] or None,
        kind=given["kind"] or None,
    )
    zone = runtime.settings.organisation.zone
    rows = [describe(a, zone, principal) for a in data["anomalies"]]
    return {
        "anomalies": rows,
        "summary": summary(rows),
        "mutes": describe_mutes(data["mutes"], zone),
    }


@router.get("/anomalies")
async def anomalies_page(
    request: Request,
    runtime: RuntimeDep,
    principal: PageUser,
    since: str = "",
    status: str = "",
    kind: str = "",
) -> Response:
    given = {"since": since[:40], "status": status[:40], "kind": kind[:40]}
    context = await _listing(runtime, principal, given)
    kinds = {k: KIND_LABELS.get(k, k) for k in KINDS}
    context.update(
        {
            "given": given,
            "statuses": STATUSES,
            "kinds": kinds,
            "may_act": may_act(principal),
            "mute_scope": principal.scope if principal.role is Role.OWNER else "",
        }
    )
    template = "_anomalies_view.html" if request.headers.get("hx-request") else "anomalies.html"
    return render(request, template, context, principal=principal)


def _note(fields: dict[str, str], required: bool) -> str | None:
    note = fields.get("note", "").strip()
    if len(note) > MAX_NOTE:
        raise HTTPException(422, f"note: at most {MAX_NOTE:,} characters")
    if required and not note:
        raise HTTPException(422, "acknowledging needs a note: what caused it, who looks after it")
    return note or None


def _changed(
    request: Request, runtime: RuntimeDep, principal: Principal, anomaly: dict[str, object]
) -> Response:
    if not request.headers.get("hx-request"):
        return RedirectResponse("/anomalies", 303)
    row = describe(anomaly, runtime.settings.organisation.zone, principal)
    context = {"a": row, "expanded": True, "just_changed": True}
    return render(request, "_anomalies_row.html", context, principal=principal)


@router.post("/anomalies/{anomaly_id}/acknowledge")
async def acknowledge(
    anomaly_id: str, request: Request, runtime: RuntimeDep, principal: PageUser
) -> Response:
    fields = await check_form_csrf(request, principal)
    note = _note(fields, required=True)
    assert note is not None
    changed = await api.acknowledge(
        anomaly_id[:100], api.Acknowledge(note=note), runtime, principal
    )
    return _changed(request, runtime, principal, changed)


@router.post("/anomalies/{anomaly_id}/resolve")
async def resolve(
    anomaly_id: str, request: Request, runtime: RuntimeDep, principal: PageUser
) -> Response:
    fields = await check_form_csrf(request, principal)
    changed = await api.resolve(
        anomaly_id[:100], runtime, principal, api.Resolve(note=_note(fields, required=False))
    )
    return _changed(request, runtime, principal, changed)


@router.post("/anomalies/mutes")
async def mute(request: Request, runtime: RuntimeDep, principal: PageUser) -> Response:
    fields = await check_form_csrf(request, principal)
    try:
        body = api.MuteRequest(
            scope=fields.get("scope", "").strip(),
            until=fields.get("until", "").strip(),
            reason=fields.get("reason", "").strip(),
        )
    except ValidationError as exc:
        where = ".".join(str(p) for p in exc.errors()[0]["loc"])
        raise HTTPException(422, f"{where}: {exc.errors()[0]['msg']}") from None
    if not body.scope or not body.until:
        raise HTTPException(422, "a scope and a date are required")
    await api.mute(body, runtime, principal)
    if not request.headers.get("hx-request"):
        return RedirectResponse("/anomalies", 303)
    data: dict[str, Any] = await api.list_all(
        runtime, principal, since=None, status=None, kind=None
    )
    mutes = describe_mutes(data["mutes"], runtime.settings.organisation.zone)
    return render(
        request,
        "_anomalies_mutes.html",
        {
            "mutes": mutes,
            "may_act": may_act(principal),
            "mute_scope": principal.scope if principal.role is Role.OWNER else "",
            "just_muted": body.scope,
        },
        principal=principal,
    )
