"""Routing rules as the operator writes them under ``[routing]`` / ``[[routing.rules]]``.

A rule says: for calls in ``scope`` that ask for ``from_model``, when every condition in
``when`` holds, use ``to_model`` instead (``enforce``) or only record what that would have
saved (``shadow``). The first matching rule of the most specific scope wins.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from llmledger.guardrails.scopes import ScopeError, parse_scope

Mode = Literal["off", "shadow", "enforce"]
MODE_ORDER: dict[str, int] = {"off": 0, "shadow": 1, "enforce": 2}
_HOURS = re.compile(r"^(\d{1,2})(?::00)?-(\d{1,2})(?::00)?$")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


def parse_hours(text: str) -> tuple[int, int]:
    """``"9-17"`` or ``"22:00-06:00"``: start hour inclusive, end hour exclusive (wraps)."""
    match = _HOURS.match(text.strip())
    if match is None:
        raise ValueError(f"hours {text!r}: write START-END in whole hours, e.g. 9-17 or 22-6")
    start, end = int(match.group(1)), int(match.group(2))
    if not (0 <= start <= 23 and 0 <= end <= 24) or start == end:
        raise ValueError(f"hours {text!r}: hours run 0-24 and the range must not be empty")
    return start, end


class RuleConditions(_Section):
    max_complexity: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Route only when the request's complexity score (0-1) is below this.",
    )
    max_prompt_chars: int | None = Field(
        None, ge=0, description="Route only when the prompt has at most this many characters."
    )
    no_tools: bool = Field(False, description="Route only requests that declare no tools.")
    tools_subset: list[str] | None = Field(
        None, description="Route only when every declared tool is one of these names."
    )
    no_images: bool = Field(False, description="Route only requests without image input.")
    no_audio: bool = Field(False, description="Route only requests without audio input.")
    task_tag: list[str] | None = Field(
        None, description="Route only when the task-tag header is one of these values."
    )
    hours: str | None = Field(
        None, description='Route only in these hours, organisation time (e.g. "9-17", "22-6").'
    )
    budget_fill_above: Decimal | None = Field(
        None,
        ge=0,
        le=1,
        description="Route only when a budget over the caller is filled above this fraction "
        "(a budget-aware downgrade instead of a block).",
    )

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value is not None:
            parse_hours(value)
        return value


class RoutingRule(_Section):
    name: str = Field(description="Name of the rule, recorded on every event it decides.")
    scope: str = Field(
        "org",
        description="Calls the rule applies to: org, department:D, project:D/P, "
        "agent:D/P/A or key:ID.",
    )
    from_model: str = Field(
        description="Requested model the rule applies to (exact id, or a glob such as gpt-4o*)."
    )
    to_model: str = Field(description="Model to use instead.")
    to_provider: str | None = Field(
        None, description="Provider of to_model when it differs (needs allow_cross_provider)."
    )
    when: RuleConditions = Field(
        default_factory=lambda: RuleConditions(), description="Conditions that must all hold."
    )
    mode: Mode = Field("shadow", description="off | shadow (record only) | enforce.")
    exclude_agents: list[str] = Field(
        default_factory=list, description="Agents (names or D/P/A paths) never routed by it."
    )
    allow_cross_provider: bool | None = Field(
        None,
        description="Allow a to_model of another provider (message formats translated); "
        "unset: as [routing] allow_cross_provider.",
    )

    @field_validator("to_provider")
    @classmethod
    def _provider(cls, value: str | None) -> str | None:
        # The Gemini API's provider id is "google"; its gateway prefix says "gemini".
        return "google" if value == "gemini" else value

    def cross_provider(self, default: bool) -> bool:
        """Whether the rule may send calls to another provider's model."""
        return default if self.allow_cross_provider is None else self.allow_cross_provider

    @field_validator("scope")
    @classmethod
    def _scope(cls, value: str) -> str:
        try:
            return parse_scope(value).text
        except ScopeError as exc:
            raise ValueError(str(exc)) from None


class RoutingSettings(_Section):
    mode: Mode = Field(
        "enforce",
        description="Most any rule may do: off disables routing, shadow turns "
        "every enforce rule into shadow, enforce lets each rule's own mode stand.",
    )
    opt_out_header: str = Field(
        "x-route", description='Request header that, set to "off", exempts the call.'
    )
    task_tag_header: str = Field(
        "x-task", description="Request header carrying the caller's task tag."
    )
    allow_cross_provider: bool = Field(
        False,
        description="Let rules send calls to another provider's model, the message "
        "formats translated (a rule's own allow_cross_provider wins).",
    )
    rules: list[RoutingRule] = Field(
        default_factory=list, description="Routing rules, tried most specific scope first."
    )

    @field_validator("opt_out_header", "task_tag_header")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.strip().lower()


def effective_mode(ceiling: Mode, rule: Mode) -> Mode:
    """The lesser of the global ceiling and the rule's own mode."""
    return ceiling if MODE_ORDER[ceiling] < MODE_ORDER[rule] else rule
