"""The graph inside a group, seen as a :class:`Graph`: the editor enters a group and edits its
content with the very operations (and undo inverses) it uses on the top graph.

An :class:`InnerGraph` stores nothing itself: it finds the group's subgraph through its parent
each time (so a group that was removed and put back, or renamed and renamed back by undo, is
still found), and announces each change to its own subscribers and then to the parent's as
:attr:`ChangeKind.SUBGRAPH_CHANGED`, up to the top graph (autosave, the run controller and the
canvas showing the group all hear it).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kinograph.core.errors import GraphError, Problem
from kinograph.core.graph import ChangeKind, Graph, GraphChange, GraphNode, GraphReading, Link
from kinograph.core.graph_file import NAME_PATTERN
from kinograph.core.registry import Registry
from kinograph.core.subgraphs import (
    INPUTS_TYPE,
    OUTPUTS_TYPE,
    SEPARATOR,
    GroupParam,
    GroupPort,
    Interface,
    Subgraph,
)

_NAME = re.compile(NAME_PATTERN)


@dataclass
class SubgraphReading(GraphReading):
    """Read-only lookups inside a subgraph (what validation and the group's class need)."""

    subgraph: Subgraph
    registry: Registry
    base_dir: Path | None

    @property  # type: ignore[override]
    def nodes(self) -> dict[str, GraphNode]:
        return self.subgraph.nodes

    @property  # type: ignore[override]
    def links(self) -> list[Link]:
        return self.subgraph.links

    @property  # type: ignore[override]
    def interface(self) -> Interface:
        return self.subgraph.interface


@dataclass(frozen=True)
class HiddenParam:
    """What :meth:`InnerGraph.hide_from_group` took away, for :meth:`InnerGraph.restore_group_param`."""

    index: int
    shown: GroupParam
    #: the group's value, its place among the group's params, and whether it had one
    value: Any
    value_index: int | None
    #: the inner param's own value before the group's was written into it
    inner_value: Any
    inner_had_value: bool
    #: where the name stood in the group's params shown as ports (None: it was not one)
    port_index: int | None


@dataclass(frozen=True)
class RemovedPort:
    """What :meth:`InnerGraph.remove_group_port` took away, for :meth:`InnerGraph.restore_group_port`."""

    direction: str
    index: int
    port: GroupPort


class InnerGraph(Graph):
    """The content of group ``group_id`` of ``parent``, editable as a graph."""

    def __init__(self, parent: Graph, group_id: str) -> None:  # no super().__init__: nothing is stored here
        self.parent = parent
        self.group_id = group_id
        self.load_warnings = []
        self._observers: list[Callable[[GraphChange], None]] = []
        self._inner_views = {}

    # -- where the content lives --

    @property
    def group(self) -> GraphNode:
        """The group node in the parent graph."""
        node = self.parent.nodes.get(self.group_id)
        if node is None or node.subgraph is None:
            raise GraphError(Problem(f"nodes.{self.path}", "there is no such group"))
        return node

    @property
    def subgraph(self) -> Subgraph:
        return self.group.subgraph  # type: ignore[return-value]

    @property
    def path(self) -> str:
        """``outer/inner``: the ids of the groups from the top graph down to this one."""
        parent_path = self.parent.path if isinstance(self.parent, InnerGraph) else ""
        return f"{parent_path}{SEPARATOR}{self.group_id}" if parent_path else self.group_id

    @property
    def root(self) -> Graph:
        return self.parent.root if isinstance(self.parent, InnerGraph) else self.parent

    @property  # type: ignore[override]
    def nodes(self) -> dict[str, GraphNode]:
        return self.subgraph.nodes

    @nodes.setter
    def nodes(self, value: dict[str, GraphNode]) -> None:
        self.subgraph.nodes = value

    @property  # type: ignore[override]
    def links(self) -> list[Link]:
        return self.subgraph.links

    @links.setter
    def links(self, value: list[Link]) -> None:
        self.subgraph.links = value

    @property  # type: ignore[override]
    def meta(self) -> dict[str, Any]:
        return self.subgraph.meta

    @meta.setter
    def meta(self, value: dict[str, Any]) -> None:
        self.subgraph.meta = value

    @property  # type: ignore[override]
    def interface(self) -> Interface:
        return self.subgraph.interface

    @property  # type: ignore[override]
    def registry(self) -> Registry:
        return self.parent.registry

    @registry.setter
    def registry(self, value: Registry) -> None:
        pass  # always the top graph's

    @property  # type: ignore[override]
    def base_dir(self) -> Path | None:
        return self.parent.base_dir

    @base_dir.setter
    def base_dir(self, value: Path | None) -> None:
        pass  # always the top graph's

    def exists(self) -> bool:
        """Whether the group is there (undo may have taken it away)."""
        node = self.parent.nodes.get(self.group_id)
        if node is None or node.subgraph is None:
            return False
        return not isinstance(self.parent, InnerGraph) or self.parent.exists()

    # -- the group's params --

    def expose_on_group(self, node_id: str, param: str, name: str | None = None) -> str:
        """Show the inner param ``node_id.param`` on the group, as ``name`` (default: the
        param's name, made unique). The group takes the inner value as its own; from then on the
        group's value is the one a run uses. Returns the name; :meth:`hide_from_group` undoes it."""
        node = self._node(node_id)
        cls = self.node_class(node_id)
        if cls is None or param not in cls.Params.model_fields:
            raise GraphError(Problem(f"nodes.{node_id}.params.{param}", "there is no such param"))
        shown = self.interface.param_of(node_id, param)
        if shown is not None:
            raise GraphError(Problem(f"nodes.{node_id}.params.{param}", f"already shown on the group as {shown.name!r}"))
        group = self.group
        group_class = self.parent.node_class(self.group_id)
        taken = {p.name for p in self.interface.params} | {p.name for p in getattr(group_class, "inputs", [])}
        if name is None:
            from kinograph.core.grouping import unique_name

            name = unique_name(param, taken)
        elif name in taken or not _NAME.match(name):
            raise GraphError(Problem(f"nodes.{self.path}.params.{name}", "this name is taken or not a valid name"))
        self.interface.params.append(GroupParam(name, node_id, param))
        group.params[name] = copy.deepcopy(node.params.get(param))
        self._emit(GraphChange(ChangeKind.INTERFACE_CHANGED, node_id, name=param, value=name))
        return name

    def hide_from_group(self, name: str) -> HiddenParam:
        """Stop showing a param on the group; the group's value goes back into the inner node.
        A link feeding it outside must be removed first. Returns what
        :meth:`restore_group_param` needs to undo it."""
        shown = self.interface.param(name)
        if shown is None:
            raise GraphError(Problem(f"nodes.{self.path}.params.{name}", "the group shows no such param"))
        group = self.group
        feeding = next((lk for lk in self.parent.links if (lk.target_node, lk.target_port) == (self.group_id, name)), None)
        if feeding is not None:
            raise GraphError(Problem(f"nodes.{self.path}.params.{name}", f"{feeding} feeds it", "remove that link first"))
        inner = self.nodes.get(shown.node)
        keys = list(group.params)
        hidden = HiddenParam(
            self.interface.params.index(shown), copy.deepcopy(shown),
            copy.deepcopy(group.params.get(name)), keys.index(name) if name in keys else None,
            copy.deepcopy(inner.params.get(shown.param)) if inner is not None else None,
            inner is not None and shown.param in inner.params,
            group.exposed.index(name) if name in group.exposed else None,
        )
        self.interface.params.remove(shown)
        group.params.pop(name, None)
        if name in group.exposed:
            group.exposed.remove(name)
        if inner is not None and hidden.value_index is not None:
            inner.params[shown.param] = copy.deepcopy(hidden.value)
        self._emit(GraphChange(ChangeKind.INTERFACE_CHANGED, shown.node, name=shown.param, value=None))
        return hidden

    def restore_group_param(self, hidden: HiddenParam) -> None:
        """Undo :meth:`hide_from_group`: the param shown again, every value as it was."""
        group = self.group
        shown = copy.deepcopy(hidden.shown)
        self.interface.params.insert(hidden.index, shown)
        if hidden.value_index is not None:
            items = list(group.params.items())
            items.insert(hidden.value_index, (shown.name, copy.deepcopy(hidden.value)))
            group.params = dict(items)
        if hidden.port_index is not None:
            group.exposed.insert(hidden.port_index, shown.name)
        inner = self.nodes.get(shown.node)
        if inner is not None:
            if hidden.inner_had_value:
                inner.params[shown.param] = copy.deepcopy(hidden.inner_value)
            else:
                inner.params.pop(shown.param, None)
        self._emit(GraphChange(ChangeKind.INTERFACE_CHANGED, shown.node, name=shown.param, value=shown.name))

    def rename_group_param(self, old: str, new: str) -> None:
        """Call the param the group shows as ``old`` ``new``: its value, its input port (when
        shown as one) and a link feeding it follow. Renaming back is the inverse. Saving the group
        as a reusable file again records the rename, so graphs using the file keep their values."""
        problem = self.param_rename_problem(old, new)
        if problem is not None:
            raise GraphError(problem)
        if new == old:
            return
        shown = self.interface.param(old)
        assert shown is not None  # param_rename_problem said so
        group = self.group
        shown.name = new
        group.params = {new if key == old else key: value for key, value in group.params.items()}
        group.exposed[:] = [new if name == old else name for name in group.exposed]
        self.parent.links[:] = [
            Link(lk.source_node, lk.source_port, lk.target_node, new)
            if (lk.target_node, lk.target_port) == (self.group_id, old) else lk
            for lk in self.parent.links
        ]
        self._emit(GraphChange(ChangeKind.INTERFACE_CHANGED, shown.node, name=shown.param, value=new))

    def param_rename_problem(self, old: str, new: str) -> Problem | None:
        """Why the param the group shows as ``old`` cannot be called ``new`` (None: it can)."""
        where = f"nodes.{self.path}.params.{old}"
        if self.interface.param(old) is None:
            return Problem(where, "the group shows no such param")
        if new == old:
            return None
        group_class = self.parent.node_class(self.group_id)
        taken = {p.name for p in self.interface.params} | {p.name for p in getattr(group_class, "inputs", [])}
        if new in taken or not _NAME.match(new):
            return Problem(where, f"{new!r} is taken or not a valid name")
        return None

    # -- the group's ports --

    def add_group_port(self, direction: str, name: str, port_type: str) -> GroupPort:
        """A new ``input`` or ``output`` port of the group, of ``port_type``; link it inside from
        Group inputs (or into Group outputs). :meth:`remove_group_port` is the inverse."""
        ports = self._ports(direction)
        where = f"nodes.{self.path}.{direction}s.{name}"
        if not _NAME.match(name):
            raise GraphError(Problem(where, "port names must match [A-Za-z_][A-Za-z0-9_-]*"))
        if any(p.name == name for p in ports) or (direction == "input" and self.interface.param(name) is not None):
            raise GraphError(Problem(where, f"the group already has an {direction} {name!r}"))
        if self.registry.ports.get(port_type) is None:
            raise GraphError(Problem(where, f"unknown port type {port_type!r}"))
        port = GroupPort(name, port_type)
        ports.append(port)
        self._emit(GraphChange(ChangeKind.INTERFACE_CHANGED, None, name=name, value=direction))
        return copy.deepcopy(port)

    def remove_group_port(self, direction: str, name: str) -> RemovedPort:
        """Take a port off the group; its links, inside and outside, must go first."""
        ports = self._ports(direction)
        port = next((p for p in ports if p.name == name), None)
        where = f"nodes.{self.path}.{direction}s.{name}"
        if port is None:
            raise GraphError(Problem(where, f"the group has no {direction} {name!r}"))
        users = self.group_port_links(direction, name)
        if users:
            raise GraphError(Problem(where, f"{users[0]} uses it", "remove its links first"))
        index = ports.index(port)
        del ports[index]
        self._emit(GraphChange(ChangeKind.INTERFACE_CHANGED, None, name=name, value=direction))
        return RemovedPort(direction, index, copy.deepcopy(port))

    def restore_group_port(self, removed: RemovedPort) -> None:
        """Undo :meth:`remove_group_port`: the port back at its place."""
        self._ports(removed.direction).insert(removed.index, copy.deepcopy(removed.port))
        self._emit(GraphChange(ChangeKind.INTERFACE_CHANGED, None, name=removed.port.name, value=removed.direction))

    def rename_group_port(self, direction: str, old: str, new: str) -> None:
        """Give the group's port ``old`` the name ``new``; its links, inside (from Group inputs,
        into Group outputs) and outside, follow. Renaming back is the inverse."""
        problem = self.port_rename_problem(direction, old, new)
        if problem is not None:
            raise GraphError(problem)
        if new == old:
            return
        port = next(p for p in self._ports(direction) if p.name == old)
        inside, outside = set(self._group_port_links(direction, old, inside=True)), set(
            self._group_port_links(direction, old, inside=False))
        port.name = new
        self.links[:] = [_with_port(lk, old, new, direction, outer=False) if lk in inside else lk for lk in self.links]
        self.parent.links[:] = [
            _with_port(lk, old, new, direction, outer=True) if lk in outside else lk for lk in self.parent.links
        ]
        self._emit(GraphChange(ChangeKind.INTERFACE_CHANGED, None, name=old, value=new))

    def port_rename_problem(self, direction: str, old: str, new: str) -> Problem | None:
        """Why the group's port ``old`` cannot be called ``new`` (None: it can)."""
        ports = self._ports(direction)
        where = f"nodes.{self.path}.{direction}s.{old}"
        if not any(p.name == old for p in ports):
            return Problem(where, f"the group has no {direction} {old!r}")
        if new == old:
            return None
        if not _NAME.match(new):
            return Problem(where, "port names must match [A-Za-z_][A-Za-z0-9_-]*")
        if any(p.name == new for p in ports) or (direction == "input" and self.interface.param(new) is not None):
            return Problem(where, f"the group already has an {direction} {new!r}")
        return None

    def group_port_links(self, direction: str, name: str) -> list[Link]:
        """The links, inside and outside the group, that use its port ``name``."""
        return self._group_port_links(direction, name, inside=True) + self._group_port_links(direction, name, inside=False)

    def _group_port_links(self, direction: str, name: str, *, inside: bool) -> list[Link]:
        if direction == "input":  # from Group inputs inside, into the group outside
            if inside:
                return [lk for lk in self.links if lk.source_port == name and self._is(lk.source_node, INPUTS_TYPE)]
            return [lk for lk in self.parent.links if (lk.target_node, lk.target_port) == (self.group_id, name)]
        # into Group outputs inside, from the group outside
        if inside:
            return [lk for lk in self.links if lk.target_port == name and self._is(lk.target_node, OUTPUTS_TYPE)]
        return [lk for lk in self.parent.links if (lk.source_node, lk.source_port) == (self.group_id, name)]

    def _is(self, node_id: str, kind: str) -> bool:
        node = self.nodes.get(node_id)
        return node is not None and node.type == kind

    def _ports(self, direction: str) -> list[GroupPort]:
        if direction not in ("input", "output"):
            raise GraphError(Problem(f"nodes.{self.path}", f"a port is an input or an output, not {direction!r}"))
        return self.interface.inputs if direction == "input" else self.interface.outputs

    def rename_node(self, old: str, new: str) -> None:
        """As :meth:`Graph.rename_node`; the group's params shown from the node follow it."""
        super().rename_node(old, new)
        for shown in self.interface.params:
            if shown.node == old:
                shown.node = new

    # -- announcing --

    def _emit(self, change: GraphChange) -> None:
        super()._emit(change)
        # The group's ports or params may follow (its class is made from this content).
        self.parent._emit(GraphChange(ChangeKind.SUBGRAPH_CHANGED, self.group_id, value=change))

    def snapshot(self) -> Any:
        raise GraphError(Problem(f"nodes.{self.path}", "a group runs as part of its graph", "run the top graph"))


def _with_port(link: Link, old: str, new: str, direction: str, *, outer: bool) -> Link:
    """``link`` with the group port ``old`` called ``new``: an input port is a link's source
    inside the group (Group inputs) and its target outside; an output port the other way."""
    source_side = (direction == "input") != outer
    if source_side:
        return Link(link.source_node, new if link.source_port == old else link.source_port, link.target_node, link.target_port)
    return Link(link.source_node, link.source_port, link.target_node, new if link.target_port == old else link.target_port)
