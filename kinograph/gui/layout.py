"""Auto-layout: nodes in columns by their depth in the graph, ordered to keep links short."""

from __future__ import annotations

from collections.abc import Iterable

from kinograph.host import Graph

COLUMN_GAP = 80.0
ROW_GAP = 40.0


def layered_positions(
    graph: Graph,
    node_ids: Iterable[str],
    sizes: dict[str, tuple[float, float]],
    origin: tuple[float, float] = (0.0, 0.0),
) -> dict[str, tuple[float, float]]:
    """New top-left positions for ``node_ids``: each node one column right of its deepest input.

    Only links among the chosen nodes count. Within a column, nodes sit near the average row of
    the nodes feeding them (one barycentre pass), which untangles most pipelines.
    """
    chosen = [node_id for node_id in graph.nodes if node_id in set(node_ids)]
    inside = set(chosen)
    preds: dict[str, list[str]] = {node_id: [] for node_id in chosen}
    for link in graph.links:
        if link.source_node in inside and link.target_node in inside:
            preds[link.target_node].append(link.source_node)
    depth: dict[str, int] = {}
    for node_id in chosen:
        _depth(node_id, preds, depth)
    columns: dict[int, list[str]] = {}
    for node_id in chosen:
        columns.setdefault(depth[node_id], []).append(node_id)
    row_of: dict[str, float] = {}
    positions: dict[str, tuple[float, float]] = {}
    x = origin[0]
    for col in sorted(columns):
        members = columns[col]
        members.sort(key=lambda n: sum(row_of.get(p, 0.0) for p in preds[n]) / len(preds[n]) if preds[n] else -1.0)
        y = origin[1]
        for i, node_id in enumerate(members):
            row_of[node_id] = float(i)
            positions[node_id] = (x, y)
            y += sizes.get(node_id, (180.0, 80.0))[1] + ROW_GAP
        x += max(sizes.get(n, (180.0, 80.0))[0] for n in members) + COLUMN_GAP
    return positions


def _depth(node_id: str, preds: dict[str, list[str]], depth: dict[str, int]) -> int:
    """Longest path from a source, iteratively (graphs may be deep; cycles are cut)."""
    stack = [(node_id, False)]
    visiting: set[str] = set()
    while stack:
        current, expanded = stack.pop()
        if current in depth:
            continue
        if expanded:
            visiting.discard(current)
            depth[current] = 1 + max((depth.get(p, 0) for p in preds[current]), default=-1)
            continue
        visiting.add(current)
        stack.append((current, True))
        stack.extend((p, False) for p in preds[current] if p not in depth and p not in visiting)
    return depth[node_id]
