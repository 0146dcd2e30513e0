"""Admin API tokens with roles and scopes, key expiry and rate limits, and the audit log,
driven through the CLI and the real server."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from pathlib import Path
from typing import Any

import openai
import pytest
from typer.testing import CliRunner

from llmledger.cli.main import app as cli
from llmledger.gateway.ratelimit import RateLimits
from llmledger.ledger.keys import VirtualKey
from llmledger.usage import Usage
from tests.gateway.harness import RunningGateway
from tests.web.harness import Reply, Running, serve, settings_for


def run(config: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if "--json" in args else result.output


def call(live: Running, method: str, path: str, token: str, body: object = None) -> Reply:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        live.url + path,
        data=data,
        method=method,
        headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return Reply(resp.status, dict(resp.headers.items()), resp.read())
    except urllib.error.HTTPError as err:
        with err:
            return Reply(err.code, dict(err.headers.items()), err.read())


def test_tokens_roles_scopes_and_audit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEW_PASSWORD", "long-enough-password")
    db = tmp_path / "ledger.db"
    config = tmp_path / "llmledger.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{db}"\n')
    made = {
        role: run(config, "tokens", "create", "--role", role, "--name", role, "--json")
        for role in ("admin", "finance", "viewer")
    }
    made["owner"] = run(
        config, "tokens", "create", "--role", "owner", "--scope", "department:Marketing", "--json"
    )
    assert made["owner"]["scope"] == "department:Marketing"
    assert all(t["token"].startswith("lla_") for t in made.values())
    bad = CliRunner().invoke(
        cli,
        [
            "--config",
            str(config),
            "tokens",
            "create",
            "--role",
            "viewer",
            "--scope",
            "department:Sales",
        ],
    )
    assert bad.exit_code == 2
    listed = run(config, "tokens", "list", "--json")["tokens"]
    assert len(listed) == 4 and all("token" not in t and "hash" not in t for t in listed)
    assert made["admin"]["token"] not in db.read_bytes().decode("latin-1")
    tok = {role: t["token"] for role, t in made.items()}
    budget = {"scope": "department:Marketing", "limit_usd": "100"}
    with serve(settings_for(f"sqlite:///{db}")) as live:
        assert call(live, "GET", "/api/v1/summary", tok["viewer"]).status == 200
        assert call(live, "POST", "/api/v1/budgets", tok["viewer"], budget).status == 403
        assert call(live, "POST", "/api/v1/keys", tok["finance"], {"department": "X"}).status == 403
        assert call(live, "POST", "/api/v1/budgets", tok["finance"], budget).status == 201
        assert call(live, "GET", "/api/v1/summary", tok["owner"]).status == 403
        assert (
            call(
                live, "GET", "/api/v1/costs?group_by=project&department=Marketing", tok["owner"]
            ).status
            == 200
        )
        assert (
            call(
                live, "GET", "/api/v1/costs?group_by=project&department=Engineering", tok["owner"]
            ).status
            == 403
        )
        assert (
            call(live, "GET", "/api/v1/hierarchy?department=Engineering", tok["owner"]).status
            == 403
        )
        key = call(
            live,
            "POST",
            "/api/v1/keys",
            tok["admin"],
            {"department": "Marketing", "expires_in_days": 30, "rpm_limit": 60, "tpm_limit": 10000},
        ).json()
        assert call(live, "DELETE", f"/api/v1/keys/{key['id']}", tok["admin"]).status == 200
        assert call(live, "GET", "/api/v1/audit", tok["viewer"]).status == 403
        assert call(live, "GET", "/api/v1/audit", tok["finance"]).status == 403
        audit = call(live, "GET", "/api/v1/audit", tok["admin"]).json()["entries"]
        actions = [(e["action"], e["actor"]) for e in audit]
        admin_actor = f"token:{made['admin']['id']}"
        assert ("key.create", admin_actor) in actions and ("key.revoke", admin_actor) in actions
        assert ("budget.set", f"token:{made['finance']['id']}") in actions
        assert ("token.create", "cli") in actions
        revoked = [e for e in audit if e["action"] == "key.revoke"][0]
        assert revoked["before"]["revoked"] is False and revoked["after"]["revoked"] is True
        created = [e for e in audit if e["action"] == "key.create"][0]["after"]
        assert created["rpm_limit"] == 60 and created["expires_us"] > 0
        assert "key" not in created  # never the secret
        run(config, "tokens", "revoke", made["viewer"]["id"])
        reply = call(live, "GET", "/api/v1/summary", tok["viewer"])
        assert reply.status == 401  # at once, no cache
        assert call(live, "GET", "/api/v1/summary", "lla_forged" + "x" * 30).status == 401
    run(
        config,
        "users",
        "create",
        "--email",
        "a@example.com",
        "--role",
        "viewer",
        "--password-env",
        "NEW_PASSWORD",
    )
    run(config, "users", "disable", "a@example.com")
    entries = run(config, "audit", "--json")["entries"]
    assert [e["action"] for e in entries][:3] == ["user.disable", "user.create", "token.revoke"]
    assert "actor" in run(config, "audit")  # the table (narrow terminal: cells are cut)


def test_key_expiry_and_limits_from_the_cli(tmp_path: Path) -> None:
    config = tmp_path / "llmledger.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "l.db"}"\n')
    run(
        config,
        "keys",
        "create",
        "--department",
        "D",
        "--expires-in-days",
        "7",
        "--rpm",
        "5",
        "--tpm",
        "900",
        "--json",
    )
    [key] = run(config, "keys", "list", "--json")["keys"]
    assert key["rpm_limit"] == 5 and key["tpm_limit"] == 900 and key["expires_us"]


def _key(rpm: int | None, tpm: int | None) -> VirtualKey:
    return VirtualKey("key_1", "llk_x", "", "D", "", "", (), False, 0, None, None, rpm, tpm)


def test_token_buckets_refill() -> None:
    now = [0.0]
    limits = RateLimits(max_keys=2, clock=lambda: now[0])
    key = _key(rpm=2, tpm=None)
    assert limits.admit(key) is None and limits.admit(key) is None
    refused = limits.admit(key)
    assert refused is not None and refused.retry_after_s == 30
    now[0] += 30
    assert limits.admit(key) is None
    tokens = _key(rpm=None, tpm=600)
    assert limits.admit(tokens) is None
    limits.charge("key_1", Usage.of(input_tokens=500, output_tokens=400))
    refused = limits.admit(tokens)
    assert refused is not None and refused.retry_after_s == 31  # 301 tokens at 10 a second
    for i in range(5):  # bounded: old buckets make room
        limits.admit(VirtualKey(f"k{i}", "", "", "D", "", "", (), False, 0, None, None, 1, None))
    assert len(limits._buckets) <= 2


async def test_gateway_rate_limit_and_expiry(gateway: RunningGateway) -> None:
    limited = await asyncio.to_thread(gateway.key, rpm_limit=2)
    expired = await asyncio.to_thread(gateway.key, expires_us=1)
    async with openai.AsyncOpenAI(
        base_url=f"{gateway.url}/openai/v1", api_key=limited, max_retries=0
    ) as client:
        for _ in range(2):
            await client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
            )
        with pytest.raises(openai.RateLimitError) as err:
            await client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
            )
        assert err.value.response.headers["retry-after"] == "30"
        assert isinstance(err.value.body, dict) and err.value.body["type"] == "rate_limit_exceeded"
    async with openai.AsyncOpenAI(
        base_url=f"{gateway.url}/openai/v1", api_key=expired, max_retries=0
    ) as client:
        with pytest.raises(openai.AuthenticationError, match="expired"):
            await client.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
            )
    events = await asyncio.to_thread(gateway.events)
    assert len(events) == 2  # refused calls leave nothing
