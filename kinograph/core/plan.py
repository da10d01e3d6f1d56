"""Planning a run: which nodes the requested outputs need, in dependency order."""

from __future__ import annotations

from dataclasses import dataclass

from kinograph.core.errors import GraphError, Problem
from kinograph.core.graph import GraphSnapshot
from kinograph.core.registry import Registry


@dataclass(frozen=True)
class Plan:
    """The needed nodes in topological order, and the nodes asked for."""

    order: tuple[str, ...]
    targets: tuple[str, ...]


def default_targets(snapshot: GraphSnapshot, registry: Registry) -> list[str]:
    """The output nodes (writers, savers, previews) of the graph."""
    targets = []
    for node_id, node in snapshot.nodes.items():
        cls = registry.node(node.type)
        if cls is not None and cls.output_node:
            targets.append(node_id)
    return targets


def make_plan(snapshot: GraphSnapshot, registry: Registry, targets: list[str] | None = None) -> Plan:
    """Only ancestors of the targets, in topological order; cycles are named."""
    import networkx as nx

    if targets is None:
        targets = default_targets(snapshot, registry)
        if not targets:
            raise GraphError(
                Problem("", "the graph has no output node, so nothing would run", "add a writer or a preview")
            )
    for target in targets:
        if target not in snapshot.nodes:
            raise GraphError(Problem(f"nodes.{target}", "there is no such node to run"))
    dag = nx.DiGraph()
    dag.add_nodes_from(snapshot.nodes)
    dag.add_edges_from((link.source_node, link.target_node) for link in snapshot.links)
    needed = set(targets)
    for target in targets:
        needed |= nx.ancestors(dag, target)
    sub = dag.subgraph(needed)
    position = {node_id: index for index, node_id in enumerate(snapshot.nodes)}
    try:
        order = list(nx.lexicographical_topological_sort(sub, key=position.__getitem__))
    except nx.NetworkXUnfeasible:
        cycle = nx.find_cycle(sub)
        names = " -> ".join([edge[0] for edge in cycle] + [cycle[0][0]])
        raise GraphError(Problem("links", f"links form a cycle: {names}")) from None
    return Plan(tuple(order), tuple(targets))
