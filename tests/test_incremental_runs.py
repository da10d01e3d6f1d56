"""Re-running an edited graph in the same session touches only what the edit can affect: nodes
not downstream of the edit keep their state and say nothing, and the result is the same as a
whole run's."""

from __future__ import annotations

import nodes_for_tests as t
import pytest

from kinograph.core.registry import Registry
from kinograph.host import Event, Graph, GraphError, RunOptions, Session


def chain(registry: Registry, n: int) -> Graph:
    graph = Graph(registry)
    graph.add_node("kinograph.value.number", "n0", {"value": 1})
    for i in range(1, n):
        graph.add_node("test.add", f"n{i}", {"offset": 1})
        graph.connect(f"n{i - 1}.{'value' if i == 1 else 'sum'}", f"n{i}.a")
    graph.add_node("test.record", "rec", {"label": "end"})
    graph.connect(f"n{n - 1}.sum", "rec.value")
    return graph


def run(session: Session, graph: Graph) -> tuple[list[Event], object]:
    events: list[Event] = []
    result = session.run(graph, RunOptions(device="cpu"), [events.append])
    return events, result


def test_an_edit_near_the_end_runs_only_what_follows_it(registry: Registry) -> None:
    graph = chain(registry, 300)
    session = Session(registry)
    run(session, graph)
    t.CALLS.clear()
    graph.set_param("n295", "offset", 11)
    events, result = run(session, graph)
    ran = [e.node_id for e in events if e.kind == "node_finished"]
    assert ran == ["n295", "n296", "n297", "n298", "n299", "rec"]
    assert {e.node_id for e in events if e.node_id} == set(ran)  # the rest said nothing
    assert t.CALLS == {"add": 5}
    assert t.Record.received[-1] == ("end", 310.0)
    assert result.ok and len(result.states) == 301 and result.states["n10"] == "done"  # kept
    fresh = Session(registry).run(Graph.from_json(graph.to_json(), registry), RunOptions(device="cpu", use_cache=False))
    assert fresh.ok and t.Record.received[-1] == ("end", 310.0)  # the same as a whole run


def test_an_edit_that_makes_the_graph_invalid_is_still_reported(registry: Registry) -> None:
    graph = chain(registry, 20)
    session = Session(registry)
    run(session, graph)
    graph.set_params("n5", {"offset": "not a number"}, check=False)  # as a file could hold it
    with pytest.raises(GraphError, match="n5"):
        run(session, graph)
    graph.set_param("n5", "offset", 2)
    events, result = run(session, graph)
    assert result.ok and t.Record.received[-1] == ("end", 21.0)
    assert next(e.node_id for e in events if e.kind == "node_started") == "n5"


def test_nothing_edited_runs_nothing(registry: Registry) -> None:
    graph = chain(registry, 10)
    session = Session(registry)
    run(session, graph)
    graph.move_node("n3", (500.0, 40.0))  # the look of the graph, not what it computes
    events, result = run(session, graph)
    assert [e.kind for e in events] == ["run_started", "run_finished"]
    assert result.ok and result.states["rec"] == "done"


def test_a_structural_edit_runs_the_graph_whole(registry: Registry) -> None:
    graph = chain(registry, 10)
    session = Session(registry)
    run(session, graph)
    graph.add_node("test.add", "extra", {"offset": 100})
    graph.connect("n9.sum", "extra.a")
    graph.connect("extra.sum", "rec.value")
    events, result = run(session, graph)
    assert result.ok and t.Record.received[-1] == ("end", 110.0)
    assert "node_cached" in {e.kind for e in events}  # planned whole, through the cache


def test_an_unchanged_stream_upstream_is_pulled_again(registry: Registry) -> None:
    graph = Graph(registry)
    graph.add_node("test.source", "src", {"frames": 8})
    graph.add_node("test.collect", "sink", {"label": "again"})
    graph.connect("src.frames", "sink.frames")
    session = Session(registry)
    session.run(graph, RunOptions(device="cpu", stream_cache="off"))
    t.Collect.seen.clear()
    graph.set_param("sink", "label", "after edit")
    result = session.run(graph, RunOptions(device="cpu", stream_cache="off"))
    assert result.ok and t.Collect.seen["after edit"] == list(range(8))


def test_a_graph_with_groups_reruns_whole_and_right(registry: Registry) -> None:
    graph = chain(registry, 6)
    graph.group_nodes(["n2", "n3"], "grp")
    session = Session(registry)
    run(session, graph)
    assert t.Record.received[-1] == ("end", 6.0)
    graph.inner("grp").set_param("n2", "offset", 5)
    _, result = run(session, graph)
    assert result.ok and t.Record.received[-1] == ("end", 10.0)
    graph.set_param("n5", "offset", 2)  # an edit outside the group, after one inside
    _, result = run(session, graph)
    assert result.ok and t.Record.received[-1] == ("end", 11.0)
    graph.inner("grp").expose_on_group("n3", "offset")
    run(session, graph)
    graph.set_param("grp", "offset", 20)  # a param the group shows: its inner node changes
    _, result = run(session, graph)
    assert result.ok and t.Record.received[-1] == ("end", 30.0)
