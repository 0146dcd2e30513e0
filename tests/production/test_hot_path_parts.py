"""The small parts that keep the gateway's hot path cheap: ids, metric children, the
frozen start-up heap."""

from __future__ import annotations

import gc
import os
import re

from prometheus_client import CollectorRegistry, Counter

from llmledger.gateway.ids import RequestIds
from llmledger.ops.heap import freeze_startup_heap
from llmledger.ops.metrics import Labelled


def test_request_ids_are_32_hex_digits_and_unique() -> None:
    ids = RequestIds()
    seen = {ids.next() for _ in range(50_000)}
    assert len(seen) == 50_000
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in list(seen)[:1000])


def test_two_generators_never_share_a_sequence() -> None:
    a, b = RequestIds(), RequestIds()
    assert {a.next() for _ in range(100)}.isdisjoint({b.next() for _ in range(100)})


def test_a_forked_child_draws_other_ids_than_its_parent() -> None:
    ids = RequestIds()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next ids, to the parent
        os.close(read)
        os.write(write, "".join(ids.next() for _ in range(10)).encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 1000).decode()
    os.close(read)
    os.waitpid(pid, 0)
    parent = "".join(ids.next() for _ in range(10))
    assert len(child) == 320
    assert child != parent


def test_labelled_metric_reuses_its_children_and_counts_each_label_set() -> None:
    registry = CollectorRegistry()
    requests = Labelled(Counter("calls", "Calls.", ["provider", "status"], registry=registry))
    first = requests.labels("openai", "200")
    assert requests.labels("openai", "200") is first
    for _ in range(3):
        requests.labels("openai", "200").inc()
    requests.labels("anthropic", "429").inc()
    assert registry.get_sample_value("calls_total", {"provider": "openai", "status": "200"}) == 3
    assert registry.get_sample_value("calls_total", {"provider": "anthropic", "status": "429"}) == 1


def test_freezing_the_heap_moves_start_up_objects_out_of_the_collectors_walk() -> None:
    survivors = [[i] for i in range(1000)]  # lists: objects the collector tracks
    probe = {id(x) for x in survivors}
    assert probe <= {id(o) for o in gc.get_objects()}
    try:
        frozen = freeze_startup_heap()
        assert frozen >= len(survivors)
        assert probe.isdisjoint(id(o) for o in gc.get_objects())
    finally:
        gc.unfreeze()
    assert probe <= {id(o) for o in gc.get_objects()}
