from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llmledger.money import MoneyError, cents, format_usd, nanos_to_usd, usd_to_nanos


def test_round_trip_examples() -> None:
    assert usd_to_nanos("0.0035") == 3_500_000
    assert format_usd(3_500_000) == "0.0035"
    assert format_usd(12 * 10**9) == "12"
    assert format_usd(0) == "0"
    assert format_usd(-1) == "-0.000000001"
    assert cents(1_234_567_890_000) == "$1,234.57"


@given(st.integers(min_value=-(10**18), max_value=10**18))
def test_nanos_survive_the_usd_string(nanos: int) -> None:
    text = format_usd(nanos)
    assert "e" not in text.lower()
    assert usd_to_nanos(text) == nanos
    assert usd_to_nanos(nanos_to_usd(nanos)) == nanos


@pytest.mark.parametrize("bad", ["abc", "1e400000", "NaN", "Infinity", "0.0000000001"])
def test_bad_amounts_are_refused(bad: str) -> None:
    with pytest.raises(MoneyError):
        usd_to_nanos(bad)


def test_decimal_is_exact() -> None:
    assert usd_to_nanos(Decimal("123456789.123456789")) == 123_456_789_123_456_789
