"""Editor-only state kept in ``graph.meta["editor"]``: backdrops, sticky notes and reroute dots.

None of it is a node, so ``kinograph run`` never sees it; it is saved in the graph file so a
graph reopens as it was left. Shape (all JSON)::

    {"backdrops": [{"id": "b1", "title": "Inputs", "color": "#3d5a80", "rect": [x, y, w, h]}],
     "notes":     [{"id": "n1", "text": "...", "rect": [x, y, w, h]}],
     "reroutes":  {"load.image->blur.image": [[x, y], ...]}}
"""

from __future__ import annotations

import copy
from typing import Any

from kinograph.host import Graph, Link

KEY = "editor"
BACKDROP_COLORS = ["#3d5a80", "#5a3d80", "#3d805a", "#80603d", "#803d4a", "#4a5560"]


def editor_state(graph: Graph) -> dict[str, Any]:
    """A copy of the editor state with every section present (edit it, then push a command)."""
    raw = graph.meta.get(KEY)
    state = copy.deepcopy(raw) if isinstance(raw, dict) else {}
    state.setdefault("backdrops", [])
    state.setdefault("notes", [])
    state.setdefault("reroutes", {})
    return state


def compact(state: dict[str, Any]) -> dict[str, Any] | None:
    """Drop empty sections so a graph without editor extras saves without the key's clutter."""
    result = {key: value for key, value in state.items() if value}
    return result or None


def link_key(link: Link) -> str:
    return f"{link.source}->{link.target}"


def new_item_id(items: list[dict[str, Any]], stem: str) -> str:
    taken = {item.get("id") for item in items}
    n = 1
    while f"{stem}{n}" in taken:
        n += 1
    return f"{stem}{n}"
