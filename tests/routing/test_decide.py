from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from llmledger.gateway.attribution import Attribution
from llmledger.providers.anthropic.adapter import AnthropicAdapter
from llmledger.providers.openai.adapter import OpenAIAdapter
from llmledger.routing.capabilities import capabilities
from llmledger.routing.decide import RouteDecision, Router
from llmledger.routing.rewrite import rewrite
from llmledger.routing.rules import RoutingSettings

WHO = Attribution("Engineering", "Backend", "coder", "k1", "")
NOON = datetime(2025, 3, 4, 17, 0, tzinfo=UTC)  # 12:00 in New York
HELLO: Any = [{"role": "user", "content": "What is the capital of France?"}]


def router(*rules: dict[str, Any], mode: str = "enforce") -> Router:
    from zoneinfo import ZoneInfo

    settings = RoutingSettings.model_validate({"mode": mode, "rules": list(rules)})
    return Router(settings, ZoneInfo("America/New_York"))


def decide(
    r: Router,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
    who: Attribution = WHO,
    fill: Decimal | None = None,
    provider: str = "openai",
) -> RouteDecision | None:
    raw = orjson.dumps(body)
    adapter = OpenAIAdapter() if provider == "openai" else AnthropicAdapter()
    path = "/v1/chat/completions" if provider == "openai" else "/v1/messages"
    info = adapter.read_request("POST", path, {}, raw)
    return r.decide(provider, info, raw, headers or {}, who, NOON, lambda m: True, fill)


RULE = {
    "name": "mini",
    "from_model": "gpt-4o*",
    "to_model": "gpt-4o-mini",
    "when": {"max_complexity": 0.3},
    "mode": "enforce",
}


def test_a_matching_rule_routes_with_reasons() -> None:
    d = decide(router(RULE), {"model": "gpt-4o", "messages": HELLO})
    assert d is not None and d.routes and d.to_model == "gpt-4o-mini"
    assert d.why[0].startswith("complexity ") and d.score is not None


def test_no_rule_for_the_model_costs_nothing() -> None:
    assert (
        decide(router(RULE | {"from_model": "gpt-4.1"}), {"model": "gpt-4o", "messages": HELLO})
        is None
    )


def test_global_shadow_caps_enforce_rules_and_off_disables() -> None:
    d = decide(router(RULE, mode="shadow"), {"model": "gpt-4o", "messages": HELLO})
    assert d is not None and d.mode == "shadow" and not d.routes
    assert decide(router(RULE, mode="off"), {"model": "gpt-4o", "messages": HELLO}) is None


@pytest.mark.parametrize(
    ("when", "body_extra", "headers", "why"),
    [
        (
            {"no_tools": True},
            {"tools": [{"type": "function", "function": {"name": "f"}}]},
            {},
            "the request declares tools",
        ),
        (
            {"tools_subset": ["lookup"]},
            {"tools": [{"type": "function", "function": {"name": "rm"}}]},
            {},
            "tools outside the allowed set: rm",
        ),
        ({"max_prompt_chars": 5}, {}, {}, "prompt 30 chars > 5"),
        ({"task_tag": ["faq"]}, {}, {"x-task": "coding"}, "task tag 'coding' not in ['faq']"),
        ({"hours": "22-6"}, {}, {}, "outside hours 22-6"),
    ],
)
def test_conditions_that_fail_are_recorded(
    when: dict[str, Any], body_extra: dict[str, Any], headers: dict[str, str], why: str
) -> None:
    d = decide(
        router(RULE | {"when": when}), {"model": "gpt-4o", "messages": HELLO} | body_extra, headers
    )
    assert d is not None and d.mode == "skipped" and d.why == (why,)


def test_task_tag_and_hours_that_hold_route() -> None:
    d = decide(
        router(RULE | {"when": {"task_tag": ["faq"], "hours": "9-17"}}),
        {"model": "gpt-4o", "messages": HELLO},
        {"x-task": "faq"},
    )
    assert d is not None and d.routes and d.why == ("task tag 'faq'", "within hours 9-17")


def test_budget_aware_downgrade() -> None:
    r = router(RULE | {"when": {"budget_fill_above": "0.8"}})
    body = {"model": "gpt-4o", "messages": HELLO}
    below = decide(r, body, fill=Decimal("0.5"))
    assert below is not None and below.mode == "skipped"
    assert below.why == ("budget at 50%, not above 80%",)
    above = decide(r, body, fill=Decimal("0.93"))
    assert above is not None and above.routes and above.why == ("budget at 93% > 80%",)


def test_opt_out_exclusion_and_cross_provider_are_refused() -> None:
    body = {"model": "gpt-4o", "messages": HELLO}
    opted = decide(router(RULE), body, {"x-route": "off"})
    assert opted is not None and opted.why == ("opted out (x-route)",)
    excluded = decide(router(RULE | {"exclude_agents": ["Engineering/Backend/coder"]}), body)
    assert excluded is not None and excluded.why == ("agent 'coder' is excluded",)
    cross = decide(router(RULE | {"to_model": "claude-haiku-4-5"}), body)
    assert cross is not None and cross.why == ("cross-provider routing is not allowed by the rule",)
    unknown = decide(router(RULE | {"to_model": "my-own-model"}), body)
    assert unknown is not None and unknown.why == ("capabilities of 'my-own-model' are unknown",)


def test_the_guard_checks_context_and_reasoning() -> None:
    rule = RULE | {"to_model": "gpt-3.5-turbo", "when": {}}
    long_prompt = [{"role": "user", "content": "word " * 20_000}]
    d = decide(router(rule), {"model": "gpt-4o", "messages": long_prompt})
    assert d is not None and d.why[0].startswith("gpt-3.5-turbo has a 16385-token window")
    thinking = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 2000,
        "messages": HELLO,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
    }
    rule = {"name": "h", "from_model": "claude-sonnet-4-5", "to_model": "claude-3-5-haiku"}
    d = decide(router(rule), thinking, provider="anthropic")
    assert d is not None and d.why == ("claude-3-5-haiku does not support reasoning",)


def test_most_specific_scope_first() -> None:
    org = RULE | {"name": "org", "when": {}}
    agent = RULE | {
        "name": "agent",
        "scope": "agent:Engineering/Backend/coder",
        "to_model": "gpt-4.1-nano",
        "when": {},
    }
    d = decide(router(org, agent), {"model": "gpt-4o", "messages": HELLO})
    assert d is not None and d.rule == "agent"
    other = Attribution("Sales", "", "", "k2", "")
    d = decide(router(org, agent), {"model": "gpt-4o", "messages": HELLO}, who=other)
    assert d is not None and d.rule == "org"


def test_rules_are_validated() -> None:
    with pytest.raises(ValidationError):
        RoutingSettings.model_validate({"rules": [RULE | {"scope": "team:x"}]})
    with pytest.raises(ValidationError):
        RoutingSettings.model_validate({"rules": [RULE | {"when": {"hours": "9am"}}]})
    with pytest.raises(ValidationError):
        RoutingSettings.model_validate({"rules": [RULE | {"mode": "sometimes"}]})


def test_capability_table_lookup() -> None:
    assert capabilities("gpt-4o-mini-2024-07-18") == capabilities("gpt-4o-mini")
    mini, big = capabilities("gpt-4o-mini"), capabilities("gpt-4o")
    assert mini is not None and big is not None and mini is not big
    nova = capabilities("us.amazon.nova-micro-v1:0")
    assert nova is not None and not nova.vision
    assert capabilities("models/gemini-2.5-flash") is not None
    assert capabilities("unheard-of") is None


def test_rewrite_body_and_paths() -> None:
    routed = rewrite(
        "openai",
        {"model": "gpt-4o", "x": 1},
        b"",
        "/chat/completions",
        "/chat/completions",
        "gpt-4o",
        "gpt-4o-mini",
    )
    assert routed is not None and orjson.loads(routed.body) == {"model": "gpt-4o-mini", "x": 1}
    gem = rewrite(
        "google",
        {},
        b"{}",
        "/v1beta/models/gemini-2.5-pro:generateContent",
        "/v1beta/models/gemini-2.5-pro:generateContent",
        "gemini-2.5-pro",
        "gemini-2.5-flash",
    )
    assert gem is not None and gem.wire_subpath == "/v1beta/models/gemini-2.5-flash:generateContent"
    bed = rewrite(
        "bedrock",
        {},
        b"{}",
        "/model/us.amazon.nova-pro-v1:0/converse",
        "/model/us.amazon.nova-pro-v1%3A0/converse",
        "us.amazon.nova-pro-v1:0",
        "us.amazon.nova-lite-v1:0",
    )
    assert bed is not None and bed.wire_subpath == "/model/us.amazon.nova-lite-v1%3A0/converse"
    assert bed.subpath == "/model/us.amazon.nova-lite-v1:0/converse"


def test_cross_provider_is_allowed_per_rule_or_for_all_rules() -> None:
    from zoneinfo import ZoneInfo

    body = {"model": "gpt-4o", "messages": HELLO}
    haiku = RULE | {"to_model": "claude-haiku-4-5"}
    per_rule = decide(router(haiku | {"allow_cross_provider": True}), body)
    assert per_rule is not None and per_rule.routes and per_rule.cross_provider
    assert (per_rule.from_provider, per_rule.to_provider) == ("openai", "anthropic")
    assert per_rule.record()["to_provider"] == "anthropic"

    def with_default(rule: dict[str, Any]) -> Router:
        settings = RoutingSettings.model_validate({"allow_cross_provider": True, "rules": [rule]})
        return Router(settings, ZoneInfo("America/New_York"))

    everyone = decide(with_default(haiku), body)
    assert everyone is not None and everyone.routes
    refused = decide(with_default(haiku | {"allow_cross_provider": False}), body)
    assert refused is not None and refused.why == (
        "cross-provider routing is not allowed by the rule",
    )
    gemini = decide(
        with_default(haiku | {"to_model": "gemini-2.5-flash", "to_provider": "gemini"}), body
    )
    assert gemini is not None and gemini.to_provider == "google" and gemini.routes
    same = decide(router(RULE), body)
    assert same is not None and same.routes and not same.cross_provider
