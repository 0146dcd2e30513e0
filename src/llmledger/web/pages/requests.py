"""``/requests``: the event log with every attribution filter, keyset-paginated."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

from llmledger.web.api import events
from llmledger.web.api.deps import RuntimeDep
from llmledger.web.auth.guard import PageUser
from llmledger.web.pages.render import render

router = APIRouter(include_in_schema=False)
FILTERS = (
    "department",
    "project",
    "agent",
    "key",
    "end_user",
    "provider",
    "model",
    "operation",
    "status",
    "from",
    "to",
)
PAGE = 50


@router.get("/requests")
async def requests_page(request: Request, runtime: RuntimeDep, principal: PageUser) -> Response:
    params = request.query_params
    given = {k: params.get(k, "")[:300] for k in FILTERS}
    cursor = params.get("cursor") or None
    if cursor is not None and len(cursor) > 600:
        raise HTTPException(422, "cursor: not a cursor returned by this page")
    page: dict[str, Any] = await events.get_events(
        runtime,
        principal,
        limit=PAGE,
        cursor=cursor,
        from_=given["from"] or None,
        to=given["to"] or None,
        **{k: (given[k] or None) for k in FILTERS if k not in ("from", "to")},
    )
    active = {k: v for k, v in given.items() if v}
    next_url = None
    if page["next_cursor"]:
        next_url = "/requests?" + urlencode({**active, "cursor": page["next_cursor"]})
    context = {
        "events": page["events"],
        "given": given,
        "active": active,
        "next_url": next_url,
        "first_url": "/requests?" + urlencode(active),
        "paged": cursor is not None,
        "statuses": sorted(events.STATUSES),
    }
    template = "_requests.html" if request.headers.get("hx-request") else "requests.html"
    return render(request, template, context, principal=principal)
