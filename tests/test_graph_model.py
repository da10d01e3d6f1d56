"""The editable graph model: edits are checked by the core rules and announced to observers."""

from __future__ import annotations

import pytest

from kinograph.api import GraphError, LinkRefused
from kinograph.core.registry import Registry
from kinograph.host import Graph, GraphChange


def test_edits_emit_changes(registry: Registry) -> None:
    graph = Graph(registry)
    changes: list[GraphChange] = []
    unsubscribe = graph.subscribe(changes.append)
    graph.add_node("kinograph.value.number", "n")
    graph.add_node("test.add", "add")
    graph.connect("n.value", "add.a")
    graph.set_param("add", "offset", 2)
    graph.set_bypass("add", True)
    graph.move_node("add", (10, 20))
    graph.remove_node("n")
    assert [c.kind for c in changes] == [
        "node_added", "node_added", "link_added", "param_changed", "bypass_changed", "ui_changed",
        "link_removed", "node_removed",
    ]
    unsubscribe()
    graph.set_param("add", "offset", 3)
    assert len(changes) == 8


def test_invalid_param_is_refused_with_pydantic_message(registry: Registry) -> None:
    graph = Graph(registry)
    graph.add_node("kinograph.frames.test_pattern", "tp")
    with pytest.raises(GraphError) as info:
        graph.set_param("tp", "width", 2)
    assert info.value.problems[0].where == "nodes.tp.params.width"
    assert "greater than or equal to 16" in info.value.problems[0].message
    assert graph.nodes["tp"].params["width"] == 320  # unchanged


def test_link_refusals_read_like_sentences(registry: Registry) -> None:
    graph = Graph(registry)
    graph.add_node("kinograph.frames.test_pattern", "tp")
    graph.add_node("test.add", "add")
    graph.add_node("test.add", "add2")
    assert graph.check_link("tp.frames", "add.a") == "tp.frames (FrameStream) cannot feed add.a (Number)"
    assert graph.check_link("tp.nope", "add.a") == "tp has no output 'nope' (it has: frames)"
    graph.connect("add.sum", "add2.a")
    assert graph.check_link("add2.sum", "add.a") == "add2.sum -> add.a would make a cycle"
    with pytest.raises(LinkRefused, match="cannot feed"):
        graph.connect("tp.frames", "add.a")


def test_connecting_an_occupied_input_replaces_the_link(registry: Registry) -> None:
    graph = Graph(registry)
    graph.add_node("kinograph.value.number", "a")
    graph.add_node("kinograph.value.number", "b")
    graph.add_node("test.add", "add")
    graph.connect("a.value", "add.a")
    graph.connect("b.value", "add.a")
    assert [str(link) for link in graph.links] == ["b.value -> add.a"]


def test_snapshot_is_independent_of_later_edits(registry: Registry) -> None:
    graph = Graph(registry)
    graph.add_node("test.add", "add", {"offset": 1})
    snapshot = graph.snapshot()
    graph.set_param("add", "offset", 9)
    assert snapshot.nodes["add"].params["offset"] == 1
    assert '"offset":1' in snapshot.text


def test_new_ids_are_unique_and_valid(registry: Registry) -> None:
    graph = Graph(registry)
    first = graph.add_node("test.add")
    second = graph.add_node("test.add")
    assert (first.id, second.id) == ("add", "add2")


def test_editing_one_param_is_not_blocked_by_another_invalid_one(registry: Registry) -> None:
    graph = Graph.from_json(
        '{"format": "kinograph.graph", "version": 1, "nodes": {"tp": {"type": "kinograph.frames.test_pattern",'
        ' "params": {"width": 3}}}, "links": []}',
        registry,
    )
    graph.set_param("tp", "height", "64")  # coerced by its type
    assert graph.nodes["tp"].params["height"] == 64
    assert graph.nodes["tp"].params["width"] == 3  # still there, still reported by validation
    with pytest.raises(GraphError, match="width"):
        graph.set_param("tp", "width", 4)


def test_rename_keeps_order_and_links(registry: Registry) -> None:
    graph = Graph(registry)
    graph.add_node("kinograph.value.number", "n")
    graph.add_node("test.add", "add")
    graph.add_node("test.record", "rec")
    graph.connect("n.value", "add.a")
    graph.connect("add.sum", "rec.value")
    graph.rename_node("add", "plus")
    assert list(graph.nodes) == ["n", "plus", "rec"]
    assert [str(link) for link in graph.links] == ["n.value -> plus.a", "plus.sum -> rec.value"]
    with pytest.raises(GraphError):
        graph.rename_node("plus", "9bad")


def test_insert_at_index_and_meta_removal(registry: Registry) -> None:
    graph = Graph(registry)
    graph.add_node("kinograph.value.number", "a")
    graph.add_node("kinograph.value.number", "c")
    removed = graph.remove_node("a")
    graph.insert_node(removed.node, index=0)
    assert list(graph.nodes) == ["a", "c"]
    graph.set_meta("editor", {"x": 1})
    graph.set_meta("editor", None)
    assert "editor" not in graph.meta
