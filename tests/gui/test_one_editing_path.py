"""One editing path: the editor changes the graph only through ``Graph``'s operations, and its
canvas follows every operation's change event (rename included)."""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kinograph.host import Graph, GraphNode, Link, SubgraphRef, save_subgraph

GUI = Path(__file__).resolve().parents[2] / "kinograph" / "gui"
MUTATORS = {"append", "insert", "remove", "pop", "clear", "update", "extend", "sort", "reverse", "setdefault",
            "popitem", "__setitem__", "__delitem__"}


def _is_graph(node: ast.AST) -> bool:
    """``graph``, ``self.graph``, ``window.graph``... : an expression naming a graph model."""
    return (isinstance(node, ast.Name) and node.id == "graph") or (isinstance(node, ast.Attribute) and node.attr == "graph")


def _graph_container(node: ast.AST) -> bool:
    """``<graph>.nodes`` / ``<graph>.links``, or anything reached through them (``.nodes[x].params``)."""
    while isinstance(node, ast.Subscript | ast.Attribute):
        if isinstance(node, ast.Attribute) and node.attr in ("nodes", "links") and _is_graph(node.value):
            return True
        node = node.value
    return False


def edits_behind_the_graphs_back(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        elif isinstance(node, ast.Delete):
            targets = list(node.targets)
        for target in targets:
            if _graph_container(target):
                found.append(f"line {node.lineno}: assigns into the graph's nodes/links")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATORS:
            if _graph_container(node.func.value):
                found.append(f"line {node.lineno}: {node.func.attr}() on the graph's nodes/links")
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            if _is_graph(node.value):
                found.append(f"line {node.lineno}: uses the private Graph member {node.attr}")
    return found


@pytest.mark.parametrize(
    "source",
    [
        "self.graph.links[:] = links\n",
        "graph.nodes.clear()\n",
        "del self.graph.links[i]\n",
        "self.graph.links.insert(i, old)\n",
        "self.graph._emit(change)\n",
        "window.graph.nodes[n].params['x'] = 1\n",
        "self.graph.nodes[n].ui.update(pos=1)\n",
    ],
)
def test_the_check_catches_edits_behind_the_graphs_back(source: str) -> None:
    assert edits_behind_the_graphs_back(source)


def test_the_check_lets_reads_and_operations_through() -> None:
    source = "for link in self.graph.links:\n    x = self.graph.nodes[link.target_node].params\nself.graph.connect(a, b)\n"
    assert edits_behind_the_graphs_back(source) == []


@pytest.mark.parametrize("path", sorted(GUI.rglob("*.py")), ids=lambda p: str(p.relative_to(GUI)))
def test_the_editor_edits_the_graph_only_through_its_operations(path: Path) -> None:
    problems = edits_behind_the_graphs_back(path.read_text(encoding="utf-8"))
    assert not problems, f"{path.name}: " + "; ".join(problems)


# -- the canvas follows every public operation -----------------------------------------------

#: Public Graph members that change nothing.
READ_ONLY = {
    "node_class", "links_into", "links_from", "port_type", "inputs_of", "subscribe", "new_id", "check_link",
    "to_file_data", "to_json", "save", "snapshot", "from_file", "from_json", "load", "registry", "base_dir",
    "meta", "nodes", "links", "input_port", "inputs_for", "exposable_params",
    "inner", "owner", "subgraph_reading", "load_warnings",
}


def _scenarios(ids: dict[str, str]) -> dict[str, Callable[[Graph], object]]:
    pattern, invert, sink = ids["pattern"], ids["invert"], ids["sink"]
    return {
        "add_node": lambda g: g.add_node("test.noop", "extra", pos=(40, 40)),
        "insert_node": lambda g: g.insert_node(GraphNode("inserted", "test.noop", 1, {}, {"pos": [0, 90]}), 0),
        "rename_node": lambda g: g.rename_node(invert, "inverted"),
        "reorder_nodes": lambda g: g.reorder_nodes(list(reversed(list(g.nodes)))),
        "remove_node": lambda g: g.remove_node("inverted"),
        "restore_node": lambda g: g.restore_node(g.remove_node(sink)),
        "connect": lambda g: g.connect(f"{pattern}.frames", f"{sink}.frames"),
        "undo_connect": lambda g: g.undo_connect(g.connect(f"{pattern}.frames", f"{sink}.frames")),
        "disconnect": lambda g: g.disconnect(g.links[0]),
        "add_link": lambda g: g.add_link(Link(pattern, "frames", sink, "frames"), 0),
        "set_param": lambda g: g.set_param(pattern, "width", 96),
        "set_params": lambda g: g.set_params(pattern, {"width": 80, "height": 60}),
        "expose_param": lambda g: g.expose_param(pattern, "width", True),
        "set_bypass": lambda g: g.set_bypass(pattern, True),
        "set_ui": lambda g: g.set_ui(pattern, "pos", [300.0, 20.0]),
        "move_node": lambda g: g.move_node(sink, (500.0, 30.0)),
        "set_meta": lambda g: g.set_meta("name", "renamed graph"),
        "replace_with": lambda g: g.replace_with(Graph.from_json(g.to_json(), g.registry)),
        "undo_group": lambda g: g.undo_group(g.group_nodes([pattern])),
        "group_nodes": lambda g: g.group_nodes([sink], "grp"),
        "set_subgraph_ref": lambda g: g.set_subgraph_ref("grp", SubgraphRef("user:elsewhere.json", 2, "")),
        "ungroup": lambda g: g.ungroup("grp"),
        "undo_ungroup": lambda g: g.undo_ungroup(g.ungroup(g.group_nodes([sink], "grp").group_id)),
        "add_subgraph": lambda g: (save_subgraph(g, "grp", "user:scenario.json"), g.add_subgraph("user:scenario.json")),
        "inside a group": lambda g: g.inner("grp").expose_on_group(sink, "label"),
        "a port on the group": lambda g: g.inner("grp").add_group_port("output", "extra", "Number"),
        "a group port renamed": lambda g: _rename_first_input(g.inner("grp"), "renamed_in"),
        "a group param renamed": lambda g: g.inner("grp").rename_group_param(g.inner("grp").interface.params[0].name, "caption"),
    }


def _rename_first_input(inner: Any, new: str) -> None:
    """Rename the group's first input port, which a link outside feeds (so that link changes)."""
    port = inner.interface.inputs[0].name
    assert inner.group_port_links("input", port), "the scenario wants a linked port"
    inner.rename_group_port("input", port, new)


def _scene_matches_model(window) -> None:
    scene, graph = window.scene, window.graph
    assert set(scene.node_items) == set(graph.nodes)
    assert set(scene.link_items) == set(graph.links)
    for node_id, item in scene.node_items.items():
        node = graph.nodes[node_id]
        assert item.node_id == node_id
        assert item.bypass == node.bypass
        if "pos" in node.ui:
            assert (item.pos().x(), item.pos().y()) == pytest.approx(tuple(node.ui["pos"]))
        ports = {p.name for p in item.ports() if p.direction == "input"}
        assert set(getattr(node, "exposed", [])) <= ports
        assert item.params == node.params
        if node.type == "kinograph.subgraph":  # a group shows where its graph comes from
            assert item.subgraph_source == (node.ref.source if node.ref is not None else "")
        if node.subgraph is not None:  # a group shows its interface's ports
            assert {p.name for p in node.subgraph.interface.inputs} <= ports
            assert {p.name for p in item.ports() if p.direction == "output"} == {p.name for p in node.subgraph.interface.outputs}
    for link, item in scene.link_items.items():
        assert item.source.node.node_id == link.source_node and item.target.node.node_id == link.target_node


def test_the_canvas_follows_every_public_graph_operation(window) -> None:
    editor = window.editor
    ids = {
        "pattern": editor.add_node("kinograph.frames.test_pattern", (0, 0)),
        "invert": editor.add_node("test.invert", (200, 0)),
        "sink": editor.add_node("test.collect", (400, 0)),
    }
    editor.connect(f"{ids['pattern']}.frames", f"{ids['invert']}.frames")
    editor.connect(f"{ids['invert']}.frames", f"{ids['sink']}.frames")
    public = {
        name for name, member in inspect.getmembers(Graph) if not name.startswith("_") and callable(member)
    } | {name for name in vars(window.graph) if not name.startswith("_")}
    scenarios = _scenarios(ids)
    untested = public - READ_ONLY - set(scenarios)
    assert not untested, f"Graph operations the canvas test does not drive: {sorted(untested)}"
    for name, scenario in scenarios.items():
        scenario(window.graph)
        _scene_matches_model(window)
        assert name  # the loop reached each one
