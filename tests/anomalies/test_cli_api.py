"""``llmledger anomalies`` and ``/api/v1/anomalies`` on a real store and server."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from typer.testing import CliRunner

from llmledger.cli.main import app as cli
from llmledger.ledger.event import from_us
from llmledger.ledger.store import Store
from tests.anomalies.builders import AGENT, hour_us
from tests.anomalies.store_data import fill
from tests.anomalies.test_runner import SPIKE
from tests.web.harness import ADMIN_TOKEN, serve, settings_for


def _call(base: str, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        base + path,
        data=data,
        method=method,
        headers={"authorization": f"Bearer {ADMIN_TOKEN}", "content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        with err:
            return err.code, json.loads(err.read())


def test_cli_runs_lists_acks_and_mutes_then_the_api_agrees(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    store = Store.open(f"sqlite:///{db}", ZoneInfo("America/New_York"))
    store.upgrade()
    fill(store, SPIKE + 1, {SPIKE: 300})
    store.close()
    config = tmp_path / "llmledger.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{db}"\n[organisation]\ntimezone = "America/New_York"\n'
    )
    runner = CliRunner()
    base = ["--config", str(config), "anomalies"]
    since = from_us(hour_us(SPIKE)).date().isoformat()
    listed = runner.invoke(cli, [*base, "--since", since, "--json"])
    assert listed.exit_code == 0, listed.output
    (found,) = json.loads(listed.stdout)["anomalies"]
    assert found["scope"] == AGENT and found["status"] == "open"
    assert found["kind"] in ("spend_spike", "runaway_agent")
    assert found["started_at"] == "2026-03-18T15:00:00Z"
    assert float(found["impact_usd"]) > 0.2
    again = runner.invoke(cli, [*base, "--since", since, "--json"])
    assert json.loads(again.stdout)["anomalies"] == [found]  # run twice, recorded once
    acked = runner.invoke(cli, [*base, "ack", found["id"], "--note", "load test", "--json"])
    assert acked.exit_code == 0, acked.output
    assert json.loads(acked.stdout)["status"] == "acknowledged"
    until = (date.today() + timedelta(days=7)).isoformat()
    muted = runner.invoke(cli, [*base, "mute", "department:Eng", "--until", until, "--json"])
    assert muted.exit_code == 0, muted.output
    bad = runner.invoke(cli, [*base, "mute", "team:x", "--until", until])
    assert bad.exit_code == 2

    with serve(settings_for(f"sqlite:///{db}")) as live:
        status, body = _call(live.url, "GET", f"/api/v1/anomalies?since={since}")
        assert status == 200
        (item,) = body["anomalies"]
        assert item["id"] == found["id"] and item["note"] == "load test"
        assert [m["scope"] for m in body["mutes"]] == ["department:Eng"]
        assert _call(
            live.url, "GET", "/api/v1/anomalies?status=acknowledged&kind=" + found["kind"]
        )[1]["anomalies"] == [item]
        assert _call(live.url, "GET", "/api/v1/anomalies?status=open")[1]["anomalies"] == []
        assert _call(live.url, "GET", "/api/v1/anomalies?status=bogus")[0] == 422
        assert _call(live.url, "GET", "/api/v1/anomalies?since=yesterday")[0] == 422
        status, resolved = _call(live.url, "POST", f"/api/v1/anomalies/{item['id']}/resolve")
        assert status == 200 and resolved["status"] == "resolved"
        assert (
            _call(
                live.url,
                "POST",
                f"/api/v1/anomalies/{item['id']}/acknowledge",
                {"note": "too late"},
            )[0]
            == 409
        )
        assert (
            _call(live.url, "POST", "/api/v1/anomalies/an_nope/acknowledge", {"note": "x"})[0]
            == 404
        )
        status, mute = _call(
            live.url,
            "POST",
            "/api/v1/anomalies/mutes",
            {"scope": "agent:Eng/search/bot", "until": until, "reason": "migration"},
        )
        assert status == 201 and mute["scope"] == AGENT
        assert (
            _call(
                live.url, "POST", "/api/v1/anomalies/mutes", {"scope": "nonsense", "until": until}
            )[0]
            == 422
        )
        assert (
            _call(
                live.url, "POST", "/api/v1/anomalies/mutes", {"scope": "org", "until": "2001-01-01"}
            )[0]
            == 422
        )
        anonymous = urllib.request.Request(live.url + "/api/v1/anomalies")
        try:
            urllib.request.urlopen(anonymous, timeout=30)
            raise AssertionError("anonymous read allowed")
        except urllib.error.HTTPError as err:
            err.close()
            assert err.code == 401
