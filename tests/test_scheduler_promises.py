"""What the scheduler promises, each checked so that breaking it fails a test: per-stage time,
a bounded buffer between readers of one stream, the RAM budget and LRU eviction (also during a
run), streams never read reported as skipped, and the snapshot that runs is the one checked."""

from __future__ import annotations

import nodes_for_tests as t
import pytest

from kinograph.core.cache import ValueCache
from kinograph.core.registry import Registry
from kinograph.host import Graph, GraphError, RunOptions, Session


def test_each_stage_is_charged_its_own_time(session: Session, registry: Registry) -> None:
    graph = Graph(registry)
    graph.add_node("test.source", "src", {"frames": 20, "size": 8, "chunk": 4, "delay": 0.06})  # 5 x 0.06 s
    graph.add_node("test.invert", "inv")
    graph.add_node("test.collect", "sink")
    graph.connect("src.frames", "inv.frames")
    graph.connect("inv.frames", "sink.frames")
    result = session.run(graph, RunOptions(device="cpu", use_cache=False))
    assert result.ok
    assert result.seconds["src"] >= 0.28, result.seconds  # the sleeping stage owns its sleep
    assert result.seconds["inv"] < 0.1 and result.seconds["sink"] < 0.1, result.seconds


def test_two_readers_of_one_stream_stay_within_the_buffer(session: Session, registry: Registry) -> None:
    graph = Graph(registry)
    graph.add_node("test.source", "src", {"frames": 60, "size": 8, "chunk": 2})
    graph.add_node("test.collect", "fast", {"label": "fast"})
    graph.add_node("test.collect", "slow", {"label": "slow", "delay": 0.005})
    graph.connect("src.frames", "fast.frames")
    graph.connect("src.frames", "slow.frames")
    result = session.run(graph, RunOptions(device="cpu", use_cache=False, tee_buffer=3))
    assert result.ok
    assert t.Collect.seen["fast"] == list(range(60)) == t.Collect.seen["slow"]
    # 30 chunks went by; the fast reader was never more than the buffer ahead of the slow one.
    assert 1 <= result.buffer_peaks["src.frames"] <= 3, result.buffer_peaks


def branch(graph: Graph, name: str, value: float) -> None:
    graph.add_node("kinograph.value.number", f"{name}_n", {"value": value})
    graph.add_node("test.add", f"{name}_add", {"offset": 1})
    graph.add_node("test.record", f"{name}_rec", {"label": name})
    graph.connect(f"{name}_n.value", f"{name}_add.a")
    graph.connect(f"{name}_add.sum", f"{name}_rec.value")


def test_values_stay_within_the_ram_budget_least_recently_used_first(registry: Registry) -> None:
    values = ValueCache(budget=60)  # room for two floats (24 bytes each)
    session = Session(registry, values=values)
    first = Graph(registry)
    branch(first, "a", 1)
    session.run(first, RunOptions(device="cpu"))
    assert 0 < values.used <= 60
    second = Graph(registry)
    branch(second, "b", 2)
    session.run(second, RunOptions(device="cpu"))
    assert values.used <= 60
    t.CALLS.clear()
    session.run(first.snapshot(), RunOptions(device="cpu"))  # a snapshot is planned whole, through the cache
    assert t.CALLS == {"add": 1}, "a's value should have been evicted by b's, least recent first"


def test_a_value_evicted_during_the_run_still_serves_its_readers(registry: Registry) -> None:
    values = ValueCache(budget=60)
    session = Session(registry, values=values)
    graph = Graph(registry)
    branch(graph, "a", 1)
    session.run(graph, RunOptions(device="cpu"))
    key = session.plan(graph.snapshot(), RunOptions(device="cpu")).port_key("a_add", "sum")
    # b runs first (added first) and its values push a's out of the cache mid-run.
    both = Graph(registry)
    branch(both, "b", 10)
    branch(both, "a", 1)
    t.Record.received.clear()
    result = session.run(both, RunOptions(device="cpu"))
    assert result.ok and result.states["a_add"] == "cached"
    assert key not in values, "the test needs the eviction to happen during the run"
    assert ("a", 2.0) in t.Record.received and ("b", 11.0) in t.Record.received


def test_a_stream_nobody_read_is_skipped_not_done(session: Session, registry: Registry) -> None:
    graph = Graph(registry)
    graph.add_node("test.source", "src")
    graph.add_node("test.invert", "inv")
    graph.add_node("test.collect", "sink", {"fail": True})
    graph.connect("src.frames", "inv.frames")
    graph.connect("inv.frames", "sink.frames")
    result = session.run(graph, RunOptions(device="cpu", use_cache=False))
    assert result.states["sink"] == "failed"
    assert result.states["inv"] == "skipped" and result.states["src"] == "skipped", result.states
    assert "inv" not in result.seconds or result.seconds["inv"] < 0.01


def test_the_snapshot_that_runs_is_the_one_validated(session: Session, registry: Registry) -> None:
    graph = Graph(registry)
    branch(graph, "a", 1)
    snapshot = graph.snapshot()
    graph.set_param("a_add", "offset", 100)  # an edit after the snapshot does not run
    t.Record.received.clear()
    assert session.run(snapshot, RunOptions(device="cpu", use_cache=False)).ok
    assert t.Record.received == [("a", 2.0)]
    broken = Graph(registry)
    branch(broken, "x", 1)
    broken.nodes["x_add"].params["offset"] = "not a number"  # bypasses the editing checks
    with pytest.raises(GraphError, match="x_add"):
        session.run(broken.snapshot(), RunOptions(device="cpu"))
