"""Schemathesis against the admin API's own OpenAPI document, with an admin token: no
generated request, valid or not, gets a 500 (a few examples per operation, so it stays
within a minute)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402

from tests.web.conftest import populated_db  # noqa: E402, F401
from tests.web.harness import ADMIN_TOKEN, Running, serve, settings_for  # noqa: E402

EXAMPLES = 6


@pytest.fixture
def live(tmp_path: Path, populated_db: Path) -> Iterator[Running]:  # noqa: F811
    copy = tmp_path / "ledger.db"
    copy.write_bytes(populated_db.read_bytes())
    with serve(settings_for(f"sqlite:///{copy}")) as running:
        yield running


@pytest.mark.timeout(240)
def test_no_operation_answers_500(live: Running) -> None:
    raw = json.loads(live.client().get("/api/openapi.json").body)
    schema = schemathesis.openapi.from_dict(raw)
    headers = {"authorization": f"Bearer {ADMIN_TOKEN}"}
    failures: list[str] = []
    statuses: list[int] = []
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            response = case.call(base_url=live.url, headers=headers, timeout=30)
            statuses.append(response.status_code)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} {case.query!r} "
                    f"{case.body!r:.200} -> {response.status_code}"
                )

        check()
        checked += 1
    assert checked >= 15 and len(statuses) >= checked
    assert any(s < 300 for s in statuses)
    assert not failures, "\n".join(failures[:20])
