"""Auto-layout: columns by depth, each chain of nodes kept in a row, separate parts stacked.

Rules, in the spirit of Blender's and Nuke's arrangers:

- each connected part of the graph is laid out on its own, and the parts are stacked top to
  bottom in file order, so ten parallel chains become ten rows, not one tall column of sources;
- a node sits one column right of its deepest input; a source (a node with no inputs among the
  chosen ones) sits just left of the first node it feeds, next to where it is used;
- a node lines up with the input that carries its chain (the deepest one), so a chain reads as
  one straight row; other inputs stack above and below it, never overlapping.
"""

from __future__ import annotations

from collections.abc import Iterable

from kinograph.host import Graph

COLUMN_GAP = 80.0
ROW_GAP = 40.0
PART_GAP = 120.0
DEFAULT_SIZE = (180.0, 80.0)


def layered_positions(
    graph: Graph,
    node_ids: Iterable[str],
    sizes: dict[str, tuple[float, float]],
    origin: tuple[float, float] = (0.0, 0.0),
) -> dict[str, tuple[float, float]]:
    """New top-left positions for ``node_ids``; only links among the chosen nodes count."""
    wanted = set(node_ids)
    chosen = [node_id for node_id in graph.nodes if node_id in wanted]
    inside = set(chosen)
    preds: dict[str, list[str]] = {node_id: [] for node_id in chosen}
    succs: dict[str, list[str]] = {node_id: [] for node_id in chosen}
    for link in graph.links:
        if link.source_node in inside and link.target_node in inside and link.source_node != link.target_node:
            if link.source_node not in preds[link.target_node]:
                preds[link.target_node].append(link.source_node)
                succs[link.source_node].append(link.target_node)
    positions: dict[str, tuple[float, float]] = {}
    top = origin[1]
    for part in _parts(chosen, preds, succs):
        placed = _layout_part(part, preds, succs, sizes, (origin[0], top))
        positions.update(placed)
        bottom = max(y + _size(sizes, n)[1] for n, (_x, y) in placed.items())
        top = bottom + PART_GAP
    return positions


def _size(sizes: dict[str, tuple[float, float]], node_id: str) -> tuple[float, float]:
    return sizes.get(node_id, DEFAULT_SIZE)


def _parts(chosen: list[str], preds: dict[str, list[str]], succs: dict[str, list[str]]) -> list[list[str]]:
    """The connected parts, each in file order, in the order of their first node."""
    part_of: dict[str, int] = {}
    parts: list[list[str]] = []
    for start in chosen:
        if start in part_of:
            continue
        index = len(parts)
        part_of[start] = index
        todo = [start]
        while todo:
            node = todo.pop()
            for other in preds[node] + succs[node]:
                if other not in part_of:
                    part_of[other] = index
                    todo.append(other)
        parts.append([])
    for node_id in chosen:
        parts[part_of[node_id]].append(node_id)
    return parts


def _layout_part(
    part: list[str],
    preds: dict[str, list[str]],
    succs: dict[str, list[str]],
    sizes: dict[str, tuple[float, float]],
    origin: tuple[float, float],
) -> dict[str, tuple[float, float]]:
    depth: dict[str, int] = {}
    for node_id in part:
        _depth(node_id, preds, depth)
    # Sources move right, next to the first node they feed (a Number beside the Add it feeds,
    # not in a column of every source at the far left).
    for node_id in part:
        if not preds[node_id] and succs[node_id]:
            depth[node_id] = max(depth[node_id], min(depth[s] for s in succs[node_id]) - 1)
    columns: dict[int, list[str]] = {}
    for node_id in part:  # file order within a column
        columns.setdefault(depth[node_id], []).append(node_id)
    order = {node_id: i for i, node_id in enumerate(part)}
    y_of: dict[str, float] = {}
    positions: dict[str, tuple[float, float]] = {}
    x = origin[0]
    for col in sorted(columns):
        members = columns[col]
        wish = {node_id: _wished_y(node_id, preds, depth, y_of) for node_id in members}
        # Nodes that follow a chain first, in the order of where they want to be.
        members.sort(key=lambda n: (wish[n] is None, wish[n] if wish[n] is not None else 0.0, order[n]))
        below = origin[1]
        for node_id in members:
            y = max(below, wish[node_id] if wish[node_id] is not None else below)
            y_of[node_id] = y
            positions[node_id] = (x, y)
            below = y + _size(sizes, node_id)[1] + ROW_GAP
        x += max(_size(sizes, n)[0] for n in members) + COLUMN_GAP
    # Sources placed before the node they feed was known: line each up with it when free.
    return _align_sources(positions, preds, succs, sizes)


def _wished_y(node_id: str, preds: dict[str, list[str]], depth: dict[str, int],
              y_of: dict[str, float]) -> float | None:
    """Where a node would like to be: level with the input that carries its chain."""
    placed = [p for p in preds[node_id] if p in y_of]
    if not placed:
        return None
    chain = max(placed, key=lambda p: (depth[p], len(preds[p]), -y_of[p]))
    return y_of[chain]


def _align_sources(
    positions: dict[str, tuple[float, float]],
    preds: dict[str, list[str]],
    succs: dict[str, list[str]],
    sizes: dict[str, tuple[float, float]],
) -> dict[str, tuple[float, float]]:
    for node_id, (x, y) in list(positions.items()):
        if preds[node_id] or not succs[node_id]:
            continue
        target_y = positions[succs[node_id][0]][1]
        if target_y <= y:
            continue  # a source only moves down to its consumer (up is where others already are)
        height = _size(sizes, node_id)[1]
        column = [(n, p) for n, p in positions.items() if n != node_id and abs(p[0] - x) < 1e-6]
        if all(p[1] + _size(sizes, n)[1] + ROW_GAP <= target_y or p[1] >= target_y + height + ROW_GAP
               for n, p in column):
            positions[node_id] = (x, target_y)
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
