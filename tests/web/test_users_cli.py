"""``llmledger users create`` makes a user who can sign in."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmledger.cli.main import app as cli
from tests.web.harness import serve, settings_for


def test_create_user_then_sign_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "ledger.db"
    config = tmp_path / "llmledger.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{db}"\n')
    monkeypatch.setenv("NEW_PASSWORD", "s3cret-enough")
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "--config",
            str(config),
            "users",
            "create",
            "--email",
            "Owner@Example.com",
            "--role",
            "owner",
            "--scope",
            "department:Sales",
            "--password-env",
            "NEW_PASSWORD",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    user = json.loads(result.stdout)
    assert user["email"] == "owner@example.com" and user["scope"] == "department:Sales"
    bad = runner.invoke(
        cli,
        [
            "--config",
            str(config),
            "users",
            "create",
            "--email",
            "x@example.com",
            "--role",
            "emperor",
            "--password-env",
            "NEW_PASSWORD",
        ],
    )
    assert bad.exit_code == 2
    prompted = runner.invoke(
        cli,
        [
            "--config",
            str(config),
            "users",
            "create",
            "--email",
            "cfo@example.com",
            "--role",
            "finance",
        ],
        input="another-secret\nanother-secret\n",
    )
    assert prompted.exit_code == 0, prompted.output
    with serve(settings_for(f"sqlite:///{db}")) as live:
        client = live.client()
        assert client.sign_in("owner@example.com", "s3cret-enough").status == 303
        assert client.get("/attribution").status == 200
        assert live.client().sign_in("cfo@example.com", "another-secret").status == 303
