"""Graph fragments as JSON text: what copy puts on the clipboard and paste reads back.

A fragment is a complete graph file holding the copied nodes and the links among them, so it
pastes between windows, into a text editor, and even runs with ``kinograph run``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable

from kinograph.api import GraphError, Problem
from kinograph.host import FORMAT, FORMAT_VERSION, Graph, GraphFile, GraphNode, Link, dump_graph_file

PASTE_OFFSET = 30.0


def fragment_json(graph: Graph, node_ids: Iterable[str]) -> str:
    """The selected nodes and the links among them as graph-file text."""
    chosen = [node_id for node_id in graph.nodes if node_id in set(node_ids)]
    data = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "meta": {"name": "", "description": ""},
        "nodes": {node_id: graph.nodes[node_id].to_entry() for node_id in chosen},
        "links": [
            {"from": link.source, "to": link.target}
            for link in graph.links
            if link.source_node in chosen and link.target_node in chosen
        ],
    }
    return dump_graph_file(GraphFile.model_validate(data))


def fragment_nodes(
    text: str, graph: Graph, at: tuple[float, float] | None = None
) -> tuple[list[GraphNode], list[Link]]:
    """Parse fragment text into nodes with ids unique in ``graph`` and the links among them.

    Positions keep their layout; the fragment's top-left moves to ``at`` (or is offset a little,
    so a paste in place is visible). Raises GraphError for text that is not a graph.
    """
    if not text.strip().startswith("{"):
        raise GraphError(Problem("", "the clipboard holds no kinograph nodes (expected graph JSON text)"))
    fragment = Graph.from_json(text, graph.registry, source="clipboard")
    if not fragment.nodes:
        raise GraphError(Problem("", "the clipboard's graph has no nodes"))
    taken = set(graph.nodes)
    renamed: dict[str, str] = {}
    for node_id in fragment.nodes:
        new_id = node_id
        n = 2
        stem = node_id.rstrip("0123456789") or node_id
        while new_id in taken:
            new_id = f"{stem}{n}"
            n += 1
        taken.add(new_id)
        renamed[node_id] = new_id
    positions = [node.ui["pos"] for node in fragment.nodes.values() if _has_pos(node)]
    left = min((p[0] for p in positions), default=0.0)
    top = min((p[1] for p in positions), default=0.0)
    dx, dy = (at[0] - left, at[1] - top) if at is not None else (PASTE_OFFSET, PASTE_OFFSET)
    nodes = []
    for i, (node_id, node) in enumerate(fragment.nodes.items()):
        pasted = copy.deepcopy(node)
        pasted.id = renamed[node_id]
        if _has_pos(node):
            pasted.ui["pos"] = [round(node.ui["pos"][0] + dx, 1), round(node.ui["pos"][1] + dy, 1)]
        else:
            base = at or (0.0, 0.0)
            pasted.ui["pos"] = [base[0] + 30.0 * i, base[1] + 30.0 * i]
        nodes.append(pasted)
    links = [
        Link(renamed[link.source_node], link.source_port, renamed[link.target_node], link.target_port)
        for link in fragment.links
        if link.source_node in renamed and link.target_node in renamed
    ]
    return nodes, links


def _has_pos(node: GraphNode) -> bool:
    pos = node.ui.get("pos")
    return isinstance(pos, list) and len(pos) == 2 and all(isinstance(v, int | float) for v in pos)
