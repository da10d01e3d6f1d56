"""Explicit, ordered upgrades of graph files saved by older versions of the format.

Each migration takes the parsed JSON of version N and returns version N+1. Files newer than
this kinograph are refused with advice to upgrade. Node params have their own per-node
migrations (:meth:`kinograph.api.Node.migrate_params`), applied when a graph is built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kinograph.core.errors import GraphError, Problem
from kinograph.core.graph_file import json_kind


def _v0_to_v1(data: dict[str, Any]) -> dict[str, Any]:
    """Version 0 (pre-release) stored links as ``["a.out", "b.in"]`` pairs and nodes' editor
    positions as a top-level ``positions`` map. Version 1 uses link objects and ``ui.pos``.

    Parts of the wrong shape are passed on untouched, so the version 1 model names them
    (``links: Input should be a valid list``); only ``positions``, which version 1 no longer
    has, is checked here.
    """
    data = dict(data)
    links = data.get("links", [])
    if isinstance(links, list):
        data["links"] = [
            {"from": item[0], "to": item[1]} if isinstance(item, list) and len(item) == 2 else item
            for item in links
        ]
    positions = data.pop("positions", None)
    if positions is None:
        positions = {}
    if not isinstance(positions, dict):
        raise GraphError(
            Problem(
                "positions",
                f"expected an object of node id -> [x, y], found {json_kind(positions)}",
                'write it like {"load": [0, 0]}, or remove it',
            )
        )
    nodes = data.get("nodes")
    if isinstance(nodes, dict):
        data["nodes"] = {node_id: _with_position(entry, positions.get(node_id)) for node_id, entry in nodes.items()}
    data["version"] = 1
    return data


def _with_position(entry: Any, position: Any) -> Any:
    if position is None or not isinstance(entry, dict):
        return entry
    ui = entry.get("ui", {})
    if not isinstance(ui, dict):
        return entry  # the model names nodes.ID.ui
    return {**entry, "ui": {**ui, "pos": position}}


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """Version 2 lets a node show params as input ports (``exposed``, fed by links). A version 1
    file has none, so it reads as is."""
    return {**data, "version": 2}


def _v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    """Version 3 adds group nodes (``kinograph.subgraph``: a ``subgraph`` inline or a ``ref`` to
    a reusable subgraph file). A version 2 file has none, so it reads as is."""
    return {**data, "version": 3}


#: version N -> function upgrading N to N+1
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _v0_to_v1, 1: _v1_to_v2, 2: _v2_to_v3}
CURRENT = 3


def migrate_file(data: dict[str, Any], source: str = "") -> dict[str, Any]:
    """Upgrade parsed JSON of any supported format version to the current one."""
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
        try:
            data = step(data)
        except GraphError as exc:  # the steps name places in the file; the file is named here
            raise GraphError(exc.problems, source) from None
        version = data["version"]
    return data
