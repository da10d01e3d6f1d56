"""Runs see no groups: a snapshot of a graph with groups is flattened here.

Each inner node becomes a plain node named ``group/inner`` (``outer/inner/node`` when groups
nest); a link into a group's input becomes links into the inner inputs it feeds, a link from a
group's output a link from the inner output behind it (through any number of nested groups and
straight-through ports); a group's param values are written into the inner params they show. So
the planner, the caches and the executor know nothing of groups: streams stream across the
boundary, caching and failures are per inner node, and events name ``group/inner``.

What makes a group impossible to flatten (a subgraph file that cannot be found, an output not
linked inside, a param shown from a node that is gone) is a :class:`Problem` carried by the
snapshot and reported by validation, never an exception while taking the snapshot.
"""

from __future__ import annotations

import copy
import functools
import json
import marshal
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kinograph.core.errors import Problem
from kinograph.core.graph import GraphNode, GraphReading, GraphSnapshot, Link
from kinograph.core.graph_file import FORMAT, FORMAT_VERSION
from kinograph.core.subgraphs import INPUTS_TYPE, OUTPUTS_TYPE, SEPARATOR, SUBGRAPH_TYPE

if TYPE_CHECKING:
    from kinograph.core.graph import Graph
    from kinograph.core.subgraphs import Subgraph

#: an output port in flat ids: (node, port)
Port = tuple[str, str]


@dataclass(frozen=True)
class FlatSnapshot(GraphSnapshot):
    """A snapshot whose groups were flattened: the nodes are the inner ones; the graph file
    (:attr:`text`, embedded in outputs) is the graph as the user made it, groups and all."""

    #: the graph file's data as the user made it (groups and all), copied when the snapshot was taken
    source: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    #: why some group could not be flattened (reported by validation)
    problems: tuple[Problem, ...] = ()
    #: group id (``a`` or ``a/b``) -> the flat nodes behind its outputs (``--node GROUP``)
    group_outputs: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    @functools.cached_property  # type: ignore[override]
    def text(self) -> str:
        """The graph file (compact JSON), made when first asked for (writers embed it)."""
        return json.dumps(self.source, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def flat_snapshot(graph: Graph) -> FlatSnapshot:
    """The snapshot of ``graph`` with every group flattened (the graph has at least one)."""
    flat = _Flattening(graph.registry)
    nodes, links = flat.expand(graph, "", {}, set())
    # Params, editor state and meta are JSON values: marshal copies them deeply and fast, so
    # nothing in the snapshot is shared with the live graph.
    copies = marshal.loads(marshal.dumps(
        [(n.id, n.type, n.version, n.params, n.ui, n.bypass, n.plugin, n.exposed) for n in nodes]
    ))
    source = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "meta": graph.meta,
        "nodes": {node_id: node.to_entry(copy_values=False) for node_id, node in graph.nodes.items()},
        "links": [{"from": link.source, "to": link.target} for link in graph.links],
    }
    return FlatSnapshot(
        base_dir=graph.base_dir,
        nodes={entry[0]: GraphNode(*entry) for entry in copies},
        links=tuple(dict.fromkeys(links)),
        registry=graph.registry,
        meta=marshal.loads(marshal.dumps(graph.meta)),
        source=marshal.loads(marshal.dumps(source)),
        problems=tuple(dict.fromkeys(flat.problems)),
        group_outputs=flat.group_outputs,
    )


def flat_reading(graph: GraphReading, nodes: set[str] | None = None) -> tuple[GraphReading, list[Problem]]:
    """What validation checks: the flattened graph, and the problems of its groups (with
    ``nodes``, only those about these nodes or about no node in particular).

    A graph without groups is returned as it is; a :class:`Graph` with groups is snapshotted.
    """
    if not isinstance(graph, FlatSnapshot):
        snapshot = getattr(graph, "snapshot", None)
        if snapshot is None or not any(node.type == SUBGRAPH_TYPE for node in graph.nodes.values()):
            return graph, []
        graph = snapshot()
    problems = list(getattr(graph, "problems", ()))
    if nodes is not None:
        problems = [p for p in problems if _node_of(p) is None or _node_of(p) in nodes]
    return graph, problems


def _node_of(problem: Problem) -> str | None:
    if not problem.where.startswith("nodes."):
        return None
    return problem.where[len("nodes."):].split(".", 1)[0]


@dataclass
class _Boundary:
    """A port of the level being flattened that leads outside it: an input of the group (the
    caller resolves what feeds it)."""

    port: str


class _Flattening:
    """One flattening: walks the graph and its groups depth first, collecting problems."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry
        self.problems: list[Problem] = []
        self.group_outputs: dict[str, tuple[str, ...]] = {}

    def expand(
        self, level: Any, prefix: str, values: dict[str, dict[str, Any]], ports: set[tuple[str, str]]
    ) -> tuple[list[GraphNode], list[Link]]:
        """Flat nodes and links of one level (the top graph, or a subgraph with ``prefix``).

        ``values``: inner node -> params the enclosing group sets; ``ports``: (inner node,
        param) shown as ports because the enclosing group's param is linked outside.
        """
        result = _Level(self, level, prefix, values, ports)
        result.run()
        return result.nodes, result.links


class _Level:
    """Flattening one level: its own nodes, its groups (recursively) and the links between."""

    def __init__(
        self, flat: _Flattening, level: Any, prefix: str, values: dict[str, dict[str, Any]], ports: set[tuple[str, str]]
    ) -> None:
        self.flat = flat
        self.level = level
        self.prefix = prefix
        self.values = values
        self.ports = ports
        self.nodes: list[GraphNode] = []
        self.links: list[Link] = []
        #: local group id -> its expansion
        self.groups: dict[str, _Level] = {}
        #: this level's boundary (inside a group): input port -> flat inner inputs it feeds,
        #: output port -> what gives it (a flat port, an input of this level, or nothing)
        self.input_targets: dict[str, list[Port]] = {}
        self.output_sources: dict[str, Port | _Boundary | None] = {}
        self.feeding: dict[tuple[str, str], Link] = {}

    def flat_id(self, node_id: str) -> str:
        return f"{self.prefix}{node_id}"

    def where(self, node_id: str) -> str:
        return f"nodes.{self.flat_id(node_id)}"

    def run(self) -> None:
        level = self.level
        self.feeding = {(lk.target_node, lk.target_port): lk for lk in level.links}
        for node_id, node in level.nodes.items():
            if node.type in (INPUTS_TYPE, OUTPUTS_TYPE):
                if not self.prefix:
                    self.flat.problems.append(Problem(self.where(node_id), "group inputs and outputs belong inside a group"))
                continue
            if node.type == SUBGRAPH_TYPE:
                self.expand_group(node_id, node)
                continue
            params = {**node.params, **self.values.get(node_id, {})}
            exposed = list(node.exposed)
            exposed += [param for (inner, param) in self.ports if inner == node_id and param not in exposed]
            self.nodes.append(GraphNode(
                self.flat_id(node_id), node.type, node.version, params, node.ui, node.bypass, node.plugin, exposed
            ))
        for link in level.links:
            self.follow(link)

    # -- groups --

    def expand_group(self, node_id: str, node: GraphNode) -> None:
        sub = node.subgraph
        if sub is None:
            self.flat.problems.append(self.missing(node_id, node))
            return
        own = {**node.params, **self.values.get(node_id, {})}  # an enclosing group may set them
        values: dict[str, dict[str, Any]] = {}
        for shown in sub.interface.params:
            if shown.name in own:
                values.setdefault(shown.node, {})[shown.param] = copy.deepcopy(own[shown.name])
        ports = {
            (shown.node, shown.param)
            for shown in sub.interface.params
            if (node_id, shown.name) in self.feeding or (node_id, shown.name) in self.ports
        }
        self.check_interface(node_id, sub)
        if node.ref is not None and node.ref.version > node.version:
            self.flat.problems.append(Problem(
                self.where(node_id),
                f"saved with a newer version ({node.ref.version}) of subgraph {node.ref.source!r} "
                f"than the file has ({node.version})",
                "update the subgraph file, or the package that ships it",
            ))
        if node.bypass:
            self.groups[node_id] = self.bypassed(node_id, sub)
            return
        inner = _Level(self.flat, _SubgraphLevel(sub), f"{self.flat_id(node_id)}{SEPARATOR}", values, ports)
        inner.run()
        self.nodes.extend(inner.nodes)
        self.links.extend(inner.links)
        self.groups[node_id] = inner
        self.flat.group_outputs[self.flat_id(node_id)] = tuple(dict.fromkeys(
            source[0] for source in inner.output_sources.values() if isinstance(source, tuple)
        ))

    def bypassed(self, node_id: str, sub: Subgraph) -> _Level:
        """A bypassed group passes, to each output, its first input of a type that fits."""
        empty = _Level(self.flat, _SubgraphLevel(sub), "", {}, set())
        ports = self.flat.registry.ports
        for out in sub.interface.outputs:
            given = next((p for p in sub.interface.inputs if ports.compatible(p.type, out.type)), None)
            empty.output_sources[out.name] = _Boundary(given.name) if given is not None else None
        return empty

    def check_interface(self, node_id: str, sub: Subgraph) -> None:
        """Params shown from nodes or params that are gone: name them (the group's class skips them)."""
        for shown in sub.interface.params:
            inner = sub.nodes.get(shown.node)
            if inner is None:
                self.flat.problems.append(Problem(
                    f"{self.where(node_id)}.params.{shown.name}",
                    f"the group shows {shown.node}.{shown.param}, but it has no node {shown.node!r}",
                    "enter the group and show another param, or remove this one",
                ))

    def missing(self, node_id: str, node: GraphNode) -> Problem:
        from kinograph.core.subgraph_files import missing_problem

        return missing_problem(self.where(node_id), node.ref.source if node.ref is not None else "")

    # -- links --

    def source_of(self, node_id: str, port: str, seen: frozenset[str] = frozenset()) -> Port | _Boundary | None:
        """What gives ``node_id.port`` of this level, in flat ids; None: nothing does."""
        node = self.level.nodes.get(node_id)
        if node is None:
            return None
        if node.type == INPUTS_TYPE:
            return _Boundary(port) if self.prefix else None
        if node.type != SUBGRAPH_TYPE:
            return (self.flat_id(node_id), port)
        group = self.groups.get(node_id)
        if group is None:
            return None  # a missing subgraph, named already
        inner = group.output_sources.get(port)
        if inner is None:
            if node.subgraph is not None and node.subgraph.interface.output(port) is not None and not node.bypass:
                self.flat.problems.append(Problem(
                    f"{self.where(node_id)}.outputs.{port}",
                    f"the group's output {port!r} is not linked inside",
                    "enter the group and link something to its Group outputs node",
                ))
            return None
        if isinstance(inner, _Boundary):  # the group passes one of its inputs straight through
            if node_id in seen:
                return None
            feeding = self.feeding.get((node_id, inner.port))
            return self.source_of(feeding.source_node, feeding.source_port, seen | {node_id}) if feeding else None
        return inner

    def targets_of(self, node_id: str, port: str) -> list[Port] | str:
        """The flat inputs that a link into ``node_id.port`` of this level reaches, or the
        output port of this level it leads to (inside a group, to Group outputs)."""
        node = self.level.nodes.get(node_id)
        if node is None:
            return []
        if node.type == OUTPUTS_TYPE:
            return port
        if node.type != SUBGRAPH_TYPE:
            return [(self.flat_id(node_id), port)]
        group = self.groups.get(node_id)
        sub = node.subgraph
        if group is None or sub is None:
            return []
        if sub.interface.input(port) is None:
            shown = sub.interface.param(port)  # a group param shown as a port
            if shown is None:
                self.flat.problems.append(Problem(f"{self.where(node_id)}.inputs.{port}", f"the group has no input {port!r}"))
                return []
            return group.param_targets(shown.node, shown.param)
        return list(group.input_targets.get(port, []))

    def param_targets(self, node_id: str, param: str) -> list[Port]:
        """Where a linked param of this level's node ``node_id`` lands (deeper, for a group)."""
        node = self.level.nodes.get(node_id)
        if node is None:
            return []
        if node.type == SUBGRAPH_TYPE:
            found = self.targets_of(node_id, param)
            return found if isinstance(found, list) else []
        return [(self.flat_id(node_id), param)]

    def follow(self, link: Link) -> None:
        targets = self.targets_of(link.target_node, link.target_port)
        source = self.source_of(link.source_node, link.source_port)
        if isinstance(targets, str):  # into Group outputs: what this group gives at that output
            self.output_sources[targets] = source
            return
        for target in targets:
            if isinstance(source, _Boundary):
                self.input_targets.setdefault(source.port, []).append(target)
            elif source is not None:
                self.links.append(Link(source[0], source[1], target[0], target[1]))


class _SubgraphLevel(GraphReading):
    """A subgraph read as a level (nodes and links)."""

    def __init__(self, sub: Subgraph) -> None:
        self.nodes = sub.nodes
        self.links = sub.links
        self.interface = sub.interface
