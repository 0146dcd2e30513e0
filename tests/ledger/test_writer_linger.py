"""The writer gathers writes nobody awaits into fewer commits; an awaited write never
waits for that."""

from __future__ import annotations

import asyncio
import threading

from sqlalchemy import Connection

from llmledger.ledger.store import Store
from llmledger.ledger.writer import LedgerWriter


async def test_writes_nobody_awaits_are_gathered_into_one_batch(sqlite_store: Store) -> None:
    batches: list[list[int]] = []

    def write_many(_conn: Connection, items: list[int]) -> list[None]:
        batches.append(list(items))
        return [None] * len(items)

    writer = LedgerWriter(sqlite_store, linger_s=0.5)
    writer.start()
    try:
        for i in range(20):
            writer.submit_many_nowait(write_many, i)
        await writer.flush()
    finally:
        writer.close()
    assert sorted(i for batch in batches for i in batch) == list(range(20))
    assert len(batches) == 1  # without the linger the first item goes alone


async def test_without_linger_the_first_write_is_committed_alone(sqlite_store: Store) -> None:
    batches: list[list[int]] = []
    first_seen = threading.Event()

    def write_many(_conn: Connection, items: list[int]) -> list[None]:
        batches.append(list(items))
        first_seen.set()
        return [None] * len(items)

    writer = LedgerWriter(sqlite_store, linger_s=0.0)
    writer.start()
    try:
        writer.submit_many_nowait(write_many, 0)
        await asyncio.to_thread(first_seen.wait, 5)
        for i in range(1, 5):
            writer.submit_many_nowait(write_many, i)
        await writer.flush()
    finally:
        writer.close()
    assert batches[0] == [0]
    assert sorted(i for batch in batches for i in batch) == list(range(5))


async def test_an_awaited_write_ends_the_linger(sqlite_store: Store) -> None:
    def write_many(_conn: Connection, items: list[int]) -> list[int]:
        return [i * 2 for i in items]

    writer = LedgerWriter(sqlite_store, linger_s=60.0)  # a wait nobody would sit out
    writer.start()
    try:
        writer.submit_many_nowait(write_many, 1)
        result = await asyncio.wait_for(writer.submit_many(write_many, 21), timeout=10)
    finally:
        writer.close()
    assert result == 42


async def test_the_writer_thread_carries_its_name_at_the_os_level(sqlite_store: Store) -> None:
    """`top -H` and /proc tell the writer from the event loop (bench/gateway.py reads it)."""
    names: list[str] = []

    def comm(_conn: Connection) -> None:
        tid = threading.get_native_id()
        with open(f"/proc/self/task/{tid}/comm") as f:
            names.append(f.read().strip())

    writer = LedgerWriter(sqlite_store)
    writer.start()
    try:
        await writer.submit(comm)
    finally:
        writer.close()
    assert names == ["llmledger-write"]  # the kernel keeps 15 bytes
