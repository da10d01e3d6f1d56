"""Streams: bounded memory, fan-out in step, errors and cancellation owned by the right node."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import nodes_for_tests as t

from kinograph.api import CancelToken
from kinograph.core.events import Event
from kinograph.core.registry import Registry
from kinograph.host import Graph, RunOptions, Session


def stream_graph(registry: Registry, frames: int, size: int = 64, fail_at: int = -1) -> Graph:
    graph = Graph(registry)
    graph.add_node("test.source", "src", {"frames": frames, "size": size, "chunk": 4})
    graph.add_node("test.invert", "inv", {"fail_at": fail_at})
    graph.add_node("test.collect", "sink", {"label": "sink"})
    graph.connect("src.frames", "inv.frames")
    graph.connect("inv.frames", "sink.frames")
    return graph


def peak_of_run(session: Session, graph: Graph) -> int:
    tracemalloc.start()
    try:
        result = session.run(graph, RunOptions(device="cpu", use_cache=False))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.ok
    return peak


def test_memory_does_not_grow_with_length(session: Session, registry: Registry) -> None:
    n = 40
    peak_small = peak_of_run(session, stream_graph(registry, n, size=128))
    t.Collect.seen.clear()
    peak_large = peak_of_run(session, stream_graph(registry, 4 * n, size=128))
    assert t.Collect.seen["sink"] == [255 - (i % 256) for i in range(4 * n)]
    assert peak_large <= 1.2 * peak_small, (peak_small, peak_large)


def test_two_sinks_get_every_frame_in_order(session: Session, registry: Registry) -> None:
    graph = Graph(registry)
    graph.add_node("test.source", "src", {"frames": 50, "size": 16, "chunk": 3})
    graph.add_node("test.collect", "a", {"label": "a"})
    graph.add_node("test.collect", "b", {"label": "b"})
    graph.connect("src.frames", "a.frames")
    graph.connect("src.frames", "b.frames")
    result = session.run(graph, RunOptions(device="cpu", use_cache=False))
    assert result.ok
    assert t.Collect.seen["a"] == list(range(50)) == t.Collect.seen["b"]
    assert t.CALLS["source"] == 1  # one source pulled by both, not run twice


def test_error_in_middle_stage_belongs_to_the_middle_node(session: Session, registry: Registry) -> None:
    events: list[Event] = []
    result = session.run(stream_graph(registry, 40, fail_at=21), RunOptions(device="cpu", use_cache=False), [events.append])
    assert result.status == "failed"
    assert [(f.node_id, f.message) for f in result.failures] == [("inv", "RuntimeError: broken at frame 21")]
    assert result.states["sink"] == "skipped"
    assert result.states["src"] != "failed"
    failed = [e.node_id for e in events if e.kind == "node_failed"]
    assert failed == ["inv"]


def test_progress_and_time_belong_to_each_stage(session: Session, registry: Registry) -> None:
    events: list[Event] = []
    result = session.run(stream_graph(registry, 20), RunOptions(device="cpu", use_cache=False), [events.append])
    assert result.ok
    progress = [(e.node_id, e.data["done"], e.data["total"]) for e in events if e.kind == "node_progress"]
    assert ("src", 20, 20) in progress and ("inv", 20, 20) in progress
    finished = {e.node_id: e.data["seconds"] for e in events if e.kind == "node_finished"}
    assert set(finished) == {"src", "inv", "sink"}


def test_cancel_mid_stream_leaves_no_output_file(session: Session, registry: Registry, tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    graph = Graph(registry)
    graph.add_node("test.source", "src", {"frames": 400, "size": 16, "chunk": 4})
    graph.add_node("test.write_text", "w", {"path": str(target)})
    graph.connect("src.frames", "w.frames")
    cancel = CancelToken()

    def cancel_midway(event: Event) -> None:
        if event.kind == "node_progress" and event.data["done"] >= 40:
            cancel.cancel()

    result = session.run(graph, RunOptions(device="cpu"), [cancel_midway], cancel)
    assert result.status == "cancelled"
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file left either
    assert session.streams.root.exists() is False or not any(
        (p / "manifest.json").exists() for p in session.streams.root.iterdir()
    )


def test_failed_stream_leaves_no_output_file(session: Session, registry: Registry, tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    graph = stream_graph(registry, 40, fail_at=30)
    graph.remove_node("sink")
    graph.add_node("test.write_text", "w", {"path": str(target)})
    graph.connect("inv.frames", "w.frames")
    result = session.run(graph, RunOptions(device="cpu"))
    assert result.status == "failed"
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_rerun_reads_the_stream_from_the_disk_cache(session: Session, registry: Registry, tmp_path: Path) -> None:
    graph = Graph(registry)
    graph.add_node("test.source", "src", {"frames": 24, "size": 16})
    graph.add_node("test.invert", "inv")
    graph.add_node("test.write_text", "w", {"path": str(tmp_path / "a.txt")})
    graph.connect("src.frames", "inv.frames")
    graph.connect("inv.frames", "w.frames")
    first = session.run(graph, RunOptions(device="cpu"))
    graph.set_param("w", "path", str(tmp_path / "b.txt"))
    second = session.run(graph, RunOptions(device="cpu"))
    assert first.ok and second.ok
    assert second.states == {"inv": "cached", "w": "done"}
    assert (tmp_path / "a.txt").read_text() == (tmp_path / "b.txt").read_text()
    assert t.CALLS["source"] == 1
    frame = session.streams.read_frame(second.keys["inv"] + "-frames", 5)
    assert int(frame[0, 0, 0]) == 250


def test_if_exists_modes(session: Session, registry: Registry, tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.txt"
    graph = Graph(registry)
    graph.add_node("test.source", "src", {"frames": 4, "size": 16})
    graph.add_node("test.write_text", "w", {"path": str(target), "if_exists": "increment"})
    graph.connect("src.frames", "w.frames")
    for _ in range(3):
        assert session.run(graph, RunOptions(device="cpu", use_cache=False)).ok
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.txt", "out_0001.txt", "out_0002.txt"]
    graph.set_param("w", "if_exists", "error")
    result = session.run(graph, RunOptions(device="cpu", use_cache=False))
    assert result.status == "failed" and "already exists" in result.failures[0].message


def test_a_consumer_that_stops_early_does_not_block_the_others(session: Session, registry: Registry) -> None:
    graph = Graph(registry)
    graph.add_node("test.source", "src", {"frames": 200, "size": 16, "chunk": 2})
    graph.add_node("test.refuse_stream", "refuse")
    graph.add_node("test.take_first", "first")
    graph.add_node("test.collect", "all", {"label": "all"})
    for sink in ("refuse", "first", "all"):
        graph.connect("src.frames", f"{sink}.frames")
    result = session.run(graph, RunOptions(device="cpu", use_cache=False, tee_buffer=2))
    assert result.states["refuse"] == "failed"
    assert result.outputs["first"]["first"] == 0
    assert t.Collect.seen["all"] == list(range(200))


def test_a_stream_shared_by_a_sink_and_a_stage_is_pulled_in_step(session: Session, registry: Registry) -> None:
    # src feeds a sink directly and, through a lazy stage, another sink: both sinks must run
    # together, otherwise the first would buffer the whole video for the second.
    graph = Graph(registry)
    graph.add_node("test.source", "src", {"frames": 120, "size": 16, "chunk": 2})
    graph.add_node("test.collect", "direct", {"label": "direct"})
    graph.add_node("test.invert", "inv")
    graph.add_node("test.collect", "inverted", {"label": "inverted"})
    graph.connect("src.frames", "direct.frames")
    graph.connect("src.frames", "inv.frames")
    graph.connect("inv.frames", "inverted.frames")
    result = session.run(graph, RunOptions(device="cpu", use_cache=False, tee_buffer=2))
    assert result.ok, result.failures
    assert t.Collect.seen["direct"] == list(range(120))
    assert t.Collect.seen["inverted"] == [255 - i for i in range(120)]


def test_a_skipped_reader_does_not_block_the_stream(session: Session, registry: Registry) -> None:
    graph = Graph(registry)
    graph.add_node("test.source", "src", {"frames": 60, "size": 16, "chunk": 2})
    graph.add_node("kinograph.value.number", "n")
    graph.add_node("test.fail", "bad")
    graph.add_node("test.collect", "ok", {"label": "ok"})
    graph.add_node("test.invert", "inv")
    graph.add_node("test.collect", "gated", {"label": "gated"})
    graph.connect("n.value", "bad.a")
    graph.connect("src.frames", "ok.frames")
    graph.connect("src.frames", "inv.frames")
    graph.connect("inv.frames", "gated.frames")
    graph.connect("bad.out", "gated.gate")
    result = session.run(graph, RunOptions(device="cpu", use_cache=False, tee_buffer=2))
    assert t.Collect.seen["ok"] == list(range(60))
    assert result.states["gated"] == "skipped" and result.states["bad"] == "failed"


def test_stream_cache_reads_any_frame_back(session: Session, registry: Registry) -> None:
    graph = Graph(registry)
    graph.add_node("test.source", "src", {"frames": 23, "size": 8, "chunk": 4})
    result = session.run(graph, RunOptions(device="cpu", targets=["src"]))
    key = result.keys["src"] + "-frames"
    assert [int(session.streams.read_frame(key, i)[0, 0, 0]) for i in range(23)] == list(range(23))
    assert session.streams.read_frame(key, 23) is None and session.streams.read_frame(key, -1) is None
    path, row = session.streams.chunk_path(key, 9)
    assert path.name == "000002.npy" and row == 1
