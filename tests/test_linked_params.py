"""Params driven by links: any param can be shown as an input port; a link then gives its value
at run time, checked by the node's own params model, keyed for caching, and written to the file
(format version 2, v1 files migrate)."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest
from plugin_venv import REPO

from kinograph.api import NUMBER, Input, Node, NodeParams, hookimpl
from kinograph.core.registry import Registry
from kinograph.host import Graph, GraphError, RunOptions, Session, load_graph, validate

GRAPHS = sorted((REPO / "graphs").glob("*.json"))


def camera_move(tmp_path: Path, width: float) -> Graph:
    graph = load_graph(REPO / "graphs" / "camera_move.json")
    graph.set_params("animate", {"width": 160, "height": 96})
    graph.set_param("path", "steps", 6)
    graph.set_param("write", "path", str(tmp_path / "out.mp4"))
    graph.add_node("kinograph.value.number", "width", {"value": width})
    graph.expose_param("animate", "width")
    graph.connect("width.value", "animate.width")
    return graph


def video_width(path: Path) -> int:
    with av.open(str(path)) as container:
        return container.streams.video[0].codec_context.width


def test_a_linked_number_sets_the_width_of_the_video(tmp_path: Path) -> None:
    graph = camera_move(tmp_path, 240)
    result = Session().run(graph, RunOptions(device="cpu"))
    assert result.ok, result.failures
    assert video_width(tmp_path / "out.mp4") == 240  # not the 160 the param holds


def test_a_bad_linked_value_fails_only_its_node_naming_the_param_and_the_link(tmp_path: Path) -> None:
    graph = camera_move(tmp_path, 241)  # Animate wants an even width
    graph.add_node("kinograph.value.number", "other", {"value": 1})
    graph.add_node("kinograph.image.preview", "look")
    graph.connect("load.image", "look.image")
    result = Session().run(graph, RunOptions(device="cpu"))
    assert [(f.node_id, f.message) for f in result.failures] == [
        ("animate", "param 'width' from width.value: Input should be a multiple of 2 (got 241.0)")
    ]
    assert result.states["write"] == "skipped" and result.states["look"] == "done"
    assert not (tmp_path / "out.mp4").exists()


def test_the_content_key_follows_the_linked_value(tmp_path: Path) -> None:
    session = Session()
    graph = camera_move(tmp_path, 240)
    plan = session.plan(graph.snapshot(), RunOptions(device="cpu"))
    graph.set_param("width", "value", 200)
    changed = session.plan(graph.snapshot(), RunOptions(device="cpu"))
    assert changed.keys["animate"] != plan.keys["animate"]
    assert changed.keys["load"] == plan.keys["load"]
    session.run(graph, RunOptions(device="cpu"))
    assert video_width(tmp_path / "out.mp4") == 200


def test_a_linked_output_path_is_checked_before_anything_is_written(tmp_path: Path) -> None:
    folder = tmp_path / "Documents"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep me")
    graph = camera_move(tmp_path, 160)
    graph.set_param("write", "image_sequence", True)
    graph.add_node("kinograph.value.text", "where", {"value": str(tmp_path / "Documents.mp4")})
    graph.expose_param("write", "path")
    graph.connect("where.value", "write.path")
    assert validate(graph) == []  # the value only exists at run time
    result = Session().run(graph, RunOptions(device="cpu"))
    assert [f.node_id for f in result.failures] == ["write"]
    assert "param 'path'" in result.failures[0].message
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


def test_exposed_params_are_saved_and_loaded(tmp_path: Path) -> None:
    graph = camera_move(tmp_path, 240)
    path = tmp_path / "linked.json"
    graph.save(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["version"] == 3 and data["nodes"]["animate"]["exposed"] == ["width"]
    again = load_graph(path)
    assert again.nodes["animate"].exposed == ["width"] and again.to_json() == graph.to_json()


class Curve(Node):
    type_id = "test.curve"
    inputs = [Input("points", NUMBER, optional=True)]

    class Params(NodeParams):
        points: float = 0.0  # named like its input: the input wins
        knots: list[float] = [0.0, 1.0]  # a list: no port type can give it


class CurvePlugin:
    @hookimpl
    def kinograph_nodes(self) -> list[type[Node]]:
        return [Curve]


def test_what_cannot_be_a_port_is_refused_clearly(registry: Registry) -> None:
    registry.register_plugin(CurvePlugin(), "curve")
    graph = Graph(registry)
    graph.add_node("kinograph.frames.animate", "a")
    graph.add_node("kinograph.value.number", "n")
    graph.add_node("test.curve", "c")
    with pytest.raises(GraphError, match="has no param 'nope'"):
        graph.expose_param("a", "nope")
    with pytest.raises(GraphError, match="already has an input named 'points'"):
        graph.expose_param("c", "points")
    with pytest.raises(GraphError, match="holds a list or an object"):
        graph.expose_param("c", "knots")
    refused = graph.check_link("n.value", "a.width")
    assert refused is not None and "show it as an input port first" in refused
    graph.expose_param("a", "width")
    graph.connect("n.value", "a.width")
    with pytest.raises(GraphError, match="remove that link first"):
        graph.expose_param("a", "width", False)


@pytest.mark.parametrize("path", GRAPHS, ids=lambda p: p.stem)
def test_every_example_graph_migrates_from_v1_to_v2(path: Path, tmp_path: Path) -> None:
    v1 = json.loads(path.read_text(encoding="utf-8"))
    assert v1["version"] == 1
    graph = load_graph(path)
    v2 = json.loads(graph.to_json())
    assert v2["version"] == 3  # saved in the current format
    assert v2["nodes"].keys() == v1["nodes"].keys() and v2["links"] == v1["links"]
    for node_id, entry in v1["nodes"].items():
        assert v2["nodes"][node_id]["params"] == entry["params"] and "exposed" not in v2["nodes"][node_id]
    saved = tmp_path / path.name
    graph.save(saved)
    assert load_graph(saved).to_json() == graph.to_json()
