"""Checks a graph before it runs: one problem per mistake, each naming node and port or param."""

from __future__ import annotations

import functools
import glob
import os
from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from kinograph.core.errors import KinographError, Problem
from kinograph.core.flatten import flat_reading
from kinograph.core.graph import GraphReading, Link
from kinograph.core.graph_file import validation_problems
from kinograph.core.links import find_cycle, port_types, type_refusal
from kinograph.core.node import Input, Node
from kinograph.core.param_ports import exposure_problem
from kinograph.core.params import NodeParams, field_ui, path_fields, resolve_param_paths
from kinograph.core.paths import PACKAGE_SCHEME, output_problem, resolve_path, special_file_kind
from kinograph.core.ports import PATH

#: A node's params as its model read them, or why it could not.
Parsed = dict[str, "NodeParams | ValidationError"]


def validate(
    graph: GraphReading,
    nodes: set[str] | None = None,
    *,
    check_files: bool = True,
    cycles: bool = True,
    parsed: Parsed | None = None,
) -> list[Problem]:
    """Every problem in the graph (or, with ``nodes``, in those nodes and the links into them).

    ``parsed`` (from :func:`parse_params`) lets a run read each node's params once for both
    validation and planning; ``cycles=False`` when the caller has checked them already.
    """
    graph, problems = flat_reading(graph, nodes)  # groups run flattened: check what will run
    wanted = set(graph.nodes) if nodes is None else nodes
    parsed = parsed if parsed is not None else parse_params(graph, wanted)
    into = links_by_target(graph)
    for node_id in graph.nodes:
        if node_id in wanted:
            problems.extend(_node_problems(graph, node_id, check_files, into, parsed))
    problems.extend(_link_problems(graph, wanted))
    if cycles:
        problems.extend(_cycle_problems(graph))
    if check_files:
        problems.extend(_output_problems(graph, wanted, parsed))
    return problems


def parse_params(graph: GraphReading, node_ids: Iterable[str]) -> Parsed:
    """Each node's params read by its model (a node of an unknown type is left out)."""
    parsed: Parsed = {}
    for node_id in node_ids:
        cls = graph.node_class(node_id)
        if cls is None:
            continue
        try:
            parsed[node_id] = cls.Params.model_validate(graph.nodes[node_id].params)
        except ValidationError as exc:
            parsed[node_id] = exc
    return parsed


def structure_problems(graph: GraphReading, *, unknown_types: bool = True) -> list[Problem]:
    """Problems that stop a run from being planned: links to missing nodes, cycles, unknown types."""
    graph, problems = flat_reading(graph, None if unknown_types else set())
    nodes = graph.nodes
    for index, link in enumerate(graph.links):
        if link.source_node in nodes and link.target_node in nodes:
            continue
        for node_id in (link.source_node, link.target_node):
            if node_id not in nodes:
                problems.append(Problem(f"links[{index}]", f"{link} names a node {node_id!r} that does not exist"))
    if unknown_types:
        unknown = {n for n in nodes if graph.node_class(n) is None}
        for node_id in unknown:
            problems.extend(_node_problems(graph, node_id, False, {}))
    return problems + _cycle_problems(graph)


def links_by_target(graph: GraphReading) -> dict[str, list[Link]]:
    """Links grouped by the node they feed (one pass, so checks stay linear in graph size)."""
    into: dict[str, list[Link]] = {}
    for link in graph.links:
        into.setdefault(link.target_node, []).append(link)
    return into


def _node_problems(
    graph: GraphReading, node_id: str, check_files: bool, into: dict[str, list[Link]], parsed: Parsed | None = None
) -> list[Problem]:
    node = graph.nodes[node_id]
    where = f"nodes.{node_id}"
    cls = graph.node_class(node_id)
    if cls is None:
        hint = "is a plugin that provides it installed?"
        failed = graph.registry.missing_node_hint(node.type, node.plugin)
        if failed:
            hint = failed
        elif node.plugin and node.plugin.get("dist"):
            hint = f"install it with: pip install {node.plugin['dist']}"
        elif node.plugin and node.plugin.get("name"):
            hint = f"it came from plugin {node.plugin['name']!r}"
        return [Problem(where, f"unknown node type {node.type!r}", hint)]
    problems: list[Problem] = []
    if node.version > cls.version:
        problems.append(
            Problem(
                where,
                f"saved by a newer version ({node.version}) of {node.type!r} than installed ({cls.version})",
                graph.registry.provider_note(node.type, node.plugin) or "upgrade the plugin that provides it",
            )
        )
    params = (parsed or {}).get(node_id) or parse_params(graph, [node_id]).get(node_id)
    if isinstance(params, ValidationError):
        problems.extend(_param_problems(params, where, cls))
        params = None
    if params is not None and check_files and path_fields(cls.Params):
        problems.extend(_path_problems(graph, node_id, cls, params))
    for name in node.exposed:
        reason = exposure_problem(cls, name)
        if reason:
            problems.append(Problem(f"{where}.exposed", reason, "remove it from the node's exposed params"))
    if params is not None and checks_inputs(cls):
        # Links into params shown as ports give values only at run time: the node's own checks
        # of those values run then (see the executor), with the value that arrives.
        declared = port_types(cls)[0]
        port_links = [link for link in into.get(node_id, []) if link.target_port in declared]
        problems.extend(_input_problems(graph, node_id, cls, params, port_links, parsed or {}))
    required = required_inputs(cls)
    if required and not node.bypass:
        linked = {link.target_port for link in into.get(node_id, [])}
        for port in required:
            if port.name not in linked:
                problems.append(
                    Problem(f"{where}.inputs.{port.name}", f"required input ({port.type}) is not linked")
                )
    if node.bypass:
        problems.extend(_bypass_problems(graph, node_id, cls))
    return problems


@functools.cache
def checks_inputs(cls: type[Node]) -> bool:
    """Whether a node class has its own :meth:`Node.check_inputs` (most do not: skip the work)."""
    return getattr(cls.check_inputs, "__func__", None) is not getattr(Node.check_inputs, "__func__", None)


@functools.cache
def required_inputs(cls: type[Node]) -> tuple[Input, ...]:
    """A node class's inputs that must be linked (asked for every node of every check)."""
    return tuple(port for port in cls.inputs if not port.optional)


def _input_problems(
    graph: GraphReading, node_id: str, cls: type[Node], params: object, links: list[Link], parsed: Parsed
) -> list[Problem]:
    """Let the node check facts its upstream nodes declare (e.g. a feature size mismatch)."""
    inputs = {}
    for link in links:
        upstream = graph.nodes.get(link.source_node)
        upstream_cls = graph.registry.node(upstream.type) if upstream else None
        if upstream is None or upstream_cls is None:
            continue
        try:
            known = parsed.get(link.source_node)
            upstream_params = (
                known.model_copy() if known is not None and not isinstance(known, ValidationError)
                else upstream_cls.Params.model_validate(upstream.params)
            )
            resolve_param_paths(upstream_params, graph.base_dir)
            info = dict(upstream_cls.output_info(upstream_params, link.source_port))
        except Exception:  # its own problems are reported on it
            continue
        info.update(node=link.source_node, type=upstream.type)
        inputs[link.target_port] = info
    try:
        params = params.model_copy()  # type: ignore[attr-defined]
        resolve_param_paths(params, graph.base_dir)  # type: ignore[arg-type]
    except KinographError:
        return []  # a path that cannot be used: the path checks report it
    try:
        messages = cls.check_inputs(params, inputs)  # type: ignore[arg-type]
    except Exception as exc:
        messages = [f"could not check its inputs: {type(exc).__name__}: {exc}"]
    # A node may name the param it means: Problem("params.crf", ...) is placed under the node.
    return [
        Problem(f"nodes.{node_id}.{m.where}" if m.where else f"nodes.{node_id}", m.message, m.hint)
        if isinstance(m, Problem)
        else Problem(f"nodes.{node_id}", m)
        for m in messages
    ]


def _param_problems(exc: ValidationError, where: str, cls: type[Node]) -> list[Problem]:
    problems = []
    known = ", ".join(cls.Params.model_fields) or "none"
    for problem in validation_problems(exc, f"{where}.params"):
        if problem.message.startswith("unknown key"):
            name = problem.where.rsplit(".", 1)[-1]
            problem = Problem(problem.where, f"unknown param {name!r}", f"known params: {known}")
        problems.append(problem)
    return problems


def _path_problems(graph: GraphReading, node_id: str, cls: type[Node], params: object) -> list[Problem]:
    problems = []
    linked = linked_params(graph, node_id)
    for name, widget in path_fields(cls.Params).items():
        if widget != "input_path" or name in linked:  # a linked value is checked when it arrives
            continue
        where = f"nodes.{node_id}.params.{name}"
        must_exist = field_ui(cls.Params, name).get("must_exist", True)
        value = getattr(params, name)
        if not isinstance(value, str) or not value:
            if must_exist:
                problems.append(Problem(where, "no file given", "set a path"))
            continue
        try:
            resolved = resolve_path(value, graph.base_dir)
            problems.extend(_input_path_problems(where, value, resolved, must_exist))
        except (OSError, ValueError) as exc:  # a name too long for the OS, a NUL byte, ...
            problems.append(Problem(where, f"cannot use this path: {_os_reason(exc)}", "fix the path"))
        except Exception as exc:
            problems.append(Problem(where, str(exc)))
    return problems


def _os_reason(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)


def _input_path_problems(where: str, value: str, resolved: str, must_exist: bool) -> list[Problem]:
    problems = []
    if glob.has_magic(resolved) and not value.startswith(PACKAGE_SCHEME):
        matches = glob.glob(resolved)
        if not matches and must_exist:
            problems.append(Problem(where, f"no files match {value!r} ({resolved})"))
        special = next((m for m in matches if special_file_kind(m)), None)
        if special is not None:
            problems.append(_special_problem(where, special))
    elif special_file_kind(resolved):
        problems.append(_special_problem(where, resolved))
    elif must_exist and not Path(resolved).exists():
        problems.append(Problem(where, f"file does not exist: {resolved}", "fix the path or use --set"))
    return problems


def linked_params(graph: GraphReading, node_id: str) -> set[str]:
    """The params of a node that a link feeds (shown as input ports)."""
    node = graph.nodes[node_id]
    if not node.exposed:
        return set()
    return {link.target_port for link in graph.links if link.target_node == node_id and link.target_port in node.exposed}


def _special_problem(where: str, path: str) -> Problem:
    # Reading a FIFO hangs and reading /dev/zero never ends: only files and folders are inputs.
    return Problem(where, f"{path} is {special_file_kind(path)}, not a file", "kinograph reads only regular files")


def _output_problems(graph: GraphReading, wanted: set[str], parsed: Parsed) -> list[Problem]:
    """Outputs that would harm what is there: a folder of the user's, a device, or one of the
    graph's own inputs (``write.path`` equal to ``load.path``); two outputs on one path."""
    reads: list[tuple[str, str, str]] = []  # (node, param, real path)
    writes: list[tuple[str, str, str, bool, str]] = []  # (node, param, real path, folder, if_exists)
    problems = []
    for node_id, node in graph.nodes.items():
        cls = graph.node_class(node_id)
        if cls is None or not path_fields(cls.Params):
            continue  # only nodes with file params read or write files
        try:
            known = parsed.get(node_id)
            params = (
                known.model_copy() if known is not None and not isinstance(known, ValidationError)
                else cls.Params.model_validate(node.params)
            )
            resolved = resolve_param_paths(params, graph.base_dir)
            for name, widget in path_fields(cls.Params).items():
                if widget == "input_path" and name in resolved:
                    matches = glob.glob(resolved[name]) if glob.has_magic(resolved[name]) else [resolved[name]]
                    reads.extend((node_id, name, os.path.realpath(m)) for m in matches)
        except Exception:
            continue  # reported on the node itself
        if node_id not in wanted:
            continue
        if_exists = getattr(params, "if_exists", "overwrite")
        linked = linked_params(graph, node_id)
        for name, path, folder in written_places(cls, params):
            if name in linked:
                continue  # checked at run time, with the value the link gives
            where = f"nodes.{node_id}.params.{name}"
            try:
                problem = output_problem(Path(path), if_exists, folder=folder)
                real = os.path.realpath(path)
            except (OSError, ValueError) as exc:
                problems.append(Problem(where, f"cannot write there: {_os_reason(exc)}", "fix the path"))
                continue
            if problem:
                problems.append(Problem(where, problem))
            writes.append((node_id, name, real, folder, if_exists))
    for index, (node_id, name, place, folder, if_exists) in enumerate(writes):
        where = f"nodes.{node_id}.params.{name}"
        for reader, param, read in reads:
            if read == place or (folder and read.startswith(place.rstrip(os.sep) + os.sep)):
                problems.append(
                    Problem(
                        where,
                        f"writes {place}, which node {reader!r} reads ({reader}.{param}): "
                        "the output would replace its own input",
                        "choose another output path",
                    )
                )
                break
        for other, other_name, other_place, _, other_if_exists in writes[:index]:
            if other_place == place and "overwrite" in (if_exists, other_if_exists):
                problems.append(
                    Problem(
                        where,
                        f"writes {place}, as {other}.{other_name} does: one would replace the other",
                        "give each output its own path, or set if_exists to increment",
                    )
                )
                break
    return problems


def written_places(cls: type[Node], params: NodeParams) -> list[tuple[str, str, bool]]:
    """(param, path, is a folder) for each place an output node writes, from resolved params.

    Its output path params, unless the node says better in :meth:`Node.output_info` of a path
    output (``{"path": ..., "folder": True}``: e.g. Write video's image-sequence folder).
    """
    if not cls.output_node:
        return []
    names = [name for name, widget in path_fields(cls.Params).items() if widget == "output_path"]
    declared = []
    for port in cls.outputs:
        if port.type != PATH.name:
            continue
        try:
            info = cls.output_info(params, port.name)
        except Exception:
            continue
        if isinstance(info.get("path"), str) and info["path"]:
            declared.append((names[0] if names else port.name, info["path"], bool(info.get("folder"))))
    if declared:
        return declared
    places = []
    for name in names:
        value = getattr(params, name)
        if isinstance(value, str) and value:
            places.append((name, value, bool(field_ui(cls.Params, name).get("folder"))))
    return places


def _bypass_problems(graph: GraphReading, node_id: str, cls: type[Node]) -> list[Problem]:
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


def _link_problems(graph: GraphReading, wanted: set[str]) -> list[Problem]:
    problems = []
    nodes = graph.nodes
    seen_inputs: dict[tuple[str, str], Link] = {}
    for index, link in enumerate(graph.links):
        if link.target_node not in wanted and link.source_node not in wanted:
            continue
        if link.source_node not in nodes or link.target_node not in nodes:
            for node_id in (link.source_node, link.target_node):
                if node_id not in nodes:
                    problems.append(Problem(f"links[{index}]", f"{link} names a node {node_id!r} that does not exist"))
            continue
        key = (link.target_node, link.target_port)
        if key in seen_inputs:
            problems.append(
                Problem(
                    f"links[{index}]",
                    f"input {link.target} already has a link from {seen_inputs[key].source}",
                    "an input takes one link",
                )
            )
            continue
        seen_inputs[key] = link
        reason = type_refusal(graph, link)
        if reason:
            problems.append(Problem(f"links[{index}]", reason))
    return problems


def _cycle_problems(graph: GraphReading) -> list[Problem]:
    if graph.dependency_order is not None:
        return []
    links = [link for link in graph.links if link.source_node in graph.nodes and link.target_node in graph.nodes]
    cycle = find_cycle(graph.nodes, links)
    if cycle is None:
        return []
    return [Problem("links", "links form a cycle: " + " -> ".join(cycle), "remove one of these links")]
