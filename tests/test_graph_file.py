"""The graph file: round trips, stable order, unknown nodes kept, migrations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kinograph.api import GraphError, Input, Node, NodeParams, Output, hookimpl
from kinograph.core.graph_file import dump_graph_file, graph_schema, load_graph_file
from kinograph.core.registry import Registry
from kinograph.core.validation import validate
from kinograph.host import Graph

FIXTURES = Path(__file__).parent / "fixtures"


def small_graph(registry: Registry) -> Graph:
    graph = Graph(registry)
    graph.meta["name"] = "two numbers"
    graph.add_node("kinograph.value.number", "a", {"value": 2}, pos=(0, 0))
    graph.add_node("test.add", "add", {"offset": 0.5}, pos=(200, 0))
    graph.add_node("test.record", "rec", pos=(400, 0))
    graph.connect("a.value", "add.a")
    graph.connect("add.sum", "rec.value")
    return graph


def test_save_then_load_gives_the_same_file(registry: Registry, tmp_path: Path) -> None:
    graph = small_graph(registry)
    path = tmp_path / "g.json"
    graph.save(path)
    again = Graph.load(path, registry)
    assert again.to_json() == path.read_text(encoding="utf-8")
    data = json.loads(path.read_text())
    assert list(data) == ["format", "version", "meta", "nodes", "links"]
    assert list(data["nodes"]["add"]) == ["type", "version", "params", "ui", "bypass", "plugin"]
    # every param is written, defaults too
    assert data["nodes"]["rec"]["params"] == {"label": ""}
    assert data["links"] == [{"from": "a.value", "to": "add.a"}, {"from": "add.sum", "to": "rec.value"}]


def test_unknown_node_types_survive_load_and_save(registry: Registry, tmp_path: Path) -> None:
    text = json.dumps(
        {
            "format": "kinograph.graph",
            "version": 1,
            "meta": {"name": "", "description": ""},
            "nodes": {
                "fancy": {
                    "type": "acme.fancy_blur",
                    "version": 3,
                    "params": {"radius": 4, "nested": {"k": [1, 2]}},
                    "ui": {"pos": [1.0, 2.0], "color": "#123456"},
                    "bypass": False,
                    "plugin": {"name": "acme", "dist": "acme-nodes", "version": "2.0"},
                },
                "rec": {"type": "test.record", "version": 1, "params": {"label": ""}, "ui": {}, "bypass": False},
            },
            "links": [{"from": "fancy.image", "to": "rec.value"}],
        },
        indent=2,
    )
    graph = Graph.from_json(text, registry)
    saved = json.loads(graph.to_json())
    assert saved["nodes"]["fancy"] == json.loads(text)["nodes"]["fancy"]
    assert saved["links"] == [{"from": "fancy.image", "to": "rec.value"}]
    problems = validate(graph)
    assert any("unknown node type 'acme.fancy_blur'" in p.message and "pip install acme-nodes" in p.hint for p in problems)


def test_format_v0_is_migrated(registry: Registry) -> None:
    graph_file = load_graph_file(FIXTURES / "format_v0.json")
    assert graph_file.version == 3  # v0 -> v1 -> v2 -> v3
    graph = Graph.from_file(graph_file, registry)
    assert graph.nodes["src"].ui["pos"] == [10, 20]
    assert [str(link) for link in graph.links] == ["src.frames -> sink.frames"]
    assert validate(graph) == []


def test_future_version_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "future.json"
    path.write_text(json.dumps({"format": "kinograph.graph", "version": 99, "nodes": {}, "links": []}))
    with pytest.raises(GraphError) as info:
        load_graph_file(path)
    assert "newer kinograph" in str(info.value) and "upgrade" in str(info.value)


class ScaleV2(Node):
    """Version 2 renamed ``amount`` to ``factor`` and added ``clamp`` (default True)."""

    type_id = "test.scale"
    version = 2
    inputs = [Input("a", "Number")]
    outputs = [Output("out", "Number")]

    class Params(NodeParams):
        factor: float = 1.0
        clamp: bool = True

    @classmethod
    def migrate_params(cls, from_version: int, params: dict) -> dict:
        params = dict(params)
        if from_version < 2 and "amount" in params:
            params["factor"] = params.pop("amount")
            params.setdefault("clamp", False)  # version 1 never clamped
        return params

    def run(self, ctx, a):  # type: ignore[no-untyped-def]
        return {"out": a * self.params.factor}


class ScalePlugin:
    @hookimpl
    def kinograph_nodes(self) -> list[type[Node]]:
        return [ScaleV2]


def test_node_params_migrate_from_older_versions(registry: Registry) -> None:
    registry.register_plugin(ScalePlugin(), "scale")
    text = json.dumps(
        {
            "format": "kinograph.graph",
            "version": 1,
            "nodes": {"s": {"type": "test.scale", "version": 1, "params": {"amount": 3}}},
            "links": [],
        }
    )
    graph = Graph.from_json(text, registry)
    node = graph.nodes["s"]
    assert node.version == 2
    assert node.params == {"factor": 3, "clamp": False}
    # the migrated params are valid; the only problem is the unlinked input
    assert [p.where for p in validate(graph)] == ["nodes.s.inputs.a"]


def test_schema_describes_the_file() -> None:
    schema = graph_schema()
    assert schema["properties"]["format"]["const"] == "kinograph.graph"
    assert "nodes" in schema["properties"] and "links" in schema["properties"]
    link = schema["$defs"]["LinkEntry"]
    assert set(link["required"]) == {"from", "to"}


def test_dump_is_stable(registry: Registry) -> None:
    graph = small_graph(registry)
    first = graph.to_json()
    second = dump_graph_file(load_graph_file_from_text(first))
    assert first == second


def load_graph_file_from_text(text: str):  # type: ignore[no-untyped-def]
    from kinograph.core.graph_file import graph_file_from_data, parse_json

    return graph_file_from_data(parse_json(text))
