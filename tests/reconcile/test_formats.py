"""Each provider's report, in its own format, read into normalised lines."""

from __future__ import annotations

import gzip
from datetime import date

import pytest

from llmledger.money import usd_to_nanos
from llmledger.reconcile.formats import FormatError, parse_report, provider_id
from tests.reconcile.dataset import sample


def totals(provider: str, data: bytes) -> tuple[int, int, int]:
    _, report = parse_report(provider, data)
    assert report.errors == []
    return (
        sum(x.cost_nanos for x in report.lines),
        sum(x.credits_nanos for x in report.lines),
        report.skipped,
    )


def test_openai_costs_page_amounts_are_exact() -> None:
    fmt, report = parse_report("openai", sample("openai"))
    assert fmt == "openai-costs"
    assert report.errors == []
    assert report.lines[0].day == date(2026, 11, 1)
    assert report.lines[0].model == "gpt-4o-2024-08-06"
    assert report.lines[0].line_item == "gpt-4o-2024-08-06, input"
    # 10 days of $12 plus $7.50 of gpt-4.1; floats never touched the amounts
    assert totals("openai", sample("openai")) == (usd_to_nanos("127.5"), 0, 0)


def test_anthropic_amounts_are_cents() -> None:
    fmt, report = parse_report("anthropic", sample("anthropic"))
    assert fmt == "anthropic-cost-report"
    assert report.lines[0].model == "claude-sonnet-4-5-20250929"
    assert report.lines[0].cost_nanos == usd_to_nanos("15")
    assert totals("anthropic", sample("anthropic")) == (usd_to_nanos("258"), 0, 0)


def test_aws_cur_keeps_bedrock_rows_and_credits() -> None:
    cost, credits, skipped = totals("bedrock", sample("bedrock"))
    assert cost == usd_to_nanos("110.02")
    assert credits == usd_to_nanos("-10")
    assert skipped == 11  # ten EC2 rows and the tax row


def test_aws_cur_2_columns_and_gzip() -> None:
    text = (
        "line_item_usage_start_date,line_item_product_code,line_item_line_item_type,"
        "line_item_usage_type,line_item_unblended_cost,line_item_currency_code,"
        "product_product_name,product_servicecode\n"
        "2026-11-01T00:00:00.000Z,AmazonBedrock,Usage,USE1-NovaPro-input-tokens,2.4,USD,"
        "Amazon Bedrock,AmazonBedrock\n"
    )
    _, report = parse_report("aws", gzip.compress(text.encode()))
    assert report.errors == []
    assert [(x.day, x.cost_nanos) for x in report.lines] == [
        (date(2026, 11, 1), usd_to_nanos("2.4"))
    ]


def test_gcp_export_keeps_gemini_rows_and_credits() -> None:
    cost, credits, skipped = totals("google", sample("google"))
    assert cost == usd_to_nanos("105")
    assert credits == usd_to_nanos("-0.5")
    assert skipped == 10  # Compute Engine


def test_gcp_csv_with_column_paths() -> None:
    text = (
        "service.description,sku.description,usage_start_time,cost,currency,credits\n"
        "Gemini API,Gemini 2.5 Pro Input Text Tokens,2026-11-03 08:00:00 UTC,1.25,USD,"
        '"[{""name"": ""Free tier"", ""amount"": -0.25}]"\n'
    )
    _, report = parse_report("gemini", text.encode())
    assert report.errors == []
    line = report.lines[0]
    assert (line.day, line.cost_nanos, line.credits_nanos) == (
        date(2026, 11, 3),
        usd_to_nanos("1.25"),
        usd_to_nanos("-0.25"),
    )


def test_bad_rows_are_reported_and_the_rest_kept() -> None:
    text = (
        "service.description,sku.description,usage_start_time,cost,currency\n"
        "Gemini API,Gemini 2.5 Pro,2026-11-03T08:00:00Z,abc,USD\n"
        "Gemini API,Gemini 2.5 Pro,2026-11-03T08:00:00Z,1,EUR\n"
        "Gemini API,Gemini 2.5 Pro,2026-11-03T08:00:00Z,1,USD\n"
    )
    _, report = parse_report("google", text.encode())
    assert [w for w, _ in report.errors] == ["line 2", "line 3"]
    assert len(report.lines) == 1


@pytest.mark.parametrize(
    ("provider", "data"),
    [
        ("openai", b'{"object": "list", "items": []}'),
        ("anthropic", b"[1, 2]"),
        ("bedrock", b"a,b\n1,2\n"),
    ],
)
def test_a_file_of_another_shape_is_refused(provider: str, data: bytes) -> None:
    with pytest.raises(FormatError):
        parse_report(provider, data)


def test_a_jsonl_line_that_is_not_json_is_a_line_error() -> None:
    _, report = parse_report("google", b"{not json\n")
    assert [w for w, _ in report.errors] == ["line 1"]


def test_unknown_provider() -> None:
    with pytest.raises(FormatError, match="unknown provider"):
        provider_id("azure")
