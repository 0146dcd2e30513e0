"""The usual causes of a difference between a provider's report and the ledger.

Each flagged day gets the causes its figures point to; the month gets their union, with
credits and missing reports added:

- ``bypassed_gateway``: the provider billed a model the ledger never saw that month, or
  billed more on one day than the ledger recorded while the other days agree: calls made
  with a provider key directly, not through the gateway;
- ``price_change``: from some day on, every day of a model is billed at the same ratio to
  the ledger's price: a price change or contract rate missing from the price catalog;
- ``unpriced``: the ledger holds calls of the model without a price (counted as $0);
- ``ledger_higher``: the ledger recorded more than was billed: calls that failed upstream
  but were settled, a free allowance, or a price cut not yet in the catalog;
- ``credits``: credits reduce the invoice; the comparison uses the amounts before them;
- ``missing_report``: the ledger has spend with a provider whose report is not imported.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from llmledger.money import cents, exact

if TYPE_CHECKING:
    from llmledger.reconcile.compare import Cell, DayLine

#: Ratios within this of each other are "the same ratio" (a rate, not noise).
RATIO_SPREAD = Decimal("0.005")
MIN_RATE_DAYS = 3


@dataclass(frozen=True, slots=True)
class Cause:
    kind: str
    provider: str
    model: str
    message: str

    def as_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "provider": self.provider,
            "model": self.model,
            "message": self.message,
        }


def _ratio(cell: Cell) -> Decimal:
    return exact().divide(Decimal(cell.invoice_nanos), Decimal(cell.ledger_nanos))


def rate_changes(cells: Sequence[Cell], tolerance: Decimal) -> dict[tuple[str, str], str]:
    """(provider, model) -> the first day from which every day is billed at one ratio to
    the ledger that is off by more than `tolerance` (at least `MIN_RATE_DAYS` days)."""
    series: dict[tuple[str, str], list[Cell]] = defaultdict(list)
    for c in cells:
        if c.ledger_nanos and c.invoice_nanos:
            series[(c.provider, c.model)].append(c)
    found: dict[tuple[str, str], str] = {}
    for key, days in series.items():
        days.sort(key=lambda c: c.day)
        tail: list[Cell] = []
        for cell in reversed(days):
            r = _ratio(cell)
            if abs(r - 1) <= tolerance or (tail and abs(r - _ratio(tail[-1])) > RATIO_SPREAD):
                break
            tail.append(cell)
        if len(tail) >= MIN_RATE_DAYS:
            found[key] = tail[-1].day
    return found


def explain(
    cells: Sequence[Cell],
    days: Sequence[DayLine],
    missing: Sequence[str],
    tolerance: Decimal = Decimal("0.01"),
) -> list[Cause]:
    ledger_models = {(c.provider, c.model) for c in cells if c.ledger_nanos}
    rates = rate_changes(cells, tolerance)
    month: dict[tuple[str, str, str], Cause] = {}
    for line in days:
        if not line.flagged:
            continue
        for cell in sorted(line.cells, key=lambda c: -abs(c.difference_nanos)):
            diff = cell.difference_nanos
            if abs(diff) <= tolerance * max(cell.ledger_nanos, cell.invoice_nanos):
                continue
            key = (cell.provider, cell.model)
            cause: Cause
            if diff > 0 and key not in ledger_models:
                cause = Cause(
                    "bypassed_gateway",
                    cell.provider,
                    cell.model,
                    f"{cell.provider} billed {cells_total(cells, key)} for "
                    f"{cell.model!r}, a model the gateway never recorded this month: "
                    "calls that bypassed the gateway (a provider key used directly)",
                )
            elif key in rates and cell.day >= rates[key]:
                r = _ratio(cell)
                cause = Cause(
                    "price_change",
                    cell.provider,
                    cell.model,
                    f"from {rates[key]} every day of {cell.provider} {cell.model} is "
                    f"billed at {(r * 100).quantize(Decimal('0.1'))}% of the ledger's "
                    "price: a price change or contract rate missing from the price "
                    "catalog (check with llmledger prices quote)",
                )
            elif diff > 0 and cell.unpriced_calls:
                cause = Cause(
                    "unpriced",
                    cell.provider,
                    cell.model,
                    f"{cell.unpriced_calls} calls of {cell.model} have no price in the "
                    "ledger and count as $0: add the model's price",
                )
            elif diff > 0:
                cause = Cause(
                    "bypassed_gateway",
                    cell.provider,
                    cell.model,
                    f"on {cell.day} {cell.provider} billed {cents(diff)} more for "
                    f"{cell.model} than the gateway recorded: calls that bypassed the "
                    "gateway that day (or usage recorded elsewhere)",
                )
            else:
                cause = Cause(
                    "ledger_higher",
                    cell.provider,
                    cell.model,
                    f"on {cell.day} the ledger recorded {cents(-diff)} more for "
                    f"{cell.model} than {cell.provider} billed: failed calls settled "
                    "as billed, a free allowance, or a price cut not yet in the catalog",
                )
            if cause not in line.causes:
                line.causes.append(cause)
            month.setdefault((cause.kind, cause.provider, cause.model), _month_cause(cause))
    out = list(month.values())
    credits: dict[str, int] = defaultdict(int)
    for c in cells:
        credits[c.provider] += c.credits_nanos
    for provider, amount in sorted(credits.items()):
        if amount:
            out.append(
                Cause(
                    "credits",
                    provider,
                    "",
                    f"{provider} applied {cents(amount)} of credits; the ledger "
                    "shows list prices, so the comparison uses amounts before credits",
                )
            )
    for provider in missing:
        out.append(
            Cause(
                "missing_report",
                provider,
                "",
                f"the ledger has {provider} spend this month but no {provider} report "
                "is imported (llmledger reconcile import FILE --provider "
                f"{provider})",
            )
        )
    return out


def cells_total(cells: Sequence[Cell], key: tuple[str, str]) -> str:
    return cents(sum(c.invoice_nanos for c in cells if (c.provider, c.model) == key))


def _month_cause(cause: Cause) -> Cause:
    if cause.kind == "bypassed_gateway" and cause.message.startswith("on "):
        return Cause(
            cause.kind,
            cause.provider,
            cause.model,
            f"{cause.provider} billed more for {cause.model} than the gateway recorded "
            "on some days while the others agree: calls that bypassed the gateway",
        )
    if cause.kind == "ledger_higher":
        return Cause(
            cause.kind,
            cause.provider,
            cause.model,
            f"the ledger recorded more for {cause.model} than {cause.provider} billed "
            "on some days: failed calls settled as billed, a free allowance, or a "
            "price cut not yet in the catalog",
        )
    return cause
