"""One QUndoCommand per kind of edit. Each calls operations of the core :class:`Graph` and, on
undo, their inverses: nothing else touches the graph, and the scene follows the graph's change
events, so undo and redo redraw themselves.

Undo restores the exact prior graph, including the order of nodes and links in the file
(``Graph.to_json`` of before and after undo are equal), so an undone edit never shows in a diff.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtGui import QUndoCommand

from kinograph.api import GraphError
from kinograph.host import (
    Connection,
    Graph,
    GraphNode,
    Grouping,
    HiddenParam,
    InnerGraph,
    Link,
    RemovedNode,
    RemovedPort,
    SubgraphRef,
    Ungrouping,
)

_MERGE_PARAM = 4101
_MERGE_META = 4102


class GraphCommand(QUndoCommand):
    """Base: a command that edits one graph."""

    def __init__(self, graph: Graph, text: str) -> None:
        super().__init__(text)
        self.graph = graph


class AddNodeCommand(GraphCommand):
    """Add a node of a registered type (defaults, optional params and position)."""

    def __init__(
        self,
        graph: Graph,
        type_id: str,
        pos: tuple[float, float] | None = None,
        params: dict[str, Any] | None = None,
        node_id: str | None = None,
    ) -> None:
        cls = graph.registry.node(type_id)
        super().__init__(graph, f"Add {cls.title() if cls else type_id}")
        self.type_id, self.pos, self.params = type_id, pos, params
        self.node_id = node_id or graph.new_id(type_id.rsplit(".", 1)[-1])
        self._node: GraphNode | None = None

    def redo(self) -> None:
        if self._node is None:
            self._node = copy.deepcopy(
                self.graph.add_node(self.type_id, self.node_id, self.params, self.pos)
            )
        else:
            self.graph.insert_node(self._node)

    def undo(self) -> None:
        self.graph.remove_node(self.node_id)


class RemoveNodeCommand(GraphCommand):
    """Remove a node with its links; undo puts both back in their places."""

    def __init__(self, graph: Graph, node_id: str) -> None:
        super().__init__(graph, f"Delete {node_id}")
        self.node_id = node_id
        self._removed: RemovedNode | None = None

    def redo(self) -> None:
        self._removed = self.graph.remove_node(self.node_id)

    def undo(self) -> None:
        if self._removed is not None:
            self.graph.restore_node(self._removed)


class MoveNodesCommand(GraphCommand):
    """Move nodes: ``moves`` maps node id -> (old pos or None, new pos)."""

    def __init__(self, graph: Graph, moves: dict[str, tuple[Any, Any]], text: str = "") -> None:
        count = len(moves)
        super().__init__(graph, text or (f"Move {next(iter(moves))}" if count == 1 else f"Move {count} nodes"))
        self.moves = {
            node_id: (copy.deepcopy(old), [round(float(new[0]), 1), round(float(new[1]), 1)])
            for node_id, (old, new) in moves.items()
        }

    def redo(self) -> None:
        for node_id, (_old, new) in self.moves.items():
            self.graph.set_ui(node_id, "pos", new)

    def undo(self) -> None:
        for node_id, (old, _new) in self.moves.items():
            self.graph.set_ui(node_id, "pos", old)


class ConnectCommand(GraphCommand):
    """Link an output to an input (replacing the input's old link). Check the link first:
    ``Graph.check_link`` gives the reason a refused link is refused."""

    def __init__(self, graph: Graph, source: str, target: str) -> None:
        super().__init__(graph, f"Connect {source} → {target}")
        self.source, self.target = source, target
        self._done: Connection | None = None

    def redo(self) -> None:
        self._done = self.graph.connect(self.source, self.target)

    def undo(self) -> None:
        if self._done is not None:
            self.graph.undo_connect(self._done)


class DisconnectCommand(GraphCommand):
    """Remove one link; undo puts it back at its place."""

    def __init__(self, graph: Graph, link: Link) -> None:
        super().__init__(graph, f"Disconnect {link}")
        self.link = link
        self._index: int | None = None

    def redo(self) -> None:
        self._index = self.graph.disconnect(self.link)

    def undo(self) -> None:
        if self._index is not None:
            self.graph.add_link(self.link, self._index)


class SetParamCommand(GraphCommand):
    """Set one param. Build it after checking the value (``Graph.set_param`` raises with the
    pydantic message); consecutive changes of one param merge into one undo step."""

    def __init__(self, graph: Graph, node_id: str, name: str, old: Any, new: Any) -> None:
        super().__init__(graph, f"Set {node_id}.{name}")
        self.node_id, self.name = node_id, name
        self.old, self.new = copy.deepcopy(old), copy.deepcopy(new)

    def id(self) -> int:
        return _MERGE_PARAM

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not isinstance(other, SetParamCommand) or (other.node_id, other.name) != (self.node_id, self.name):
            return False
        self.new = copy.deepcopy(other.new)
        return True

    def redo(self) -> None:
        self._set(self.new)

    def undo(self) -> None:
        self._set(self.old)

    def _set(self, value: Any) -> None:
        try:
            self.graph.set_param(self.node_id, self.name, value)
        except GraphError:
            # The old value came from a file and was already invalid (another param may be
            # too): put it back as it was, since undo must restore the exact prior graph.
            self.graph.set_params(self.node_id, {self.name: copy.deepcopy(value)}, check=False)


class ExposeParamCommand(GraphCommand):
    """Show a param as an input port, or stop showing it (unlink it first)."""

    def __init__(self, graph: Graph, node_id: str, name: str, exposed: bool) -> None:
        super().__init__(graph, f"{'Show' if exposed else 'Hide'} {node_id}.{name} as an input port")
        self.node_id, self.name, self.exposed = node_id, name, exposed

    def redo(self) -> None:
        self.graph.expose_param(self.node_id, self.name, self.exposed)

    def undo(self) -> None:
        self.graph.expose_param(self.node_id, self.name, not self.exposed)


class SetBypassCommand(GraphCommand):
    """Set the bypass flag of nodes."""

    def __init__(self, graph: Graph, node_ids: list[str], bypass: bool) -> None:
        verb = "Bypass" if bypass else "Enable"
        super().__init__(graph, f"{verb} {', '.join(node_ids)}")
        self.bypass = bypass
        self.old = {node_id: graph.nodes[node_id].bypass for node_id in node_ids}

    def redo(self) -> None:
        for node_id in self.old:
            self.graph.set_bypass(node_id, self.bypass)

    def undo(self) -> None:
        for node_id, old in self.old.items():
            self.graph.set_bypass(node_id, old)


class PasteCommand(GraphCommand):
    """Insert a fragment: nodes (ids already made unique) and the links among them."""

    def __init__(self, graph: Graph, nodes: list[GraphNode], links: list[Link], text: str = "Paste") -> None:
        super().__init__(graph, f"{text} {len(nodes)} node{'s' if len(nodes) != 1 else ''}")
        self.nodes = [copy.deepcopy(node) for node in nodes]
        self.links = list(links)

    def redo(self) -> None:
        for node in self.nodes:
            self.graph.insert_node(node)
        for link in self.links:
            self.graph.add_link(link)

    def undo(self) -> None:
        for link in reversed(self.links):
            self.graph.disconnect(link)
        for node in reversed(self.nodes):
            self.graph.remove_node(node.id)


class SetEditorStateCommand(GraphCommand):
    """Replace the editor-only state (backdrops, notes, reroute dots) kept in ``meta["editor"]``."""

    KEY = "editor"

    def __init__(self, graph: Graph, new: dict[str, Any] | None, text: str) -> None:
        super().__init__(graph, text)
        self.had_key = self.KEY in graph.meta
        self.old = copy.deepcopy(graph.meta.get(self.KEY))
        self.new = copy.deepcopy(new)

    def redo(self) -> None:
        self._put(self.new, self.new is not None)  # no extras left: drop the key, no "editor": null

    def undo(self) -> None:
        self._put(self.old, self.had_key)

    def _put(self, value: Any, keep: bool) -> None:
        # set_meta(key, None) removes the key
        self.graph.set_meta(self.KEY, copy.deepcopy(value) if keep else None)


class RenameNodeCommand(GraphCommand):
    """Give a node a new id; its links follow and it keeps its place in the file."""

    def __init__(self, graph: Graph, old_id: str, new_id: str) -> None:
        super().__init__(graph, f"Rename {old_id} to {new_id}")
        self.old_id, self.new_id = old_id, new_id

    def redo(self) -> None:
        self._rename(self.old_id, self.new_id)

    def undo(self) -> None:
        self._rename(self.new_id, self.old_id)

    def _rename(self, old: str, new: str) -> None:
        self.graph.rename_node(old, new)


class SetMetaCommand(GraphCommand):
    """Set a graph-level field (name, description) of ``meta``."""

    def __init__(self, graph: Graph, key: str, value: Any) -> None:
        super().__init__(graph, f"Set graph {key}")
        self.key = key
        self.had_key = key in graph.meta
        self.old, self.new = copy.deepcopy(graph.meta.get(key)), copy.deepcopy(value)

    def id(self) -> int:
        return _MERGE_META

    def mergeWith(self, other: QUndoCommand) -> bool:
        # Typing a description is one step, not one per key.
        if not isinstance(other, SetMetaCommand) or other.key != self.key:
            return False
        self.new = copy.deepcopy(other.new)
        return True

    def redo(self) -> None:
        self.graph.set_meta(self.key, copy.deepcopy(self.new))

    def undo(self) -> None:
        self.graph.set_meta(self.key, copy.deepcopy(self.old) if self.had_key else None)


# -- groups (subgraphs) ---------------------------------------------------------------------------


class GroupCommand(GraphCommand):
    """Move nodes into a new group (Ctrl+G); undo puts every node and link back at its place."""

    def __init__(self, graph: Graph, node_ids: list[str], group_id: str) -> None:
        super().__init__(graph, f"Group {len(node_ids)} node{'s' if len(node_ids) != 1 else ''}")
        self.node_ids, self.group_id = list(node_ids), group_id
        self._done: Grouping | None = None

    def redo(self) -> None:
        self._done = self.graph.group_nodes(self.node_ids, self.group_id)

    def undo(self) -> None:
        if self._done is not None:
            self.graph.undo_group(self._done)


class UngroupCommand(GraphCommand):
    """Put a group's nodes in its place (Ctrl+Alt+G); undo puts the group back exactly."""

    def __init__(self, graph: Graph, group_id: str) -> None:
        super().__init__(graph, f"Ungroup {group_id}")
        self.group_id = group_id
        self._done: Ungrouping | None = None
        self.node_ids: tuple[str, ...] = ()

    def redo(self) -> None:
        self._done = self.graph.ungroup(self.group_id)
        self.node_ids = self._done.node_ids

    def undo(self) -> None:
        if self._done is not None:
            self.graph.undo_ungroup(self._done)


class AddSubgraphCommand(GraphCommand):
    """Add a group that uses a reusable subgraph file (from the palette or the search)."""

    def __init__(self, graph: Graph, source: str, node_id: str, pos: tuple[float, float] | None, title: str) -> None:
        super().__init__(graph, f"Add {title}")
        self.source, self.node_id, self.pos = source, node_id, pos
        self._node: GraphNode | None = None

    def redo(self) -> None:
        if self._node is None:
            self._node = copy.deepcopy(self.graph.add_subgraph(self.source, self.node_id, self.pos))
        else:
            self.graph.insert_node(self._node)  # the content as first read, not the file's latest

    def undo(self) -> None:
        self.graph.remove_node(self.node_id)


class SetSubgraphRefCommand(GraphCommand):
    """Make a group use a reusable file (after Save as reusable), or keep it local (Make local)."""

    def __init__(self, graph: Graph, group_id: str, ref: SubgraphRef | None, text: str) -> None:
        super().__init__(graph, text)
        self.group_id = group_id
        self.new = copy.deepcopy(ref)
        self.old = copy.deepcopy(graph.nodes[group_id].ref)

    def redo(self) -> None:
        self.graph.set_subgraph_ref(self.group_id, self.new)

    def undo(self) -> None:
        self.graph.set_subgraph_ref(self.group_id, self.old)


class ShowOnGroupCommand(GraphCommand):
    """Show an inner param on its group (the group's value is then the one a run uses), or stop."""

    def __init__(self, graph: InnerGraph, node_id: str, param: str, shown: bool) -> None:
        super().__init__(graph, f"{'Show' if shown else 'Hide'} {node_id}.{param} on the group")
        self.inner = graph
        self.node_id, self.param, self.shown = node_id, param, shown
        self._name: str | None = None
        self._hidden: HiddenParam | None = None

    def redo(self) -> None:
        if self.shown:
            self._name = self.inner.expose_on_group(self.node_id, self.param, self._name)
        else:
            shown = self.inner.interface.param_of(self.node_id, self.param)
            if shown is not None:
                self._hidden = self.inner.hide_from_group(shown.name)

    def undo(self) -> None:
        if self.shown and self._name is not None:
            self.inner.hide_from_group(self._name)
        elif not self.shown and self._hidden is not None:
            self.inner.restore_group_param(self._hidden)


class AddGroupPortCommand(GraphCommand):
    """A new input or output port of the group shown."""

    def __init__(self, graph: InnerGraph, direction: str, name: str, port_type: str) -> None:
        super().__init__(graph, f"Add group {direction} {name}")
        self.inner = graph
        self.direction, self.name, self.port_type = direction, name, port_type

    def redo(self) -> None:
        self.inner.add_group_port(self.direction, self.name, self.port_type)

    def undo(self) -> None:
        self.inner.remove_group_port(self.direction, self.name)


class RenameGroupPortCommand(GraphCommand):
    """A port of the group shown gets another name; its links inside and outside follow."""

    def __init__(self, graph: InnerGraph, direction: str, old: str, new: str) -> None:
        super().__init__(graph, f"Rename group {direction} {old} to {new}")
        self.inner = graph
        self.direction, self.old, self.new = direction, old, new

    def redo(self) -> None:
        self.inner.rename_group_port(self.direction, self.old, self.new)

    def undo(self) -> None:
        self.inner.rename_group_port(self.direction, self.new, self.old)


class RenameGroupParamCommand(GraphCommand):
    """A param the group shown shows gets another name; its value, port and link follow."""

    def __init__(self, graph: InnerGraph, old: str, new: str) -> None:
        super().__init__(graph, f"Rename group param {old} to {new}")
        self.inner = graph
        self.old, self.new = old, new

    def redo(self) -> None:
        self.inner.rename_group_param(self.old, self.new)

    def undo(self) -> None:
        self.inner.rename_group_param(self.new, self.old)


class RemoveGroupPortCommand(GraphCommand):
    """Take an unlinked port off the group shown; undo puts it back at its place."""

    def __init__(self, graph: InnerGraph, direction: str, name: str) -> None:
        super().__init__(graph, f"Remove group {direction} {name}")
        self.inner = graph
        self.direction, self.name = direction, name
        self._removed: RemovedPort | None = None

    def redo(self) -> None:
        self._removed = self.inner.remove_group_port(self.direction, self.name)

    def undo(self) -> None:
        if self._removed is not None:
            self.inner.restore_group_port(self._removed)
