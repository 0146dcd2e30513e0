from __future__ import annotations

from decimal import Decimal

import pytest

from llmledger.usage import Usage, UsageError, UsageType


def test_parse_keeps_types_and_drops_zeros() -> None:
    usage = Usage.parse({"input_tokens": 10, "output_tokens": "0", "audio_seconds": "1.5"})
    assert dict(usage) == {UsageType.INPUT_TOKENS: 10, UsageType.AUDIO_SECONDS: Decimal("1.5")}
    assert usage.as_json() == {"input_tokens": 10, "audio_seconds": "1.5"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"input_tokens": -1}, "negative"),
        ({"input_tokens": 10**13}, "absurd"),
        ({"input_tokens": 1.5}, "whole number"),
        ({"input_tokens": "x"}, "not a number"),
        ({"input_tokens": float("nan")}, "not a number"),
        ({"input_tokens": True}, "not a number"),
        ({"audio_seconds": "0.0001"}, "millisecond"),
        ({"bananas": 3}, "unknown usage type"),
    ],
)
def test_bad_quantities_are_refused(raw: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        Usage.parse(raw)


def test_addition() -> None:
    total = Usage.of(input_tokens=3) + Usage.of(input_tokens=4, output_tokens=1)
    assert total == Usage.of(input_tokens=7, output_tokens=1)
