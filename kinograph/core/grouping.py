"""Grouping nodes into a subgraph and ungrouping a group, as exact, undoable graph operations.

Both are made of the graph's own primitive operations (remove, insert, link, unlink), so every
observer hears ordinary changes and the inverse puts each node and link back at its place in
the file: undo gives the very same JSON. Links that cross the selection's boundary become the
group's ports (one input per outside output feeding the selection, one output per inside output
read outside), as in Blender's Ctrl+G.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kinograph.core.errors import GraphError, Problem
from kinograph.core.graph_file import NAME_PATTERN
from kinograph.core.links import downstream_of, upstream_of
from kinograph.core.ports import ANY
from kinograph.core.subgraphs import (
    INPUTS_TYPE,
    OUTPUTS_TYPE,
    SUBGRAPH_TYPE,
    GroupPort,
    Interface,
    Subgraph,
)

if TYPE_CHECKING:
    from kinograph.core.graph import Graph, GraphNode, Link, RemovedNode

_NAME = re.compile(NAME_PATTERN)
#: how far the interface nodes sit left and right of the grouped nodes
_MARGIN = 260.0


@dataclass(frozen=True)
class Grouping:
    """What :meth:`Graph.group_nodes` did, so :meth:`Graph.undo_group` puts it back exactly."""

    group_id: str
    #: the grouped nodes as they were, with their places in the file
    nodes: tuple[tuple[int, GraphNode], ...]
    #: the links it removed (inside the selection and across its boundary), with their places
    links: tuple[tuple[int, Link], ...]
    #: the links it added, to and from the group
    added: tuple[Link, ...]


@dataclass(frozen=True)
class Ungrouping:
    """What :meth:`Graph.ungroup` did, so :meth:`Graph.undo_ungroup` puts the group back exactly."""

    removed: RemovedNode
    node_ids: tuple[str, ...]
    added: tuple[Link, ...]


def unique_name(stem: str, taken: Iterable[str]) -> str:
    """``stem``, else ``stem2``, ``stem3``... : the first not in ``taken``."""
    taken = set(taken)
    if stem not in taken:
        return stem
    n = 2
    while f"{stem}{n}" in taken:
        n += 1
    return f"{stem}{n}"


def check_new_id(graph: Graph, node_id: str, freed: Iterable[str] = ()) -> None:
    """Refuse an id that is not a valid node id or is taken (``freed``: ids about to go)."""
    if not _NAME.match(node_id):
        raise GraphError(Problem(f"nodes.{node_id}", "node ids must match [A-Za-z_][A-Za-z0-9_-]*"))
    if node_id in graph.nodes and node_id not in set(freed):
        raise GraphError(Problem(f"nodes.{node_id}", "a node with this id already exists"))


def check_grouping(graph: Graph, node_ids: Iterable[str], group_id: str) -> list[str]:
    """The nodes :func:`group_nodes` would group, in file order; GraphError when it would refuse."""
    chosen = set(node_ids)
    missing = sorted(chosen - set(graph.nodes))
    if missing:
        raise GraphError(Problem(f"nodes.{missing[0]}", "there is no such node"))
    ids = [node_id for node_id in graph.nodes if node_id in chosen]
    if not ids:
        raise GraphError(Problem("nodes", "no nodes to group", "select the nodes to group first"))
    for node_id in ids:
        if graph.nodes[node_id].type in (INPUTS_TYPE, OUTPUTS_TYPE):
            raise GraphError(Problem(f"nodes.{node_id}", "the group's inputs and outputs cannot go into a group",
                                     "leave them out of the selection"))
    check_new_id(graph, group_id, ids)
    _refuse_loops(graph, ids)
    return ids


def group_nodes(graph: Graph, node_ids: Iterable[str], group_id: str | None = None) -> Grouping:
    """Move ``node_ids`` into a new group node; see :meth:`Graph.group_nodes`."""
    from kinograph.core.graph import GraphNode, Link

    node_ids = list(node_ids)
    group_id = group_id or graph.new_id("group")
    ids = check_grouping(graph, node_ids, group_id)
    chosen = set(ids)

    indexed = list(enumerate(graph.links))
    incoming = [(i, lk) for i, lk in indexed if lk.target_node in chosen and lk.source_node not in chosen]
    outgoing = [(i, lk) for i, lk in indexed if lk.source_node in chosen and lk.target_node not in chosen]
    internal = [(i, lk) for i, lk in indexed if lk.source_node in chosen and lk.target_node in chosen]

    interface = Interface()
    inputs_id = unique_name("inputs", ids)
    outputs_id = unique_name("outputs", [*ids, inputs_id])
    in_ports: dict[tuple[str, str], str] = {}
    for _, link in incoming:  # one group input per outside output: it may feed several inner inputs
        key = (link.source_node, link.source_port)
        if key not in in_ports:
            spec = graph.input_port(link.target_node, link.target_port)
            port_type = spec.type if spec is not None else graph.port_type(*key, "output")
            in_ports[key] = unique_name(link.target_port, in_ports.values())
            interface.inputs.append(GroupPort(in_ports[key], port_type or ANY.name))
    out_ports: dict[tuple[str, str], str] = {}
    for _, link in outgoing:  # one group output per inside output read outside
        key = (link.source_node, link.source_port)
        if key not in out_ports:
            port_type = graph.port_type(*key, "output")
            if port_type is None:
                spec = graph.input_port(link.target_node, link.target_port)
                port_type = spec.type if spec is not None else None
            out_ports[key] = unique_name(link.source_port, out_ports.values())
            interface.outputs.append(GroupPort(out_ports[key], port_type or ANY.name))

    inner_links = [lk for _, lk in internal]
    inner_links += [Link(inputs_id, in_ports[(lk.source_node, lk.source_port)], lk.target_node, lk.target_port)
                    for _, lk in incoming]
    inner_links += [Link(node, port, outputs_id, name) for (node, port), name in out_ports.items()]
    left, right, middle_x, middle_y = _extent(graph, ids)
    nodes = {inputs_id: GraphNode(inputs_id, INPUTS_TYPE, 1, {}, {"pos": [round(left - _MARGIN, 1), middle_y]})}
    nodes.update((node_id, copy.deepcopy(graph.nodes[node_id])) for node_id in ids)
    nodes[outputs_id] = GraphNode(outputs_id, OUTPUTS_TYPE, 1, {}, {"pos": [round(right + _MARGIN, 1), middle_y]})
    subgraph = Subgraph(nodes, inner_links, interface, {"name": "", "description": ""})
    group = GraphNode(group_id, SUBGRAPH_TYPE, 1, {}, {"pos": [middle_x, middle_y]}, subgraph=subgraph)
    added = [Link(node, port, group_id, name) for (node, port), name in in_ports.items()]
    added += [Link(group_id, out_ports[(lk.source_node, lk.source_port)], lk.target_node, lk.target_port)
              for _, lk in outgoing]

    order = list(graph.nodes)
    places = tuple((order.index(node_id), copy.deepcopy(graph.nodes[node_id])) for node_id in ids)
    removed = tuple(sorted(incoming + outgoing + internal, key=lambda item: item[0]))
    for _, link in reversed(removed):
        graph.disconnect(link)
    for node_id in ids:
        graph.remove_node(node_id)
    graph.insert_node(group, places[0][0])  # where the first grouped node was
    for link in added:
        graph.add_link(link)
    return Grouping(group_id, places, removed, tuple(added))


def undo_group(graph: Graph, grouping: Grouping) -> None:
    """Put the grouped nodes and their links back at their places; the group goes."""
    for link in reversed(grouping.added):
        graph.disconnect(link)
    graph.remove_node(grouping.group_id)
    for index, node in grouping.nodes:
        graph.insert_node(node, index)
    for index, link in grouping.links:
        graph.add_link(link, index)


def ungroup(graph: Graph, group_id: str) -> Ungrouping:
    """Put a group's nodes in its place; see :meth:`Graph.ungroup`."""
    from kinograph.core.graph import Link

    group = graph.nodes.get(group_id)
    if group is None or group.type != SUBGRAPH_TYPE:
        raise GraphError(Problem(f"nodes.{group_id}", "is not a group", "select a group to ungroup"))
    sub = group.subgraph
    if sub is None:
        raise GraphError(Problem(f"nodes.{group_id}", "its subgraph file was not found, so there is nothing to ungroup"))
    # Like Blender, a subgraph may hold several Group inputs / Group outputs nodes.
    inputs = {node_id for node_id, node in sub.nodes.items() if node.type == INPUTS_TYPE}
    outputs = {node_id for node_id, node in sub.nodes.items() if node.type == OUTPUTS_TYPE}
    inner_ids = [node_id for node_id in sub.nodes if node_id not in inputs | outputs]
    taken = set(graph.nodes) - {group_id}
    new_id: dict[str, str] = {}
    for node_id in inner_ids:
        new_id[node_id] = unique_name(node_id, taken)
        taken.add(new_id[node_id])

    nodes = []
    for node_id in inner_ids:
        node = copy.deepcopy(sub.nodes[node_id])
        node.id = new_id[node_id]
        nodes.append(node)
    by_id = {node.id: node for node in nodes}
    for shown in sub.interface.params:  # the group's values become the inner nodes' own
        inner = by_id.get(new_id.get(shown.node, ""))
        if inner is None:
            continue
        if shown.name in group.params:
            inner.params[shown.param] = copy.deepcopy(group.params[shown.name])
        if shown.name in group.exposed and shown.param not in inner.exposed:
            inner.exposed.append(shown.param)

    feeding = {lk.target_port: lk for lk in graph.links if lk.target_node == group_id}
    links: list[Link] = []
    for link in sub.links:
        if link.target_node in outputs:
            continue  # followed from the outside links below
        if link.source_node in inputs:
            outside = feeding.get(link.source_port)
            if outside is not None:
                links.append(Link(outside.source_node, outside.source_port, new_id[link.target_node], link.target_port))
        elif link.source_node in new_id and link.target_node in new_id:
            links.append(Link(new_id[link.source_node], link.source_port, new_id[link.target_node], link.target_port))
    for link in graph.links:
        if link.source_node == group_id:
            inside = next((lk for lk in sub.links if lk.target_node in outputs and lk.target_port == link.source_port), None)
            if inside is None:
                continue
            if inside.source_node in inputs:  # the group passed its input straight through
                outside = feeding.get(inside.source_port)
                if outside is not None:
                    links.append(Link(outside.source_node, outside.source_port, link.target_node, link.target_port))
            elif inside.source_node in new_id:
                links.append(Link(new_id[inside.source_node], inside.source_port, link.target_node, link.target_port))
        elif link.target_node == group_id and sub.interface.input(link.target_port) is None:
            shown = sub.interface.param(link.target_port)  # a group param shown as a port
            if shown is not None and shown.node in new_id:
                links.append(Link(link.source_node, link.source_port, new_id[shown.node], shown.param))
    links = list(dict.fromkeys(links))

    index = list(graph.nodes).index(group_id)
    removed = graph.remove_node(group_id)
    for offset, node in enumerate(nodes):
        graph.insert_node(node, index + offset)
    for link in links:
        graph.add_link(link)
    return Ungrouping(removed, tuple(node.id for node in nodes), tuple(links))


def undo_ungroup(graph: Graph, ungrouping: Ungrouping) -> None:
    """Take the ungrouped nodes out again and put the group back exactly."""
    for link in reversed(ungrouping.added):
        graph.disconnect(link)
    for node_id in reversed(ungrouping.node_ids):
        graph.remove_node(node_id)
    graph.restore_node(ungrouping.removed)


def _refuse_loops(graph: Graph, ids: list[str]) -> None:
    """A node outside that is fed by the selection and feeds it would make the group feed itself."""
    chosen = set(ids)
    loop = sorted((downstream_of(graph.links, ids) & upstream_of(graph.links, ids)) - chosen)
    if loop:
        raise GraphError(Problem(
            f"nodes.{loop[0]}",
            f"{loop[0]!r} is fed by the selection and feeds it, so the group would feed itself",
            f"add {loop[0]!r} to the selection, or leave out the nodes on one side of it",
        ))


def _extent(graph: Graph, ids: list[str]) -> tuple[float, float, float, float]:
    """Left, right, and middle (x, y) of the grouped nodes' positions."""
    points = []
    for node_id in ids:
        pos = graph.nodes[node_id].ui.get("pos")
        if isinstance(pos, list | tuple) and len(pos) == 2 and all(isinstance(v, int | float) for v in pos):
            points.append((float(pos[0]), float(pos[1])))
    if not points:
        return 0.0, 0.0, 0.0, 0.0
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return min(xs), max(xs), round(sum(xs) / len(xs), 1), round(sum(ys) / len(ys), 1)
