"""Checks a graph before it runs: one problem per mistake, each naming node and port or param."""

from __future__ import annotations

import glob
from pathlib import Path

from pydantic import ValidationError

from kinograph.core.errors import Problem
from kinograph.core.graph import Graph, Link
from kinograph.core.graph_file import validation_problems
from kinograph.core.node import Node
from kinograph.core.params import field_ui, path_fields, resolve_param_paths
from kinograph.core.paths import PACKAGE_SCHEME, resolve_path


def validate(graph: Graph, nodes: set[str] | None = None, *, check_files: bool = True) -> list[Problem]:
    """Every problem in the graph (or, with ``nodes``, in those nodes and the links into them)."""
    problems: list[Problem] = []
    wanted = set(graph.nodes) if nodes is None else nodes
    into = links_by_target(graph)
    for node_id in graph.nodes:
        if node_id in wanted:
            problems.extend(_node_problems(graph, node_id, check_files, into))
    problems.extend(_link_problems(graph, wanted))
    problems.extend(_cycle_problems(graph))
    return problems


def structure_problems(graph: Graph, *, unknown_types: bool = True) -> list[Problem]:
    """Problems that stop a run from being planned: links to missing nodes, cycles, unknown types."""
    problems = []
    for index, link in enumerate(graph.links):
        for node_id in (link.source_node, link.target_node):
            if node_id not in graph.nodes:
                problems.append(Problem(f"links[{index}]", f"{link} names a node {node_id!r} that does not exist"))
    if unknown_types:
        unknown = {n for n, node in graph.nodes.items() if graph.registry.node(node.type) is None}
        for node_id in unknown:
            problems.extend(_node_problems(graph, node_id, False, {}))
    return problems + _cycle_problems(graph)


def links_by_target(graph: Graph) -> dict[str, list[Link]]:
    """Links grouped by the node they feed (one pass, so checks stay linear in graph size)."""
    into: dict[str, list[Link]] = {}
    for link in graph.links:
        into.setdefault(link.target_node, []).append(link)
    return into


def _node_problems(graph: Graph, node_id: str, check_files: bool, into: dict[str, list[Link]]) -> list[Problem]:
    node = graph.nodes[node_id]
    where = f"nodes.{node_id}"
    cls = graph.registry.node(node.type)
    if cls is None:
        hint = "is a plugin that provides it installed?"
        if node.plugin and node.plugin.get("dist"):
            hint = f"install it with: pip install {node.plugin['dist']}"
        elif node.plugin and node.plugin.get("name"):
            hint = f"it came from plugin {node.plugin['name']!r}"
        return [Problem(where, f"unknown node type {node.type!r}", hint)]
    problems = []
    if node.version > cls.version:
        problems.append(
            Problem(
                where,
                f"saved by a newer version ({node.version}) of {node.type!r} than installed ({cls.version})",
                "upgrade the plugin that provides it",
            )
        )
    try:
        params = cls.Params.model_validate(node.params)
    except ValidationError as exc:
        problems.extend(_param_problems(exc, where, cls))
        params = None
    if params is not None and check_files:
        problems.extend(_path_problems(graph, node_id, cls, params))
    if params is not None:
        problems.extend(_input_problems(graph, node_id, cls, params, into.get(node_id, [])))
    linked = {link.target_port for link in into.get(node_id, [])}
    for port in cls.inputs:
        if not port.optional and port.name not in linked and not node.bypass:
            problems.append(
                Problem(f"{where}.inputs.{port.name}", f"required input ({port.type}) is not linked")
            )
    if node.bypass:
        problems.extend(_bypass_problems(graph, node_id, cls))
    return problems


def _input_problems(graph: Graph, node_id: str, cls: type[Node], params: object, links: list[Link]) -> list[Problem]:
    """Let the node check facts its upstream nodes declare (e.g. a feature size mismatch)."""
    inputs = {}
    for link in links:
        upstream = graph.nodes.get(link.source_node)
        upstream_cls = graph.registry.node(upstream.type) if upstream else None
        if upstream is None or upstream_cls is None:
            continue
        try:
            upstream_params = upstream_cls.Params.model_validate(upstream.params)
            resolve_param_paths(upstream_params, graph.base_dir)
            info = dict(upstream_cls.output_info(upstream_params, link.source_port))
        except Exception:  # its own problems are reported on it
            continue
        info.update(node=link.source_node, type=upstream.type)
        inputs[link.target_port] = info
    try:
        params = params.model_copy()  # type: ignore[attr-defined]
        resolve_param_paths(params, graph.base_dir)  # type: ignore[arg-type]
        messages = cls.check_inputs(params, inputs)  # type: ignore[arg-type]
    except Exception as exc:
        messages = [f"could not check its inputs: {type(exc).__name__}: {exc}"]
    return [Problem(f"nodes.{node_id}", message) for message in messages]


def _param_problems(exc: ValidationError, where: str, cls: type[Node]) -> list[Problem]:
    problems = []
    known = ", ".join(cls.Params.model_fields) or "none"
    for problem in validation_problems(exc, f"{where}.params"):
        if problem.message.startswith("unknown key"):
            name = problem.where.rsplit(".", 1)[-1]
            problem = Problem(problem.where, f"unknown param {name!r}", f"known params: {known}")
        problems.append(problem)
    return problems


def _path_problems(graph: Graph, node_id: str, cls: type[Node], params: object) -> list[Problem]:
    problems = []
    for name, widget in path_fields(cls.Params).items():
        if widget != "input_path" or not field_ui(cls.Params, name).get("must_exist", True):
            continue
        value = getattr(params, name)
        if not isinstance(value, str) or not value:
            problems.append(Problem(f"nodes.{node_id}.params.{name}", "no file given", "set a path"))
            continue
        try:
            resolved = resolve_path(value, graph.base_dir)
        except Exception as exc:
            problems.append(Problem(f"nodes.{node_id}.params.{name}", str(exc)))
            continue
        if glob.has_magic(resolved) and not value.startswith(PACKAGE_SCHEME):
            if not glob.glob(resolved):
                problems.append(
                    Problem(f"nodes.{node_id}.params.{name}", f"no files match {value!r} ({resolved})")
                )
        elif not Path(resolved).exists():
            problems.append(
                Problem(
                    f"nodes.{node_id}.params.{name}",
                    f"file does not exist: {resolved}",
                    "fix the path or use --set",
                )
            )
    return problems


def _bypass_problems(graph: Graph, node_id: str, cls: type[Node]) -> list[Problem]:
    problems = []
    used_outputs = {link.source_port for link in graph.links_from(node_id)}
    for out in cls.outputs:
        if out.name in used_outputs and bypass_source(graph.registry.ports, cls, out.type) is None:
            problems.append(
                Problem(
                    f"nodes.{node_id}",
                    f"is bypassed but has no input that can pass through to {out.name} ({out.type})",
                    "un-bypass it",
                )
            )
    return problems


def bypass_source(ports: object, cls: type[Node], out_type: str) -> str | None:
    """The first input of ``cls`` whose type can stand in for an output of ``out_type``."""
    for port in cls.inputs:
        if ports.compatible(port.type, out_type):  # type: ignore[attr-defined]
            return port.name
    return None


def _link_problems(graph: Graph, wanted: set[str]) -> list[Problem]:
    problems = []
    seen_inputs: dict[tuple[str, str], str] = {}
    for index, link in enumerate(graph.links):
        if link.target_node not in wanted and link.source_node not in wanted:
            continue
        where = f"links[{index}]"
        for node_id in (link.source_node, link.target_node):
            if node_id not in graph.nodes:
                problems.append(Problem(where, f"{link} names a node {node_id!r} that does not exist"))
        if link.source_node not in graph.nodes or link.target_node not in graph.nodes:
            continue
        key = (link.target_node, link.target_port)
        if key in seen_inputs:
            problems.append(
                Problem(
                    where,
                    f"input {link.target} already has a link from {seen_inputs[key]}",
                    "an input takes one link",
                )
            )
            continue
        seen_inputs[key] = link.source
        reason = _type_reason(graph, link)
        if reason:
            problems.append(Problem(where, reason))
    return problems


def _type_reason(graph: Graph, link: object) -> str | None:
    source_cls = graph.node_class(link.source_node)  # type: ignore[attr-defined]
    target_cls = graph.node_class(link.target_node)  # type: ignore[attr-defined]
    out = source_cls.output(link.source_port) if source_cls else None  # type: ignore[attr-defined]
    inp = target_cls.input(link.target_port) if target_cls else None  # type: ignore[attr-defined]
    if source_cls is not None and out is None:
        names = ", ".join(p.name for p in source_cls.outputs) or "none"
        return f"{link.source_node} has no output {link.source_port!r} (it has: {names})"  # type: ignore[attr-defined]
    if target_cls is not None and inp is None:
        names = ", ".join(p.name for p in target_cls.inputs) or "none"
        return f"{link.target_node} has no input {link.target_port!r} (it has: {names})"  # type: ignore[attr-defined]
    if out is not None and inp is not None:
        return graph.registry.ports.refusal(link.source, out.type, link.target, inp.type)  # type: ignore[attr-defined]
    return None


def _cycle_problems(graph: Graph) -> list[Problem]:
    import networkx as nx

    dag = nx.DiGraph()
    dag.add_nodes_from(graph.nodes)
    dag.add_edges_from((link.source_node, link.target_node) for link in graph.links if link.source_node in graph.nodes and link.target_node in graph.nodes)
    try:
        cycle = nx.find_cycle(dag)
    except nx.NetworkXNoCycle:
        return []
    names = [edge[0] for edge in cycle] + [cycle[0][0]]
    return [Problem("links", "links form a cycle: " + " -> ".join(names), "remove one of these links")]


