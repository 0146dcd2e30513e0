"""Prompt logging: off unless switched on for a scope, on for exactly that scope, read by
admins and the scope's owner only, every change audited, deleted after its retention."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import anthropic
import httpx
import openai
import pytest
from pydantic import ValidationError
from sqlalchemy import select
from typer.testing import CliRunner

from llmledger.cli.main import app as cli
from llmledger.gateway.prompts import merge, rule_for, settings_rules
from llmledger.ledger import prompts, schema
from llmledger.ledger.audit import entries
from llmledger.ledger.event import EventSource, UsageEvent
from llmledger.ledger.prompts import DAY_US, PromptRecord
from llmledger.ledger.store import Store
from llmledger.ledger.tokens import create_token
from llmledger.ledger.users import Role
from llmledger.settings import Settings
from tests.fakes.anthropic_fake import FakeAnthropic
from tests.fakes.openai_fake import FakeOpenAI
from tests.gateway.harness import ADMIN_TOKEN, RunningGateway, serve

SUPPORT_PROMPT = "Support ticket 4471: the customer VIOLET-HERON cannot sign in"
ENGINEERING_PROMPT = "Refactor the module codenamed AMBER-OSPREY before Friday"
ANSWER = "How can I assist you today?"  # in the fake's recorded chat completion


def _settings(
    tmp_path: Path, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic, **gateway: Any
) -> Settings:
    return Settings(
        store={"url": f"sqlite:///{tmp_path / 'ledger.db'}"},
        organisation={"timezone": "America/New_York"},
        providers={
            "openai": {"base_url": fake_openai.url, "api_key_env": "TEST_OPENAI_KEY"},
            "anthropic": {"base_url": fake_anthropic.url, "api_key_env": "TEST_ANTHROPIC_KEY"},
        },
        gateway=gateway,
        admin_token=ADMIN_TOKEN,
    )


@pytest.fixture
def keys_env(
    monkeypatch: pytest.MonkeyPatch, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
) -> Iterator[None]:
    monkeypatch.setenv("TEST_OPENAI_KEY", fake_openai.api_key)
    monkeypatch.setenv("TEST_ANTHROPIC_KEY", fake_anthropic.api_key)
    yield


async def _calls(gateway: RunningGateway, key: str, prompt: str) -> None:
    """A chat completion, a streamed one, and an Anthropic message, all with `prompt`."""
    messages: Any = [{"role": "user", "content": prompt}]
    async with openai.AsyncOpenAI(
        base_url=f"{gateway.url}/openai/v1", api_key=key, max_retries=0
    ) as client:
        await client.chat.completions.create(model="gpt-4o", messages=messages)
        stream = await client.chat.completions.create(
            model="gpt-4o", messages=messages, stream=True
        )
        async for _ in stream:
            pass
    async with anthropic.AsyncAnthropic(
        base_url=f"{gateway.url}/anthropic", api_key=key, max_retries=0
    ) as claude:
        await claude.messages.create(model="claude-sonnet-4-5", max_tokens=64, messages=messages)


def _stored(gateway: RunningGateway) -> list[dict[str, Any]]:
    gateway.events()
    deadline = time.monotonic() + 10
    while True:
        with gateway.store.read() as conn:
            rows = [dict(r) for r in conn.execute(select(schema.prompt_log)).mappings()]
        if rows or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def _store_text(tmp_path: Path) -> str:
    return b"".join(p.read_bytes() for p in tmp_path.glob("ledger.db*")).decode("latin-1")


async def test_off_by_default_nothing_is_stored(
    tmp_path: Path, keys_env: None, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
) -> None:
    with serve(_settings(tmp_path, fake_openai, fake_anthropic)) as gateway:
        assert gateway.app.runtime.prompts is not None
        assert not gateway.app.runtime.prompts.active  # the hot path reads this flag only
        key = await asyncio.to_thread(gateway.key)
        await _calls(gateway, key, SUPPORT_PROMPT)
        events = await asyncio.to_thread(gateway.events)
        assert len(events) == 3
        assert not gateway.app.runtime.prompts.captures
        with gateway.store.read() as conn:
            assert conn.execute(select(schema.prompt_log)).first() is None
    assert SUPPORT_PROMPT in fake_openai.requests[0].body.decode()  # the scan is not vacuous
    store = _store_text(tmp_path)
    for text in ("VIOLET-HERON", ANSWER, "How can I help you today"):
        assert text not in store


async def test_on_for_one_department_only(
    tmp_path: Path, keys_env: None, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
) -> None:
    settings = _settings(
        tmp_path, fake_openai, fake_anthropic, log_prompts_scopes={"department:Support": 7}
    )
    with serve(settings) as gateway:
        support = await asyncio.to_thread(gateway.key, "Support", "Helpdesk", "triage")
        engineering = await asyncio.to_thread(gateway.key)
        await _calls(gateway, support, SUPPORT_PROMPT)
        await _calls(gateway, engineering, ENGINEERING_PROMPT)
        rows = await asyncio.to_thread(_stored, gateway)
        events = await asyncio.to_thread(gateway.events)
        with gateway.store.read() as conn:
            settings_audit = [e for e in entries(conn) if e["action"] == "prompt_logging.settings"]
    assert len(events) == 6
    support_events = {e["id"] for e in events if e["department"] == "Support"}
    assert {r["event_id"] for r in rows} == support_events
    assert len(rows) == 3
    for row in rows:
        assert SUPPORT_PROMPT.encode() in row["request_body"]
        assert row["request_bytes"] == len(row["request_body"])
        assert row["scope"] == "department:Support" and row["department"] == "Support"
        assert row["expires_us"] == row["ts_us"] + 7 * DAY_US
        for secret in (support, fake_openai.api_key, fake_anthropic.api_key):
            assert secret.encode() not in row["request_body"] + row["response_body"]
    streamed = [r for r in rows if r["stream"]]
    assert len(streamed) == 1
    assert b"data: [DONE]" in streamed[0]["response_body"]  # the stream as the caller got it
    assert b'"content":"Hello"' in streamed[0]["response_body"]
    assert any(ANSWER.encode() in r["response_body"] for r in rows if not r["stream"])
    store = _store_text(tmp_path)
    assert "VIOLET-HERON" in store  # stored where it is on...
    assert "AMBER-OSPREY" not in store  # ...and nowhere else
    [audited] = settings_audit
    assert audited["actor"] == "settings" and audited["after"] == {"department:Support": 7}


def _api(
    gateway: RunningGateway, method: str, path: str, token: str, body: object = None
) -> httpx.Response:
    return httpx.request(
        method,
        gateway.url + path,
        headers={"authorization": f"Bearer {token}"},
        json=body,
        timeout=30,
    )


async def test_switched_through_the_api_read_by_role_and_audited(
    tmp_path: Path, keys_env: None, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
) -> None:
    with serve(_settings(tmp_path, fake_openai, fake_anthropic)) as gateway:
        with gateway.store.write() as conn:
            tok = {
                role: create_token(conn, Role(role))[1] for role in ("admin", "finance", "viewer")
            }
            tok["owner"] = create_token(conn, Role.OWNER, "department:Marketing")[1]
            tok["other"] = create_token(conn, Role.OWNER, "department:Support")[1]
        rule = {"scope": "department:Marketing", "enabled": True, "retention_days": 3}
        for role in ("finance", "viewer", "owner"):
            reply = await asyncio.to_thread(
                _api, gateway, "PUT", "/api/v1/prompt-logging", tok[role], rule
            )
            assert reply.status_code == 403, role
        bad = await asyncio.to_thread(
            _api, gateway, "PUT", "/api/v1/prompt-logging", tok["admin"], {**rule, "scope": "x"}
        )
        assert bad.status_code == 422
        marketing = await asyncio.to_thread(gateway.key, "Marketing", "SEO", "writer")
        await _calls(gateway, marketing, "before: TEAL-FINCH")  # logging still off
        reply = await asyncio.to_thread(
            _api, gateway, "PUT", "/api/v1/prompt-logging", tok["admin"], rule
        )
        assert reply.status_code == 200 and reply.json()["enabled"] is True
        await _calls(gateway, marketing, "after: " + SUPPORT_PROMPT)
        rows = await asyncio.to_thread(_stored, gateway)
        assert len(rows) == 3 and all(b"TEAL-FINCH" not in r["request_body"] for r in rows)
        listed = await asyncio.to_thread(
            _api, gateway, "GET", "/api/v1/prompt-logging", tok["viewer"]
        )
        assert listed.json()["rules"] == [{**rule, "source": "store"}]
        owner_list = await asyncio.to_thread(
            _api, gateway, "GET", "/api/v1/prompt-logging", tok["owner"]
        )
        assert owner_list.status_code == 403

        event_id = rows[0]["event_id"]
        path = f"/api/v1/events/{event_id}/prompt"
        want = {"admin": 200, "owner": 200, "other": 403, "finance": 403, "viewer": 403}
        for role, status in want.items():
            got = await asyncio.to_thread(_api, gateway, "GET", path, tok[role])
            assert got.status_code == status, role
        body = (await asyncio.to_thread(_api, gateway, "GET", path, tok["owner"])).json()
        assert SUPPORT_PROMPT in body["request"]["body"] and body["request"]["encoding"] == "utf-8"
        assert body["department"] == "Marketing" and body["scope"] == "department:Marketing"
        never = await asyncio.to_thread(
            _api, gateway, "GET", "/api/v1/events/nope/prompt", tok["admin"]
        )
        assert never.status_code == 404

        off = {"scope": "department:Marketing", "enabled": False}
        reply = await asyncio.to_thread(
            _api, gateway, "PUT", "/api/v1/prompt-logging", tok["admin"], off
        )
        assert reply.status_code == 200
        await _calls(gateway, marketing, "off again: CORAL-WREN")
        await asyncio.to_thread(gateway.events)
        await asyncio.sleep(0.3)
        with gateway.store.read() as conn:
            assert len(conn.execute(select(schema.prompt_log)).all()) == 3
        reset = await asyncio.to_thread(
            _api,
            gateway,
            "DELETE",
            "/api/v1/prompt-logging?scope=department:Marketing",
            tok["admin"],
        )
        assert reset.status_code == 200
        audit = (
            await asyncio.to_thread(_api, gateway, "GET", "/api/v1/audit", tok["admin"])
        ).json()
    changes = [
        (e["action"], e["target"], e["before"], e["after"])
        for e in reversed(audit["entries"])
        if e["action"].startswith("prompt")
    ]
    admin_actor = [e["actor"] for e in audit["entries"] if e["action"] == "prompt_logging.set"]
    assert set(admin_actor) == {admin_actor[0]} and admin_actor[0].startswith("token:")
    on = {"scope": "department:Marketing", "enabled": True, "retention_days": 3}
    assert changes == [
        ("prompt_logging.set", "department:Marketing", None, on),
        ("prompt.read", event_id, None, None),
        ("prompt.read", event_id, None, None),
        ("prompt.read", event_id, None, None),
        ("prompt_logging.set", "department:Marketing", on, {**on, "enabled": False}),
        ("prompt_logging.reset", "department:Marketing", {**on, "enabled": False}, None),
    ]


def _record(
    event_id: str, ts_us: int, days: int, scope: str = "department:Support"
) -> PromptRecord:
    return PromptRecord(
        event_id,
        ts_us,
        "Support",
        "",
        "",
        "key_1",
        scope,
        False,
        b"{}",
        2,
        b"{}",
        2,
        ts_us + days * DAY_US,
    )


def _cli(config: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if "--json" in args else result.output


def test_retention_purge_from_the_cli(tmp_path: Path) -> None:
    config = tmp_path / "llmledger.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path / "l.db"}"\n')
    assert _cli(config, "prompts", "list", "--json") == {"rules": []}
    _cli(config, "prompts", "enable", "department:Support", "--retention-days", "30")
    now = time.time_ns() // 1000
    old, recent = _record("old", now - 31 * DAY_US, 30), _record("recent", now - DAY_US, 30)
    store = Store.open(f"sqlite:///{tmp_path / 'l.db'}", ZoneInfo("UTC"))
    try:
        with store.write() as conn:
            prompts.write_many(conn, [old, recent])
    finally:
        store.close()
    assert _cli(config, "prompts", "purge", "--json") == {"deleted": 1}
    shown = _cli(config, "prompts", "show", "recent", "--json")
    assert shown["event_id"] == "recent" and shown["request"] == {
        "encoding": "utf-8",
        "body": "{}",
        "bytes": 2,
        "truncated": False,
    }
    # a shorter retention applies to what that scope's rule stored already
    _cli(config, "prompts", "enable", "department:Support", "--retention-days", "1")
    assert _cli(config, "prompts", "purge", "--json") == {"deleted": 1}
    _cli(config, "prompts", "disable", "department:Support")
    assert _cli(config, "prompts", "list", "--json")["rules"] == [
        {"scope": "department:Support", "enabled": False, "retention_days": 1, "source": "store"}
    ]
    actions = [e["action"] for e in _cli(config, "audit", "--json")["entries"]]
    assert actions == [
        "prompt_logging.set",
        "prompt_logging.set",
        "prompt.read",
        "prompt_logging.set",
    ]


async def test_the_server_purges_past_retention(
    tmp_path: Path, keys_env: None, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
) -> None:
    settings = _settings(
        tmp_path,
        fake_openai,
        fake_anthropic,
        log_prompts_scopes={"department:Support": 1},
        log_prompts_purge_interval_s=0.2,
    )
    with serve(settings) as gateway:
        now = time.time_ns() // 1000
        with gateway.store.write() as conn:
            prompts.write_many(
                conn, [_record("expired", now - 2 * DAY_US, 1), _record("kept", now, 1)]
            )
        deadline = time.monotonic() + 10
        while True:
            with gateway.store.read() as conn:
                left = set(conn.scalars(select(schema.prompt_log.c.event_id)))
            if left == {"kept"} or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        assert left == {"kept"}
        assert gateway.app.runtime.prompts is not None
        assert gateway.app.runtime.prompts.purged == 1


def test_the_most_specific_rule_decides() -> None:
    gateway = Settings(
        gateway={
            "log_prompts": True,
            "log_prompts_retention_days": 90,
            "log_prompts_scopes": {"department:Support": 7, "agent:Support/Helpdesk/bot": 0},
        }
    ).gateway
    base = settings_rules(gateway)
    stored = [prompts.StoredRule("key:key_9", False, 5, "cli", 0)]
    rules = merge(base, stored)

    def decided(department: str, project: str = "", agent: str = "", key: str = "k") -> Any:
        event = UsageEvent(
            "e",
            datetime.now(UTC),
            "openai",
            "gpt-4o",
            EventSource.GATEWAY,
            department=department,
            project=project,
            agent=agent,
            key_id=key,
        )
        rule = rule_for(rules, event)
        return None if rule is None else (rule.scope, rule.retention_days)

    assert decided("Engineering") == ("org", 90)
    assert decided("Support", "Helpdesk", "triage") == ("department:Support", 7)
    assert decided("Support", "Helpdesk", "bot") is None  # 0: off under a scope that is on
    assert decided("Support", key="key_9") is None  # a stored rule, the most specific
    with pytest.raises(ValidationError):
        Settings(gateway={"log_prompts_scopes": {"end_user:bob": 3}})
    with pytest.raises(ValidationError):
        Settings(gateway={"log_prompts_scopes": {"department:Support": -1}})
    assert Settings(
        gateway={"log_prompts_scopes": {"organisation": 3}}
    ).gateway.log_prompts_scopes == {"org": 3}
