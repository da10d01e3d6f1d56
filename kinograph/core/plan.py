"""Planning a run: which nodes the requested outputs need, in dependency order."""

from __future__ import annotations

from dataclasses import dataclass

from kinograph.core.errors import GraphError, Problem
from kinograph.core.graph import GraphSnapshot
from kinograph.core.links import find_cycle, topological_order, upstream_of
from kinograph.core.registry import Registry


@dataclass(frozen=True)
class Plan:
    """The needed nodes in topological order, and the nodes asked for."""

    order: tuple[str, ...]
    targets: tuple[str, ...]


def default_targets(snapshot: GraphSnapshot, registry: Registry) -> list[str]:
    """The output nodes (writers, savers, previews) of the graph."""
    targets = []
    for node_id in snapshot.nodes:
        cls = snapshot.node_class(node_id)
        if cls is not None and cls.output_node:
            targets.append(node_id)
    return targets


def make_plan(snapshot: GraphSnapshot, registry: Registry, targets: list[str] | None = None) -> Plan:
    """Only ancestors of the targets, in topological order (ties in file order); cycles are named."""
    if targets is None:
        targets = default_targets(snapshot, registry)
        if not targets:
            raise GraphError(
                Problem("", "the graph has no output node, so nothing would run", "add a writer or a preview")
            )
    # A group's id asks for what its outputs need (its inner nodes run under ``group/inner`` ids).
    behind = getattr(snapshot, "group_outputs", {})
    targets = list(dict.fromkeys(t for target in targets for t in behind.get(target, (target,))))
    for target in targets:
        if target not in snapshot.nodes:
            raise GraphError(Problem(f"nodes.{target}", "there is no such node to run"))
    needed = upstream_of(snapshot.links, targets)
    whole = snapshot.dependency_order
    if whole is not None:  # what feeds a node is needed too, so its order is the whole one's
        return Plan(tuple(n for n in whole if n in needed), tuple(targets))
    links = [link for link in snapshot.links if link.source_node in needed and link.target_node in needed]
    order = topological_order((node_id for node_id in snapshot.nodes if node_id in needed), links)
    if order is None:
        cycle = find_cycle(sorted(needed), links) or []
        raise GraphError(Problem("links", "links form a cycle: " + " -> ".join(cycle), "remove one of these links"))
    return Plan(tuple(order), tuple(targets))
