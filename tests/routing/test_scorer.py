from __future__ import annotations

import json
from pathlib import Path

from llmledger.routing.request import read_text
from llmledger.routing.scorer import score

DATA = Path(__file__).parents[2] / "bench" / "data" / "routing_requests.jsonl"


def _text(content: str, turns: int = 1) -> object:
    history = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    messages = history * (turns // 2) + [{"role": "user", "content": content}]
    return read_text({"messages": messages})


def test_a_lookup_is_simple_and_says_why() -> None:
    rated = score(_text("What is the capital of Australia?"))  # type: ignore[arg-type]
    assert rated.tier == "simple" and rated.value < 0.25
    assert rated.reasons == ("simple lookup or rewrite (-0.10)",)


def test_multi_step_coding_is_complex() -> None:
    task = (
        "Refactor this service step by step: first analyze the race condition, then "
        "implement a fix with unit tests, and finally compare the trade-offs and "
        "recommend a rollout plan.\n```python\ndef handle(self):\n    pass\n```"
    )
    rated = score(_text(task))  # type: ignore[arg-type]
    assert rated.tier == "complex"
    assert any(r.startswith("coding task") for r in rated.reasons)
    assert any(r.startswith("contains code") for r in rated.reasons)


def test_tools_reasoning_and_depth_raise_the_score() -> None:
    base = score(_text("Summarize the meeting notes in a list."))  # type: ignore[arg-type]
    more = score(
        _text("Summarize the meeting notes in a list.", turns=12),  # type: ignore[arg-type]
        tools=True,
        reasoning=True,
    )
    assert more.value > base.value
    assert {r.split(" (")[0] for r in more.reasons} >= {
        "drives tools",
        "asks for reasoning",
        "deep conversation",
    }


def test_scores_are_bounded_and_deterministic() -> None:
    huge = "Implement and analyze and design and prove. " * 2000
    first = score(_text(huge))  # type: ignore[arg-type]
    assert 0 <= first.value <= 1 and first == score(_text(huge))  # type: ignore[arg-type]


def test_the_labelled_set_is_large_and_agrees() -> None:
    items = [json.loads(line) for line in DATA.read_text().splitlines()]
    assert len(items) >= 300
    assert {i["tier"] for i in items} == {"simple", "medium", "complex"}
    agree = sum(
        score(read_text(i["body"]), tools=bool(i["body"].get("tools"))).tier == i["tier"]
        for i in items
    )
    assert agree / len(items) > 0.85
    complex_as_simple = sum(
        1 for i in items if i["tier"] == "complex" and score(read_text(i["body"])).tier == "simple"
    )
    assert complex_as_simple == 0
