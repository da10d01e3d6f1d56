"""The editable graph model. The editor and the scheduler both work on it; views observe it.

Every edit is checked by the same rules as a loaded file and announced as a
:class:`GraphChange` to subscribers (the editor's scene, autosave, ...). Runs work on an
immutable :meth:`Graph.snapshot`, so editing during a run is safe.
"""

from __future__ import annotations

import copy
import functools
import json
import marshal
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from kinograph.core.errors import GraphError, LinkRefused, Problem
from kinograph.core.graph_file import (
    FORMAT,
    FORMAT_VERSION,
    NAME_PATTERN,
    GraphFile,
    dump_graph_file,
    graph_file_from_data,
    load_graph_file,
    parse_json,
    validation_problems,
)
from kinograph.core.links import link_refusal, topological_order
from kinograph.core.node import Input, Node
from kinograph.core.param_ports import exposure_problem, node_inputs, param_input
from kinograph.core.registry import Registry, get_registry
from kinograph.core.subgraphs import (
    GROUP_TYPES,
    SEPARATOR,
    SUBGRAPH_TYPE,
    Interface,
    Subgraph,
    SubgraphRef,
    group_class,
    interface_class,
)

if TYPE_CHECKING:
    from kinograph.core.grouping import Grouping, Ungrouping
    from kinograph.core.inner_graph import InnerGraph

_NAME = re.compile(NAME_PATTERN)


@dataclass(frozen=True)
class Link:
    """A link between ``source`` output and ``target`` input, each a (node id, port) pair."""

    source_node: str
    source_port: str
    target_node: str
    target_port: str

    @property
    def source(self) -> str:
        return f"{self.source_node}.{self.source_port}"

    @property
    def target(self) -> str:
        return f"{self.target_node}.{self.target_port}"

    def renamed(self, old: str, new: str) -> Link:
        """This link with node ``old`` called ``new``."""
        return Link(
            new if self.source_node == old else self.source_node,
            self.source_port,
            new if self.target_node == old else self.target_node,
            self.target_port,
        )

    @classmethod
    def parse(cls, source: str, target: str) -> Link:
        s_node, _, s_port = source.partition(".")
        t_node, _, t_port = target.partition(".")
        return cls(s_node, s_port, t_node, t_port)

    def __str__(self) -> str:
        return f"{self.source} -> {self.target}"


@dataclass
class GraphNode:
    """One node of the graph: its type, saved version, params (JSON values) and editor state."""

    id: str
    type: str
    version: int = 1
    params: dict[str, Any] = field(default_factory=dict)
    ui: dict[str, Any] = field(default_factory=dict)
    bypass: bool = False
    plugin: dict[str, str] | None = None
    #: params shown as input ports, in the order they were exposed
    exposed: list[str] = field(default_factory=list)
    #: a group node's graph (None for other nodes, and for a group whose subgraph file is missing)
    subgraph: Subgraph | None = None
    #: the reusable subgraph file a group node uses (None: its subgraph is its own, inline)
    ref: SubgraphRef | None = None

    def to_entry(self, copy_values: bool = True) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "type": self.type,
            "version": self.version,
            "params": copy.deepcopy(self.params) if copy_values else self.params,
            "ui": copy.deepcopy(self.ui) if copy_values else self.ui,
            "bypass": self.bypass,
        }
        if self.plugin:
            entry["plugin"] = dict(self.plugin)
        if self.exposed:
            entry["exposed"] = list(self.exposed)
        if self.ref is not None:
            entry["ref"] = self.ref.to_entry()
        elif self.subgraph is not None:
            entry["subgraph"] = self.subgraph.to_entry(copy_values)
        return entry


class ChangeKind(StrEnum):
    """The kinds of edit a :class:`Graph` announces, one per operation."""

    NODE_ADDED = "node_added"
    NODE_REMOVED = "node_removed"
    NODE_RENAMED = "node_renamed"  # ``name``: the old id, ``value``/``node_id``: the new one
    NODES_REORDERED = "nodes_reordered"  # ``value``: the new order of ids
    LINK_ADDED = "link_added"
    LINK_REMOVED = "link_removed"
    PARAM_CHANGED = "param_changed"
    PARAM_EXPOSED = "param_exposed"  # a param shown as an input port (``value``: True/False)
    BYPASS_CHANGED = "bypass_changed"
    UI_CHANGED = "ui_changed"
    META_CHANGED = "meta_changed"
    RESET = "reset"
    #: something inside the group ``node_id`` changed (``value``: that change, as the group's
    #: own graph announced it)
    SUBGRAPH_CHANGED = "subgraph_changed"
    #: the ports or params a subgraph shows outside changed (announced inside the subgraph)
    INTERFACE_CHANGED = "interface_changed"


@dataclass(frozen=True)
class GraphChange:
    """One edit: ``kind`` says which (:class:`ChangeKind`); the other fields say where."""

    kind: ChangeKind
    node_id: str | None = None
    link: Link | None = None
    name: str | None = None
    value: Any = None


@dataclass(frozen=True)
class RemovedNode:
    """What :meth:`Graph.remove_node` took out, so :meth:`Graph.restore_node` puts it back exactly."""

    node: GraphNode
    index: int
    links: tuple[tuple[int, Link], ...]


@dataclass(frozen=True)
class Connection:
    """What :meth:`Graph.connect` did: the new link and the links it replaced (with their places)."""

    link: Link
    replaced: tuple[tuple[int, Link], ...] = ()
    added: bool = True


class GraphReading:
    """Read-only lookups shared by the editable :class:`Graph` and the :class:`GraphSnapshot` a
    run executes, so validation checks exactly what will run."""

    nodes: Mapping[str, GraphNode]
    links: Sequence[Link]
    registry: Registry
    base_dir: Path | None
    #: inside a subgraph: the group's ports and params (the interface nodes' ports come from it)
    interface: Interface | None = None

    def node_class(self, node_id: str) -> type[Node] | None:
        """The class of a node: its registered type, or the class made for a group (see
        :mod:`kinograph.core.subgraphs`). ``group/inner`` names a node inside a group."""
        node = self.nodes.get(node_id)
        if node is None:
            return self._inner_class(node_id) if SEPARATOR in node_id else None
        if node.type in GROUP_TYPES:
            if node.type == SUBGRAPH_TYPE:
                inner = self.subgraph_reading(node_id)
                return group_class(node, inner.node_class) if inner is not None else None
            return interface_class(node.type, self.interface)
        return self.registry.node(node.type)

    def subgraph_reading(self, node_id: str) -> GraphReading | None:
        """Read-only lookups inside the group ``node_id`` (None when it holds no subgraph)."""
        from kinograph.core.inner_graph import SubgraphReading

        node = self.nodes.get(node_id)
        if node is None or node.subgraph is None:
            return None
        return SubgraphReading(node.subgraph, self.registry, self.base_dir)

    def _inner_class(self, path: str) -> type[Node] | None:
        group, _, rest = path.partition(SEPARATOR)
        inner = self.subgraph_reading(group)
        return inner.node_class(rest) if inner is not None else None

    def links_into(self, node_id: str) -> list[Link]:
        return [link for link in self.links if link.target_node == node_id]

    def links_from(self, node_id: str) -> list[Link]:
        return [link for link in self.links if link.source_node == node_id]

    def inputs_for(self, node_id: str) -> list[Input]:
        """A node's input ports: its declared inputs and the params it shows as ports."""
        cls = self.node_class(node_id)
        return node_inputs(cls, self.nodes[node_id].exposed) if cls is not None else []

    def input_port(self, node_id: str, port: str) -> Input | None:
        """The input port ``port`` of a node (a declared input or an exposed param), or None."""
        cls = self.node_class(node_id)
        if cls is None:
            return None
        declared = cls.input(port)
        if declared is not None or port not in self.nodes[node_id].exposed:
            return declared
        return param_input(cls, port)

    @property
    def dependency_order(self) -> list[str] | None:
        """Every node, each after those that feed it (ties in file order); None on a cycle."""
        return topological_order(self.nodes, self.links)

    def port_type(self, node_id: str, port: str, direction: str) -> str | None:
        cls = self.node_class(node_id)
        if cls is None:
            return None
        spec = cls.output(port) if direction == "output" else self.input_port(node_id, port)
        return spec.type if spec else None


@dataclass(frozen=True)
class GraphSnapshot(GraphReading):
    """An immutable copy of a graph for one run: its nodes, links and meta, shared with nothing."""

    base_dir: Path | None
    nodes: dict[str, GraphNode]
    links: tuple[Link, ...]
    registry: Registry = field(repr=False, compare=False)
    meta: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @functools.cached_property
    def text(self) -> str:
        """The graph file of this snapshot (compact JSON), made when first asked for: writers
        embed it in their outputs, and most runs of big graphs never need it."""
        data = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "meta": self.meta,
            "nodes": {node_id: node.to_entry(copy_values=False) for node_id, node in self.nodes.items()},
            "links": [{"from": link.source, "to": link.target} for link in self.links],
        }
        return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))

    def inputs_of(self, node_id: str) -> list[Link]:
        return self.links_into(node_id)

    @functools.cached_property
    def _classes(self) -> dict[str, type[Node] | None]:
        return {}

    def with_params_edited(self, nodes: dict[str, GraphNode], meta: dict[str, Any]) -> GraphSnapshot:
        """This snapshot with ``nodes`` (the same ids and types, other params or editor state)
        and ``meta``: links, dependency order and node classes carry over, as they cannot differ
        (an incremental re-run makes one per run)."""
        edited = GraphSnapshot(self.base_dir, nodes, self.links, self.registry, meta)
        edited.__dict__["_classes"] = dict(self._classes)  # cached_property values, computed or not
        if "dependency_order" in self.__dict__:
            edited.__dict__["dependency_order"] = self.dependency_order
        return edited

    @functools.cached_property
    def dependency_order(self) -> list[str] | None:  # type: ignore[override]
        """As :attr:`GraphReading.dependency_order`, worked out once: checking for cycles and
        planning the run both need it."""
        return topological_order(self.nodes, self.links)

    def node_class(self, node_id: str) -> type[Node] | None:
        """As :meth:`GraphReading.node_class`, remembered per node: a snapshot never changes,
        and validation, planning and the executor each ask for every node."""
        known = self._classes
        if node_id in known:
            return known[node_id]
        cls = known[node_id] = GraphReading.node_class(self, node_id)
        return cls


def param_defaults(node_class: type[Node]) -> dict[str, Any]:
    """Every param with a default, as JSON values, in declaration order."""
    defaults = {}
    for name, info in node_class.Params.model_fields.items():
        if not info.is_required():
            value = info.get_default(call_default_factory=True)
            defaults[name] = json.loads(json.dumps(value, default=str))
    return defaults


def node_from_entry(registry: Registry, node_id: str, entry: Any) -> GraphNode:
    """A node from its file entry: a renamed type loads as its new id, params of an older
    version migrate, missing params take their defaults; unknown types are kept as saved."""
    node_class = registry.node(entry.type)
    type_id = node_class.type_id if node_class is not None else entry.type
    params = copy.deepcopy(entry.params)
    version = entry.version
    plugin = entry.plugin.model_dump() if entry.plugin else None
    if node_class is not None:
        if version < node_class.version:
            params = node_class.migrate_params(version, params)
            version = node_class.version
        params = {**param_defaults(node_class), **params}
    return GraphNode(
        node_id, type_id, version, params, copy.deepcopy(entry.ui), entry.bypass, plugin, list(entry.exposed)
    )


class Graph(GraphReading):
    """An editable graph bound to a registry of node types."""

    def __init__(self, registry: Registry | None = None, base_dir: Path | None = None) -> None:
        self.registry = registry or get_registry()
        self.base_dir = base_dir
        self.meta: dict[str, Any] = {"name": "", "description": ""}
        self.nodes: dict[str, GraphNode] = {}
        self.links: list[Link] = []
        #: what loading noticed without refusing the file (a subgraph file that changed since
        #: the graph was saved, and was updated), one problem per group
        self.load_warnings: list[Problem] = []
        self._observers: list[Callable[[GraphChange], None]] = []
        self._inner_views: dict[str, InnerGraph] = {}

    # -- observing --

    def subscribe(self, observer: Callable[[GraphChange], None]) -> Callable[[], None]:
        """Call ``observer(change)`` after every edit; returns a function that unsubscribes."""
        self._observers.append(observer)
        return lambda: self._observers.remove(observer) if observer in self._observers else None

    def _emit(self, change: GraphChange) -> None:
        for observer in list(self._observers):
            observer(change)

    def new_id(self, stem: str) -> str:
        stem = re.sub(r"[^A-Za-z0-9_-]", "_", stem) or "node"
        if not _NAME.match(stem):
            stem = f"n_{stem}"
        if stem not in self.nodes:
            return stem
        n = 2
        while f"{stem}{n}" in self.nodes:
            n += 1
        return f"{stem}{n}"

    # -- edits --

    def add_node(
        self,
        type_id: str,
        node_id: str | None = None,
        params: dict[str, Any] | None = None,
        pos: tuple[float, float] | None = None,
    ) -> GraphNode:
        """Add a node of a registered type with default params (overridden by ``params``)."""
        cls = self.registry.node(type_id)
        if cls is None:
            raise GraphError(Problem("", f"unknown node type {type_id!r}"))
        node_id = node_id or self.new_id(type_id.rsplit(".", 1)[-1])
        if not _NAME.match(node_id):
            raise GraphError(Problem(f"nodes.{node_id}", "node ids must match [A-Za-z_][A-Za-z0-9_-]*"))
        if node_id in self.nodes:
            raise GraphError(Problem(f"nodes.{node_id}", "a node with this id already exists"))
        values = {**param_defaults(cls), **(params or {})}
        values = self._checked_params(node_id, cls, values)
        info = self.registry.node_plugin.get(type_id)
        plugin = {"name": info.name, "dist": info.dist, "version": info.version} if info else None
        node = GraphNode(node_id, type_id, cls.version, values, {}, False, plugin)
        if pos is not None:
            node.ui["pos"] = [float(pos[0]), float(pos[1])]
        self.insert_node(node)
        return node

    def insert_node(self, node: GraphNode, index: int | None = None) -> None:
        """Put back a node exactly as given (undo, paste, unknown types), at ``index`` in file order."""
        if node.id in self.nodes:
            raise GraphError(Problem(f"nodes.{node.id}", "a node with this id already exists"))
        if index is None or index >= len(self.nodes):
            self.nodes[node.id] = copy.deepcopy(node)
        else:
            items = list(self.nodes.items())
            items.insert(index, (node.id, copy.deepcopy(node)))
            self.nodes = dict(items)
        self._emit(GraphChange(ChangeKind.NODE_ADDED, node.id))

    def rename_node(self, old: str, new: str) -> None:
        """Give a node another id, keeping its place in the file and its links (and their places)."""
        node = self._node(old)
        if not _NAME.match(new):
            raise GraphError(Problem(f"nodes.{new}", "node ids must match [A-Za-z_][A-Za-z0-9_-]*"))
        if new in self.nodes:
            raise GraphError(Problem(f"nodes.{new}", "a node with this id already exists"))
        self.nodes = {(new if key == old else key): value for key, value in self.nodes.items()}
        node.id = new
        self.links = [link.renamed(old, new) for link in self.links]
        self._emit(GraphChange(ChangeKind.NODE_RENAMED, new, name=old, value=new))

    def reorder_nodes(self, order: list[str]) -> None:
        """Put the nodes in ``order`` (file order; every id once)."""
        if sorted(order) != sorted(self.nodes):
            raise GraphError(Problem("nodes", "a new order must name every node once"))
        if list(self.nodes) != order:
            self.nodes = {node_id: self.nodes[node_id] for node_id in order}
            self._emit(GraphChange(ChangeKind.NODES_REORDERED, value=list(order)))

    def remove_node(self, node_id: str) -> RemovedNode:
        """Remove a node and its links; :meth:`restore_node` is the inverse."""
        node = self._node(node_id)
        index = list(self.nodes).index(node_id)
        removed = tuple(
            (i, link) for i, link in enumerate(self.links) if node_id in (link.source_node, link.target_node)
        )
        for _, link in reversed(removed):
            self.disconnect(link)
        del self.nodes[node_id]
        self._emit(GraphChange(ChangeKind.NODE_REMOVED, node_id))
        return RemovedNode(node, index, removed)

    def restore_node(self, removed: RemovedNode) -> None:
        """Undo :meth:`remove_node`: the node at its place, its links at theirs."""
        self.insert_node(removed.node, removed.index)
        for index, link in removed.links:
            self.add_link(link, index)

    def check_link(self, source: str, target: str, *, ignoring: Link | None = None) -> str | None:
        """Why a link from ``source`` (node.port) to ``target`` is refused, or None if allowed.

        ``ignoring``: judge it as if that link were gone (moving a link, inserting a node into one).
        """
        return link_refusal(self, Link.parse(source, target), ignoring=ignoring)

    def connect(self, source: str, target: str, *, replace: bool = True, index: int | None = None) -> Connection:
        """Link ``source`` (node.port) to ``target``; an existing link into the input is replaced.

        Returns what was done; :meth:`undo_connect` is the inverse.
        """
        reason = self.check_link(source, target)
        if reason:
            raise LinkRefused(reason)
        link = Link.parse(source, target)
        existing = [
            (i, other)
            for i, other in enumerate(self.links)
            if (other.target_node, other.target_port) == (link.target_node, link.target_port)
        ]
        if any(other == link for _, other in existing):
            return Connection(link, (), added=False)
        if existing and not replace:
            raise LinkRefused(f"{link.target} already has a link from {existing[0][1].source}")
        for _, other in reversed(existing):
            self.disconnect(other)
        self.add_link(link, index)
        return Connection(link, tuple(existing))

    def undo_connect(self, connection: Connection) -> None:
        """Undo :meth:`connect`: the new link goes, the replaced ones come back at their places."""
        if connection.added:
            self.disconnect(connection.link)
        for index, link in connection.replaced:
            self.add_link(link, index)

    def add_link(self, link: Link, index: int | None = None) -> None:
        """Add a link as is, at ``index`` in file order, without type checks (undo, paste, unknown
        node types)."""
        if link not in self.links:
            self.links.insert(len(self.links) if index is None else index, link)
            self._emit(GraphChange(ChangeKind.LINK_ADDED, link.target_node, link))

    def disconnect(self, link: Link) -> int | None:
        """Remove a link; returns where it was (for :meth:`add_link` to put it back), or None."""
        if link not in self.links:
            return None
        index = self.links.index(link)
        del self.links[index]
        self._emit(GraphChange(ChangeKind.LINK_REMOVED, link.target_node, link))
        return index

    def set_param(self, node_id: str, name: str, value: Any) -> None:
        """Set one param; an invalid value raises GraphError with the pydantic message."""
        self.set_params(node_id, {name: value})

    def set_params(self, node_id: str, values: dict[str, Any], *, check: bool = True) -> None:
        """Set several params; each changed value is checked (``check=False``: put back as is, for undo).

        Only the changed params are judged: a file's invalid value in another param does not
        block editing this one. ``group/inner`` sets a param inside a group.
        """
        if SEPARATOR in node_id:
            owner, local_id = self.owner(node_id)
            owner.set_params(local_id, values, check=check)
            return
        node = self._node(node_id)
        cls = self.node_class(node_id)
        merged = {**node.params, **values}
        if cls is not None and check:
            merged = self._checked_changes(node_id, cls, node.params, values)
        for name in values:
            node.params[name] = merged.get(name)
        for name in values:
            self._emit(GraphChange(ChangeKind.PARAM_CHANGED, node_id, name=name, value=node.params[name]))

    def expose_param(self, node_id: str, name: str, exposed: bool = True) -> None:
        """Show a param as an input port (or stop): a link into it then gives its value at run time.

        A param that a link feeds must be unlinked before it stops being a port.
        """
        node = self._node(node_id)
        cls = self.node_class(node_id)
        if exposed == (name in node.exposed):
            return
        if exposed:
            problem = exposure_problem(cls, name) if cls is not None else f"node type {node.type!r} is not installed"
            if problem:
                raise GraphError(Problem(f"nodes.{node_id}.params.{name}", problem))
            node.exposed.append(name)
        else:
            feeding = next((lk for lk in self.links if (lk.target_node, lk.target_port) == (node_id, name)), None)
            if feeding is not None:
                raise GraphError(Problem(f"nodes.{node_id}.params.{name}", f"{feeding} feeds it", "remove that link first"))
            node.exposed.remove(name)
        self._emit(GraphChange(ChangeKind.PARAM_EXPOSED, node_id, name=name, value=exposed))

    def set_bypass(self, node_id: str, bypass: bool) -> None:
        node = self._node(node_id)
        node.bypass = bool(bypass)
        self._emit(GraphChange(ChangeKind.BYPASS_CHANGED, node_id, value=node.bypass))

    def set_ui(self, node_id: str, key: str, value: Any) -> None:
        node = self._node(node_id)
        if value is None:
            node.ui.pop(key, None)
        else:
            node.ui[key] = copy.deepcopy(value)
        self._emit(GraphChange(ChangeKind.UI_CHANGED, node_id, name=key, value=value))

    def move_node(self, node_id: str, pos: tuple[float, float]) -> None:
        self.set_ui(node_id, "pos", [round(float(pos[0]), 1), round(float(pos[1]), 1)])

    def set_meta(self, key: str, value: Any) -> None:
        """Set a meta key (``None`` removes it)."""
        if value is None:
            self.meta.pop(key, None)
        else:
            self.meta[key] = value
        self._emit(GraphChange(ChangeKind.META_CHANGED, name=key, value=value))

    # -- groups (subgraphs) --

    def inner(self, group_id: str) -> InnerGraph:
        """The graph inside the group ``group_id``: edit it with the same operations as this one
        (each change is also announced here as :attr:`ChangeKind.SUBGRAPH_CHANGED`)."""
        node = self._node(group_id)
        if node.subgraph is None:
            raise GraphError(Problem(f"nodes.{group_id}", "is not a group with a subgraph"))
        view = self._inner_views.get(group_id)
        if view is None:
            from kinograph.core.inner_graph import InnerGraph

            view = self._inner_views[group_id] = InnerGraph(self, group_id)
        return view

    def owner(self, node_id: str) -> tuple[Graph, str]:
        """The graph that holds ``node_id`` and its id there: ``grade/blur`` is ``blur`` of the
        graph inside group ``grade``; a plain id is this graph's own."""
        graph: Graph = self
        *groups, local_id = node_id.split(SEPARATOR)
        for group in groups:
            node = graph.nodes.get(group)
            if node is None or node.subgraph is None:
                known = ", ".join(n for n, v in graph.nodes.items() if v.subgraph is not None) or "none"
                raise GraphError(Problem(f"nodes.{node_id}", f"there is no group {group!r}", f"groups: {known}"))
            graph = graph.inner(group)
        return graph, local_id

    def group_nodes(self, node_ids: Sequence[str], group_id: str | None = None) -> Grouping:
        """Move nodes into a new group node in their place (Ctrl+G). Links that crossed the
        selection become the group's ports. :meth:`undo_group` is the exact inverse."""
        from kinograph.core.grouping import group_nodes

        return group_nodes(self, node_ids, group_id)

    def undo_group(self, grouping: Grouping) -> None:
        """Undo :meth:`group_nodes`: every node and link back at its place."""
        from kinograph.core.grouping import undo_group

        undo_group(self, grouping)

    def ungroup(self, group_id: str) -> Ungrouping:
        """Put a group's nodes in its place (Ctrl+Alt+G): ids kept where free, the group's param
        values written into them, the links across the boundary joined up again.
        :meth:`undo_ungroup` is the exact inverse."""
        from kinograph.core.grouping import ungroup

        return ungroup(self, group_id)

    def undo_ungroup(self, ungrouping: Ungrouping) -> None:
        """Undo :meth:`ungroup`: the group back exactly, with its links."""
        from kinograph.core.grouping import undo_ungroup

        undo_ungroup(self, ungrouping)

    def add_subgraph(self, source: str, node_id: str | None = None, pos: tuple[float, float] | None = None) -> GraphNode:
        """Add a group that uses the reusable subgraph file ``source`` (``user:NAME.json`` or
        ``package://DIST/PATH``); :meth:`remove_node` is the inverse."""
        from kinograph.core.subgraph_files import subgraph_node

        node = subgraph_node(self, source, node_id, pos)
        self.insert_node(node)
        return self.nodes[node.id]

    def set_subgraph_ref(self, group_id: str, ref: SubgraphRef | None) -> SubgraphRef | None:
        """Make a group use a reusable subgraph file (its content stays as it is), or, with None,
        keep its content in this graph ("make local"). Returns the ref it had: calling again
        with it is the inverse."""
        node = self._node(group_id)
        if node.subgraph is None:
            raise GraphError(Problem(f"nodes.{group_id}", "is not a group with a subgraph"))
        old = node.ref
        node.ref = copy.deepcopy(ref)
        node.version = ref.version if ref is not None else 1
        self._emit(GraphChange(ChangeKind.SUBGRAPH_CHANGED, group_id, name="ref", value=ref))
        return old

    def _node(self, node_id: str) -> GraphNode:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise GraphError(Problem(f"nodes.{node_id}", "there is no such node")) from None

    def _checked_changes(
        self, node_id: str, cls: type[Node], current: dict[str, Any], values: dict[str, Any]
    ) -> dict[str, Any]:
        merged = {**current, **values}
        try:
            return self._checked_params(node_id, cls, merged)
        except GraphError as exc:
            prefix = f"nodes.{node_id}.params"
            mine = [
                p for p in exc.problems
                if p.where == prefix or any(p.where.startswith(f"{prefix}.{name}") for name in values)
            ]
            if mine:
                raise GraphError(mine) from None
        # Other params were already invalid: check and coerce just the changed ones.
        model = cls.Params.model_construct(**merged)
        for name, value in values.items():
            try:
                cls.Params.__pydantic_validator__.validate_assignment(model, name, value)
            except ValidationError as exc:
                raise GraphError(validation_problems(exc, f"nodes.{node_id}.params")) from None
        dumped = model.model_dump(mode="json", include=set(values), warnings=False)
        return {**merged, **dumped}

    def _checked_params(self, node_id: str, cls: type[Node], values: dict[str, Any]) -> dict[str, Any]:
        try:
            model = cls.Params.model_validate(values)
        except ValidationError as exc:
            raise GraphError(validation_problems(exc, f"nodes.{node_id}.params")) from None
        return model.model_dump(mode="json")

    # -- files --

    def to_file_data(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "meta": copy.deepcopy(self.meta),
            "nodes": {node_id: node.to_entry() for node_id, node in self.nodes.items()},
            "links": [{"from": link.source, "to": link.target} for link in self.links],
        }

    def to_json(self) -> str:
        """The graph as file text, in stable key order."""
        return dump_graph_file(GraphFile.model_validate(self.to_file_data()))

    def save(self, path: str | Path) -> None:
        """Write the graph atomically (temporary file + rename)."""
        from kinograph.core.paths import atomic_write_text

        atomic_write_text(Path(path), self.to_json())

    def snapshot(self) -> GraphSnapshot:
        """An immutable copy for a run; later edits do not touch it.

        Groups are flattened (:mod:`kinograph.core.flatten`): a run sees their inner nodes as
        plain nodes named ``group/inner``.

        Nothing in the snapshot is shared with the live graph. Params, editor state and meta
        hold JSON values only, which ``marshal`` copies deeply several times faster than
        ``copy.deepcopy`` or a JSON round trip (it never leaves this process: no file, no code).
        """
        if any(node.type == SUBGRAPH_TYPE for node in self.nodes.values()):
            from kinograph.core.flatten import flat_snapshot

            return flat_snapshot(self)
        entries = marshal.loads(marshal.dumps(
            [(n.id, n.type, n.version, n.params, n.ui, n.bypass, n.plugin, n.exposed) for n in self.nodes.values()]
        ))
        nodes = {entry[0]: GraphNode(*entry) for entry in entries}
        meta = marshal.loads(marshal.dumps(self.meta))
        return GraphSnapshot(self.base_dir, nodes, tuple(self.links), self.registry, meta)

    def replace_with(self, other: Graph) -> None:
        """Take over another graph's contents (open file in place) and announce a reset."""
        self.meta, self.nodes, self.links = other.meta, other.nodes, other.links
        self.base_dir = other.base_dir
        self.load_warnings = list(other.load_warnings)
        self._inner_views.clear()
        self._emit(GraphChange(ChangeKind.RESET))

    @classmethod
    def from_file(
        cls, graph_file: GraphFile, registry: Registry | None = None, base_dir: Path | None = None
    ) -> Graph:
        """Build an editable graph; node params are migrated and filled with defaults.

        Unknown node types are kept exactly as saved. Invalid params are kept too, so the
        editor can show them; :func:`kinograph.core.validation.validate` reports them.
        """
        graph = cls(registry, base_dir)
        graph.meta = graph_file.meta.model_dump(mode="json")
        loader = None
        for node_id, entry in graph_file.nodes.items():
            if entry.type == SUBGRAPH_TYPE:  # a group: its subgraph inline, or read from its file
                from kinograph.core.subgraph_files import SubgraphLoader

                loader = loader or SubgraphLoader(graph.registry)
                graph.nodes[node_id] = loader.group_node(node_id, entry)
                continue
            graph.nodes[node_id] = node_from_entry(graph.registry, node_id, entry)
        graph.links = [Link.parse(link.source, link.target) for link in graph_file.links]
        graph.load_warnings = list(loader.warnings) if loader is not None else []
        return graph

    @classmethod
    def from_json(cls, text: str | bytes, registry: Registry | None = None, base_dir: Path | None = None, source: str = "") -> Graph:
        return cls.from_file(graph_file_from_data(parse_json(text, source), source), registry, base_dir)

    @classmethod
    def load(cls, path: str | Path, registry: Registry | None = None) -> Graph:
        """Load a graph file; relative paths in it resolve against its folder."""
        path = Path(path)
        return cls.from_file(load_graph_file(path), registry, path.resolve().parent)
