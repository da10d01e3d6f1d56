"""The host API: what applications built on kinograph import.

The CLI, the desktop editor, batch runs, the test harness and your own scripts load, edit, check
and run graphs through this module; node plugins import :mod:`kinograph.api` instead. Like the
plugin API it imports no heavy library (torch, numpy, cv2, av, networkx), so commands that only
list or check things start fast::

    from kinograph.host import load_graph, run_graph

    graph = load_graph("graphs/image_to_video.json")
    graph.set_param("write", "path", "out/from_python.mp4")
    result = run_graph(graph, device="auto")
"""

from __future__ import annotations

from pathlib import Path

from kinograph.core.cache import StreamCache
from kinograph.core.context import CancelToken
from kinograph.core.contributions import Command, GraphReader
from kinograph.core.devices import available_devices
from kinograph.core.errors import MESSAGE_LIMIT, GraphError, KinographError, LinkRefused, Problem, shown
from kinograph.core.events import Event, EventBus
from kinograph.core.graph import ChangeKind, Connection, Graph, GraphChange, GraphNode, Link, RemovedNode
from kinograph.core.graph_file import (
    FORMAT,
    FORMAT_VERSION,
    NAME_PATTERN,
    GraphFile,
    dump_graph_file,
    graph_schema,
    validation_problems,
)
from kinograph.core.grouping import Grouping, Ungrouping, check_grouping, unique_name
from kinograph.core.inner_graph import HiddenParam, InnerGraph, RemovedPort
from kinograph.core.links import port_accepts, reachable
from kinograph.core.overrides import apply_overrides, parse_override
from kinograph.core.param_ports import exposable_params, node_inputs
from kinograph.core.params import XKEY, field_ui, resolve_param_paths
from kinograph.core.paths import atomic_write_text, cache_dir, settings_dir
from kinograph.core.registry import (
    PluginInfo,
    Registry,
    builtin_plugins,
    get_registry,
    reset_registry,
    strict_mode,
)
from kinograph.core.results import Failure, NodeState, RunOptions, RunResult, RunStatus
from kinograph.core.scheduler import Session, run_graph
from kinograph.core.signals import Stop, stop_on_signals
from kinograph.core.subgraph_files import (
    LibraryEntry,
    save_subgraph,
    subgraph_library,
    subgraph_node,
    subgraphs_dir,
    user_source,
)
from kinograph.core.subgraphs import INPUTS_TYPE, OUTPUTS_TYPE, SEPARATOR, SUBGRAPH_TYPE, SubgraphRef
from kinograph.core.validation import validate


def load_graph(path: str | Path, registry: Registry | None = None) -> Graph:
    """Load a graph file with the installed plugins (relative paths resolve to its folder)."""
    return Graph.load(path, registry)


def validate_graph(graph: Graph) -> list[Problem]:
    """Every problem that would stop ``graph`` from running, one per place (empty when valid)."""
    return validate(graph)


__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "INPUTS_TYPE",
    "MESSAGE_LIMIT",
    "NAME_PATTERN",
    "OUTPUTS_TYPE",
    "SEPARATOR",
    "SUBGRAPH_TYPE",
    "XKEY",
    "CancelToken",
    "ChangeKind",
    "Command",
    "Connection",
    "Event",
    "EventBus",
    "Failure",
    "Graph",
    "GraphChange",
    "GraphError",
    "GraphFile",
    "GraphNode",
    "GraphReader",
    "Grouping",
    "HiddenParam",
    "InnerGraph",
    "KinographError",
    "LibraryEntry",
    "Link",
    "LinkRefused",
    "NodeState",
    "PluginInfo",
    "Problem",
    "Registry",
    "RemovedNode",
    "RemovedPort",
    "RunOptions",
    "RunResult",
    "RunStatus",
    "Session",
    "Stop",
    "StreamCache",
    "SubgraphRef",
    "Ungrouping",
    "apply_overrides",
    "atomic_write_text",
    "available_devices",
    "builtin_plugins",
    "cache_dir",
    "check_grouping",
    "dump_graph_file",
    "exposable_params",
    "field_ui",
    "get_registry",
    "graph_schema",
    "load_graph",
    "node_inputs",
    "parse_override",
    "port_accepts",
    "reachable",
    "reset_registry",
    "resolve_param_paths",
    "run_graph",
    "save_subgraph",
    "settings_dir",
    "shown",
    "stop_on_signals",
    "strict_mode",
    "subgraph_library",
    "subgraph_node",
    "subgraphs_dir",
    "unique_name",
    "user_source",
    "validate",
    "validate_graph",
    "validation_problems",
]
