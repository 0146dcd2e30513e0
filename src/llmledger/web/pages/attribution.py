"""``/attribution``: department -> project -> agent with token-type columns, outcomes and cost
per outcome (see `attribution_roi`), and its CSV."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from starlette.responses import Response

from llmledger.money import format_usd
from llmledger.web.api import figures, hierarchy
from llmledger.web.api.deps import RuntimeDep
from llmledger.web.auth.guard import PageUser
from llmledger.web.auth.principal import Principal
from llmledger.web.pages import attribution_roi, presets
from llmledger.web.pages.format import label
from llmledger.web.pages.modality import costs_nanos, quantities
from llmledger.web.pages.render import render

router = APIRouter(include_in_schema=False)

#: (key, heading, kind) of every column after the name, in table order.
COLUMNS = (
    ("cost", "Cost", "usd"),
    ("requests", "Requests", "qty"),
    ("text_tokens", "Text tokens", "qty"),
    ("cached_tokens", "Cached tokens", "qty"),
    ("images", "Images", "qty"),
    ("audio_seconds", "Audio s", "qty"),
    ("video_seconds", "Video s", "qty"),
    ("text_cost", "Text $", "usd"),
    ("images_cost", "Images $", "usd"),
    ("audio_cost", "Audio $", "usd"),
    ("video_cost", "Video $", "usd"),
)
SORTS = {"name"} | {c[0] for c in COLUMNS}
LEVEL_KEYS = ("department", "project", "agent")


@dataclass(frozen=True, slots=True)
class View:
    """What the table shows: the period, filters and order (the CSV repeats it)."""

    start: str
    end: str
    preset: str
    provider: str
    model: str
    sort: str
    desc: bool

    def link(self, extra: dict[str, str]) -> str:
        """The query string of this view with some parameters changed."""
        params: dict[str, str] = (
            {"from": self.start, "to": self.end}
            if self.preset == "custom"
            else {"period": self.preset}
        )
        params.update(
            {
                "provider": self.provider,
                "model": self.model,
                "sort": self.sort,
                "order": "desc" if self.desc else "asc",
            }
        )
        params.update(extra)
        return urlencode({k: v for k, v in params.items() if v})


def _values(node: dict[str, Any]) -> dict[str, Decimal]:
    q = quantities(node["usage"])
    c = costs_nanos(node["usage_cost_usd"])
    return {
        "cost": Decimal(node.get("cost_usd") or node["total_usd"]),
        "requests": Decimal(node["requests"]),
        **q,
        **{f"{k}_cost": Decimal(format_usd(c[k])) for k in ("text", "images", "audio", "video")},
    }


def flatten(tree: dict[str, Any], view: View) -> list[dict[str, Any]]:
    """Rows in display order; each level sorted by the chosen column."""
    out: list[dict[str, Any]] = []

    def walk(
        nodes: list[dict[str, Any]],
        depth: int,
        parent: str,
        prefix: list[str],
        raw: tuple[str, ...],
    ) -> None:
        key = LEVEL_KEYS[depth]
        rows = [(n, _values(n)) for n in nodes]
        if view.sort == "name":
            rows.sort(key=lambda p: label(p[0][key]).lower(), reverse=view.desc)
        else:
            rows.sort(key=lambda p: p[1][view.sort], reverse=view.desc)
        for i, (node, values) in enumerate(rows):
            row_id = f"{parent}-{i}" if parent else f"r{i}"
            children = node.get(LEVEL_KEYS[depth + 1] + "s", []) if depth < 2 else []
            out.append(
                {
                    "id": row_id,
                    "parent": parent,
                    "level": depth,
                    "name": label(node[key]),
                    "values": values,
                    "path": [*prefix, label(node[key])],
                    "scope": (*raw, str(node[key] or "")),
                    "has_children": bool(children),
                }
            )
            if children:
                walk(
                    children,
                    depth + 1,
                    row_id,
                    [*prefix, label(node[key])],
                    (*raw, str(node[key] or "")),
                )

    walk(tree["departments"], 0, "", [], ())
    return out


async def _load(
    request: Request,
    runtime: RuntimeDep,
    principal: Principal,
    period: str,
    from_: str | None,
    to: str | None,
    provider: str,
    model: str,
    sort: str,
    order: str,
) -> tuple[View, dict[str, Any], list[dict[str, Any]]]:
    if sort not in SORTS:
        raise HTTPException(422, f"sort: one of {', '.join(sorted(SORTS))}")
    if order not in ("asc", "desc"):
        raise HTTPException(422, "order: asc or desc")
    fy = runtime.settings.organisation.fiscal_year_start_month
    if from_ or to:
        start, end, key = from_, to, "custom"
    else:
        chosen = presets.find(period, runtime.today(), fy)
        if chosen is None:
            raise HTTPException(422, "period: 1m, last, 3m, ytd, 12m (or from/to)")
        start, end, key = chosen.start.isoformat(), chosen.end.isoformat(), chosen.key
    tree = await hierarchy.get_hierarchy(
        runtime,
        principal,
        from_=start,
        to=end,
        department=None,
        project=None,
        provider=provider or None,
        model=model or None,
    )
    view = View(str(tree["from"]), str(tree["to"]), key, provider, model, sort, order == "desc")
    rows = flatten(tree, view)
    # the same period as the table; the ROI API's own call, so the figures are its figures
    cells = await attribution_roi.outcome_cells(runtime, principal, view.start, view.end)
    for row in rows:
        row["outcomes"] = cells.get(row["scope"], [])
    return view, tree, rows


@router.get("/attribution")
async def attribution(
    request: Request,
    runtime: RuntimeDep,
    principal: PageUser,
    period: str = "1m",
    to: str | None = None,
    provider: str = "",
    model: str = "",
    sort: str = "cost",
    order: str = "desc",
) -> Response:
    view, tree, rows = await _load(
        request,
        runtime,
        principal,
        period,
        request.query_params.get("from"),
        to,
        provider,
        model,
        sort,
        order,
    )
    scope = principal.filters()
    options = await figures.get_costs(
        runtime,
        principal.actor,
        group_by="provider,model",
        from_=view.start,
        to=view.end,
        department=scope.get("department"),
        project=scope.get("project"),
        agent=None,
        provider=None,
        model=None,
    )
    opts: list[dict[str, str]] = options["rows"]  # type: ignore[assignment]
    context = {
        "view": view,
        "link": view.link,
        "tree": tree,
        "rows": rows,
        "columns": COLUMNS,
        "outcome_columns": attribution_roi.HEADINGS,
        "providers": sorted({r["provider"] for r in opts} | ({provider} - {""})),
        "models": sorted({r["model"] for r in opts} | ({model} - {""})),
        "periods": presets.presets(
            runtime.today(), runtime.settings.organisation.fiscal_year_start_month
        ),
        "total": _values(tree),
    }
    template = "_attribution.html" if request.headers.get("hx-request") else "attribution.html"
    return render(request, template, context, principal=principal)


@router.get("/attribution.csv")
async def attribution_csv(
    request: Request,
    runtime: RuntimeDep,
    principal: PageUser,
    period: str = "1m",
    to: str | None = None,
    provider: str = "",
    model: str = "",
    sort: str = "cost",
    order: str = "desc",
) -> Response:
    """The rows the table shows, in its order, with exact amounts (USD decimal strings)."""
    view, tree, rows = await _load(
        request,
        runtime,
        principal,
        period,
        request.query_params.get("from"),
        to,
        provider,
        model,
        sort,
        order,
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "level",
            "department",
            "project",
            "agent",
            *(c[0] for c in COLUMNS),
            *attribution_roi.CSV_COLUMNS,
        ]
    )
    exact = _exact_rows(tree)
    for row in rows:
        path = row["path"] + [""] * (3 - len(row["path"]))
        values = exact[tuple(row["path"])]
        writer.writerow(
            [
                LEVEL_KEYS[row["level"]],
                *path,
                *(values[c[0]] for c in COLUMNS),
                *attribution_roi.csv_values(row["outcomes"]),
            ]
        )
    name = f"attribution_{view.start}_{view.end}.csv"
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "cache-control": "no-store",
        },
    )


def _exact_rows(tree: dict[str, Any]) -> dict[tuple[str, ...], dict[str, str]]:
    out: dict[tuple[str, ...], dict[str, str]] = {}

    def walk(nodes: list[dict[str, Any]], depth: int, prefix: tuple[str, ...]) -> None:
        for node in nodes:
            path = (*prefix, label(node[LEVEL_KEYS[depth]]))
            q = quantities(node["usage"])
            c = costs_nanos(node["usage_cost_usd"])
            out[path] = {
                "cost": node["cost_usd"],
                "requests": str(node["requests"]),
                **{k: format(v.normalize(), "f") if v else "0" for k, v in q.items()},
                **{f"{k}_cost": format_usd(c[k]) for k in ("text", "images", "audio", "video")},
            }
            if depth < 2:
                walk(node.get(LEVEL_KEYS[depth + 1] + "s", []), depth + 1, path)

    walk(tree["departments"], 0, ())
    return out
