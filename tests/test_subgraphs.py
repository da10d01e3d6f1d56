"""Subgraphs in the core: grouping and ungrouping as exact operations, the flattened run
(streams across the boundary, events and failures per inner node), params a group shows,
``--set`` / ``--node`` with inner ids, and memory that stays flat through a group."""

from __future__ import annotations

import gc
import json
import tracemalloc
from pathlib import Path

import nodes_for_tests
import pytest

from kinograph.cli import main
from kinograph.core.registry import Registry
from kinograph.host import Graph, GraphError, RunOptions, Session, graph_schema, validate


def chain(registry: Registry, frames: int = 8) -> Graph:
    """src -> inv -> inv2 -> sink, in a line from left to right."""
    graph = Graph(registry)
    graph.add_node("test.source", "src", {"frames": frames, "size": 8}, pos=(0, 0))
    graph.add_node("test.invert", "inv", pos=(200, 0))
    graph.add_node("test.invert", "inv2", pos=(400, 0))
    graph.add_node("test.collect", "sink", pos=(600, 0))
    graph.connect("src.frames", "inv.frames")
    graph.connect("inv.frames", "inv2.frames")
    graph.connect("inv2.frames", "sink.frames")
    return graph


def links_of(graph: Graph) -> set[str]:
    return {str(link) for link in graph.links}


def test_grouping_turns_the_links_that_cross_the_selection_into_ports(registry: Registry) -> None:
    graph = chain(registry)
    graph.group_nodes(["inv", "inv2"], "grade")
    assert list(graph.nodes) == ["src", "grade", "sink"]  # the group takes the first node's place
    assert links_of(graph) == {"src.frames -> grade.frames", "grade.frames -> sink.frames"}
    group = graph.nodes["grade"]
    assert [(p.name, p.type) for p in group.subgraph.interface.inputs] == [("frames", "FrameStream")]
    assert [(p.name, p.type) for p in group.subgraph.interface.outputs] == [("frames", "FrameStream")]
    inner = graph.inner("grade")
    assert links_of(inner) == {"inv.frames -> inv2.frames", "inputs.frames -> inv.frames", "inv2.frames -> outputs.frames"}
    cls = graph.node_class("grade")
    assert [p.name for p in cls.inputs] == ["frames"] and [p.name for p in cls.outputs] == ["frames"]
    assert graph.check_link("src.frames", "grade.frames") is None  # the group's ports take links like a node's


def test_undoing_a_grouping_gives_back_the_same_file(registry: Registry) -> None:
    graph = chain(registry)
    graph.add_node("test.source", "other", pos=(0, 200))  # a node between in the file order
    graph.add_node("test.collect", "other_sink", pos=(200, 200))
    graph.connect("other.frames", "other_sink.frames", index=1)  # a link between in the file order
    graph.reorder_nodes(["src", "inv", "other", "inv2", "sink", "other_sink"])
    before = graph.to_json()
    grouping = graph.group_nodes(["inv2", "inv"])
    assert graph.to_json() != before
    graph.undo_group(grouping)
    assert graph.to_json() == before


def test_ungrouping_restores_the_grouped_nodes_and_their_links(registry: Registry) -> None:
    graph = chain(registry)
    before = json.loads(graph.to_json())
    graph.group_nodes(["inv", "inv2"], "grade")
    grouped = graph.to_json()
    ungrouping = graph.ungroup("grade")
    after = json.loads(graph.to_json())
    assert after["nodes"] == before["nodes"]  # ids, params, positions, order
    assert sorted(map(json.dumps, after["links"])) == sorted(map(json.dumps, before["links"]))
    graph.undo_ungroup(ungrouping)
    assert graph.to_json() == grouped


def test_a_group_saves_and_loads_back_byte_for_byte(registry: Registry, tmp_path: Path) -> None:
    graph = chain(registry)
    graph.group_nodes(["inv", "inv2"], "grade")
    graph.inner("grade").expose_on_group("inv", "fail_at", "break_at")
    path = tmp_path / "grouped.json"
    graph.save(path)
    text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    assert data["version"] == 3
    assert data["nodes"]["grade"]["params"] == {"break_at": -1}
    assert set(data["nodes"]["grade"]["subgraph"]["nodes"]) == {"inputs", "inv", "inv2", "outputs"}
    assert Graph.load(path, registry).to_json() == text
    import jsonschema

    jsonschema.validate(data, graph_schema())


def test_a_snapshot_runs_flat_but_embeds_the_graph_as_made_and_shares_nothing(registry: Registry) -> None:
    graph = chain(registry)
    graph.group_nodes(["inv", "inv2"], "grade")
    graph.inner("grade").expose_on_group("inv", "fail_at")
    made = graph.to_json()
    flat = graph.snapshot()
    graph.set_param("grade", "fail_at", 5)
    graph.set_param("grade/inv2", "fail_at", 6)
    assert flat.nodes["grade/inv"].params["fail_at"] == -1 and flat.nodes["grade/inv2"].params["fail_at"] == -1
    assert Graph.from_json(flat.text, registry).to_json() == made  # what outputs embed reopens the groups


def test_grouping_refuses_a_selection_that_would_feed_itself(registry: Registry) -> None:
    graph = chain(registry)
    before = graph.to_json()
    with pytest.raises(GraphError, match="'inv' is fed by the selection and feeds it"):
        graph.group_nodes(["src", "inv2"])
    assert graph.to_json() == before  # nothing changed


def test_the_run_is_flat_events_and_failures_name_inner_nodes(session: Session, registry: Registry) -> None:
    graph = chain(registry)
    graph.add_node("test.source", "other", {"frames": 4, "size": 8})
    graph.add_node("test.collect", "other_sink", {"label": "other"})
    graph.connect("other.frames", "other_sink.frames")
    graph.group_nodes(["inv", "inv2"], "grade")
    graph.set_param("grade/inv2", "fail_at", 2)  # an inner node's param, by its inner id
    events: list[tuple[str, str | None]] = []
    result = session.run(graph, RunOptions(use_cache=False), [lambda e: events.append((e.kind, e.node_id))])
    assert [(f.node_id, f.type) for f in result.failures] == [("grade/inv2", "test.invert")]
    assert result.outputs["other_sink"] == {"count": 4}  # the independent branch finished
    started = {node_id for kind, node_id in events if kind == "node_started"}
    assert {"grade/inv", "grade/inv2"} <= started and "grade" not in started


def test_streams_cross_the_boundary_and_caching_is_per_inner_node(session: Session, registry: Registry) -> None:
    graph = chain(registry, frames=6)
    graph.add_node("test.add", "add", {"offset": 1.0})
    graph.add_node("kinograph.value.number", "num", {"value": 2.0})
    graph.add_node("test.record", "rec")
    graph.connect("num.value", "add.a")
    graph.connect("add.sum", "rec.value")
    graph.group_nodes(["num", "add"], "math")
    graph.group_nodes(["inv", "inv2"], "grade")
    first = session.run(graph, RunOptions())
    assert first.ok, first.failures
    assert nodes_for_tests.Collect.seen["sink"] == list(range(6))  # inverted twice: the frames again
    assert nodes_for_tests.Record.received[-1] == ("", 3.0)
    calls = nodes_for_tests.CALLS.get("add", 0)
    second = session.run(graph, RunOptions())
    assert second.ok and nodes_for_tests.CALLS.get("add", 0) == calls  # math/add came from the cache
    assert second.keys["math/add"] == first.keys["math/add"]


def test_nested_groups_and_a_group_that_passes_its_input_through(session: Session, registry: Registry) -> None:
    graph = chain(registry, frames=5)
    graph.group_nodes(["inv"], "outer")
    inner = graph.inner("outer")
    inner.group_nodes(["inv"], "deep")
    graph.group_nodes(["inv2"], "through")
    through = graph.inner("through")
    through.remove_node("inv2")
    through.connect("inputs.frames", "outputs.frames")  # straight through
    flat = graph.snapshot()
    assert set(flat.nodes) == {"src", "outer/deep/inv", "sink"}
    assert {str(link) for link in flat.links} == {"src.frames -> outer/deep/inv.frames", "outer/deep/inv.frames -> sink.frames"}
    result = session.run(graph, RunOptions(use_cache=False))
    assert result.ok, result.failures
    assert nodes_for_tests.Collect.seen["sink"] == [255 - i for i in range(5)]  # inverted once


def test_a_param_shown_on_the_group_sets_the_inner_one(session: Session, registry: Registry) -> None:
    graph = chain(registry)
    graph.group_nodes(["inv", "inv2"], "grade")
    inner = graph.inner("grade")
    before = graph.to_json()
    assert inner.expose_on_group("inv2", "fail_at") == "fail_at"
    cls = graph.node_class("grade")
    assert cls.Params.model_json_schema()["properties"]["fail_at"]["type"] == "integer"
    with pytest.raises(GraphError):
        graph.set_param("grade", "fail_at", "soon")  # checked by the inner param's own type
    graph.set_param("grade", "fail_at", 1)
    result = session.run(graph, RunOptions(use_cache=False))
    assert [f.node_id for f in result.failures] == ["grade/inv2"]
    hidden = inner.hide_from_group("fail_at")
    assert graph.nodes["grade"].params == {} and inner.nodes["inv2"].params["fail_at"] == 1  # the value stays
    inner.restore_group_param(hidden)
    assert graph.nodes["grade"].params == {"fail_at": 1} and inner.nodes["inv2"].params["fail_at"] == -1
    graph.set_param("grade", "fail_at", -1)
    inner.hide_from_group("fail_at")
    assert graph.to_json() == before


def test_a_param_on_the_group_can_be_driven_by_a_link(session: Session, registry: Registry) -> None:
    graph = chain(registry)
    graph.group_nodes(["inv", "inv2"], "grade")
    graph.inner("grade").expose_on_group("inv2", "fail_at")
    graph.add_node("kinograph.value.number", "when", {"value": 2})
    graph.expose_param("grade", "fail_at")  # the group's param shown as an input port of the group
    graph.connect("when.value", "grade.fail_at")
    flat = graph.snapshot()
    assert "when.value -> grade/inv2.fail_at" in {str(link) for link in flat.links}
    assert flat.nodes["grade/inv2"].exposed == ["fail_at"]
    result = session.run(graph, RunOptions(use_cache=False))
    assert [f.node_id for f in result.failures] == ["grade/inv2"] and "frame 2" in result.failures[0].message
    ungrouped = graph.ungroup("grade")
    assert "when.value -> inv2.fail_at" in {str(link) for link in graph.links} and graph.nodes["inv2"].exposed == ["fail_at"]
    graph.undo_ungroup(ungrouped)


def test_ports_added_to_a_group_inside_carry_links_and_come_off_exactly(session: Session, registry: Registry) -> None:
    graph = chain(registry)
    graph.add_node("test.collect", "side", {"label": "side"})
    graph.group_nodes(["inv", "inv2"], "grade")
    before = graph.to_json()
    inner = graph.inner("grade")
    inner.add_group_port("output", "first", "FrameStream")
    inner.connect("inv.frames", "outputs.first")  # what the first invert gives, shown outside
    graph.connect("grade.first", "side.frames")
    with pytest.raises(GraphError, match=r"inv\.frames -> outputs\.first uses it"):
        inner.remove_group_port("output", "first")
    result = session.run(graph, RunOptions(use_cache=False))
    assert result.ok and nodes_for_tests.Collect.seen["side"] == [255 - i for i in range(8)]
    graph.disconnect(graph.links[-1])
    inner.disconnect(inner.links[-1])
    removed = inner.remove_group_port("output", "first")
    assert graph.to_json() == before
    inner.restore_group_port(removed)
    assert [p.name for p in graph.node_class("grade").outputs] == ["frames", "first"]
    with pytest.raises(GraphError, match="already has an output 'first'"):
        inner.add_group_port("output", "first", "Number")
    with pytest.raises(GraphError, match="unknown port type"):
        inner.add_group_port("input", "x", "Nonsense")


def test_validation_names_what_is_wrong_inside_a_group(registry: Registry) -> None:
    graph = chain(registry)
    graph.group_nodes(["inv", "inv2"], "grade")
    inner = graph.inner("grade")
    inner.expose_on_group("inv", "fail_at")
    inner.disconnect(next(lk for lk in inner.links if lk.target_node == "outputs"))
    inner.remove_node("inv")
    found = {(p.where, p.message) for p in validate(graph)}
    assert ("nodes.grade.outputs.frames", "the group's output 'frames' is not linked inside") in found
    assert any(where == "nodes.grade.params.fail_at" and "no node 'inv'" in message for where, message in found)
    assert any(where == "nodes.grade/inv2.inputs.frames" for where, _ in found)


def test_cli_sets_group_and_inner_params_and_runs_an_inner_node(registry: Registry, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    graph = chain(registry, frames=4)
    graph.add_node("test.write_text", "write", {"path": str(tmp_path / "out.txt")})
    graph.connect("inv2.frames", "write.frames")
    graph.group_nodes(["inv", "inv2"], "grade")
    graph.inner("grade").expose_on_group("inv", "fail_at")
    path = tmp_path / "grouped.json"
    graph.save(path)

    code = main(["run", str(path), "--device", "cpu", "--no-cache", "--set", "grade.fail_at=1"])
    err = capsys.readouterr().err
    assert code == 1 and "node grade/inv (test.invert) failed" in err

    code = main(["run", str(path), "--device", "cpu", "--no-cache", "--set", "grade/inv2.fail_at=0", "--events", "json"])
    out, err = capsys.readouterr()
    events = [json.loads(line) for line in out.splitlines()]
    failed = [e for e in events if e["event"] == "node_failed"]
    assert code == 1 and [e["node"] for e in failed] == ["grade/inv2"]

    code = main(["run", str(path), "--set", "grade/inv.fail_at=0"])
    err = capsys.readouterr().err
    assert code == 2 and "set by its group's param 'fail_at'" in err and "--set grade.fail_at=VALUE" in err

    code = main(["run", str(path), "--device", "cpu", "--no-cache", "--node", "grade/inv", "--events", "json"])
    out, _ = capsys.readouterr()
    plan = next(json.loads(line) for line in out.splitlines() if json.loads(line)["event"] == "run_started")
    assert code == 0 and plan["plan"] == ["src", "grade/inv"]

    code = main(["run", str(path), "--device", "cpu", "--no-cache", "--node", "grade", "--events", "json"])
    out, _ = capsys.readouterr()
    plan = next(json.loads(line) for line in out.splitlines() if json.loads(line)["event"] == "run_started")
    assert code == 0 and plan["plan"] == ["src", "grade/inv", "grade/inv2"]

    code = main(["run", str(path), "--set", "nogroup/inv.fail_at=0"])
    err = capsys.readouterr().err
    assert code == 2 and "there is no group 'nogroup'" in err and "Traceback" not in err


def _peak(session: Session, frames: int) -> int:
    graph = Graph(session.registry)
    graph.add_node("test.source", "src", {"frames": frames, "size": 64, "chunk": 4}, pos=(0, 0))
    graph.add_node("test.invert", "inv", pos=(200, 0))
    graph.add_node("test.collect", "sink", pos=(400, 0))
    graph.connect("src.frames", "inv.frames")
    graph.connect("inv.frames", "sink.frames")
    graph.group_nodes(["inv"], "stage")
    gc.collect()
    tracemalloc.start()
    try:
        result = session.run(graph, RunOptions(device="cpu", use_cache=False))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.ok, result.failures
    assert nodes_for_tests.Collect.seen["sink"][-1] == 255 - (frames - 1) % 256
    return peak


def test_a_stream_stage_inside_a_group_keeps_memory_flat(session: Session) -> None:
    _peak(session, 8)  # warm up (imports, caches)
    n = 24
    short = _peak(session, n)
    long = _peak(session, 4 * n)
    assert short > 64 * 64 * 3 * 4  # the measure sees at least one chunk
    assert long <= 1.2 * short, f"peak {long} B for {4 * n} frames vs {short} B for {n}"


def test_renaming_a_group_port_carries_its_links_inside_and_out_and_renaming_back_undoes_it(
    registry: Registry, session: Session
) -> None:
    graph = chain(registry)
    graph.group_nodes(["inv", "inv2"], "grade")
    before = graph.to_json()
    first = session.run(graph, RunOptions(device="cpu", use_cache=False))
    inner = graph.inner("grade")
    changes: list[object] = []
    inner.subscribe(changes.append)
    inner.rename_group_port("input", "frames", "footage")
    inner.rename_group_port("output", "frames", "graded")
    assert links_of(graph) == {"src.frames -> grade.footage", "grade.graded -> sink.frames"}
    assert links_of(inner) == {"inv.frames -> inv2.frames", "inputs.footage -> inv.frames", "inv2.frames -> outputs.graded"}
    cls = graph.node_class("grade")
    assert [p.name for p in cls.inputs] == ["footage"] and [p.name for p in cls.outputs] == ["graded"]
    assert not validate(graph) and len(changes) == 2  # one change announced per rename
    renamed = session.run(graph, RunOptions(device="cpu", use_cache=False))
    assert renamed.ok and renamed.outputs["sink"] == first.outputs["sink"]  # the same frames come out
    assert Graph.from_json(graph.to_json(), registry).to_json() == graph.to_json()  # saves and loads back
    inner.rename_group_port("output", "graded", "frames")
    inner.rename_group_port("input", "footage", "frames")
    assert graph.to_json() == before


def test_a_group_port_keeps_its_name_when_the_new_one_is_taken_or_invalid(registry: Registry) -> None:
    graph = chain(registry)
    graph.group_nodes(["inv", "inv2"], "grade")
    inner = graph.inner("grade")
    inner.add_group_port("input", "mask", "FrameStream")
    inner.expose_on_group("inv", "fail_at")
    before = graph.to_json()
    for direction, old, new, says in [
        ("input", "frames", "mask", "already has an input 'mask'"),
        ("input", "frames", "fail_at", "already has an input 'fail_at'"),  # a shown param's port
        ("input", "frames", "two words", "port names must match"),
        ("output", "nope", "x", "has no output 'nope'"),
        ("sideways", "frames", "x", "an input or an output"),
    ]:
        with pytest.raises(GraphError, match=says):
            inner.rename_group_port(direction, old, new)
    assert graph.to_json() == before


def test_renaming_a_param_shown_on_a_group_carries_its_value_port_and_link(registry: Registry, session: Session) -> None:
    graph = chain(registry)
    graph.add_node("kinograph.value.number", "at", {"value": 3}, pos=(0, 200))
    graph.group_nodes(["inv", "inv2"], "grade")
    inner = graph.inner("grade")
    inner.expose_on_group("inv", "fail_at")
    inner.expose_on_group("inv2", "fail_at")  # shown as fail_at2
    graph.expose_param("grade", "fail_at", True)
    graph.connect("at.value", "grade.fail_at")
    before = graph.to_json()
    inner.rename_group_param("fail_at", "break_at")
    group = graph.nodes["grade"]
    assert list(group.params) == ["break_at", "fail_at2"] and group.exposed == ["break_at"]  # order kept
    assert "at.value -> grade.break_at" in links_of(graph)
    assert [p.name for p in inner.interface.params] == ["break_at", "fail_at2"]
    result = session.run(graph, RunOptions(device="cpu", use_cache=False))
    assert not result.ok and result.failures[0].node_id == "grade/inv"  # the linked 3 still reaches inv
    for new, says in [("fail_at2", "taken"), ("frames", "taken"), ("two words", "not a valid name")]:
        with pytest.raises(GraphError, match=says):
            inner.rename_group_param("break_at", new)
    with pytest.raises(GraphError, match="shows no such param"):
        inner.rename_group_param("nope", "x")
    inner.rename_group_param("break_at", "fail_at")
    assert graph.to_json() == before
