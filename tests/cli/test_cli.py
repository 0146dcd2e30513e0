"""The `llmledger` command as scripts use it: --json shapes, exit codes, round trips."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmledger.cli.main import app


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("LLMLEDGER_STORE__URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("LLMLEDGER_ORGANISATION__TIMEZONE", "America/New_York")
    monkeypatch.setenv("LLMLEDGER_ORGANISATION__ANNUAL_BUDGET_USD", "1000")
    monkeypatch.setenv("LLMLEDGER_ORGANISATION__MONTHLY_BUDGET_USD", "100")
    monkeypatch.delenv("LLMLEDGER_CONFIG", raising=False)
    return CliRunner()


def run(cli: CliRunner, *args: str, code: int = 0) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result.stdout


def test_prices_quote_json(cli: CliRunner) -> None:
    out = json.loads(
        run(
            cli,
            "prices",
            "quote",
            "--provider",
            "openai",
            "--model",
            "gpt-4o",
            "--usage",
            "input_tokens=1000,output_tokens=100",
            "--json",
        )
    )
    # gpt-4o: $2.50 / $10.00 per million tokens (openai.com/api/pricing)
    assert out["total_usd"] == "0.0035" and out["unpriced"] is False
    assert out["lines"] == [
        {
            "usage_type": "input_tokens",
            "quantity": 1000,
            "unit_price_usd": "2.5",
            "per": 1_000_000,
            "cost_usd": "0.0025",
        },
        {
            "usage_type": "output_tokens",
            "quantity": 100,
            "unit_price_usd": "10",
            "per": 1_000_000,
            "cost_usd": "0.001",
        },
    ]


def test_unknown_model_is_unpriced_not_zero(cli: CliRunner) -> None:
    out = json.loads(
        run(
            cli,
            "prices",
            "quote",
            "--provider",
            "openai",
            "--model",
            "nope-1",
            "--usage",
            "input_tokens=10",
            "--json",
            code=3,
        )
    )
    assert out["unpriced"] is True
    result = cli.invoke(
        app,
        [
            "prices",
            "quote",
            "--provider",
            "openai",
            "--model",
            "gpt-4o",
            "--usage",
            "input_tokens=-4",
        ],
    )
    assert result.exit_code == 2 and "negative" in result.stderr


def write_usage(path: Path) -> Path:
    rows = [
        {
            "id": f"u{i}",
            "timestamp": f"2026-11-{10 + i % 5:02d}T15:00:00Z",
            "provider": "openai",
            "model": "gpt-4o",
            "department": "Sales" if i % 2 else "Engineering",
            "project": "P",
            "agent": "a",
            "usage": {"input_tokens": 1000, "output_tokens": 100},
        }
        for i in range(20)
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_import_report_export_round_trip(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write_usage(tmp_path / "usage.jsonl")
    report = json.loads(run(cli, "import", str(data), "--json"))
    assert (report["imported"], report["errors"]) == (20, [])
    again = json.loads(run(cli, "import", str(data), "--json"))
    assert (again["imported"], again["duplicates"]) == (0, 20)
    costs = json.loads(
        run(
            cli,
            "report",
            "costs",
            "--by",
            "department,provider",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--json",
        )
    )
    assert costs["total_usd"] == "0.07"  # 20 x $0.0035
    assert [(r["department"], r["cost_usd"]) for r in costs["rows"]] == [
        ("Engineering", "0.035"),
        ("Sales", "0.035"),
    ]
    assert costs["rows"][0]["usage"] == {"input_tokens": 10000, "output_tokens": 1000}
    as_csv = run(
        cli,
        "report",
        "costs",
        "--by",
        "department",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
        "--csv",
    )
    assert as_csv.splitlines()[0] == "department,cost_usd,requests,input_tokens,output_tokens"
    summary = json.loads(run(cli, "report", "summary", "--as-of", "2026-11-30", "--json"))
    assert summary["ytd"]["spend_usd"] == "0.07" and summary["ytd"]["budget_usd"] == "1000"
    assert summary["mtd"]["spend_usd"] == "0.07"
    assert {
        "as_of",
        "currency",
        "projected_annual_usd",
        "savings_mtd_usd",
        "usage",
        "trend",
    } <= set(summary)
    exported = tmp_path / "out.csv"
    run(
        cli,
        "export",
        "--format",
        "csv",
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-30",
        str(exported),
    )
    assert len(exported.read_text(encoding="utf-8").splitlines()) == 21
    # the export imports into a fresh store with the same totals
    monkeypatch.setenv("LLMLEDGER_STORE__URL", f"sqlite:///{tmp_path / 'other.db'}")
    assert json.loads(run(cli, "import", str(exported), "--json"))["imported"] == 20
    other = json.loads(
        run(
            cli,
            "report",
            "costs",
            "--by",
            "department",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--json",
        )
    )
    assert other["total_usd"] == "0.07"
    run(cli, "db", "rebuild-rollups")
    rebuilt = json.loads(
        run(
            cli,
            "report",
            "costs",
            "--by",
            "department",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--json",
        )
    )
    assert rebuilt == other


def test_bad_arguments_are_explained(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(app, ["report", "costs", "--by", "colour"])
    assert result.exit_code == 2 and "cannot group by 'colour'" in result.stderr
    result = cli.invoke(app, ["report", "costs", "--from", "2026-12-01", "--to", "2026-11-01"])
    assert result.exit_code == 2 and "before" in result.stderr
    result = cli.invoke(app, ["report", "summary", "--as-of", "yesterday"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.stderr
    result = cli.invoke(app, ["import", str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_keys_and_budgets(cli: CliRunner) -> None:
    key = json.loads(
        run(
            cli,
            "keys",
            "create",
            "--department",
            "Marketing",
            "--project",
            "SEO",
            "--agent",
            "seo-agent",
            "--json",
        )
    )
    assert set(key) == {"id", "key", "department", "project", "agent"}
    assert key["key"].startswith("llk_") and key["agent"] == "seo-agent"
    listed = json.loads(run(cli, "keys", "list", "--json"))
    assert key["key"] not in json.dumps(listed)
    run(
        cli,
        "budgets",
        "set",
        "agent:Marketing/SEO/seo-agent",
        "--limit",
        "6000",
        "--alert-at",
        "0.8,0.9",
    )
    budgets = json.loads(run(cli, "budgets", "list", "--json"))["budgets"]
    [b] = budgets
    assert {
        k: b[k]
        for k in (
            "scope",
            "period",
            "limit_usd",
            "spent_usd",
            "reserved_usd",
            "percent",
            "status",
            "enforced",
            "thresholds",
        )
    } == {
        "scope": "agent:Marketing/SEO/seo-agent",
        "period": "month",
        "limit_usd": "6000",
        "spent_usd": "0",
        "reserved_usd": "0",
        "percent": "0.0",
        "status": "ok",
        "enforced": True,
        "thresholds": ["0.8", "0.9"],
    }
    run(cli, "budgets", "raise", b["id"], "--limit", "7000", "--reason", "launch week")
    assert json.loads(run(cli, "budgets", "list", "--json"))["budgets"][0]["limit_usd"] == "7000"
    result = cli.invoke(app, ["budgets", "set", "team:x", "--limit", "5"])
    assert result.exit_code == 2 and "bad scope" in result.stderr
