"""``/anomalies`` on a real server: records written by `llmledger.anomalies.records`, listed,
filtered, held to an owner's scope, charted and acted on with the roles' rights."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest

from llmledger.anomalies import records
from llmledger.anomalies.flags import Flag, Point
from llmledger.anomalies.series import HOUR_US, FrameBuilder
from llmledger.ledger.event import to_us
from llmledger.ledger.store import Store
from llmledger.ledger.users import create_user
from llmledger.settings import Settings
from tests.web.dataset import PASSWORD, USERS, ZONE
from tests.web.harness import ADMIN_TOKEN, Client, Running, serve

DOLLAR = 1_000_000_000
DAYS = 6
ENGINEERING = ("Engineering", "Backend", "coder", "k-eng")
MARKETING = ("Marketing", "Digital", "email-bot", "k-mkt")
#: label -> (kind, scope, subject, hours before now it started, hours it lasted)
FLAGS = {
    "spike": ("spend_spike", "agent:Engineering/Backend/coder", "", 5, 3),
    "runaway": ("runaway_agent", "agent:Marketing/Digital/email-bot", "", 30, 1),
    "images": ("modality_shift", "department:Marketing", "images", 50, 2),
    "model": ("new_model", "project:Engineering/Backend", "openai/gpt-image-1", 100, 4),
}


def _flags(frame_hours: int, builder: FrameBuilder) -> list[Flag]:
    """Four findings, one of each kind; their extra spend is added to the frame too, so
    that the context drawn around each one shows it."""
    last = frame_hours - 1
    out = []
    for label, (kind, scope, subject, back, length) in FLAGS.items():
        dims = ENGINEERING if scope.startswith(("agent:Engineering", "project:Eng")) else MARKETING
        start = last - back
        points = []
        for t in range(start, start + length):
            extra = (9 + t % 3) * DOLLAR
            model = subject if kind == "new_model" else "openai/gpt-4o"
            builder.add_calls(t, dims, model, 300, extra)
            builder.add_usage(
                t, dims, subject if kind == "modality_shift" else "output_tokens", extra
            )
            expected = 0 if kind in ("new_model", "modality_shift") else 2 * DOLLAR
            points.append(Point(t, 2 * DOLLAR + extra if expected else extra, expected))
        detail: dict[str, object] = {"label": label}
        if kind == "new_model":
            detail.update({"model": subject, "provider": "openai", "new_provider": False})
        out.append(
            Flag(
                kind=kind,
                scope=scope,
                subject=subject,
                t=start + length - 1,
                started=start,
                points=tuple(points),
                score=9.0,
                description=f"{label}: spend far above the usual",
                department=dims[0],
                usage_type=subject if kind == "modality_shift" else None,
                detail=detail,
            )
        )
    return out


def seed(store: Store, now: datetime) -> dict[str, str]:
    """Users of every role and four anomaly records (the oldest resolved); label -> id."""
    now_us = to_us(now)
    hours = DAYS * 24
    start_us = now_us - now_us % HOUR_US - (hours - 1) * HOUR_US
    builder = FrameBuilder(start_us, hours)
    for t in range(hours):
        for dims in (ENGINEERING, MARKETING):
            builder.add_calls(t, dims, "openai/gpt-4o", 40, 2 * DOLLAR)
            builder.add_usage(t, dims, "output_tokens", 2 * DOLLAR)
    flags = _flags(hours, builder)
    with store.write() as conn:
        for email, (role, scope) in USERS.items():
            create_user(conn, email, PASSWORD, role, scope)
        found = records.record_flags(conn, builder.build(), flags, now_us)
        ids = {str(a.evidence["detail"]["label"]): a.id for a in found}
        records.resolve(conn, ids["model"], actor="test", now_us=now_us)
    return ids


def settings_for_page(db_url: str) -> Settings:
    return Settings(
        store={"url": db_url},
        admin_token=ADMIN_TOKEN,
        organisation={"name": "Acme Health", "timezone": "America/New_York"},
        anomalies={"enabled": False},
    )


@contextmanager
def seeded(folder: Path) -> Iterator[tuple[Running, dict[str, str]]]:
    """A server over a small store holding the four anomalies (the detectors off)."""
    url = f"sqlite:///{folder / 'ledger.db'}"
    store = Store.open(url, ZONE)
    try:
        store.upgrade()
        ids = seed(store, datetime.now(UTC))
    finally:
        store.close()
    with serve(settings_for_page(url)) as live:
        yield live, ids


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Running, dict[str, str]]]:
    with seeded(tmp_path_factory.mktemp("anomalies")) as pair:
        yield pair


@pytest.fixture
def writable(tmp_path: Path) -> Iterator[tuple[Running, dict[str, str]]]:
    with seeded(tmp_path) as pair:
        yield pair


class Rows(HTMLParser):
    """The anomaly table: each record's attributes and the text of its cells."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, str]] = {}
        self.charts: dict[str, dict[str, object]] = {}
        self.buttons: list[str] = []
        self._current = ""
        self._in_button = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "tbody" and "data-id" in a:
            self._current = a["data-id"]
            self.rows[self._current] = {**a, "text": ""}
        elif tag == "div" and "data-chart" in a and self._current:
            self.charts[self._current] = json.loads(a["data-chart"])
        elif tag in ("button", "summary"):
            self._in_button = True
            self.buttons.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._current = ""
        elif tag in ("button", "summary"):
            self._in_button = False

    def handle_data(self, data: str) -> None:
        if self._current:
            self.rows[self._current]["text"] += data
        if self._in_button:
            self.buttons[-1] += data.strip()


def table(html: str) -> Rows:
    parser = Rows()
    parser.feed(html)
    return parser


def signed_in(live: Running, email: str) -> Client:
    client = live.client()
    assert client.sign_in(email, PASSWORD).status == 303
    return client


def test_the_page_lists_the_records_newest_first_as_the_api_does(
    live: tuple[Running, dict[str, str]],
) -> None:
    server, ids = live
    reply = signed_in(server, "cfo@example.com").get("/anomalies")
    assert reply.status == 200
    page = table(reply.text)
    assert list(page.rows) == [ids["spike"], ids["runaway"], ids["images"], ids["model"]]
    api = {a["id"]: a for a in server.api("/api/v1/anomalies").json()["anomalies"]}
    assert list(api) == list(page.rows)
    for ident, row in page.rows.items():
        a = api[ident]
        assert row["data-kind"] == a["kind"] and row["data-status"] == a["status"]
        assert a["scope"] in row["text"] and a["description"] in row["text"]
        started = datetime.fromisoformat(a["started_at"].replace("Z", "+00:00")).astimezone(ZONE)
        assert f"{started:%Y-%m-%d %H:%M} {started.tzname()}" in row["text"]
    spike = api[ids["spike"]]
    # 3 hours at $2 expected, observed $2 + $9..$11 each: exact sums, to the cent
    assert spike["expected_usd"] == "6"
    text = page.rows[ids["spike"]]["text"]
    assert f"${int(spike['observed_usd']):,}.00" in text
    assert f"${int(spike['impact_usd']):,}.00" in text
    assert "gpt-image-1" in page.rows[ids["model"]]["text"]  # the model, from the detail
    assert "images" in page.rows[ids["images"]]["text"]
    # the chart: the context (the 24 hours before included) with the points laid over it
    chart = page.charts[ids["spike"]]
    assert chart["kind"] == "anomaly" and chart["name"] == "Spend"
    observed, expected = chart["observed"], chart["expected"]
    assert isinstance(observed, list) and isinstance(expected, list)
    assert len(observed) == 24 + 3 and expected[-3:] == ["2", "2", "2"]
    assert expected[:24] == [None] * 24 and observed[0] == "2"
    assert page.charts[ids["images"]]["name"] == "Spend on images"
    assert page.charts[ids["model"]]["name"] == "Spend on openai/gpt-image-1"
    assert "Open" in reply.text and 'data-count="open">3<' in reply.text


def test_filters_by_status_kind_and_since(live: tuple[Running, dict[str, str]]) -> None:
    server, ids = live
    client = signed_in(server, "viewer@example.com")
    assert list(table(client.get("/anomalies?status=resolved").text).rows) == [ids["model"]]
    assert list(table(client.get("/anomalies?kind=runaway_agent").text).rows) == [ids["runaway"]]
    since = (datetime.now(ZONE).date() - timedelta(days=3)).isoformat()
    partial = client.get(f"/anomalies?since={since}", **{"HX-Request": "true"})
    assert partial.status == 200 and "<html" not in partial.text  # the htmx partial
    assert list(table(partial.text).rows) == [ids["spike"], ids["runaway"], ids["images"]]
    assert client.get("/anomalies?status=bogus").status == 422
    assert client.get("/anomalies?since=yesterday").status == 422


def test_an_owner_sees_their_scope_only(live: tuple[Running, dict[str, str]]) -> None:
    server, ids = live
    reply = signed_in(server, "marketing@example.com").get("/anomalies")
    assert reply.status == 200
    assert list(table(reply.text).rows) == [ids["runaway"], ids["images"]]
    assert "Engineering" not in reply.text
    assert "Acknowledge" in table(reply.text).buttons  # within their scope they may act


def test_a_viewer_sees_no_action(live: tuple[Running, dict[str, str]]) -> None:
    server, ids = live
    client = signed_in(server, "viewer@example.com")
    page = client.get("/anomalies")
    assert len(table(page.text).rows) == 4
    assert table(page.text).buttons == ["Sign out", "Filter", "▾", "▸", "▸", "▸"]
    assert not re.search(r'action="/anomalies/', page.text)
    csrf = client.csrf("/anomalies")
    refused = client.post(
        f"/anomalies/{ids['spike']}/acknowledge", {"csrf_token": csrf, "note": "mine now"}
    )
    assert refused.status == 403


def test_acknowledge_needs_a_note_and_the_csrf_token(
    writable: tuple[Running, dict[str, str]],
) -> None:
    server, ids = writable
    client = signed_in(server, "admin@example.com")
    csrf = client.csrf("/anomalies")
    path = f"/anomalies/{ids['spike']}/acknowledge"
    assert client.post(path, {"csrf_token": csrf, "note": "  "}).status == 422
    assert client.post(path, {"csrf_token": "forged", "note": "load test"}).status == 403
    assert (
        client.post("/anomalies/an_missing/acknowledge", {"csrf_token": csrf, "note": "x"}).status
        == 404
    )
    reply = client.post(path, {"csrf_token": csrf, "note": "load test"}, **{"HX-Request": "true"})
    assert reply.status == 200
    row = table(reply.text).rows[ids["spike"]]
    assert row["data-status"] == "acknowledged" and "load test" in row["text"]
    (api,) = [
        a for a in server.api("/api/v1/anomalies").json()["anomalies"] if a["id"] == ids["spike"]
    ]
    assert (api["status"], api["note"]) == ("acknowledged", "load test")
    resolved = client.post(f"/anomalies/{ids['spike']}/resolve", {"csrf_token": csrf})
    assert resolved.status == 303 and resolved.headers["location"] == "/anomalies"
    assert table(client.get("/anomalies").text).rows[ids["spike"]]["data-status"] == "resolved"


def test_mute_a_scope_until_a_date(writable: tuple[Running, dict[str, str]]) -> None:
    server, _ = writable
    until = datetime.now(ZONE).date() + timedelta(days=7)
    owner = signed_in(server, "marketing@example.com")
    csrf = owner.csrf("/anomalies")
    outside = {
        "csrf_token": csrf,
        "scope": "department:Engineering",
        "until": until.isoformat(),
        "reason": "not mine",
    }
    assert owner.post("/anomalies/mutes", outside).status == 403
    assert owner.post("/anomalies/mutes", {**outside, "scope": "team:x"}).status == 422
    assert owner.post("/anomalies/mutes", {**outside, "until": "soon"}).status == 422
    reply = owner.post(
        "/anomalies/mutes",
        {**outside, "scope": "project:Marketing/Digital", "reason": "campaign week"},
        **{"HX-Request": "true"},
    )
    assert reply.status == 200 and 'id="mutes"' in reply.text
    assert "campaign week" in reply.text and f"end of {until.day} {until:%b %Y}" in reply.text
    (mute,) = server.api("/api/v1/anomalies").json()["mutes"]
    assert mute["scope"] == "project:Marketing/Digital"
    assert (
        "project:Marketing/Digital" in signed_in(server, "cfo@example.com").get("/anomalies").text
    )
