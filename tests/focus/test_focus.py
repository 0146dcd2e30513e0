"""The FOCUS export checked column by column against the specification's rules, and read
back with a CSV reader and with pyarrow (Parquet)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from llmledger.cli.main import app
from llmledger.ledger import schema
from llmledger.ledger.store import Store
from llmledger.pricing import PriceCatalog
from llmledger.reports.focus import Account, focus_rows, validate_file, write_csv, write_parquet
from llmledger.reports.focus.columns import NAMES, SPEC_MANDATORY
from llmledger.reports.focus.validate import check_header, check_rows
from llmledger.reports.importer import import_rows

RECORDS = [
    {
        "id": "a1",
        "timestamp": "2025-03-10T14:00:00-04:00",
        "provider": "openai",
        "model": "gpt-4o",
        "department": "Engineering",
        "project": "Backend",
        "agent": "coder",
        "usage": {
            "input_tokens": 8_400_000,
            "cached_input_tokens": 1_000_000,
            "output_tokens": 2_100_000,
        },
    },
    {
        "id": "a2",
        "timestamp": "2025-03-10T18:00:00-04:00",
        "provider": "openai",
        "model": "gpt-4o",
        "department": "Engineering",
        "project": "Backend",
        "agent": "coder",
        "usage": {"input_tokens": 7, "output_tokens": 3},
    },
    {
        "id": "b1",
        "timestamp": "2025-03-11T09:30:00-04:00",
        "provider": "anthropic",
        "model": "claude-sonnet-4-5",
        "department": "Marketing",
        "project": "SEO",
        "usage": {"input_tokens": 1200, "cache_write_tokens": 5000, "output_tokens": 800},
    },
    # 23:30 in New York on 31 March is 1 April in UTC: it belongs to the local 31 March.
    {
        "id": "c1",
        "timestamp": "2025-03-31T23:30:00-04:00",
        "provider": "openai",
        "model": "gpt-4o-mini",
        "department": "QA",
        "project": "Vision",
        "usage": {"input_tokens": 3000, "output_tokens": 200},
    },
]


@pytest.fixture
def ledger(sqlite_store: Store) -> Store:
    rows = [(i + 1, r) for i, r in enumerate(RECORDS)]
    report = import_rows(rows, sqlite_store, PriceCatalog.build(None))  # type: ignore[arg-type]
    assert report.imported == len(RECORDS) and not report.errors
    return sqlite_store


def _totals(store: Store) -> tuple[Decimal, Decimal]:
    e = schema.events
    with store.read() as conn:
        cost, listed = conn.execute(
            select(func.sum(e.c.cost_nanos), func.sum(e.c.list_cost_nanos))
        ).one()
    return Decimal(cost) / 10**9, Decimal(listed) / 10**9


def _export(store: Store, tmp_path: Path) -> tuple[Path, Path]:
    account = Account.of("Acme Health")
    csv_path, parquet_path = tmp_path / "focus.csv", tmp_path / "focus.parquet"
    with csv_path.open("w", encoding="utf-8", newline="") as out:
        write_csv(focus_rows(store, date(2025, 3, 1), date(2025, 3, 31), account), out)
    write_parquet(focus_rows(store, date(2025, 3, 1), date(2025, 3, 31), account), parquet_path)
    return csv_path, parquet_path


def test_csv_and_parquet_follow_the_specification(ledger: Store, tmp_path: Path) -> None:
    csv_path, parquet_path = _export(ledger, tmp_path)
    assert validate_file(csv_path) == []
    assert validate_file(parquet_path) == []
    with csv_path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert set(SPEC_MANDATORY) <= set(reader.fieldnames or [])
        rows = list(reader)
    # One row per day, attribution, model and usage type: a1 and a2 share theirs.
    assert len(rows) == 3 + 3 + 2
    input_row = next(
        r
        for r in rows
        if r["SkuMeter"] == "Input Tokens" and r["SkuId"] == "openai/gpt-4o/input_tokens"
    )
    assert input_row["ConsumedQuantity"] == "8400007"
    assert input_row["ConsumedUnit"] == "Tokens"
    assert input_row["PricingQuantity"] == "8.400007"
    assert input_row["PricingUnit"] == "1000000 Tokens"
    assert input_row["ListUnitPrice"] == "2.5"  # gpt-4o: $2.50 per million input tokens
    assert input_row["BilledCost"] == input_row["EffectiveCost"] == "21.0000175"
    assert input_row["ServiceCategory"] == "AI and Machine Learning"
    assert input_row["ServiceSubcategory"] == "Generative AI"
    assert input_row["ChargeCategory"] == "Usage"
    assert input_row["ChargeFrequency"] == "Usage-Based"
    assert input_row["PricingCategory"] == "Standard"
    assert input_row["ChargePeriodStart"] == "2025-03-10T04:00:00Z"
    assert input_row["ChargePeriodEnd"] == "2025-03-11T04:00:00Z"
    assert input_row["BillingPeriodStart"] == "2025-03-01T05:00:00Z"
    assert input_row["BillingPeriodEnd"] == "2025-04-01T04:00:00Z"
    assert json.loads(input_row["SkuPriceDetails"]) == {
        "ModelDeveloper": "OpenAI",
        "ModelId": "gpt-4o",
        "TokenCacheAction": "Uncached",
        "TokenDirection": "Input",
    }
    assert json.loads(input_row["Tags"]) == {
        "llmledger/department": "Engineering",
        "llmledger/project": "Backend",
        "llmledger/agent": "coder",
    }
    meters = {r["SkuMeter"] for r in rows}
    assert {"Cache Read Input Tokens", "Cache Write Input Tokens", "Output Tokens"} <= meters
    late = [r for r in rows if r["SkuId"].startswith("openai/gpt-4o-mini/")]
    assert {r["ChargePeriodStart"] for r in late} == {"2025-03-31T04:00:00Z"}
    cost, listed = _totals(ledger)
    assert sum(Decimal(r["BilledCost"]) for r in rows) == cost
    assert sum(Decimal(r["ListCost"]) for r in rows) == listed


def test_parquet_is_exact_decimals_and_utc_timestamps(ledger: Store, tmp_path: Path) -> None:
    csv_path, parquet_path = _export(ledger, tmp_path)
    table = pq.read_table(parquet_path)
    assert tuple(table.column_names) == NAMES
    for name in (
        "BilledCost",
        "EffectiveCost",
        "ListCost",
        "ContractedCost",
        "PricingQuantity",
        "ConsumedQuantity",
        "ListUnitPrice",
    ):
        assert pa.types.is_decimal(table.schema.field(name).type), name
    assert table.schema.field("ChargePeriodStart").type == pa.timestamp("ms", tz="UTC")
    assert table.schema.metadata[b"focus_version"] == b"1.2"
    with csv_path.open(encoding="utf-8", newline="") as f:
        from_csv = [Decimal(r["BilledCost"]) for r in csv.DictReader(f)]
    assert table.column("BilledCost").to_pylist() == from_csv
    assert sum(from_csv) == _totals(ledger)[0]


def test_the_validator_finds_each_broken_rule() -> None:
    good = {
        "BilledCost": "1.5",
        "BillingCurrency": "USD",
        "ChargeCategory": "Usage",
        "ChargeClass": "",
        "ChargePeriodStart": "2025-03-10T04:00:00Z",
        "ChargePeriodEnd": "2025-03-11T04:00:00Z",
        "BillingPeriodStart": "2025-03-01T05:00:00Z",
        "BillingPeriodEnd": "2025-04-01T04:00:00Z",
        "ServiceCategory": "AI and Machine Learning",
        "ServiceSubcategory": "Generative AI",
        "PricingUnit": "1000000 Tokens",
        "PricingQuantity": "1",
        "PricingCategory": "Standard",
        "ConsumedQuantity": "1000000",
        "ConsumedUnit": "Tokens",
        "ListCost": "2.5",
        "ListUnitPrice": "2.5",
        "Tags": '{"a": "b"}',
    }
    assert check_rows([good]) == []
    broken = {
        "BilledCost": "1.5e-3",
        "ChargeCategory": "Fee",
        "BillingCurrency": "usd",
        "ChargePeriodStart": "2025-03-10 04:00:00",
        "ServiceSubcategory": "Storage",
        "PricingUnit": "",
        "Tags": '{"a": {"b": 1}}',
        "ListCost": "3",
        "ConsumedQuantity": "-2",
    }
    found = {p.column for p in check_rows([{**good, **{k: v}} for k, v in broken.items()])}
    assert set(broken) <= found | {"ChargePeriodStart"}
    assert "ChargePeriodStart" in found
    header = check_header(["BilledCost", "Extra"])
    assert any(p.column == "Extra" for p in header)
    assert any(p.column == "ChargeCategory" and "missing" in p.message for p in header)


def test_a_float_column_in_parquet_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    pq.write_table(pa.table({"BilledCost": pa.array([1.5], pa.float64())}), path)
    problems = [str(p) for p in validate_file(path)]
    assert any("BilledCost: stored as double, not a decimal" in p for p in problems)


def test_cli_exports_and_validates_focus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "cli.db"
    monkeypatch.setenv("LLMLEDGER_STORE__URL", f"sqlite:///{db}")
    monkeypatch.setenv("LLMLEDGER_ORGANISATION__TIMEZONE", "America/New_York")
    monkeypatch.delenv("LLMLEDGER_CONFIG", raising=False)
    source = tmp_path / "records.jsonl"
    source.write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n")
    runner = CliRunner()
    assert runner.invoke(app, ["import", str(source)]).exit_code == 0
    period = ["--from", "2025-03-01", "--to", "2025-03-31"]
    for name in ("out.parquet", "out.csv"):
        result = runner.invoke(
            app, ["export", "--format", "focus", "--validate", *period, str(tmp_path / name)]
        )
        assert result.exit_code == 0, result.output
        assert "valid" in result.stderr and "FOCUS 1.2" in result.stderr
    assert pq.read_table(tmp_path / "out.parquet").num_rows == 8
    result = runner.invoke(
        app, ["export", "--format", "focus", "--parquet", *period, str(tmp_path / "x.bin")]
    )
    assert result.exit_code == 0 and pq.read_table(tmp_path / "x.bin").num_rows == 8
    stdout = runner.invoke(app, ["export", "--format", "focus", *period, "-"]).stdout
    assert len(list(csv.DictReader(io.StringIO(stdout)))) == 8


def test_api_serves_focus_as_csv_and_parquet(ledger: Store, tmp_path: Path) -> None:
    from tests.web.harness import ADMIN_TOKEN, serve, settings_for

    with serve(settings_for(ledger.url)) as live:
        client = live.client()
        auth = {"authorization": f"Bearer {ADMIN_TOKEN}"}
        query = "/api/v1/export/focus?from=2025-03-01&to=2025-03-31"
        as_csv = client.get(query, **auth)
        as_parquet = client.get(query + "&format=parquet", **auth)
        assert client.get(query).status == 401
        assert client.get(query + "&format=xml", **auth).status == 422
    assert as_csv.status == 200 and as_csv.headers["content-type"].startswith("text/csv")
    (tmp_path / "api.csv").write_bytes(as_csv.body)
    (tmp_path / "api.parquet").write_bytes(as_parquet.body)
    assert validate_file(tmp_path / "api.csv") == []
    assert validate_file(tmp_path / "api.parquet") == []
    assert pq.read_table(tmp_path / "api.parquet").num_rows == 8
