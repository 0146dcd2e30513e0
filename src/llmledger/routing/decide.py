"""Rule matching: which rule (if any) applies to a call, and whether it may be routed.

`Router.decide` runs on the gateway's hot path after the request is read and before the
budget reservation. It costs nothing for calls no rule names; for the others it parses
the body once, scores it, checks the rule's conditions and the capability guard, and
returns a `RouteDecision` whose reasons are recorded on the event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fnmatch import fnmatchcase
from zoneinfo import ZoneInfo

import orjson

from llmledger.gateway.attribution import Attribution
from llmledger.providers.base import RequestInfo
from llmledger.routing.capabilities import capabilities
from llmledger.routing.guard import missing
from llmledger.routing.request import read_needs, read_text
from llmledger.routing.rules import RoutingRule, RoutingSettings, effective_mode, parse_hours
from llmledger.routing.scorer import Score, score
from llmledger.routing.translate import refusal as untranslatable

#: Operations whose request is a conversation a smaller model can answer.
ROUTABLE = frozenset(
    {
        "chat.completions",
        "responses",
        "messages",
        "generateContent",
        "streamGenerateContent",
        "Converse",
        "ConverseStream",
    }
)
_SPECIFICITY = {"agent": 0, "key": 1, "project": 2, "department": 3, "org": 4}


@dataclass(frozen=True, slots=True)
class RouteDecision:
    mode: str
    """``enforce`` (send to `to_model`), ``shadow`` (record only) or ``skipped``."""
    rule: str
    from_model: str
    to_model: str
    to_provider: str
    score: Score | None
    why: tuple[str, ...]
    """Why the rule applied, or (skipped) why it did not."""
    body: dict[str, object] | None = None
    from_provider: str = ""
    """The provider of `from_model` (the caller's API family)."""

    @property
    def cross_provider(self) -> bool:
        return bool(self.from_provider) and self.to_provider != self.from_provider

    @property
    def routes(self) -> bool:
        return self.mode == "enforce"

    def record(self) -> dict[str, object]:
        """The decision as recorded in the event's ``detail`` under ``routing``."""
        out: dict[str, object] = {
            "mode": self.mode,
            "rule": self.rule,
            "from": self.from_model,
            "to": self.to_model,
        }
        if self.cross_provider:
            out["from_provider"], out["to_provider"] = self.from_provider, self.to_provider
        if self.score is not None:
            out["score"] = self.score.value
            out["tier"] = self.score.tier
            out["score_reasons"] = list(self.score.reasons)
        out["why"] = list(self.why)
        return out


def _in_scope(rule_scope: str, who: Attribution) -> bool:
    return rule_scope in who.scopes()


def _excluded(rule: RoutingRule, who: Attribution) -> bool:
    path = f"{who.department}/{who.project}/{who.agent}"
    return bool(who.agent) and (who.agent in rule.exclude_agents or path in rule.exclude_agents)


def _in_hours(text: str, now: datetime, zone: ZoneInfo) -> bool:
    start, end = parse_hours(text)
    hour = now.astimezone(zone).hour
    return start <= hour < end if start < end else (hour >= start or hour < end)


class Router:
    """Routing settings compiled for the hot path (one per application)."""

    def __init__(self, settings: RoutingSettings, zone: ZoneInfo) -> None:
        self.settings = settings
        self.zone = zone
        live = [r for r in settings.rules if effective_mode(settings.mode, r.mode) != "off"]
        live.sort(key=lambda r: _SPECIFICITY[r.scope.partition(":")[0]])
        self.rules: tuple[RoutingRule, ...] = tuple(live)
        self.uses_budget_fill = any(r.when.budget_fill_above is not None for r in live)

    def candidates(self, model: str, who: Attribution) -> list[RoutingRule]:
        return [
            r
            for r in self.rules
            if (r.from_model == model or fnmatchcase(model, r.from_model))
            and _in_scope(r.scope, who)
        ]

    def decide(
        self,
        provider: str,
        info: RequestInfo,
        body: bytes,
        headers: Mapping[str, str],
        who: Attribution,
        now: datetime,
        allows_model: Callable[[str], bool],
        fill: Decimal | None = None,
    ) -> RouteDecision | None:
        if not self.rules or info.operation not in ROUTABLE:
            return None
        rules = self.candidates(info.model, who)
        if not rules:
            return None
        first = rules[0]
        if headers.get(self.settings.opt_out_header, "").strip().lower() == "off":
            return self._skip(first, info, None, f"opted out ({self.settings.opt_out_header})")
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(parsed, dict):
            return None
        text = read_text(parsed)
        chars = info.features.get("prompt_chars")
        prompt_chars = chars if isinstance(chars, int) else text.prompt_chars
        needs = read_needs(parsed, info, prompt_chars)
        rated = score(
            text,
            tools=needs.tools is not None,
            json_schema=needs.json_schema,
            reasoning=needs.reasoning,
        )
        skipped: RouteDecision | None = None
        for rule in rules:
            why = self._conditions(
                rule,
                rated,
                prompt_chars,
                needs.tools,
                needs.images,
                needs.audio,
                headers,
                now,
                fill,
            )
            if why[0] == "no":
                skipped = skipped or self._skip(rule, info, rated, why[1])
                continue
            target = rule.to_model
            caps = capabilities(target)
            to_provider = rule.to_provider or (caps.provider if caps else provider)
            refusal = None
            if _excluded(rule, who):
                refusal = f"agent {who.agent!r} is excluded"
            elif to_provider != provider and not rule.cross_provider(
                self.settings.allow_cross_provider
            ):
                refusal = "cross-provider routing is not allowed by the rule"
            elif caps is None:
                refusal = f"capabilities of {target!r} are unknown"
            elif not allows_model(target):
                refusal = f"this key may not use {target!r}"
            else:
                refusal = missing(needs, caps, target)
                if refusal is None and to_provider != provider:
                    refusal = untranslatable(provider, to_provider, info.operation, parsed)
            if refusal is not None:
                skipped = skipped or self._skip(rule, info, rated, refusal)
                continue
            mode = effective_mode(self.settings.mode, rule.mode)
            return RouteDecision(
                mode,
                rule.name,
                info.model,
                target,
                to_provider,
                rated,
                tuple(why[1:]) or ("the rule has no conditions",),
                parsed,
                provider,
            )
        return skipped

    def _conditions(
        self,
        rule: RoutingRule,
        rated: Score,
        prompt_chars: int,
        tools: tuple[str, ...] | None,
        images: bool,
        audio: bool,
        headers: Mapping[str, str],
        now: datetime,
        fill: Decimal | None,
    ) -> tuple[str, ...]:
        """("yes", reasons...) when every condition holds, else ("no", the first failing)."""
        when = rule.when
        held: list[str] = ["yes"]
        if when.max_complexity is not None:
            if rated.value >= when.max_complexity:
                return ("no", f"complexity {rated.value} >= {when.max_complexity}")
            held.append(f"complexity {rated.value} < {when.max_complexity}")
        if when.max_prompt_chars is not None:
            if prompt_chars > when.max_prompt_chars:
                return ("no", f"prompt {prompt_chars} chars > {when.max_prompt_chars}")
            held.append(f"prompt {prompt_chars} chars")
        if when.no_tools and tools is not None:
            return ("no", "the request declares tools")
        if when.tools_subset is not None and tools is not None:
            extra = sorted(set(tools) - set(when.tools_subset))
            if extra:
                return ("no", f"tools outside the allowed set: {', '.join(extra)[:200]}")
        if when.no_images and images:
            return ("no", "the request has image input")
        if when.no_audio and audio:
            return ("no", "the request has audio input")
        if when.task_tag is not None:
            tag = headers.get(self.settings.task_tag_header, "").strip()
            if tag not in when.task_tag:
                return ("no", f"task tag {tag[:40]!r} not in {when.task_tag}")
            held.append(f"task tag {tag!r}")
        if when.hours is not None:
            if not _in_hours(when.hours, now, self.zone):
                return ("no", f"outside hours {when.hours}")
            held.append(f"within hours {when.hours}")
        if when.budget_fill_above is not None:
            level = fill
            if level is None or level <= when.budget_fill_above:
                shown = "no budget" if level is None else f"budget at {level:.0%}"
                return ("no", f"{shown}, not above {when.budget_fill_above:.0%}")
            held.append(f"budget at {level:.0%} > {when.budget_fill_above:.0%}")
        return tuple(held)

    @staticmethod
    def _skip(rule: RoutingRule, info: RequestInfo, rated: Score | None, why: str) -> RouteDecision:
        return RouteDecision("skipped", rule.name, info.model, rule.to_model, "", rated, (why,))
