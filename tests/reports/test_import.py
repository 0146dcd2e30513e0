"""Importing usage records: priced, deduplicated, bad rows reported, batches atomic."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select

from llmledger.ledger import rollups, schema
from llmledger.ledger.event import EventSource
from llmledger.ledger.recording import record_events
from llmledger.ledger.store import Store
from llmledger.pricing import PriceCatalog
from llmledger.reports.importer import import_file, import_rows, rows_of, to_event
from llmledger.reports.records import parse_record

NOW = datetime(2026, 12, 4, 12, tzinfo=UTC)


def record(i: int, **over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": f"r{i}",
        "timestamp": "2026-12-01T10:00:00-05:00",
        "provider": "openai",
        "model": "gpt-4o",
        "department": "Engineering",
        "project": "Backend",
        "agent": "coder",
        "usage": {"input_tokens": 1000, "output_tokens": 100},
    }
    base.update(over)
    return base


def write_jsonl(path: Path, lines: list[object]) -> Path:
    path.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n",
        encoding="utf-8",
    )
    return path


def counts(store: Store) -> tuple[int, int, int]:
    with store.read() as conn:
        return (
            conn.execute(select(func.count()).select_from(schema.events)).scalar_one(),
            conn.execute(select(func.count()).select_from(schema.event_usage)).scalar_one(),
            int(
                conn.execute(
                    select(func.coalesce(func.sum(schema.calls_daily.c.calls), 0))
                ).scalar_one()
            ),
        )


def test_jsonl_is_priced_and_reimport_adds_nothing(store: Store, tmp_path: Path) -> None:
    catalog = PriceCatalog.build()
    path = write_jsonl(tmp_path / "u.jsonl", [record(i) for i in range(50)])
    first = import_file(path, store, catalog, now=NOW)
    assert (first.imported, first.duplicates, first.errors) == (50, 0, [])
    # gpt-4o: $2.50/M input, $10/M output (openai.com/api/pricing): 2500 + 1000 micro-USD
    with store.read() as conn:
        cost = conn.execute(select(func.sum(schema.events.c.cost_nanos))).scalar_one()
    assert cost == 50 * 3_500_000
    again = import_file(path, store, catalog, now=NOW)
    assert (again.imported, again.duplicates) == (0, 50)
    assert counts(store) == (50, 100, 50)


def test_csv_with_usage_columns(sqlite_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text(
        "id,timestamp,provider,model,department,project,agent,input_tokens,output_tokens,audio_seconds\n"
        "a,2026-12-01T10:00:00Z,openai,gpt-4o,Sales,CRM,mailer,100,10,\n"
        "b,2026-12-01T10:00:00Z,openai,whisper-1,Sales,CRM,mailer,,,90.5\n",
        encoding="utf-8",
    )
    report = import_file(path, sqlite_store, PriceCatalog.build(), now=NOW)
    assert report.errors == [] and report.imported == 2
    with sqlite_store.read() as conn:
        whisper = conn.execute(
            select(schema.event_usage.c.quantity_milli, schema.event_usage.c.cost_nanos).where(
                schema.event_usage.c.event_id == "b"
            )
        ).one()
    # whisper-1: $0.006 per minute (openai.com/api/pricing) -> 90.5 s = $0.00905
    assert whisper == (90_500, 9_050_000)


def test_bad_rows_are_reported_by_line_and_the_rest_imported(store: Store, tmp_path: Path) -> None:
    lines: list[object] = [
        record(1),
        "{not json",
        record(2, usage={"input_tokens": -5}),
        record(3, usage={"input_tokens": 10**15}),
        record(4, timestamp="yesterday"),
        record(5, timestamp="2026-12-01T10:00:00"),
        record(6, provider="acme-ai"),
        record(7, model="no-such-model-9000"),
        record(8, usage={"bananas": 3}),
        record(9, usage={}),
        record(10, id=""),
        ["not", "an", "object"],
        record(11, cost_usd=1.5),
        record(12, timestamp="2099-01-01T00:00:00Z"),
        record(13),
    ]
    path = write_jsonl(tmp_path / "bad.jsonl", lines)
    report = import_file(path, store, PriceCatalog.build(), now=NOW)
    errors = dict(report.errors)
    assert sorted(errors) == [2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14]
    assert "JSON" in errors[2]
    assert "negative" in errors[3]
    assert "absurd" in errors[4]
    assert "ISO 8601" in errors[5]
    assert "offset" in errors[6]
    assert "provider" in errors[7]
    assert "unknown usage type" in errors[9]
    assert "out of range" in errors[14]
    # the unknown model is recorded, flagged unpriced, and warned about
    assert report.unpriced == 1 and [n for n, _ in report.warnings] == [8]
    assert report.imported == 3
    with store.read() as conn:
        flags = conn.execute(
            select(schema.events.c.flags).where(schema.events.c.id == "r7")
        ).scalar_one()
    assert flags & 1


def test_unpriced_can_be_refused(sqlite_store: Store, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "u.jsonl", [record(1, model="mystery-model")])
    report = import_file(path, sqlite_store, PriceCatalog.build(), allow_unpriced=False, now=NOW)
    assert report.imported == 0 and "no price" in report.errors[0][1]


class FailingOnSecondBatch:
    """A store whose second write transaction fails after doing its work."""

    def __init__(self, store: Store) -> None:
        self.store, self.zone, self.dialect, self.calls = store, store.zone, store.dialect, 0

    @contextmanager
    def write(self) -> Iterator[Connection]:
        self.calls += 1
        with self.store.write() as conn:
            yield conn
            if self.calls == 2:
                raise RuntimeError("disk full")


def test_a_failed_batch_leaves_nothing_half_written(sqlite_store: Store, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "u.jsonl", [record(i) for i in range(25)])
    flaky = FailingOnSecondBatch(sqlite_store)
    with pytest.raises(RuntimeError, match="disk full"):
        import_rows(rows_of(path), flaky, PriceCatalog.build(), batch_size=10, now=NOW)  # type: ignore[arg-type]
    assert counts(sqlite_store) == (10, 20, 10)
    report = import_file(path, sqlite_store, PriceCatalog.build(), batch_size=10, now=NOW)
    assert (report.imported, report.duplicates) == (15, 10)
    assert counts(sqlite_store) == (25, 50, 25)


def table_rows(store: Store) -> dict[str, list[tuple[object, ...]]]:
    out = {}
    with store.read() as conn:
        for table in (schema.events, schema.event_usage, *rollups.ROLLUP_TABLES):
            cols = list(table.columns)
            out[table.name] = [tuple(r) for r in conn.execute(select(*cols).order_by(*cols))]
    return out


def test_bulk_import_writes_what_pricing_each_record_as_an_event_writes(
    store: Store, tmp_path: Path
) -> None:
    """The import's compiled prices, row form and batch rollups against the one-record
    path (`parse_record`, `to_event` with the catalog's quote, `record_events`)."""
    rng = random.Random(5)
    models = [
        ("openai", "gpt-4o"),
        ("openai", "whisper-1"),
        ("anthropic", "claude-sonnet-4-5"),  # long-context tier above 200k input tokens
        ("google", "gemini-2.5-pro"),
        ("bedrock", "amazon.nova-pro-v1:0"),
        ("openai", "no-such-model"),
    ]
    records = []
    for i in range(400):
        provider, model = rng.choice(models)
        usage: dict[str, object] = {
            "input_tokens": rng.choice([0, 5, 1_000, 250_000]),
            "output_tokens": rng.randint(0, 3_000),
            "cached_input_tokens": rng.choice([0, 777]),
        }
        if model == "whisper-1":
            usage = {"audio_seconds": f"{rng.randint(1, 99_999) / 1000}"}
        day = rng.randint(1, 30)
        extra: dict[str, object] = {"cost_usd": "0.01"} if i % 7 == 0 else {}
        records.append(
            record(
                i % 350,  # some ids repeat: the first one wins both ways
                provider=provider,
                model=model,
                department=rng.choice(["Engineering", "", "Sales"]),
                timestamp=f"2026-11-{day:02d}T{rng.randint(0, 23):02d}:59:59.999-05:00",
                usage=usage,
                **extra,
            )
        )
    catalog = PriceCatalog.build()
    path = write_jsonl(tmp_path / "u.jsonl", records)
    report = import_file(path, store, catalog, batch_size=64, now=NOW)
    assert report.errors == [] and report.imported == 350
    bulk = table_rows(store)
    with store.write() as conn:
        for table in (schema.events, schema.event_usage, *rollups.ROLLUP_TABLES):
            conn.execute(table.delete())
        events = [to_event(parse_record(r, NOW), catalog, EventSource.IMPORT) for r in records]
        record_events(conn, events, store.zone)
    assert table_rows(store) == bulk
    assert any(flags & 1 for flags in (row[14] for row in bulk["events"]))  # unpriced
    assert any(flags & 8 for flags in (row[14] for row in bulk["events"]))  # cost mismatch
