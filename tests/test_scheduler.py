"""The scheduler: what runs, caching, failures, events, bypass, cancellation, big graphs."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import nodes_for_tests as t
import pytest

from kinograph.api import CancelToken, GraphError
from kinograph.core.events import Event
from kinograph.core.registry import Registry
from kinograph.host import Graph, RunOptions, Session, run_graph


def chain(registry: Registry, tmp_path: Path) -> Graph:
    data = tmp_path / "data.bin"
    data.write_bytes(b"abc")
    graph = Graph(registry, base_dir=tmp_path)
    graph.add_node("test.read_file", "read", {"path": "data.bin"})
    graph.add_node("test.add", "add", {"offset": 1})
    graph.add_node("test.add", "unused", {"offset": 5})
    graph.add_node("test.record", "rec", {"label": "r"})
    graph.connect("read.size", "add.a")
    graph.connect("read.size", "unused.a")
    graph.connect("add.sum", "rec.value")
    return graph


def collect() -> tuple[list[Event], Any]:
    events: list[Event] = []
    return events, events.append


def test_runs_only_what_outputs_need(session: Session, registry: Registry, tmp_path: Path) -> None:
    graph = chain(registry, tmp_path)
    result = session.run(graph, RunOptions(device="cpu"))
    assert result.ok
    assert result.plan == ["read", "add", "rec"]
    assert "unused" not in result.states
    assert t.Record.received == [("r", 4.0)]
    assert result.outputs["add"]["sum"] == 4.0


def test_rerun_after_param_change_runs_only_what_the_edit_affects(
    session: Session, registry: Registry, tmp_path: Path
) -> None:
    graph = chain(registry, tmp_path)
    session.run(graph, RunOptions(device="cpu"))
    graph.set_param("add", "offset", 10)
    events, sink = collect()
    result = session.run(graph, RunOptions(device="cpu"), [sink])
    # read is not downstream of the edit: it keeps its state and says nothing
    assert result.states == {"read": "done", "add": "done", "rec": "done"}
    assert {e.node_id for e in events if e.node_id} == {"add", "rec"}
    assert t.Record.received[-1] == ("r", 13.0)
    assert t.CALLS["read_file"] == 1


def test_a_snapshot_runs_whole_and_reports_cached_nodes(session: Session, registry: Registry, tmp_path: Path) -> None:
    graph = chain(registry, tmp_path)
    session.run(graph, RunOptions(device="cpu"))
    graph.set_param("add", "offset", 10)
    events, sink = collect()
    result = session.run(graph.snapshot(), RunOptions(device="cpu"), [sink])
    assert result.states == {"read": "cached", "add": "done", "rec": "done"}
    assert [e.node_id for e in events if e.kind == "node_cached"] == ["read"]


def test_touching_an_input_file_reruns_its_loader(session: Session, registry: Registry, tmp_path: Path) -> None:
    graph = chain(registry, tmp_path)
    session.run(graph, RunOptions(device="cpu"))
    data = tmp_path / "data.bin"
    data.write_bytes(b"abcdef")
    os.utime(data, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))
    result = session.run(graph, RunOptions(device="cpu"))
    assert result.states["read"] == "done"
    assert t.Record.received[-1] == ("r", 7.0)


def test_no_cache_runs_everything(session: Session, registry: Registry, tmp_path: Path) -> None:
    graph = chain(registry, tmp_path)
    session.run(graph, RunOptions(device="cpu"))
    result = session.run(graph, RunOptions(device="cpu", use_cache=False))
    assert set(result.states.values()) == {"done"}
    assert t.CALLS["read_file"] == 2


def test_failure_skips_downstream_and_independent_branches_finish(session: Session, registry: Registry) -> None:
    graph = Graph(registry)
    graph.add_node("kinograph.value.number", "n", {"value": 1})
    graph.add_node("test.fail", "bad")
    graph.add_node("test.add", "after_bad")
    graph.add_node("test.record", "rec_bad", {"label": "bad"})
    graph.add_node("test.add", "good")
    graph.add_node("test.record", "rec_good", {"label": "good"})
    for a, b in [("n.value", "bad.a"), ("bad.out", "after_bad.a"), ("after_bad.sum", "rec_bad.value"),
                 ("n.value", "good.a"), ("good.sum", "rec_good.value")]:
        graph.connect(a, b)
    events, sink = collect()
    result = session.run(graph, RunOptions(device="cpu"), [sink])
    assert result.status == "failed"
    assert [(f.node_id, f.type, f.message) for f in result.failures] == [
        ("bad", "test.fail", "ValueError: this node always fails")
    ]
    assert "Traceback" in result.failures[0].traceback
    assert result.states["after_bad"] == "skipped" and result.states["rec_bad"] == "skipped"
    assert result.states["rec_good"] == "done"
    assert t.Record.received == [("good", 1.0)]
    skipped = [e for e in events if e.kind == "node_skipped"]
    # every skipped node names the node that failed, not just its skipped neighbour
    assert [e.data["because"] for e in skipped] == ["upstream node 'bad' failed"] * 2


def test_events_are_in_order_and_a_raising_subscriber_is_harmless(session: Session, registry: Registry, tmp_path: Path) -> None:
    graph = chain(registry, tmp_path)
    events, sink = collect()

    def broken(event: Event) -> None:
        raise RuntimeError("subscriber bug")

    result = session.run(graph, RunOptions(device="cpu"), [broken, sink])
    assert result.ok
    kinds = [(e.kind, e.node_id) for e in events]
    assert kinds[0] == ("run_started", None)
    assert kinds[-1] == ("run_finished", None)
    assert events[0].data["plan"] == ["read", "add", "rec"]
    for node in ("read", "add", "rec"):
        assert kinds.index(("node_started", node)) < kinds.index(("node_finished", node))
    assert kinds.index(("node_finished", "read")) < kinds.index(("node_started", "add"))
    assert events[-1].data["summary"]["status"] == "finished"
    assert all(k in {"run_started", "node_started", "node_finished", "run_finished"} for k, _ in kinds)


def test_bypass_passes_the_input_through(session: Session, registry: Registry) -> None:
    graph = Graph(registry)
    graph.add_node("kinograph.value.number", "n", {"value": 2})
    graph.add_node("test.add", "add", {"offset": 100})
    graph.add_node("test.record", "rec")
    graph.connect("n.value", "add.a")
    graph.connect("add.sum", "rec.value")
    graph.set_bypass("add", True)
    result = session.run(graph, RunOptions(device="cpu"))
    assert result.states["add"] == "bypassed"
    assert t.Record.received == [("", 2.0)]


def test_bypass_without_a_compatible_input_is_a_validation_error(session: Session, registry: Registry) -> None:
    graph = Graph(registry)
    graph.add_node("test.read_file", "read", {"path": __file__})
    graph.add_node("test.record", "rec")
    graph.connect("read.size", "rec.value")
    graph.set_bypass("read", True)
    with pytest.raises(GraphError, match="bypassed but has no input"):
        session.run(graph, RunOptions(device="cpu"))


def test_cancel_between_nodes(session: Session, registry: Registry, tmp_path: Path) -> None:
    graph = chain(registry, tmp_path)
    cancel = CancelToken()
    events, sink = collect()

    def cancel_after_first(event: Event) -> None:
        if event.kind == "node_finished":
            cancel.cancel()

    result = session.run(graph, RunOptions(device="cpu"), [cancel_after_first, sink], cancel)
    assert result.status == "cancelled"
    assert t.Record.received == []
    assert [e.kind for e in events][-2:] == ["run_cancelled", "run_finished"]


def test_thousand_node_chain_has_no_recursion_limit(session: Session, registry: Registry) -> None:
    graph = Graph(registry)
    graph.add_node("kinograph.value.number", "n0", {"value": 0})
    previous = "n0.value"
    for i in range(1, 1000):
        graph.add_node("test.add", f"a{i}", {"offset": 1})
        graph.links.append(__import__("kinograph.host", fromlist=["Link"]).Link.parse(previous, f"a{i}.a"))
        previous = f"a{i}.sum"
    graph.add_node("test.record", "rec")
    graph.connect(previous, "rec.value")
    result = session.run(graph, RunOptions(device="cpu"))
    assert result.ok
    assert t.Record.received == [("", 999.0)]


def test_run_selected_nodes_only(session: Session, registry: Registry, tmp_path: Path) -> None:
    graph = chain(registry, tmp_path)
    result = session.run(graph, RunOptions(device="cpu", targets=["unused"]))
    assert result.plan == ["read", "unused"]
    assert result.outputs["unused"]["sum"] == 8.0
    assert t.Record.received == []


def test_python_api_in_a_few_lines(registry: Registry, tmp_path: Path) -> None:
    # The README's example: load, override, run, read outputs.
    chain(registry, tmp_path).save(tmp_path / "g.json")
    from kinograph.host import load_graph

    graph = load_graph(str(tmp_path / "g.json"))
    graph.set_param("add", "offset", 0.5)
    result = run_graph(graph, device="cpu")
    assert result.ok and result.outputs["add"]["sum"] == 3.5


def test_unavailable_device_is_refused_before_running(session: Session, registry: Registry, tmp_path: Path) -> None:
    graph = chain(registry, tmp_path)
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    from kinograph.api import KinographError

    with pytest.raises(KinographError, match="not available"):
        session.run(graph, RunOptions(device="cuda:0"))
    assert t.CALLS == {}


def test_nodes_know_which_outputs_are_used(session: Session, registry: Registry, tmp_path: Path) -> None:
    from PIL import Image

    for i in range(3):
        Image.new("RGB", (8, 6), (i * 50, 0, 0)).save(tmp_path / f"f{i}.png")
    graph = Graph(registry)
    graph.add_node("kinograph.image.load_folder", "load", {"path": str(tmp_path), "as_stream": True})
    graph.add_node("test.record", "rec")
    graph.connect("load.images", "rec.value")
    result = session.run(graph, RunOptions(device="cpu"))
    assert result.ok, result.failures
    assert t.Record.received[0][1].shape == (3, 6, 8, 3)
