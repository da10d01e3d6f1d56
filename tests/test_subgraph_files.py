"""Reusable subgraph files: saved from a group, used twice in a graph, edited and picked up on
reload (warning, update), refused when they contain themselves or lead outside their folders,
kept and named when missing, and shipped by plugins through the ``kinograph_subgraphs`` hook."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nodes_for_tests
import pytest

from kinograph.api import SubgraphSource, hookimpl
from kinograph.cli import main
from kinograph.core.registry import Registry
from kinograph.core.subgraph_files import save_subgraph, subgraph_library, subgraphs_dir
from kinograph.host import Graph, GraphError, KinographError, RunOptions, Session, graph_schema, validate


def reusable(registry: Registry, name: str = "twice.json") -> str:
    """Save a group (two inverts, ``fail_at`` of the first shown) as ``user:NAME``."""
    graph = Graph(registry)
    graph.add_node("test.invert", "a", pos=(0, 0))
    graph.add_node("test.invert", "b", pos=(200, 0))
    graph.add_node("test.source", "src")
    graph.add_node("test.collect", "sink")
    graph.connect("src.frames", "a.frames")
    graph.connect("a.frames", "b.frames")
    graph.connect("b.frames", "sink.frames")
    graph.group_nodes(["a", "b"], "g")
    graph.inner("g").expose_on_group("a", "fail_at")
    ref = save_subgraph(graph, "g", f"user:{name}")
    assert ref.source == f"user:{name}" and ref.version == 1 and ref.hash.startswith("sha256:")
    return ref.source


def two_uses(registry: Registry, source: str) -> Graph:
    graph = Graph(registry)
    graph.add_node("test.source", "src", {"frames": 4, "size": 8})
    first = graph.add_subgraph(source, "first")
    second = graph.add_subgraph(source, "second")
    graph.add_node("test.collect", "sink")
    graph.connect("src.frames", "first.frames")
    graph.connect("first.frames", "second.frames")
    graph.connect("second.frames", "sink.frames")
    assert first.ref is not None and first.ref.source == source and first.params == {"fail_at": -1}
    assert second.subgraph is not first.subgraph  # each use has its own copy
    return graph


def test_a_reusable_subgraph_used_twice_runs_and_saves_as_references(registry: Registry, session: Session, tmp_path: Path) -> None:
    source = reusable(registry)
    graph = two_uses(registry, source)
    result = session.run(graph, RunOptions(use_cache=False))
    assert result.ok, result.failures
    assert set(result.plan) == {"src", "first/a", "first/b", "second/a", "second/b", "sink"}
    assert nodes_for_tests.Collect.seen["sink"] == [0, 1, 2, 3]  # inverted four times
    path = tmp_path / "uses.json"
    graph.save(path)
    saved = json.loads(path.read_text(encoding="utf-8"))
    entry = saved["nodes"]["first"]
    assert "subgraph" not in entry and entry["ref"]["source"] == source and entry["ref"]["version"] == 1
    again = Graph.load(path, registry)
    assert again.load_warnings == [] and again.to_json() == path.read_text(encoding="utf-8")
    import jsonschema

    schema = graph_schema()  # what `kinograph schema` prints describes both kinds of file
    jsonschema.validate(saved, schema)
    subgraph_file = json.loads((subgraphs_dir() / "twice.json").read_text(encoding="utf-8"))
    jsonschema.validate(subgraph_file, {"$ref": "#/$defs/SubgraphFile", "$defs": schema["$defs"]})


def test_an_edited_subgraph_file_is_picked_up_on_reload_with_a_warning(registry: Registry, session: Session, tmp_path: Path) -> None:
    source = reusable(registry)
    graph = two_uses(registry, source)
    graph.set_param("first", "fail_at", 7)
    path = tmp_path / "uses.json"
    graph.save(path)

    # Edit the file as a new version: the shown param is renamed, the second invert is bypassed.
    file = subgraphs_dir() / "twice.json"
    data = json.loads(file.read_text(encoding="utf-8"))
    data["subgraph_version"] = 2
    data["renamed_params"] = [{"version": 2, "from": "fail_at", "to": "break_at"}]
    data["interface"]["params"][0]["name"] = "break_at"
    data["nodes"]["b"]["bypass"] = True
    file.write_text(json.dumps(data, indent=2), encoding="utf-8")

    reloaded = Graph.load(path, registry)
    warnings = {p.where: p.message for p in reloaded.load_warnings}
    assert set(warnings) == {"nodes.first", "nodes.second"}
    assert "changed since this graph was saved (version 1 -> 2)" in warnings["nodes.first"]
    first = reloaded.nodes["first"]
    assert first.params == {"break_at": 7} and reloaded.nodes["second"].params == {"break_at": -1}  # migrated
    assert first.ref.version == 2 and first.ref.hash != json.loads(path.read_text())["nodes"]["first"]["ref"]["hash"]
    assert first.subgraph.nodes["b"].bypass
    reloaded.set_param("first", "break_at", -1)
    result = session.run(reloaded, RunOptions(use_cache=False))
    assert result.ok and result.states["first/b"] == "bypassed"

    # The same version with other content is a change too; saving records the update.
    data["nodes"]["a"]["ui"] = {"pos": [10.0, 10.0]}
    file.write_text(json.dumps(data), encoding="utf-8")
    reloaded = Graph.load(path, registry)
    assert "the same version" not in reloaded.load_warnings[0].message  # 1 -> 2 still
    reloaded.save(path)
    assert Graph.load(path, registry).load_warnings == []
    data["nodes"]["a"]["ui"] = {"pos": [20.0, 10.0]}
    file.write_text(json.dumps(data), encoding="utf-8")
    assert "the same version 2 with other content" in Graph.load(path, registry).load_warnings[0].message


def test_the_cli_prints_the_update_as_a_warning(registry: Registry, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    source = reusable(registry)
    graph = two_uses(registry, source)
    path = tmp_path / "uses.json"
    graph.save(path)
    file = subgraphs_dir() / "twice.json"
    data = json.loads(file.read_text(encoding="utf-8"))
    data["subgraph_version"] = 3
    file.write_text(json.dumps(data), encoding="utf-8")
    assert main(["validate", str(path)]) == 0
    err = capsys.readouterr().err
    assert "warning: nodes.first: subgraph 'user:twice.json' changed since this graph was saved (version 1 -> 3)" in err


def test_a_graph_saved_with_a_newer_subgraph_version_is_invalid(registry: Registry, tmp_path: Path) -> None:
    source = reusable(registry)
    graph = two_uses(registry, source)
    path = tmp_path / "uses.json"
    graph.save(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["nodes"]["first"]["ref"]["version"] = 5
    path.write_text(json.dumps(data), encoding="utf-8")
    problems = validate(Graph.load(path, registry))
    assert [(p.where, "newer version (5)" in p.message) for p in problems] == [("nodes.first", True)]


def test_a_subgraph_that_contains_itself_is_a_load_error(registry: Registry, tmp_path: Path) -> None:
    outer = reusable(registry, "outer.json")
    inner = reusable(registry, "inner.json")
    # outer.json uses inner.json, and inner.json uses outer.json
    for name, other in (("outer.json", inner), ("inner.json", outer)):
        file = subgraphs_dir() / name
        data = json.loads(file.read_text(encoding="utf-8"))
        data["nodes"]["nested"] = {"type": "kinograph.subgraph", "ref": {"source": other, "version": 1}}
        file.write_text(json.dumps(data), encoding="utf-8")
    graph = Graph(registry)
    with pytest.raises(GraphError, match=r"subgraph 'user:outer.json' contains itself \(user:outer.json -> user:inner.json -> user:outer.json\)"):
        graph.add_subgraph(outer)
    path = tmp_path / "uses.json"
    path.write_text(json.dumps({
        "format": "kinograph.graph", "version": 3,
        "nodes": {"g": {"type": "kinograph.subgraph", "ref": {"source": inner, "version": 1}}},
    }), encoding="utf-8")
    code = main(["validate", str(path)])
    assert code == 2
    with pytest.raises(GraphError, match="contains itself"):
        Graph.load(path, registry)


def test_saving_a_group_into_a_file_it_uses_is_refused(registry: Registry) -> None:
    source = reusable(registry, "used.json")
    graph = Graph(registry)
    graph.add_subgraph(source, "inner")
    graph.add_node("test.noop", "n")
    graph.group_nodes(["inner", "n"], "outer")
    with pytest.raises(GraphError, match=r"uses .user:used\.json. itself"):
        save_subgraph(graph, "outer", source)


@pytest.mark.parametrize("source", ["user:../escape.json", "user:{outside}", "user:..\\escape.json",
                                    "file://{outside}", "package://kinograph/../../escape.json", "{outside}"])
def test_references_never_leave_the_subgraph_folders(registry: Registry, source: str) -> None:
    reusable(registry, "real.json")
    outside = subgraphs_dir().parent / "escape.json"  # a valid subgraph file, just outside
    outside.write_bytes((subgraphs_dir() / "real.json").read_bytes())
    graph = Graph(registry)
    with pytest.raises(KinographError, match=r"no '\.\.'|not a subgraph source|stay inside the package"):
        graph.add_subgraph(source.format(outside=outside))
    assert graph.nodes == {}


def test_a_link_out_of_the_subgraphs_folder_is_not_followed(registry: Registry, tmp_path: Path) -> None:
    outside = tmp_path / "outside.json"
    reusable(registry, "real.json")
    outside.write_bytes((subgraphs_dir() / "real.json").read_bytes())
    os.symlink(outside, subgraphs_dir() / "link.json")
    with pytest.raises(Exception, match="leads outside the subgraphs folder"):
        Graph(registry).add_subgraph("user:link.json")
    assert [e.source for e in subgraph_library(registry) if e.source.startswith("user:")] == ["user:real.json"]


def test_a_missing_subgraph_file_is_kept_and_named(registry: Registry, tmp_path: Path) -> None:
    source = reusable(registry)
    graph = two_uses(registry, source)
    path = tmp_path / "uses.json"
    graph.save(path)
    text = path.read_text(encoding="utf-8")
    (subgraphs_dir() / "twice.json").unlink()
    kept = Graph.load(path, registry)
    assert kept.nodes["first"].subgraph is None and kept.to_json() == text  # saved back untouched
    problems = validate(kept)
    missing = [p for p in problems if p.where in ("nodes.first", "nodes.second")]
    assert len(missing) == 2 and "unknown subgraph 'user:twice.json': no such file" in missing[0].message
    assert "put the file back in the subgraphs folder" in missing[0].hint
    with pytest.raises(GraphError, match="unknown subgraph"):
        Session(registry).run(kept)


class ShipsSubgraphs:
    """A plugin shipping a folder of subgraphs (the interpolation pack's own)."""

    @hookimpl
    def kinograph_subgraphs(self) -> list[SubgraphSource]:
        return [SubgraphSource("package://kinograph/plugins/interpolation/subgraphs")]


def test_plugins_ship_subgraphs_through_the_hook(registry: Registry) -> None:
    info = registry.register_plugin(ShipsSubgraphs(), "ships")
    assert not info.errors and info.status == "ok"
    library = {entry.source: entry for entry in subgraph_library(registry)}
    entry = library["package://kinograph/plugins/interpolation/subgraphs/smooth_motion.json"]
    assert (entry.name, entry.version, entry.plugin, entry.problem) == ("Smooth motion", 1, "ships", "")
    graph = Graph(registry)
    node = graph.add_subgraph(entry.source)
    assert [p.name for p in graph.node_class(node.id).inputs] == ["frames"]
    assert node.id == "smooth_motion" and node.params == {"fps": 60.0, "method": "flow", "preset": "medium"}


def test_a_bad_subgraph_source_is_a_plugin_problem(registry: Registry) -> None:
    class Bad:
        @hookimpl
        def kinograph_subgraphs(self) -> list[SubgraphSource]:
            return [SubgraphSource("/etc/passwd")]

    info = registry.register_plugin(Bad(), "bad")
    assert info.status == "failed" and "must look like package://DIST/PATH" in info.errors[0]


def test_a_param_renamed_on_a_reusable_group_is_recorded_and_graphs_using_the_file_keep_their_value(
    registry: Registry, tmp_path: Path
) -> None:
    source = reusable(registry)
    user = two_uses(registry, source)
    user.set_param("first", "fail_at", 7)
    path = tmp_path / "uses.json"
    user.save(path)

    # Elsewhere the file's author makes a use local, renames the param and saves the file again.
    author = Graph(registry)
    author.add_subgraph(source, "edit")
    author.set_subgraph_ref("edit", None)
    author.inner("edit").rename_group_param("fail_at", "break_at")
    ref = save_subgraph(author, "edit", source)
    assert ref.version == 2
    saved = json.loads((subgraphs_dir() / "twice.json").read_text(encoding="utf-8"))
    assert saved["renamed_params"] == [{"version": 2, "from": "fail_at", "to": "break_at"}]

    reloaded = Graph.load(path, registry)
    assert reloaded.nodes["first"].params == {"break_at": 7}  # the value followed the new name
    assert "version 1 -> 2" in reloaded.load_warnings[0].message
    assert save_subgraph(author, "edit", source).version == 2  # nothing changed: no new version, no new rename


def test_two_params_that_swap_names_in_one_version_keep_their_values(registry: Registry, tmp_path: Path) -> None:
    graph = Graph(registry)
    graph.add_node("test.source", "src", {"frames": 4, "size": 8})
    graph.add_node("test.invert", "a")
    graph.add_node("test.invert", "b")
    graph.add_node("test.collect", "sink")
    graph.connect("src.frames", "a.frames")
    graph.connect("a.frames", "b.frames")
    graph.connect("b.frames", "sink.frames")
    graph.group_nodes(["a", "b"], "g")
    inner = graph.inner("g")
    inner.expose_on_group("a", "fail_at", "first")
    inner.expose_on_group("b", "fail_at", "second")
    source = save_subgraph(graph, "g", "user:swap.json").source
    user = Graph(registry)
    user.add_subgraph(source, "use")
    user.set_params("use", {"first": 1, "second": 2})
    user.save(tmp_path / "uses.json")
    for old, new in [("first", "tmp"), ("second", "first"), ("tmp", "second")]:  # swap through a third name
        inner.rename_group_param(old, new)
    assert save_subgraph(graph, "g", source).version == 2
    assert Graph.load(tmp_path / "uses.json", registry).nodes["use"].params == {"first": 2, "second": 1}
