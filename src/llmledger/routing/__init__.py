"""Smart routing: rules, the complexity scorer, the capability guard, shadow and enforce
modes, and the counterfactual cost that savings are read from (docs/routing.md)."""

from __future__ import annotations

from .capabilities import Capabilities, capabilities
from .decide import RouteDecision, Router
from .rules import RoutingRule, RoutingSettings, RuleConditions
from .scorer import Score, score

__all__ = [
    "Capabilities",
    "RouteDecision",
    "Router",
    "RoutingRule",
    "RoutingSettings",
    "RuleConditions",
    "Score",
    "capabilities",
    "score",
]
