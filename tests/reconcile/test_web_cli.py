"""The pages, the API and the CLI on the known reports: the same figures everywhere."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmledger.cli.main import app
from llmledger.ledger.store import Store
from llmledger.ledger.users import Role, create_user
from llmledger.roi.metrics import declare_metric
from tests.reconcile.dataset import FILES, SAMPLES, fill
from tests.web.dataset import ZONE
from tests.web.harness import Running, serve, settings_for

PASSWORD = "correct horse battery"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.db"
    store = Store.open(f"sqlite:///{path}", ZONE)
    try:
        store.upgrade()
        fill(store)
        with store.write() as conn:
            create_user(conn, "admin@example.com", PASSWORD, Role.ADMIN)
            declare_metric(conn, "agent:Engineering/Backend/coder", "prs_merged", "pr", "40")
    finally:
        store.close()
    return path


@pytest.fixture
def config(db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "llmledger.toml"
    path.write_text(
        f'[organisation]\ntimezone = "America/New_York"\n\n[store]\nurl = "sqlite:///{db}"\n',
        encoding="utf-8",
    )
    return path


def cli(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--config", str(config), *args])
    return result.exit_code, result.stdout


def test_cli_import_reconcile_and_roi(config: Path, tmp_path: Path) -> None:
    for provider, name in FILES.items():
        code, out = cli(
            config, "reconcile", "import", str(SAMPLES / name), "--provider", provider, "--json"
        )
        assert code == 0, out
    code, out = cli(config, "reconcile", "--month", "2026-11", "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["totals"]["difference_usd"] == "20.52"
    assert len(data["flagged"]) == 6
    code, out = cli(config, "reconcile", "--month", "2026-13")
    assert code == 2
    outcomes = tmp_path / "prs.jsonl"
    outcomes.write_text(
        "\n".join(
            json.dumps(
                {
                    "id": f"pr{d}",
                    "timestamp": f"2026-11-{d:02d}T15:00:00Z",
                    "department": "Engineering",
                    "project": "Backend",
                    "agent": "coder",
                    "metric": "prs_merged",
                    "quantity": 2,
                }
            )
            for d in range(1, 11)
        )
        + "\n{bad json\n",
        encoding="utf-8",
    )
    code, out = cli(config, "outcomes", "import", str(outcomes), "--json")
    assert code == 1
    report = json.loads(out)
    assert (report["imported"], report["errors"][0]["line"]) == (10, 11)
    code, out = cli(config, "report", "roi", "--from", "2026-11-01", "--to", "2026-11-30", "--json")
    assert code == 0, out
    rows = json.loads(out)["rows"]
    # the coder spent $58 a day in the dataset's local days (1–10 Nov UTC evenings)
    assert [
        (r["agent"], r["outcomes"], r["cost_usd"], r["cost_per_outcome_usd"], r["value_usd"])
        for r in rows
    ] == [("coder", 20, "580", "29", "800")]


@pytest.fixture
def running(db: Path) -> Iterator[Running]:
    with serve(settings_for(f"sqlite:///{db}")) as live:
        yield live


def test_pages_and_api(running: Running) -> None:
    store = running.app.runtime.store
    from llmledger.reconcile.store import import_report

    for provider, name in FILES.items():
        import_report(store, provider, (SAMPLES / name).read_bytes())
    api = running.api("/api/v1/reconciliation?month=2026-11").json()
    assert api["totals"]["difference_usd"] == "20.52"
    assert running.api("/api/v1/reconciliation?month=nope").status == 422
    browser = running.client()
    assert browser.sign_in("admin@example.com", PASSWORD).status == 303
    page = browser.get("/reconciliation?month=2026-11")
    assert page.status == 200
    assert 'id="difference" data-usd="20.52"' in page.text
    assert page.text.count("bypassed the gateway") >= 2
    empty = browser.get("/reconciliation?month=2026-01")
    assert "No provider report imported" in empty.text
    roi = browser.get("/roi")
    assert roi.status == 200
    assert "Metrics without outcomes" in roi.text and "prs_merged" in roi.text
    assert running.api("/api/v1/roi").json()["rows"][0]["cost_per_outcome_usd"] is None


def test_post_outcomes(running: Running) -> None:
    import urllib.request

    body = json.dumps(
        [
            {
                "id": "o1",
                "timestamp": "2026-11-02T15:00:00Z",
                "department": "Engineering",
                "project": "Backend",
                "agent": "coder",
                "metric": "prs_merged",
                "quantity": 3,
            },
            {
                "id": "o2",
                "timestamp": "2026-11-02T15:00:00Z",
                "department": "Engineering",
                "project": "Backend",
                "agent": "coder",
                "metric": "unknown_metric",
                "quantity": 1,
            },
            {
                "id": "o1",
                "timestamp": "2026-11-02T15:00:00Z",
                "department": "Engineering",
                "project": "Backend",
                "agent": "coder",
                "metric": "prs_merged",
                "quantity": 3,
            },
        ]
    ).encode()
    request = urllib.request.Request(
        running.url + "/api/v1/outcomes",
        data=body,
        method="POST",
        headers={
            "authorization": "Bearer dashboard-admin-token",
            "content-type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        result = json.loads(reply.read())
    assert (result["imported"], result["duplicates"]) == (1, 1)
    assert [e["line"] for e in result["errors"]] == [2]
    roi = running.api("/api/v1/roi?from=2026-11-01&to=2026-11-30").json()
    assert [(r["outcomes"], r["cost_per_outcome_usd"]) for r in roi["rows"]] == [
        (3, "193.333333333")
    ]
