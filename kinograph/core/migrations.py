"""Explicit, ordered upgrades of graph files saved by older versions of the format.

Each migration takes the parsed JSON of version N and returns version N+1. Files newer than
this kinograph are refused with advice to upgrade. Node params have their own per-node
migrations (:meth:`kinograph.api.Node.migrate_params`), applied when a graph is built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kinograph.core.errors import GraphError, Problem


def _v0_to_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Version 0 (pre-release) stored links as ``["a.out", "b.in"]`` pairs and nodes' editor
    positions as a top-level ``positions`` map. Version 1 uses link objects and ``ui.pos``."""
    data = dict(data)
    links = []
    for item in data.get("links", []):
        if isinstance(item, list) and len(item) == 2:
            links.append({"from": item[0], "to": item[1]})
        else:
            links.append(item)
    data["links"] = links
    positions = data.pop("positions", {}) or {}
    nodes = {}
    for node_id, entry in (data.get("nodes") or {}).items():
        if isinstance(entry, dict) and node_id in positions:
            entry = {**entry, "ui": {**entry.get("ui", {}), "pos": positions[node_id]}}
        nodes[node_id] = entry
    data["nodes"] = nodes
    data["version"] = 1
    return data


#: version N -> function upgrading N to N+1
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _v0_to_v1}
CURRENT = 1


def migrate_file(data: dict[str, Any], source: str = "") -> dict[str, Any]:
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise GraphError(Problem("version", f"must be an integer, found {version!r}"), source)
    if version > CURRENT:
        raise GraphError(
            Problem(
                "version",
                f"this graph was saved by a newer kinograph (format version {version}; "
                f"this one reads up to {CURRENT})",
                "upgrade kinograph: pip install -U kinograph",
            ),
            source,
        )
    while version < CURRENT:
        step = MIGRATIONS.get(version)
        if step is None:
            raise GraphError(Problem("version", f"format version {version} is not supported"), source)
        data = step(data)
        version = data["version"]
    return data
